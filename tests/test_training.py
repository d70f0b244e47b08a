"""Training is a command a user can run, and it is deterministic."""
from __future__ import annotations

import hashlib

import joblib
from conftest import run_cli

from training.generate import sample


def test_train_command_builds_the_same_model_twice(tmp_path):
    digests, models = [], []
    for i in range(2):
        out = tmp_path / f"m{i}.joblib"
        result = run_cli("train", "--reports", "25", "--calibrate", "10", "--out", out)
        assert result.returncode == 0, result.stderr
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
        models.append(joblib.load(out))
    s = sample(2_000_000)
    a, b = (m.predict(s.cells) for m in models)
    assert [(x.key, x.value, x.confidence) for x in a.assignments] == [(x.key, x.value, x.confidence) for x in b.assignments]
    assert digests[0] == digests[1]


def test_train_with_corrections_learns_from_reviewed_scans(tmp_path):
    from test_reconcile import _first_clean_seed

    from extract.normalize import parse_number
    from extract.pipeline import extract_document
    from extract.records import Document, Source
    from extract.review import decide
    from extract.store import Store
    from training.corrections import samples

    # a scan that lost a number, reviewed to its truth
    key = "requests.granted.commercial"
    s, model = _first_clean_seed(key)
    i = s.keys.index(key)
    cells = s.cells[:i] + s.cells[i + 1:]
    store = Store(tmp_path / "r.sqlite")
    store.add_report(extract_document(Document(Source("scan.pdf", "2" * 64, 1, "pdf-scan"), "", cells), model), {}, cells)
    store.add_reviewer("alice", "a long password")
    while (cell := store.claim("alice")) is not None:
        decide(store, "alice", cell.id, "value", str(s.values[cell.key]))
    [reviewed] = samples(store)
    # every cell the review placed prints its key's value
    placed = [(c, k) for c, k in zip(reviewed.cells, reviewed.keys) if k]
    assert placed and all(parse_number(c.text) == s.values[k] for c, k in placed)
    out = tmp_path / "m.joblib"
    result = run_cli("train", "--reports", "25", "--calibrate", "10", "--with-corrections", "--db", tmp_path / "r.sqlite",
                     "--out", out)
    assert result.returncode == 0, result.stderr
    assert "1 reviewed scans" in result.stdout
    stats = out.with_suffix(".train.json").read_text()
    assert '"reviewed_reports": 1' in stats
