#!/usr/bin/env python3
"""Benchmark: arithmetic reconciliation of one report (median of runs).

    python scripts/bench_reconcile.py [--reports 40] [--runs 5]

Held-out generated reports as a scan gives them, each with two of its 表三
cells misread as look-alike digits (the OCR nearly sure of the wrong reading),
so that every report runs the search; times ``reconcile.reconcile`` alone.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import reconcile  # noqa: E402
from extract.pipeline import load_model, parse_cells, readings_of  # noqa: E402
from training.generate import as_scanned, misread, sample  # noqa: E402


def misread_some(s, rng: random.Random, count: int = 2) -> list:
    cells = list(s.cells)
    keys = [i for i, k in enumerate(s.keys) if k and k.startswith("requests.") and cells[i].text.isascii()
            and cells[i].text.isdigit()]
    for i in rng.sample(keys, min(count, len(keys))):
        cells[i] = misread(cells[i])
    return cells


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=40)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    model = load_model().scanned
    cases = []
    for seed in range(4_000_000, 4_000_000 + args.reports):
        s = as_scanned(sample(seed), random.Random(seed))
        cells = misread_some(s, random.Random(seed))
        parse, cells = parse_cells(cells, model)
        readings, missing = readings_of(parse, cells, model)
        cases.append((readings, missing, parse.variant, s.values))
    per_report, outcome = [], {}
    for _ in range(args.runs):
        t = time.perf_counter()
        results = [reconcile.reconcile(readings, missing, variant, model.strong, exact=False)[0]
                   for readings, missing, variant, _ in cases]
        per_report.append((time.perf_counter() - t) / len(cases))
        outcome = {"corrected": 0, "silent": 0}
        for out, (*_, truth) in zip(results, cases):
            outcome["corrected"] += sum(r.status == "corrected" and r.value == truth[r.key] for r in out)
            outcome["silent"] += sum(r.status != "needs_review" and r.value != truth.get(r.key, r.value) for r in out)
    print(f"reports: {len(cases)}  runs: {args.runs}  misread cells: {2 * len(cases)}  "
          f"corrected: {outcome['corrected']}  silent: {outcome['silent']}")
    print(f"median ms per report: {1000 * statistics.median(per_report):.2f}  (max {1000 * max(per_report):.2f})")


if __name__ == "__main__":
    main()
