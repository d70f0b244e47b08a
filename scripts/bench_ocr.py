#!/usr/bin/env python3
"""Benchmark the PDF paths on this machine (medians of runs).

    python scripts/bench_ocr.py [--pages 6] [--runs 3]

Scans: for rendered, degraded A4 table pages at 200 dpi, the raw engine time of
one plain default ``RapidOCR()`` call beside our whole pipeline on the same
page (orientation, deskew, OCR, cells, structure, reconciliation), side by side
in one run.  Born-digital: seconds per report through the text layer.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import extract  # noqa: E402
from extract.cells import SEGMENT_GAP, PageBoxes, build_cells  # noqa: E402
from extract.ocr import default_engine  # noqa: E402
from extract.pipeline import load_model, parse_cells, read_tables  # noqa: E402
from training.render import scan, to_pdf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=6, help="table pages to time")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pdf", type=Path, default=ROOT.parent / "shared" / "corpus" / "pdf" / "hongze-2023.pdf")
    args = ap.parse_args()
    from rapidocr import RapidOCR

    plain = RapidOCR()
    ours, model = default_engine(), load_model()
    pages = []
    seed = 2_000_000
    while len(pages) < args.pages:
        s = scan(seed, "medium")
        if s.style["zero"] == "0":  # every cell printed, a box each: the most OCR work a table page has
            pages += s.pages[1:]  # the pages that are all table
        seed += 1
    pages = pages[: args.pages]
    plain(pages[0])  # warm both engines
    ours.read(pages[0], 1)
    raw, whole = [], []
    for page in pages:
        for _ in range(args.runs):
            t = time.perf_counter()
            plain(page)
            raw.append(time.perf_counter() - t)
            t = time.perf_counter()
            cells, _ = build_cells([PageBoxes(ours.read(page, 1), page.shape[0], SEGMENT_GAP)])
            read_tables(*parse_cells(cells, model), model)
            whole.append(time.perf_counter() - t)
    print(f"scan pages: {len(pages)} x {args.runs} runs, A4 at 200 dpi, {pages[0].shape[1]}x{pages[0].shape[0]} px")
    print(f"  plain RapidOCR() call, median s/page:        {statistics.median(raw):.2f}")
    print(f"  whole extract pipeline, median s/page:       {statistics.median(whole):.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        s = scan(seed, "medium")
        f = Path(tmp) / "scan.pdf"
        f.write_bytes(to_pdf(s.pages, 200))
        t = time.perf_counter()
        extract(f)
        print(f"  scanned PDF end to end ({len(s.pages)} pages), s/page: {(time.perf_counter() - t) / len(s.pages):.2f}")
    if args.pdf.exists():
        extract(args.pdf)
        times = []
        for _ in range(max(args.runs, 5)):
            t = time.perf_counter()
            extract(args.pdf)
            times.append(time.perf_counter() - t)
        print(f"born-digital PDF {args.pdf.name}: median s/report {statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
