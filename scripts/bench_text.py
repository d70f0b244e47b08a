#!/usr/bin/env python3
"""Benchmark: text reports per second in a warm process (median of runs).

    python scripts/bench_text.py [--runs 7]

Times the whole pipeline (ingest, metadata, structure, reconciliation, JSON)
on every seed report and on generated reports, after one warm-up pass.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import extract  # noqa: E402
from extract.output import to_json  # noqa: E402
from training.generate import sample, to_text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "seeds")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    files = sorted(args.corpus.glob("*.txt"))
    for seed in range(10):
        f = tmp / f"generated-{seed}.txt"
        f.write_text(to_text(sample(3_000_000 + seed), random.Random(seed), "tabs" if seed % 2 else "lines"), encoding="utf-8")
        files.append(f)
    t0 = time.perf_counter()
    for f in files:  # warm-up: loads spaCy and the model once
        to_json(extract(f))
    print(f"cold start + first pass: {time.perf_counter() - t0:.2f}s for {len(files)} reports")
    per_report = []
    for _ in range(args.runs):
        t = time.perf_counter()
        for f in files:
            to_json(extract(f))
        per_report.append((time.perf_counter() - t) / len(files))
    med = statistics.median(per_report)
    print(f"reports: {len(files)}  runs: {args.runs}")
    print(f"median seconds per text report: {med:.4f}  (min {min(per_report):.4f}, max {max(per_report):.4f})")
    print(f"median text reports per second: {1 / med:.1f}")


if __name__ == "__main__":
    main()
