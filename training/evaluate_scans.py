"""Score the scan path (OCR -> cells -> structure) on rendered, degraded reports the model never saw.

    python -m training.evaluate_scans --count 40            # mild/medium/heavy in turn, every style
    python -m training.evaluate_scans --count 6 --show 10   # a quick look at the errors

Accuracy is taken before any arithmetic correction: the structure stage's own
values against the rendered truth, per style and per degradation level.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from extract.cells import SEGMENT_GAP, PageBoxes, build_cells
from extract.ocr import default_engine
from extract.pipeline import load_model, read_tables
from training.render import scan

EVAL_SEED = 1_000_000
LEVELS = ("mild", "medium", "heavy")


def evaluate(count: int, start: int = EVAL_SEED, show: int = 0) -> dict:
    model, ocr = load_model(), default_engine()
    tally = defaultdict(lambda: [0, 0])  # group -> [cells, right]
    silent = review = cells_total = 0
    errors = []
    seconds = []
    for i in range(count):
        seed, level = start + i, LEVELS[i % len(LEVELS)]
        s = scan(seed, level)
        t = time.perf_counter()
        pages = [PageBoxes(ocr.read(p, n + 1), p.shape[0], SEGMENT_GAP) for n, p in enumerate(s.pages)]
        cells, _ = build_cells(pages)
        parse = model.predict(cells)
        readings, _ = read_tables(parse, cells, model)
        seconds.append((time.perf_counter() - t) / len(s.pages))
        status = {r.key: r.status for r in readings}
        groups = [f"level:{level}", f"layout:{s.variant.layout}"] + [f"style:{k}" for k, v in s.style.items() if v is True]
        for a in parse.assignments:
            want = s.values.get(a.key)
            ok = want is not None and abs(a.value - want) < 1e-6
            cells_total += 1
            review += status.get(a.key) == "needs_review"
            if not ok:
                silent += status.get(a.key) != "needs_review"
                errors.append((seed, level, a.key, a.value, want, round(a.confidence, 4), status.get(a.key)))
            for g in ["all", *groups]:
                tally[g][0] += 1
                tally[g][1] += ok
    for e in errors[:show]:
        print("seed={} level={} key={} got={} want={} conf={} status={}".format(*e))
    return {
        "reports": count, "cells": cells_total,
        "accuracy": {g: round(r / n, 4) for g, (n, r) in sorted(tally.items())},
        "cells_by_group": {g: n for g, (n, _) in sorted(tally.items())},
        "silent_errors": silent, "review_load": round(review / max(cells_total, 1), 4),
        "median_seconds_per_page": round(sorted(seconds)[len(seconds) // 2], 2) if seconds else None,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--start", type=int, default=EVAL_SEED)
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    figures = evaluate(args.count, args.start, args.show)
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
