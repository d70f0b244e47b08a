"""The shipped model's review thresholds were calibrated through the code as it is."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from extract.pipeline import load_model
from training.train import CALIBRATED_THROUGH, fingerprint


def _source(name: str) -> str:
    return Path(importlib.util.find_spec(name).origin).read_text(encoding="utf-8")


def test_the_shipped_thresholds_were_calibrated_through_this_code():
    # a constant of reconcile, schema, normalize, the structure model or training changed since
    # the model was trained: its thresholds are stale. Run `extract train` and commit the model.
    assert getattr(load_model(), "fingerprint", None) == fingerprint(), "the model's thresholds are stale: run `extract train`"


def test_the_fingerprint_sees_a_constant_change_and_not_a_comment():
    assert "extract.reconcile" in CALIBRATED_THROUGH
    text = _source("extract.reconcile")
    assert "\nMARK_IS_ZERO = 0.95" in text
    changed = text.replace("\nMARK_IS_ZERO = 0.95", "\nMARK_IS_ZERO = 0.96")
    commented = text.replace("\nMARK_IS_ZERO = 0.95", "\n# a comment\nMARK_IS_ZERO = 0.95  # another")
    assert fingerprint(sources={"extract.reconcile": changed}) != fingerprint()
    assert fingerprint(sources={"extract.reconcile": commented}) == fingerprint()
    assert fingerprint(401) != fingerprint()  # the training run's size is part of it too
