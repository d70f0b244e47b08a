"""Batch throughput on this machine: scans per minute with 1 and 2 worker processes, and as a
local Ray Data job, each into a fresh store (medians over runs).

    python scripts/bench_batch.py [--scans 8] [--runs 3] [--no-ray]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import batch  # noqa: E402
from extract.store import Store  # noqa: E402
from training.render import scan, to_pdf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scans", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    files = []
    for n in range(args.scans):
        path = tmp / f"scan-{n}.pdf"
        path.write_bytes(to_pdf(scan(5_000_000 + n, ("mild", "medium", "heavy")[n % 3]).pages, 200))
        files.append(path)
    configs = [("1 worker", 1, False), ("2 workers", 2, False)] + ([] if args.no_ray else [("local Ray, 2 actors", 2, True)])
    rates = {name: [] for name, _, _ in configs}
    for run in range(args.runs):
        for name, workers, ray in configs:
            store = Store(tmp / f"{run}-{workers}-{ray}.sqlite")
            if ray:
                summary = batch.run_ray([str(f) for f in files], store, "local", workers)
            else:
                summary = batch.run(files, store, workers)
            assert summary.done == len(files), summary
            rates[name].append(len(files) / summary.seconds * 60)
            print(f"run {run + 1}: {name}: {rates[name][-1]:.1f} scans/min", flush=True)
    base = statistics.median(rates["1 worker"])
    for name, values in rates.items():
        m = statistics.median(values)
        print(f"{name}: {m:.1f} scans/min (median of {len(values)}), {m / base:.2f}x one worker")


if __name__ == "__main__":
    main()
