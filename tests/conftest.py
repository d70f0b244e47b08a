"""Shared test helpers: where the corpus is, how to run the real CLI, national tables as span grids."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _shared() -> Path:
    """The shared corpus: $EXTRACT_SHARED, else ``../shared``, else beside the repository this one
    was cloned from (a clone in /tmp still finds the corpus its origin sits next to)."""
    if "EXTRACT_SHARED" in os.environ:
        return Path(os.environ["EXTRACT_SHARED"])
    here = ROOT.parent / "shared"
    if here.is_dir():
        return here
    origin = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True).stdout.strip()
    origin = Path(origin.removeprefix("file://"))
    if origin.is_absolute() and (origin.parent / "shared").is_dir():
        return origin.parent / "shared"
    return here


SHARED = _shared()
SEEDS = SHARED / "corpus" / "seeds"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "extract", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="session")
def seeds() -> list[Path]:
    files = sorted(SEEDS.glob("*.txt"))
    assert files, f"shared corpus not found at {SEEDS} (set EXTRACT_SHARED)"
    return files


def truth(path: Path) -> dict:
    return json.loads(path.with_name(path.stem + ".truth.json").read_text(encoding="utf-8"))


def flatten(values: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in values.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def every_key_is_there(report) -> None:
    """Every key of the layout the report was read as is in its output; a null one is sent to a person."""
    from extract.output import to_dict

    out = to_dict(report)
    keys = set(report.template.variant.keys) if report.template else set()
    cells = {c["key"]: c for c in out["cells"]}
    assert keys and keys <= set(cells), sorted(keys - set(cells))
    for key in keys:
        table, rest = key.split(".", 1)
        row, column = rest.rsplit(".", 1)
        assert out["values"][table][row][column] == cells[key]["value"]
        # a value not known is null, and a person sees it
        assert cells[key]["value"] is not None or cells[key]["status"] == "needs_review", cells[key]
