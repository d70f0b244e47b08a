"""The ``extract`` command line: thin commands over the library."""
from __future__ import annotations

import os
import sys
import time
from enum import Enum
from pathlib import Path

import typer

from .records import ExtractError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Exact, checked numbers from 政府信息公开工作年度报告.")


def _version(show: bool) -> None:
    if show:
        from . import __version__

        typer.echo(f"extract {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                help="log each stage's time and decisions to stderr, a line per stage per page (-vv: more)"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    """Exact, checked numbers from 政府信息公开工作年度报告."""
    if verbose:
        import logging

        from .batch import LOG_FORMAT

        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, format=LOG_FORMAT, stream=sys.stderr)


class Format(str, Enum):
    json = "json"
    csv = "csv"


@app.command("run")
def run(
    files: list[Path] = typer.Argument(..., help="Report files: PDF (text layer or scan), PNG/JPEG/TIFF, .txt, .html, .docx"),
    out: Path | None = typer.Option(None, "-o", "--out", help="Output file (one input) or directory (several)"),
    fmt: Format = typer.Option(Format.json, "--format", "-f", help="json (the contract) or csv (one row per cell)"),
    device: str = typer.Option("cpu", help="where OCR runs: cpu, or cuda (needs: pip install 'extract[gpu]')"),
    db: str | None = typer.Option(None, "--db", help="also store each report for review (a SQLite file or a database URL)"),
) -> None:
    """Extract the canonical tables of each report (the default command: `extract FILE ...`)."""
    from . import output
    from .pipeline import ExtractOptions, Extractor

    store = _store(db) if db else None
    extractor = Extractor(ExtractOptions(device=device, keep_images=store is not None))

    def extract(f: Path):
        doc = extractor.read(f)
        report = extractor.convert_document(doc)
        if store is not None:
            store.add_report(report, doc.images, doc.cells)
        return report

    render = output.to_json if fmt is Format.json else output.to_csv
    suffix = f".{fmt.value}"
    to_dir = out is not None and (len(files) > 1 or out.is_dir())
    if to_dir:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for f in files:
        try:
            text = render(extract(f))
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
    with_corrections: bool = typer.Option(False, "--with-corrections", help="also learn from reviewers' decisions"),
    db: str = typer.Option("results.sqlite", "--db", help="the results store the decisions are in"),
) -> None:
    """Retrain the table-structure classifier from generated reports (and reviewed scans)."""
    from training import train as training

    args = ["--train", str(reports), "--calibrate", str(calibrate)]
    if out:
        args += ["--out", str(out)]
    if with_corrections:
        args += ["--with-corrections", db]
    training.main(args)


@app.command("batch")
def batch(
    target: str = typer.Argument(..., help="a folder of reports (searched recursively), a file listing paths or URLs, "
                                            "or (with --ray) a URL Ray reads, such as s3://bucket/reports/"),
    db: str = typer.Option("results.sqlite", "--db", help="the results store: a SQLite file or a database URL"),
    workers: int = typer.Option(0, "--workers", "-w", min=0, help="worker processes, a core each (default: every core)"),
    device: str = typer.Option("cpu", help="where OCR runs: cpu or cuda"),
    images: bool = typer.Option(True, help="keep page images for review crops"),
    ray: str | None = typer.Option(None, "--ray", help="run as a Ray Data job: a cluster address, or 'local'"),
) -> None:
    """Read every report of a folder into the store; resumable (files already done are skipped,
    renamed copies too), parallel, and a failing file is recorded and passed over."""
    from dataclasses import replace

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from . import batch as bulk
    from .years import breaks

    store = _store(db)
    try:
        paths = bulk.inputs(Path(target)) if "://" not in target else [target]
    except ExtractError as e:
        typer.echo(f"extract: {e}", err=True)
        raise typer.Exit(2) from None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("reports", total=None, rate="")
        t0 = time.perf_counter()

        def step(n: int, total: int) -> None:
            per_min = n / max(time.perf_counter() - t0, 1e-9) * 60
            bar.update(task, completed=n, total=total, rate=f"{per_min:.1f}/min")

        options = replace(bulk.BATCH, device=device, keep_images=images)
        if ray:
            # actors: as many as asked, else one per CPU of the cluster
            summary = bulk.run_ray([str(p) for p in paths], store, ray, workers or None, options, step)
        elif any("://" in str(p) for p in paths):
            typer.echo("extract: URLs are read by Ray: add --ray ADDRESS (or --ray local)", err=True)
            raise typer.Exit(2)
        else:
            summary = bulk.run(paths, store, workers or os.cpu_count() or 1, options, step)
    typer.echo(f"extract batch: {summary.done} read, {summary.failed} failed, {summary.skipped} already done "
               f"({summary.seconds:.0f} s)", err=True)
    if summary.review:  # what sent this run's cells to a person
        typer.echo(f"extract batch: {sum(summary.review.values())} cells to review: "
                   + ", ".join(f"{reason} {n}" for reason, n in summary.review.most_common()), err=True)
    for path, error in store.failures()[-summary.failed:] if summary.failed else []:
        typer.echo(f"  failed: {error}" if path in error else f"  failed: {path}: {error}", err=True)
    found = breaks(store)
    if found:
        typer.echo(f"extract batch: {len(found)} cross-year breaks (extract years --db {db})", err=True)


@app.command("years")
def years(
    db: str = typer.Option("results.sqlite", "--db", help="the results store"),
) -> None:
    """Cross-year checks: each agency's carry-overs and 现行有效 counts from one year to the next."""
    import json

    from .years import breaks

    found = breaks(_store(db))
    for b in found:
        typer.echo(json.dumps(b.as_dict(), ensure_ascii=False))
    if found:
        raise typer.Exit(1)


@app.command("export")
def export(
    db: str = typer.Option("results.sqlite", "--db", help="the results store"),
    fmt: str = typer.Option("jsonl", "--format", "-f",
                            help="jsonl, csv, parquet or xlsx (a workbook: a sheet per table, cells to review marked, and one of cells)"),
    shape: str = typer.Option("wide", help="wide: one row per report, every key a column; long: one row per cell (xlsx holds both)"),
    out: Path | None = typer.Option(None, "-o", "--out", help="output file (default: stdout; parquet and xlsx need a file)"),
) -> None:
    """Every stored report, as a table (or, as xlsx, a workbook of tables)."""
    from . import export as exporting

    try:
        data = exporting.export(_store(db), fmt, shape, out)
    except ExtractError as e:
        typer.echo(f"extract: {e}", err=True)
        raise typer.Exit(2) from None
    if out is None:
        sys.stdout.write(data)


@app.command("review")
def review(
    db: str = typer.Option("results.sqlite", "--db", help="the results store: a SQLite file or a database URL"),
    data_dir: Path | None = typer.Option(None, help="page images (default: beside a SQLite file, NAME.data/)"),
    host: str = typer.Option("127.0.0.1", help="address to listen on (loopback unless you mean otherwise)"),
    port: int = typer.Option(8000),
) -> None:
    """Serve the review pages: reviewers confirm or correct the cells marked needs_review."""
    from .review import serve

    store = _store(db, data_dir)
    typer.echo(f"extract review: http://{host}:{port}/ ({len(store.reports())} reports)", err=True)
    serve(store, host, port)


@app.command("add-reviewer")
def add_reviewer(
    name: str = typer.Argument(..., help="the reviewer's login name"),
    db: str = typer.Option("results.sqlite", "--db", help="the results store: a SQLite file or a database URL"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin (scripts)"),
) -> None:
    """Create a reviewer account (or set a new password); passwords are stored as scrypt hashes."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else \
        typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        _store(db).add_reviewer(name, password)
    except ExtractError as e:
        typer.echo(f"extract: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"reviewer {name} ready", err=True)


def _store(db: str, data_dir: Path | None = None):
    from .store import Store

    try:
        return Store(db, data_dir)
    except ExtractError as e:
        typer.echo(f"extract: {e}", err=True)
        raise typer.Exit(2) from None
    except Exception as e:  # an unreachable server, a file that is no database
        typer.echo(f"extract: cannot open the results store {db}: {e.__class__.__name__}: {e}", err=True)
        raise typer.Exit(2) from None


COMMANDS = {"run", "train", "review", "add-reviewer", "batch", "years", "export"}


GLOBAL = {"-v", "-vv", "-vvv", "--verbose", "--version"}


def main() -> None:
    """``extract FILE`` runs the default command; ``extract train`` etc. the others.  ``-v`` and
    ``--version`` may stand anywhere (``extract report.pdf -v``)."""
    argv = sys.argv[1:]
    front = [a for a in argv if a in GLOBAL]
    rest = [a for a in argv if a not in GLOBAL]
    if rest and rest[0] not in COMMANDS and rest[0] not in ("--help", "-h") and "--version" not in front:
        rest = ["run", *rest]
    app([*front, *rest], prog_name="extract")
