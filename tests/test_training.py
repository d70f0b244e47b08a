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
