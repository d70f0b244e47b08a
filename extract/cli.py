"""The ``extract`` command line: thin commands over the library."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from .records import ExtractError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Exact, checked numbers from 政府信息公开工作年度报告.")


class Format(str, Enum):
    json = "json"
    csv = "csv"


@app.command("run")
def run(
    files: list[Path] = typer.Argument(..., help="Report files: PDF (text layer or scan), PNG/JPEG/TIFF, .txt, .html, .docx"),
    out: Path | None = typer.Option(None, "-o", "--out", help="Output file (one input) or directory (several)"),
    fmt: Format = typer.Option(Format.json, "--format", "-f", help="json (the contract) or csv (one row per cell)"),
    device: str = typer.Option("cpu", help="where OCR runs: cpu, or cuda (needs: pip install 'extract[gpu]')"),
) -> None:
    """Extract the canonical tables of each report (the default command: `extract FILE ...`)."""
    from . import output
    from .pipeline import extract

    render = output.to_json if fmt is Format.json else output.to_csv
    suffix = f".{fmt.value}"
    to_dir = out is not None and (len(files) > 1 or out.is_dir())
    if to_dir:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for f in files:
        try:
            text = render(extract(f, device=device))
        except ExtractError as e:
            failed += 1
            typer.echo(f"extract: {e}", err=True)
            continue
        except Exception as e:  # a bug must not cost the other files their output
            failed += 1
            typer.echo(f"extract: {f}: internal error: {e.__class__.__name__}: {e}", err=True)
            continue
        if out is None:
            typer.echo(text if len(files) == 1 or fmt is Format.csv else text.replace("\n", ""))
        else:
            target = out / (f.stem + suffix) if to_dir else out
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".part")
                tmp.write_text(text + "\n", encoding="utf-8")
                tmp.replace(target)  # never leave a half-written result
            except OSError as e:
                failed += 1
                typer.echo(f"extract: cannot write {target}: {e.strerror or e}", err=True)
    if failed:
        raise typer.Exit(1)


@app.command("train")
def train(
    reports: int = typer.Option(400, help="generated reports to train on"),
    calibrate: int = typer.Option(300, help="generated reports to calibrate confidence on"),
    out: Path | None = typer.Option(None, help="where to write the model (default: models/structure.joblib)"),
) -> None:
    """Retrain the table-structure classifier from generated reports."""
    from training import train as training

    args = ["--train", str(reports), "--calibrate", str(calibrate)]
    if out:
        args += ["--out", str(out)]
    training.main(args)


COMMANDS = {"run", "train"}


def main() -> None:
    """``extract FILE`` runs the default command; ``extract train`` etc. the others."""
    argv = sys.argv[1:]
    if argv and argv[0] not in COMMANDS and argv[0] not in ("--help", "-h"):
        argv = ["run", *argv]
    app(argv, prog_name="extract")
