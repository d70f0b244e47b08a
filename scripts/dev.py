#!/usr/bin/env python3
"""Set-up and run, with nothing but Python on the machine.

    python3 scripts/dev.py demo    # create .venv, install, run extract on a sample report
    python3 scripts/dev.py test    # create .venv, install, run ruff and the whole test suite

The virtual environment is (re)installed only when pyproject.toml changed.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
SAMPLE = ROOT / "samples" / "beilun-2022.txt"


def run(*cmd) -> int:
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def ensure() -> None:
    stamp = VENV / ".installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want and (BIN / "extract").exists():
        return
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    if run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip") or \
            run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]"):
        sys.exit("set-up failed: pip could not install the project")
    stamp.write_text(want)


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else "demo"
    ensure()
    if what == "demo":
        return run(BIN / "extract", SAMPLE, *sys.argv[2:])
    if what == "test":
        return run(BIN / "ruff", "check", "extract", "training", "tests", "scripts") or \
            run(BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *sys.argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
