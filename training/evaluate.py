"""Score the structure classifier on generated reports it never saw.

    python -m training.evaluate                       # 1000 held-out reports, the shipped model
    python -m training.evaluate --count 200 --show 5  # fewer, and print a few errors
    python -m training.evaluate --scanned             # the same reports as a scan gives them
    python -m training.evaluate --crawl --count 500   # as web crawlers store them, the whole pipeline, per style

Accuracy counts every canonical cell; a silent error is a wrong value whose
confidence is above the model's review thresholds (so it would not be flagged).
"""
from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import joblib

from extract.ingest import parse_text
from extract.pipeline import cells_lost, extract_document, parse_cells, read_tables
from extract.records import Document, Source
from extract.structure import StructureModel, StructureModels
from training.generate import (
    CONVERTER_FAULTS,
    CRAWL_STYLES,
    PERTURBATIONS,
    as_scanned,
    print_rows,
    sample,
    to_crawl,
    to_markdown,
)
from training.train import MODEL_DIR

EVAL_SEED = 1_000_000  # never used by training (0..) or calibration (500_000..)


@dataclass
class Score:
    reports: int = 0
    cells: int = 0
    wrong: int = 0
    silent: int = 0
    review: int = 0
    variant_wrong: int = 0
    by_perturbation: Counter = field(default_factory=Counter)
    wrong_by_perturbation: Counter = field(default_factory=Counter)
    reliability: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "reports": self.reports, "cells": self.cells,
            "accuracy": round(1 - self.wrong / max(self.cells, 1), 5),
            "silent_errors": self.silent, "review_load": round(self.review / max(self.cells, 1), 5),
            "variant_errors": self.variant_wrong,
            "perturbations_present": {p: self.by_perturbation[p] for p in PERTURBATIONS + tuple(f"converter:{f}" for f in CONVERTER_FAULTS)
                                      if self.by_perturbation[p]},
            "reports_with_errors_by_perturbation": dict(self.wrong_by_perturbation),
            "reliability": {f"{lo:.2f}-{lo + 0.05:.2f}" if lo < 0.95 else f"{lo:.3f}+": v
                            for lo, v in sorted(self.reliability.items())},
        }


def evaluate(model: StructureModels | StructureModel, count: int = 1000, start: int = EVAL_SEED, scanned: bool = False,
             markdown: bool = False) -> Score:
    """``scanned``: score the reports as OCR would see them (boxes, no blank cells);
    ``markdown``: as a PDF converter writes them (``generate.to_markdown``), read by ingest."""
    score = Score()
    buckets: dict[float, list[int]] = {}
    for seed in range(start, start + count):
        s = as_scanned(sample(seed), random.Random(seed)) if scanned else sample(seed)
        given, faults = s.cells, set()
        if markdown:
            text, faults = to_markdown(s, random.Random(seed))
            given = parse_text(text)
        parse, cells = parse_cells(given, model)
        score.reports += 1
        score.by_perturbation.update(s.perturbations | {f"converter:{f}" for f in faults})
        score.variant_wrong += parse.variant != s.variant
        bad = False
        readings, _ = read_tables(parse, cells, model)
        if markdown:  # rows a converter dropped cells from, as extract_document sends them to a person
            readings = cells_lost(readings, parse, cells)
        for r in readings:
            if r.key not in s.values:
                continue
            ok = abs(r.value - s.values[r.key]) < 1e-6
            flagged = r.status == "needs_review"
            score.cells += 1
            score.review += flagged
            lo = min(int(r.confidence * 20) / 20, 0.95)
            buckets.setdefault(lo, [0, 0])
            buckets[lo][0] += 1
            buckets[lo][1] += ok
            if not ok:
                score.wrong += 1
                bad = True
                score.silent += not flagged
                score.errors.append((seed, r.key, r.value, s.values[r.key], r.confidence, flagged))
        if set(s.values) != set(parse.variant.keys):
            score.cells += len(set(s.values) - set(parse.variant.keys))
            score.wrong += len(set(s.values) - set(parse.variant.keys))
        if bad:
            score.wrong_by_perturbation.update(s.perturbations)
    score.reliability = {lo: {"cells": n, "accuracy": round(ok / n, 4)} for lo, (n, ok) in buckets.items()}
    return score


def evaluate_crawl(model: StructureModels | StructureModel, count: int = 500, start: int = EVAL_SEED) -> dict[str, Score]:
    """The whole pipeline on reports as web crawlers store them (``generate.to_crawl``), the
    styles in turn; a score per style, for pages that print their zeros and for those that
    leave them blank (whose flat text cannot say which cell a number was in).  A key the
    output lacks counts as wrong and silent."""
    scores = {f"{style}, zeros {kind}": Score() for style in CRAWL_STYLES for kind in ("printed", "blank")}
    for seed in range(start, start + count):
        style = CRAWL_STYLES[seed % len(CRAWL_STYLES)]
        s = sample(seed)
        text = to_crawl(s, random.Random(seed), style)
        # a page that prints its zeros as blank cells leaves nothing of them in the flat text
        blank = print_rows(s.values, s.variant, random.Random(seed))[1]["zero"] == ""
        score = scores[f"{style}, zeros {'blank' if blank else 'printed'}"]
        doc = Document(Source(f"crawl-{seed}.txt", "", 1, "text"), text, parse_text(text))
        try:
            report = extract_document(doc, model)
        except Exception as e:  # a refusal: every cell lost
            score.reports += 1
            score.cells += len(s.values)
            score.wrong += len(s.values)
            score.silent += len(s.values)
            score.errors.append((seed, "refused", str(e)[:80], None, 0.0, False))
            continue
        score.reports += 1
        score.variant_wrong += report.template.variant != s.variant
        got = {r.key: r for r in report.readings}
        for key, want in s.values.items():
            r = got.get(key)
            score.cells += 1
            flagged = r is not None and r.status == "needs_review"
            score.review += flagged
            if r is None or r.unknown or abs(r.value - want) > 1e-6:
                score.wrong += 1
                score.silent += not flagged
                score.errors.append((seed, key, None if r is None else r.value, want, 0.0 if r is None else r.confidence,
                                     flagged))
    return scores


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=MODEL_DIR / "structure.joblib")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--start", type=int, default=EVAL_SEED)
    ap.add_argument("--show", type=int, default=0, help="print this many wrong cells")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--scanned", action="store_true", help="the reports as OCR sees them: boxes, blank cells gone")
    ap.add_argument("--markdown", action="store_true", help="the reports as a PDF converter writes them, read from markdown")
    ap.add_argument("--crawl", action="store_true", help="the reports as web crawlers store them (whole pipeline, per style)")
    args = ap.parse_args(argv)
    model = joblib.load(args.model)
    if args.crawl:
        scores = evaluate_crawl(model, args.count, args.start)
        figures = {style: {k: v for k, v in sc.as_dict().items() if k not in ("perturbations_present", "reliability",
                                                                              "reports_with_errors_by_perturbation")}
                   for style, sc in scores.items()}
        print(json.dumps(figures, indent=1, ensure_ascii=False))
        for e in [e for sc in scores.values() for e in sc.errors][: args.show]:
            print("seed={} key={} got={} want={} conf={} flagged={}".format(*e))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    score = evaluate(model, args.count, args.start, args.scanned, args.markdown)
    figures = score.as_dict()
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    for e in score.errors[: args.show]:
        print("seed={} key={} got={} want={} conf={} flagged={}".format(*e))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
