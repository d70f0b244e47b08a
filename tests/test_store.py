"""The results store: the same code on SQLite and on a real PostgreSQL server (started by the test)."""
from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TIMEOUT, children_of, run
from test_reconcile import _first_clean_seed

from extract.pipeline import extract_document
from extract.records import Document, Source
from extract.review import decide
from extract.store import Store


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster on a free loopback port (Debian's server, which
    ``scripts/dev.py test`` installs), stopped however the tests using it end."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries missing: `python3 scripts/dev.py test` installs them")
    bin_dir = os.path.dirname(found[-1])
    # not under pytest's root-only tmp: the server's own user must reach its directory
    root = Path(tempfile.mkdtemp(prefix="extract-pg-"))
    data = root / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run_as = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    try:
        _ok([*run_as, f"{bin_dir}/initdb", "-D", data, "-U", "extract", "--auth=trust", "-E", "UTF8"])
        # the server puts itself in a session of its own: it outlives pg_ctl, and is stopped below
        _ok([*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-w", "-t", "600", "-l", root / "log", "-o",
             f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"])
        _ok([*run_as, f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", port, "-U", "extract", "results"])
        yield f"postgresql+psycopg://extract@127.0.0.1:{port}/results"
    finally:
        _stop_postgres(run_as, bin_dir, data)
        shutil.rmtree(root, ignore_errors=True)


def _ok(cmd: list) -> None:
    result = run(cmd)
    assert result.returncode == 0, (cmd, result.stdout, result.stderr)


def _stop_postgres(run_as: list[str], bin_dir: str, data: Path) -> None:
    """Stop the server: fast, else immediate, else its postmaster and its children SIGKILLed."""
    pidfile = data / "postmaster.pid"
    for mode in ("fast", "immediate"):
        if not pidfile.exists():
            return
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            run([*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-m", mode, "-w", "-t", "120", "stop"], timeout=180)
    try:
        postmaster = int(pidfile.read_text().split()[0])
        if b"postgres" not in Path(f"/proc/{postmaster}/cmdline").read_bytes():
            return  # gone, and its id is another process's now
    except (OSError, ValueError, IndexError):
        return
    for pid in (postmaster, *children_of(postmaster)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def lost_number():
    """A scanned report that lost one number, and its truth."""
    key = "requests.granted.commercial"
    s, model = _first_clean_seed(key)
    i = s.keys.index(key)
    cells = s.cells[:i] + s.cells[i + 1:]
    report = extract_document(Document(Source("generated.pdf", "1" * 64, 1, "pdf-scan"), "", cells), model)
    return report, cells, s.values


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_same_store_on_sqlite_and_postgresql(backend, request, tmp_path, lost_number):
    url = request.getfixturevalue("postgres") if backend == "postgresql" else str(tmp_path / "r.sqlite")
    report, cells, truth = lost_number
    # the store's clock stands still: no lease runs out however slowly the reviewers below go
    store = Store(url, tmp_path / "data", clock=lambda: 1_700_000_000.0)
    rid = store.add_report(report, {}, cells)
    assert store.add_report(report, {}, cells) != rid and len(store.reports()) == 1  # the same file replaces itself
    rid = store.reports()[0]["id"]
    back = store.report(rid)
    assert [(r.key, r.value, r.status) for r in back.readings] == [(r.key, r.value, r.status) for r in report.readings]
    assert back.basis == report.basis and store.sequence(rid) == cells
    # why each cell needs review, as stored and as handed to a reviewer
    reasons = {r.key: r.reason for r in report.readings}
    assert {r.key: r.reason for r in back.readings} == reasons and any(reasons.values())
    cell = store.claim("alice")
    assert cell.reason == reasons[cell.key] and cell.reason
    store.release("alice")
    for name in ("alice", "bob"):
        store.add_reviewer(name, "a long password")
    assert store.check_password("alice", "a long password") and not store.check_password("alice", "wrong one")
    assert not store.check_password("nobody", "a long password")
    # reviewers racing for the queue never hold the same cell
    held: dict[str, list[int]] = {"alice": [], "bob": []}

    def work(name: str) -> None:
        while (cell := store.claim(name)) is not None:
            held[name].append(cell.id)
            decide(store, name, cell.id, "value", str(truth[cell.key]))

    queue = {r.key for r in report.readings if r.status == "needs_review"}
    assert len(queue) >= 2, "the two reviewers need a queue to share"
    threads = [threading.Thread(target=work, args=(n,)) for n in held]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a reviewer was still at work after the time-out"
    assert not set(held["alice"]) & set(held["bob"])
    # between them they decided the whole queue, each cell once
    decided = [d.cell_id for d in store.decisions(rid)]
    assert sorted(decided) == sorted(held["alice"] + held["bob"]) and len(set(decided)) == len(decided)
    assert decided and {store.cell(c).key for c in decided} <= queue and store.claim("carol") is None
    final = store.report(rid)
    assert {r.key: r.value for r in final.readings} == truth
    assert not [r for r in final.readings if r.reason]  # reviewed: nothing left to say why
    assert [d.reviewer for d in store.decisions(rid)] and all(d.reason in ("confirmed", "corrected") for d in store.decisions(rid))
    token, csrf = store.open_session("alice")
    assert store.session(token) == ("alice", csrf) and store.session("forged") is None
    store.close_session(token)
    assert store.session(token) is None


def test_a_lease_runs_out_and_a_page_path_never_leaves_the_data_directory(tmp_path, lost_number):
    from extract.records import ExtractError

    report, cells, _ = lost_number
    now = [1_700_000_000.0]  # the store's clock, which the test moves on
    store = Store(tmp_path / "r.sqlite", lease_seconds=300, clock=lambda: now[0])
    store.add_report(report, {}, cells)
    first = store.claim("alice")
    assert store.holder(first.id) == "alice" and store.claim("bob").id != first.id
    now[0] += 299  # within her lease: still hers
    assert store.holder(first.id) == "alice" and store.claim("carol").id not in (first.id, None)
    now[0] += 2  # alice walked away: her cell is free again
    assert store.holder(first.id) is None
    assert store.claim("carol").id == first.id and store.holder(first.id) == "carol"
    for bad in ("../" * 3 + "etc", "a" * 64 + "/..", "x" * 64):
        with pytest.raises(ExtractError):
            store.page_path(bad, 1)


def test_an_older_store_opens_and_keeps_reasons_from_then_on(tmp_path, lost_number):
    report, cells, _ = lost_number
    db = tmp_path / "old.sqlite"
    rid = Store(db).add_report(report, {}, cells)
    # as a store made before cells had reasons: no such column, a basis without them
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE cells DROP COLUMN review_reason")
    basis = json.loads(con.execute("SELECT basis FROM reports").fetchone()[0])
    basis["readings"] = [r[:10] for r in basis["readings"]]
    con.execute("UPDATE reports SET basis = ?", (json.dumps(basis, ensure_ascii=False),))
    con.commit()
    con.close()
    store = Store(db)
    old = store.report(rid)
    assert [(r.key, r.value, r.status) for r in old.readings] == [(r.key, r.value, r.status) for r in report.readings]
    assert not [r for r in old.readings + list(old.basis.readings) if r.reason]
    again = replace(report, source=replace(report.source, sha256="2" * 64))
    assert [r.reason for r in store.report(store.add_report(again, {}, cells)).readings] == [r.reason for r in report.readings]
