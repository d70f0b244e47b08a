"""The results store: the same code on SQLite and on a real PostgreSQL server (started by the test)."""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_reconcile import _first_clean_seed

from extract.pipeline import extract_document
from extract.records import Document, Source
from extract.review import decide
from extract.store import Store


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster on a free loopback port (Debian's server, which
    ``scripts/dev.py test`` installs)."""
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
    subprocess.run([*run_as, f"{bin_dir}/initdb", "-D", str(data), "-U", "extract", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, f"{bin_dir}/pg_ctl", "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    subprocess.run([*run_as, f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "extract", "results"],
                   check=True, capture_output=True)
    yield f"postgresql+psycopg://extract@127.0.0.1:{port}/results"
    subprocess.run([*run_as, f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


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
    store = Store(url, tmp_path / "data")
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

    threads = [threading.Thread(target=work, args=(n,)) for n in held]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert held["alice"] or held["bob"]
    assert not set(held["alice"]) & set(held["bob"])
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
    store = Store(tmp_path / "r.sqlite", lease_seconds=0.5)
    store.add_report(report, {}, cells)
    first = store.claim("alice")
    assert store.holder(first.id) == "alice" and store.claim("bob").id != first.id
    time.sleep(0.6)  # alice walked away: her cell is free again
    assert store.holder(first.id) is None
    assert store.claim("carol").id == first.id
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
