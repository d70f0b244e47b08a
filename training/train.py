"""Train the structure classifier from generated reports and save it to models/.

    python -m training.train                 # the shipped model (seeds 0..train+calibrate-1)
    python -m training.train --train 100     # a quick small one

Training is deterministic: the same arguments rebuild the same model.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import joblib

from extract.normalize import Kind, kind_of
from extract.structure import StructureModel
from training.generate import prose_lines, sample

MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
CALIBRATION_SEED = 500_000  # calibration seeds start here; evaluation seeds start at 1_000_000


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


def train(n_train: int = 400, n_calibrate: int = 300, extra: list | None = None,
          threshold_margin: float = 0.02, log=print) -> tuple[StructureModel, dict]:
    t0 = time.time()
    samples = [sample(seed) for seed in range(n_train)] + list(extra or [])
    model = StructureModel()
    model.fit_labels(*label_data(samples, seed=n_train))
    log(f"label model: {len(model.labels.classes_)} classes ({time.time() - t0:.0f}s)")
    model.fit_values([s.cells for s in samples], [s.keys for s in samples], [s.variant for s in samples])
    log(f"value model fitted ({time.time() - t0:.0f}s)")
    raw, correct = [], []
    for seed in range(CALIBRATION_SEED, CALIBRATION_SEED + n_calibrate):
        s = sample(seed)
        parse = model.predict(s.cells)
        for a in parse.assignments:
            if a.key in s.values:
                raw.append(a.confidence)
                correct.append(abs(a.value - s.values[a.key]) < 1e-6)
    model.fit_calibration(raw, correct)
    calibrated = [model.calibrate(r) for r in raw]
    wrong = [c for c, ok in zip(calibrated, correct) if not ok]
    # Review everything at or below the most confident wrong calibration cell, plus a margin.
    model.threshold = min(0.999, max([0.5, *wrong]) + threshold_margin)
    stats = {
        "train_reports": n_train, "calibration_reports": n_calibrate, "calibration_cells": len(raw),
        "calibration_wrong": len(wrong), "threshold": round(model.threshold, 4),
        "seconds": round(time.time() - t0, 1),
    }
    log(json.dumps(stats))
    return model, stats


def save(model: StructureModel, stats: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out, compress=3)
    out.with_suffix(".train.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=400, help="generated reports to train on")
    ap.add_argument("--calibrate", type=int, default=300, help="generated reports to calibrate confidence on")
    ap.add_argument("--out", type=Path, default=MODEL_DIR / "structure.joblib")
    args = ap.parse_args(argv)
    model, stats = train(args.train, args.calibrate)
    save(model, stats, args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
