#!/usr/bin/env python3
"""Set-up and run, with nothing but Python on the machine.

    python3 scripts/dev.py demo    # create .venv, install, run extract on a sample report
    python3 scripts/dev.py test    # create .venv, install (and Debian's chromium, postgresql and CJK fonts), run ruff and all tests

The virtual environment is (re)installed only when pyproject.toml changed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock, one set-up at a time
    fcntl = None

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
SAMPLE = ROOT / "samples" / "beilun-2022.txt"


def run(*cmd) -> int:
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def ensure(extras: str = "") -> None:
    """Install the project (with ``extras``) into .venv unless that exact install is done already.

    The demo installs what ``extract`` needs and nothing more, so a first run is not kept
    waiting on the test tools (Ray, Playwright, pyarrow: half the download). Once ``extract``
    is installed, adding extras installs only their packages: the project itself is not
    reinstalled, so ``.venv/bin/extract`` never disappears while something else runs it. Two
    set-ups at once (the demo and the tests started together) take turns on a lock. The stamp
    is written only once pip has finished, so an install cut short is redone next time."""
    VENV.mkdir(exist_ok=True)
    with (VENV / ".lock").open("w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
        stamp = VENV / ".installed"
        done = stamp.read_text().split() if stamp.exists() else []
        if (BIN / "extract").exists() and done[:1] == [want] and (not extras or extras in done[1:]):
            return
        if not (BIN / "python").exists():
            venv.create(VENV, with_pip=True)
        pip = (BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
        if (BIN / "extract").exists() and done[:1] == [want]:  # the project is in: only the extras' packages
            requires = subprocess.run([BIN / "python", "-c", _REQUIRES, extras], capture_output=True, text=True, check=True)
            packages = requires.stdout.split()
            failed = run(*pip, *packages) if packages else 0
        else:
            failed = run(*pip, "-e", f".[{extras}]" if extras else ".")
        if failed:
            sys.exit("set-up failed: pip could not install the project")
        stamp.write_text(" ".join([want, *(done[1:] if done[:1] == [want] else []), extras]).strip())


# the requirements an installed extract's extras add (extras naming extras followed), one a line
_REQUIRES = """
import re, sys
from importlib.metadata import requires
try:
    from packaging.requirements import Requirement
except ImportError:  # a venv with nothing but pip in it
    from pip._vendor.packaging.requirements import Requirement
want, seen, out = sys.argv[1].split(","), set(), []
while want:
    extra = want.pop()
    if extra in seen:
        continue
    seen.add(extra)
    for line in requires("extract") or []:
        r = Requirement(line)
        if r.marker is not None and r.marker.evaluate({"extra": extra}):
            if r.name == "extract":
                want += sorted(r.extras)
            else:
                out.append(str(Requirement(line.split(";")[0])))
print("\\n".join(dict.fromkeys(out)))
"""


# Debian packages the tests use: the browser the review tests drive and training.render_html prints
# with (no browser download from a hub), a PostgreSQL server the store's tests start on loopback,
# and the fonts render_html sets its reports in (each package -> a file proving it is installed)
_FONTS = Path("/usr/share/fonts")
SYSTEM = {
    "chromium": Path("/usr/bin/chromium"), "postgresql": Path("/usr/lib/postgresql"),
    "fonts-noto-cjk": _FONTS / "opentype/noto/NotoSerifCJK-Bold.ttc",
    "fonts-arphic-uming": _FONTS / "truetype/arphic/uming.ttc", "fonts-arphic-ukai": _FONTS / "truetype/arphic/ukai.ttc",
    "fonts-arphic-gbsn00lp": _FONTS / "truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "fonts-arphic-gkai00mp": _FONTS / "truetype/arphic-gkai00mp/gkai00mp.ttf",
    "fonts-wqy-zenhei": _FONTS / "truetype/wqy/wqy-zenhei.ttc", "fonts-wqy-microhei": _FONTS / "truetype/wqy/wqy-microhei.ttc",
    "fonts-lxgw-wenkai": _FONTS / "truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
    "fonts-liberation2": _FONTS / "truetype/liberation2/LiberationSerif-Regular.ttf",
    "fonts-dejavu-core": _FONTS / "truetype/dejavu/DejaVuSans.ttf",
}


def ensure_system() -> None:
    """Install the tests' Debian packages when missing, where this machine lets us (root, apt)."""
    missing = [name for name, path in SYSTEM.items() if not path.exists()]
    if not missing:
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not Path("/usr/bin/apt-get").exists():
        sys.exit(f"set-up: the tests need Debian's {' and '.join(missing)}: run `apt-get install {' '.join(missing)}` as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run("apt-get", "update", "-qq") or \
            subprocess.call(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env):
        sys.exit(f"set-up failed: apt-get could not install {' '.join(missing)}")


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else "demo"
    ensure("test" if what == "test" else "")
    if what == "demo":
        return run(BIN / "extract", SAMPLE, *sys.argv[2:])
    if what == "test":
        ensure_system()
        return run(BIN / "ruff", "check", "extract", "training", "tests", "scripts") or \
            run(BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *sys.argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
