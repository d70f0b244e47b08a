"""Train the structure classifier from generated reports and save it to models/.

    python -m training.train                 # the shipped model (seeds 0..train+calibrate-1)
    python -m training.train --train 100     # a quick small one

Training is deterministic: the same arguments rebuild the same model.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import json
import math
import random
import re
import time
from dataclasses import replace
from pathlib import Path

import joblib

from extract.normalize import Kind, kind_of
from extract.pipeline import read_tables
from extract.reconcile import identities
from extract.structure import StructureModel, StructureModels
from training.generate import as_scanned, prose_lines, sample

MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
CALIBRATION_SEED = 500_000  # calibration seeds start here; evaluation seeds start at 1_000_000
# the modules a cell's calibrated confidence and review decision pass through on the way to the
# thresholds: change one of their constants and the calibrated thresholds are stale
CALIBRATED_THROUGH = ("extract.normalize", "extract.schema", "extract.reconcile", "extract.structure",
                      "extract.structure.anchors", "extract.structure.grid", "extract.structure.values", "training.train")
_CONSTANT = re.compile(r"_?[A-Z][A-Z0-9_]*")


def fingerprint(n_train: int = 400, n_calibrate: int = 300, sources: dict[str, str] | None = None) -> str:
    """What the model's thresholds were calibrated through: every module-level constant of
    ``CALIBRATED_THROUGH`` (as its source expression, so comments and layout do not count) and
    the training run's sizes.  The model file records it; a test compares it with the code's,
    so stale thresholds cannot land.  ``sources``: module texts to take instead of the files."""
    h = hashlib.sha256(f"train={n_train} calibrate={n_calibrate}".encode())
    for name in CALIBRATED_THROUGH:
        text = (sources or {}).get(name) or Path(importlib.util.find_spec(name).origin).read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and _CONSTANT.fullmatch(t.id) and node.value is not None:
                    h.update(f"{name}.{t.id}={ast.dump(node.value)}\n".encode())
    return h.hexdigest()[:16]


def label_data(samples, seed: int) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for s in samples:
        for cell, label in zip(s.cells, s.labels):
            if kind_of(cell.text) == Kind.TEXT:
                texts.append(cell.text)
                labels.append(label)
    rng = random.Random(seed)
    for line in prose_lines(rng, len(texts) // 10):
        texts.append(line)
        labels.append("none")
    return texts, labels


THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999)


def is_right(value, want) -> bool:
    return want is not None and abs(value - want) < 1e-6


def silent_errors(model, samples, parses, threshold: float) -> tuple[int, int]:
    """Silent errors among cells an identity checks, and among those none does, at one threshold."""
    model.threshold = model.threshold_unchecked = threshold
    checked = unchecked = 0
    for s, parse in zip(samples, parses):
        keys = {k for ident in identities(parse.variant) for k in ident.keys}
        readings, _ = read_tables(parse, s.cells, model)
        for r in readings:
            if r.status != "needs_review" and not is_right(r.value, s.values.get(r.key)):
                checked += r.key in keys
                unchecked += r.key not in keys
    return checked, unchecked


MIN_THRESHOLD, MIN_THRESHOLD_UNCHECKED = 0.9, 0.99
TEMPERATURES = (1.0, 2.0, 4.0, 6.0, 8.0)


def value_nll(parse, s) -> float:
    """Negative log-likelihood of the true values under the decoded value distributions."""
    total = 0.0
    for a in parse.assignments:
        want = s.values.get(a.key)
        p = max((q for v, q in a.alternatives if v is not None and is_right(v, want)), default=0.0)
        total -= math.log(max(p, 1e-6))
    return total


def _safe(silent_at: dict, kind: int, margin: int) -> float:
    safe = [t for t in THRESHOLDS if all(silent_at[u][kind] == 0 for u in THRESHOLDS if u >= t)]
    i = THRESHOLDS.index(safe[0]) if safe else len(THRESHOLDS) - 1
    return THRESHOLDS[min(i + margin, len(THRESHOLDS) - 1)]


def _samples(seeds: range, scanned: bool) -> list:
    """Generated reports, as text gives them or as OCR would (boxes, no blank cells)."""
    if scanned:
        return [as_scanned(sample(seed), random.Random(seed)) for seed in seeds]
    return [sample(seed) for seed in seeds]


def train(n_train: int = 400, n_calibrate: int = 300, extra: list | None = None,
          threshold_margin: int = 1, scanned: bool = False, log=print) -> tuple[StructureModel, dict]:
    t0 = time.time()
    generated = _samples(range(n_train), scanned)
    samples = generated + list(extra or [])
    model = StructureModel(geometric=scanned, calibration="isotonic" if scanned else "sigmoid")
    # label texts from generated reports only: a reviewed report says where values sit, not what labels say
    model.fit_labels(*label_data(generated, seed=n_train))
    log(f"label model: {len(model.labels.classes_)} classes ({time.time() - t0:.0f}s)")
    model.fit_values([s.cells for s in samples], [s.keys for s in samples], [s.variant for s in samples])
    log(f"value model fitted ({time.time() - t0:.0f}s)")
    calibration = _samples(range(CALIBRATION_SEED, CALIBRATION_SEED + n_calibrate), scanned)
    # The temperature that makes the value distributions most likely on reports the model did not see.
    nll = {}
    for t in TEMPERATURES:
        model.temperature = t
        nll[t] = sum(value_nll(model.predict(s.cells), s) for s in calibration[: n_calibrate // 2])
    model.temperature = min(nll, key=nll.get)
    log(f"temperature {model.temperature} ({time.time() - t0:.0f}s)")
    parses = [model.predict(s.cells) for s in calibration]
    keys, raw, correct = [], [], []
    for s, parse in zip(calibration, parses):
        for a in parse.assignments:
            keys.append(a.key)
            raw.append(a.confidence)
            correct.append(is_right(a.value, s.values.get(a.key)))
    model.fit_calibration(keys, raw, correct)
    for parse in parses:
        parse.assignments = [replace(a, confidence=model.calibrate(a.key, a.confidence)) for a in parse.assignments]
    # For each kind of cell, the lowest threshold at which the whole path (with reconciliation)
    # leaves no silent error on the calibration reports, then one step up for margin.
    silent_at = {t: silent_errors(model, calibration, parses, t) for t in THRESHOLDS}
    model.threshold, model.threshold_unchecked = (_safe(silent_at, k, threshold_margin) for k in (0, 1))
    # Whatever the calibration reports show, a cell less than 90% sure goes to a person, and one that
    # no identity checks (表二, no second line of defence) when less than 99% sure.
    model.threshold = max(model.threshold, MIN_THRESHOLD)
    model.threshold_unchecked = max(model.threshold_unchecked, MIN_THRESHOLD_UNCHECKED, model.threshold)
    wrong = [r for r, ok in zip(raw, correct) if not ok]
    stats = {
        "train_reports": n_train, "calibration_reports": n_calibrate, "calibration_cells": len(raw),
        "calibration_wrong": len(wrong), "temperature": model.temperature,
        "threshold": model.threshold, "threshold_unchecked": model.threshold_unchecked,
        "strong": round(model.strong, 6),
        "calibration_silent_errors_by_threshold": {str(t): {"checked": c, "unchecked": u} for t, (c, u) in silent_at.items()},
        "seconds": round(time.time() - t0, 1),
    }
    log(json.dumps(stats))
    return model, stats


def train_both(n_train: int = 400, n_calibrate: int = 300, reviewed: list | None = None,
               log=print) -> tuple[StructureModels, dict]:
    """The text model and the scan model, from the same generated reports (the scan model also
    from ``reviewed`` scans: where reviewers said the values sit)."""
    text, text_stats = train(n_train, n_calibrate, log=log)
    scanned, scanned_stats = train(n_train, n_calibrate, extra=reviewed, scanned=True, log=log)
    scanned_stats["reviewed_reports"] = len(reviewed or [])
    models = StructureModels(text, scanned, fingerprint(n_train, n_calibrate))
    return models, {"text": text_stats, "scanned": scanned_stats, "fingerprint": models.fingerprint}


def save(model: StructureModels, stats: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out, compress=3)
    out.with_suffix(".train.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=400, help="generated reports to train on")
    ap.add_argument("--calibrate", type=int, default=300, help="generated reports to calibrate confidence on")
    ap.add_argument("--out", type=Path, default=MODEL_DIR / "structure.joblib")
    ap.add_argument("--with-corrections", metavar="DB", help="also learn from the scans reviewers finished in this store")
    args = ap.parse_args(argv)
    reviewed = None
    if args.with_corrections:
        from extract.store import Store
        from training.corrections import samples

        reviewed = samples(Store(args.with_corrections))
        print(f"{len(reviewed)} reviewed scans from {args.with_corrections}")
    model, stats = train_both(args.train, args.calibrate, reviewed)
    save(model, stats, args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
