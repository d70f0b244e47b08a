#!/usr/bin/env python3
"""Benchmark: arithmetic reconciliation of misread reports (median of runs), two ways.

    python scripts/bench_reconcile.py [--reports 40] [--runs 5]

Held-out generated reports as a scan gives them, each with two of its 表三 cells misread, so
that every report runs the search; times ``reconcile.reconcile`` alone.  The misreads are
planted two ways, each figure reported as corrected / needs_review / silent (a planted cell
left wrong and not sent to review) and the cells not planted that end wrong unflagged:

* ``confusable``: ``generate.misread``, a last digit taken for its first look-alike of
  ``reconcile.CONFUSABLE`` (the OCR 97% sure of it, the true value its second reading).  This
  is circular: it plants exactly what the solver assumes, so it measures the search, not how
  it fares against the recogniser.
* ``measured``: ``generate.misread_measured``, one of the recogniser's own misreads measured on
  rendered, degraded digits (``training/confusions.json``, ``python -m training.confusions``),
  with the candidates it gave: the true value among them only where it was.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import reconcile  # noqa: E402
from extract.pipeline import load_model, parse_cells, readings_of  # noqa: E402
from training.generate import as_scanned, misread, misread_measured, sample  # noqa: E402

MODES = ("confusable", "measured")


def misread_some(s, rng: random.Random, count: int = 2, mode: str = "confusable",
                 nonzero: bool = False) -> tuple[list, dict[str, str]]:
    """The scan's cells with ``count`` of its 表三 number cells misread (``nonzero``: of those
    printing a number other than 0); and the keys misread, with what they read."""
    cells = list(s.cells)
    keys = [i for i, k in enumerate(s.keys) if k and k.startswith("requests.") and cells[i].text.isascii()
            and cells[i].text.isdigit() and not (nonzero and int(cells[i].text) == 0)]
    planted: dict[str, str] = {}
    # (the confusable draw is the one this benchmark always made, so its figure carries on)
    for i in rng.sample(keys, min(count, len(keys)) if mode == "confusable" else len(keys)):
        if len(planted) == count:
            break
        wrong = misread(cells[i]) if mode == "confusable" else misread_measured(cells[i], rng)
        if wrong is not None:
            cells[i] = wrong
            planted[s.keys[i]] = wrong.text
    return cells, planted


def outcome(before, results, truth: dict, planted: dict[str, str]) -> Counter:
    """What became of the planted cells: ``harmless`` (the structure stage read the right value
    all the same, as it reads a stray character over a 0 as a zero mark), else ``corrected``,
    ``needs_review`` or ``silent``; and ``other_silent``, cells not planted left wrong unflagged."""
    out: Counter = Counter()
    seen = set()
    read_before = {r.key: r for r in before}
    for r in results:
        right = r.value == truth.get(r.key, r.value)
        if r.key in planted:
            seen.add(r.key)
            b = read_before.get(r.key)
            harmless = b is not None and b.value == truth[r.key] and b.status != "needs_review" and right
            out["harmless" if harmless else "corrected" if r.status == "corrected" and right
                else "needs_review" if r.status == "needs_review" else "right_unflagged" if right else "silent"] += 1
        elif not right and r.status != "needs_review":
            out["other_silent"] += 1
    out["lost"] += len(set(planted) - seen)  # a planted key no reading holds (none expected)
    return out


def run(mode: str, reports: int, runs: int, model, nonzero: bool = False) -> tuple[Counter, list[float], int]:
    cases = []
    for seed in range(4_000_000, 4_000_000 + reports):
        s = as_scanned(sample(seed), random.Random(seed))
        cells, planted = misread_some(s, random.Random(seed), mode=mode, nonzero=nonzero)
        parse, cells = parse_cells(cells, model)
        readings, missing = readings_of(parse, cells, model)
        cases.append((readings, missing, parse.variant, s.values, planted))
    per_report, total = [], Counter()
    for _ in range(runs):
        t = time.perf_counter()
        results = [reconcile.reconcile(readings, missing, variant, model.strong, exact=False)[0]
                   for readings, missing, variant, *_ in cases]
        per_report.append((time.perf_counter() - t) / len(cases))
        total = Counter()
        for out, (before, *_, truth, planted) in zip(results, cases):
            total += outcome(before, out, truth, planted)
    return total, per_report, sum(len(c[-1]) for c in cases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=40)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mode", choices=[*MODES, "both"], default="both")
    ap.add_argument("--nonzero", action="store_true", help="misread only cells printing a number other than 0")
    args = ap.parse_args()
    model = load_model().scanned
    for mode in MODES if args.mode == "both" else (args.mode,):
        o, per_report, planted = run(mode, args.reports, args.runs, model, args.nonzero)
        wrong = planted - o["harmless"]
        extra = "".join(f"  {k} {o[k]}" for k in ("right_unflagged", "lost") if o[k])
        print(f"{mode:>10}: {args.reports} reports, {planted} cells misread{' (non-zero cells)' if args.nonzero else ''}, "
              f"{o['harmless']} read right all the same; of the {wrong} read wrong: corrected {o['corrected']}  "
              f"needs_review {o['needs_review']}  silent {o['silent']}{extra}  (cells not misread left wrong "
              f"unflagged: {o['other_silent']})  reconcile median {1000 * statistics.median(per_report):.2f} ms "
              f"per report (max {1000 * max(per_report):.2f}, {args.runs} runs)")


if __name__ == "__main__":
    main()
