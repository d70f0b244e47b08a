#!/usr/bin/env python3
"""Benchmark: text reports per second in a warm process (median of runs).

    python scripts/bench_text.py [--runs 7]

Times the whole pipeline (ingest, metadata, structure, reconciliation, JSON)
per kind of text: the seed reports, the crawl corpus, and generated reports as
text, as a web crawler's flat text and as markdown, after one warm-up pass.
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
from training.generate import CRAWL_STYLES, sample, to_crawl, to_markdown, to_text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    kinds: dict[str, list[Path]] = {"seeds": sorted((args.corpus / "seeds").glob("*.txt")),
                                    "crawl corpus": sorted((args.corpus / "crawl").glob("*.txt")),
                                    "generated text": [], "generated crawl": [], "generated markdown": []}
    for seed in range(10):
        s = sample(3_000_000 + seed)
        for kind, text in (("generated text", to_text(s, random.Random(seed), "tabs" if seed % 2 else "lines")),
                           ("generated crawl", to_crawl(s, random.Random(seed), CRAWL_STYLES[seed % len(CRAWL_STYLES)])),
                           ("generated markdown", to_markdown(s, random.Random(seed))[0])):
            f = tmp / f"{kind.split()[1]}-{seed}.{'md' if 'markdown' in kind else 'txt'}"
            f.write_text(text, encoding="utf-8")
            kinds[kind].append(f)
    t0 = time.perf_counter()
    for f in (f for files in kinds.values() for f in files):  # warm-up: loads spaCy and the model once
        to_json(extract(f))
    print(f"cold start + first pass: {time.perf_counter() - t0:.2f}s")
    for kind, files in kinds.items():
        if not files:
            continue
        per_report = []
        for _ in range(args.runs):
            t = time.perf_counter()
            for f in files:
                to_json(extract(f))
            per_report.append((time.perf_counter() - t) / len(files))
        med = statistics.median(per_report)
        print(f"{kind:20s} reports: {len(files):3d}  median s/report: {med:.4f}  (min {min(per_report):.4f}, "
              f"max {max(per_report):.4f}, runs {args.runs})")


if __name__ == "__main__":
    main()
