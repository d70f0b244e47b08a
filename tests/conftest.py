"""Shared test helpers: where the corpus is, how to run the real CLI (and any other command, each in
a session of its own that is ended whole), national tables as span grids."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Safety nets, not budgets: a command that takes ~100 s on an idle machine still ends in time at
# three times the load (a run that takes longer is stuck, and is ended whole).
TIMEOUT = 900.0
GRACE = 10.0  # from SIGTERM to SIGKILL


def _processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent's pid, session) of every live (not zombie) process."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # after the command's name: state, ppid, pgrp, session
        if fields[0] != b"Z":
            yield int(entry.name), int(fields[1]), int(fields[3])


def _session_members(sid: int) -> list[int]:
    """The live processes of session ``sid``."""
    return [pid for pid, _, session in _processes() if session == sid]


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    return [p for p, parent, _ in _processes() if parent == pid]


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip() or f"[{pid}]"
    except OSError:
        return f"[{pid}]"


def _signal(sid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, sig)  # the leader's group: the command and what it started in it
    for pid in _session_members(sid):  # and anything that moved to a group of its own (Ray does)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def end_session(sid: int, grace: float = GRACE) -> list[str]:
    """End every process left in session ``sid``: SIGTERM, then SIGKILL after ``grace`` seconds.
    The commands that were still alive, for a test to assert there were none."""
    alive = _session_members(sid)
    left = [_command(pid) for pid in alive]
    if alive:
        _signal(sid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _session_members(sid) and time.monotonic() < deadline:
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        while _session_members(sid):
            assert time.monotonic() < deadline, f"session {sid} outlived SIGKILL: {_session_members(sid)}"
            _signal(sid, signal.SIGKILL)
            time.sleep(0.1)
    return left


def _exited(pid: int) -> bool:
    """Whether the child ``pid`` has exited, leaving it unreaped: while it is a zombie its id, which
    names its session and process group, cannot be given to another process."""
    info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is not None and info.si_pid == pid


def _wait(proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _exited(proc.pid):
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        time.sleep(0.05)


@contextlib.contextmanager
def started(cmd: list, *, grace: float = GRACE, **kw) -> Iterator[subprocess.Popen]:
    """``cmd`` started in a session of its own (``subprocess.Popen``'s keywords).  However the block
    is left (its end, an error, a failed assertion, a time-out) while the command runs, every
    process of its session is ended (SIGTERM, SIGKILL after ``grace`` seconds) and the command
    reaped; ``proc.left`` then lists what was still alive."""
    proc = subprocess.Popen([str(c) for c in cmd], start_new_session=True, **kw)
    proc.left = []
    try:
        yield proc
    finally:
        if proc.returncode is None:  # not reaped: its id still names its session
            try:
                proc.left = end_session(proc.pid, grace)  # the command itself, if it still runs
            finally:
                proc.wait()


def run(cmd: list, *, timeout: float = TIMEOUT, input: str | None = None, check: bool = False,
        cwd: Path | str | None = None, env: dict | None = None, grace: float = GRACE,
        settle: float = 30.0) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)``, the command in a
    session of its own: on a time-out or any error its whole session is ended (SIGTERM, SIGKILL
    after ``grace``) and the error raised.  What the command left running when it exited (still
    alive ``settle`` seconds later) is ended too, and listed in the result's ``left``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        def text(f) -> str:
            f.seek(0)
            return f.read().decode(errors="replace")

        try:
            with started(cmd, cwd=cwd, env=env, stdout=out, stderr=err, grace=grace,
                         stdin=subprocess.DEVNULL if input is None else subprocess.PIPE) as proc:
                if input is not None:
                    with proc.stdin:
                        proc.stdin.write(input.encode())
                _wait(proc, timeout)
                # it has exited, unreaped: what it left in its session first, then reap it
                deadline = time.monotonic() + settle
                while _session_members(proc.pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                left = end_session(proc.pid, grace)
                code = proc.wait()
        except subprocess.TimeoutExpired as e:  # its session ended by now: say what it had said
            e.output, e.stderr = text(out), text(err)
            e.add_note(f"(its session was ended) stderr's end:\n{e.stderr[-3000:]}")
            raise
        result = subprocess.CompletedProcess(proc.args, code, text(out), text(err))
    result.left = left
    if check:
        result.check_returncode()
    return result


def run_cli(*args: str, cwd: Path | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """The real CLI, ``python -m extract ARGS``, through ``run``; it must leave nothing running."""
    result = run([sys.executable, "-m", "extract", *map(str, args)], cwd=cwd or ROOT, timeout=timeout)
    assert not result.left, f"extract {' '.join(map(str, args))} left processes running: {result.left}"
    return result


def _shared() -> Path:
    """The shared corpus: $EXTRACT_SHARED, else ``../shared``, else beside the repository this one
    was cloned from (a clone in /tmp still finds the corpus its origin sits next to)."""
    if "EXTRACT_SHARED" in os.environ:
        return Path(os.environ["EXTRACT_SHARED"])
    here = ROOT.parent / "shared"
    if here.is_dir():
        return here
    origin = run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], timeout=60).stdout.strip()
    origin = Path(origin.removeprefix("file://"))
    if origin.is_absolute() and (origin.parent / "shared").is_dir():
        return origin.parent / "shared"
    return here


SHARED = _shared()
SEEDS = SHARED / "corpus" / "seeds"


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
