#!/usr/bin/env python3
"""Benchmark our scan path against plain RapidOCR, and the born-digital path, on this machine.

    python scripts/bench_ocr.py [--renderer both|render|html] [--pages 4] [--runs 1] [--cer-pages 20] [--json PATH]

For pages of each renderer (training.render draws with PIL; training.render_html prints
through Chromium in other faces and table rules), degraded at "medium", A4 at 200 dpi:

speed: seconds per page of one plain default ``RapidOCR()`` call on every page of a scan,
beside our whole pipeline on the same scan (orientation, deskew, OCR, cells, structure, the
second look, reconciliation).  Whole scans, as the product reads them: a one-page document
is refused as an incomplete report.  Medians over scans and runs.

accuracy: each engine's page text against the page's true text (the text layer of the same
drawing as a born-digital PDF), NFKC, whitespace dropped.  Order-free CER counts characters
missed, misread or extra whatever their order (engines order a table's boxes differently);
ordered CER is the edit distance, the truth's characters and both engines' boxes put in the
same reading order (``cells.lines_of``).  Both per true character, per page.

Born-digital: seconds per report through the text layer.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import extract  # noqa: E402
from extract.cells import Box, lines_of  # noqa: E402
from extract.normalize import normalize  # noqa: E402
from extract.ocr import default_engine  # noqa: E402
from extract.pipeline import extract_document, load_model  # noqa: E402
from extract.records import ExtractError  # noqa: E402
from training import render  # noqa: E402
from training.evaluate_scans import RENDERERS, document_of, renderer  # noqa: E402

SEED, LEVEL = 2_000_000, "medium"  # the seeds this bench has always drawn (the evaluation starts at 1_000_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renderer", choices=("both", *RENDERERS), default="both")
    ap.add_argument("--pages", type=int, default=4, help="scans per renderer to time (every page of each)")
    ap.add_argument("--runs", type=int, default=1, help="times each timed scan is read")
    ap.add_argument("--cer-pages", type=int, default=20, help="pages per renderer to score against their true text")
    ap.add_argument("--pdf", type=Path, default=ROOT.parent / "shared" / "corpus" / "pdf" / "hongze-2023.pdf")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args()
    from rapidocr import RapidOCR

    plain, model = RapidOCR(), load_model()
    figures = {"machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}, "renderers": {}}
    for name in RENDERERS if args.renderer == "both" else (args.renderer,):
        figures["renderers"][name] = bench(name, args, plain, model)
        show(name, figures["renderers"][name])
    if args.pdf.exists():
        figures["born_digital"] = born_digital(args.pdf, args.runs)
        print(f"born-digital PDF {args.pdf.name}: median s/report {figures['born_digital']['median_s_per_report']:.3f}")
    figures["machine"]["load_average_at_end"] = os.getloadavg()
    print(f"load average (1, 5, 15 min) at start {figures['machine']['load_average_at_start']}, "
          f"at end {figures['machine']['load_average_at_end']}, on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def bench(name: str, args, plain, model) -> dict:
    """Speed over the first ``--pages`` scans of a renderer, CER over the pages of its first
    scans (the same reads where they overlap: OCR is the slow part)."""
    draw = renderer(name)
    speed, pages, sizes, refused = [], [], Counter(), 0
    for i, seed in enumerate(itertools.count(SEED)):
        if i >= args.pages and len(pages) >= args.cer_pages:
            break
        s = draw.scan(seed, LEVEL)
        if i == 0:  # warm both engines before anything is timed
            plain(s.pages[0])
            default_engine().read_page(s.pages[0], 1)
        reads = [read_scan(s, plain, model) for _ in range(args.runs if i < args.pages else 1)]
        if i < args.pages:
            sizes.update(f"{p.shape[1]}x{p.shape[0]}" for p in s.pages)
            refused += sum(r["ours_s"] is None for r in reads)
            speed += [(r["plain_s"] / len(s.pages), r["ours_s"] / len(s.pages)) for r in reads if r["ours_s"] is not None]
        pages += zip(truth_texts(name, seed, s), reads[0]["plain"], reads[0]["ours"])
    return {"speed": {"scans": args.pages, "runs": args.runs, "pages": sum(sizes.values()), "page_px": dict(sizes),
                      "refused": refused, "median_s_per_page_plain": _median([p for p, _ in speed]),
                      "median_s_per_page_ours": _median([o for _, o in speed])},
            "cer": cer_figures(pages[: args.cer_pages])}


def read_scan(s, plain, model) -> dict:
    """Seconds for plain RapidOCR over every page of the scan and for our whole pipeline over
    it (None when it refuses the scan), and each engine's text of each page in reading order."""
    t = time.perf_counter()
    plain_pages = [plain(p) for p in s.pages]
    plain_s = time.perf_counter() - t
    t = time.perf_counter()
    ours = [default_engine().read_page(p, n + 1) for n, p in enumerate(s.pages)]
    try:
        extract_document(document_of(s, ours), model)
        ours_s = time.perf_counter() - t
    except ExtractError:
        ours_s = None
    return {"plain_s": plain_s, "ours_s": ours_s,
            "plain": [reading_order(plain_boxes(r)) for r in plain_pages], "ours": [reading_order(p.boxes) for p in ours]}


def plain_boxes(result) -> list[Box]:
    """rapidocr's output (quads, texts) as boxes, to be put in the same reading order as ours."""
    if not len(result):
        return []
    return [Box(t, (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())), 1)
            for q, t in zip(np.asarray(result.boxes), result.txts)]


def reading_order(boxes: list[Box]) -> str:
    """The page's text line by line (``cells.lines_of``), as comparable as texts get: NFKC (a
    recogniser cannot tell full-width brackets from ASCII ones) and no whitespace (the text
    layer breaks lines, OCR spaces words its own way)."""
    return normalize("".join(b.text for line in lines_of(boxes) for b in line))


def truth_texts(name: str, seed: int, s) -> list[str]:
    """Each page's true text: the text layer of the same drawing as a born-digital PDF, its
    characters put in the same reading order as the OCR's boxes (the PDF's own order runs a
    table cell by cell, and Chromium writes the page footer first)."""
    doc = pdfium.PdfDocument(renderer(name).text_pdf(seed) if name == "html" else render.to_text_pdf(s))
    texts = [reading_order(truth_boxes(doc[n])) for n in range(len(doc))]
    doc.close()
    return texts


def truth_boxes(page: pdfium.PdfPage) -> list[Box]:
    """The page's characters on their loose boxes (the font's em box), which the characters of
    a printed line share: on tight glyph boxes a comma, low on its line, is a line of its own."""
    tp = page.get_textpage()
    boxes = []
    for i in range(tp.count_chars()):
        ch = tp.get_text_range(i, 1)
        if ch.strip():
            left, bottom, right, top = tp.get_charbox(i, loose=True)
            boxes.append(Box(ch, (left, -top, right, -bottom), 1))  # y down, as on an image
    tp.close()
    return boxes


def cer_figures(pages: list[tuple[str, str, str]]) -> dict:
    """Median and mean of both CER forms for both engines over (truth, plain, ours) pages."""
    out = {"pages": len(pages), "truth_chars": sum(len(t) for t, _, _ in pages)}
    for k, engine in ((1, "plain"), (2, "ours")):
        for form, cer in (("order_free", order_free_cer), ("ordered", ordered_cer)):
            rates = [cer(p[0], p[k]) for p in pages if p[0]]
            out[f"{engine}_{form}"] = {"median": _round(statistics.median(rates)), "mean": _round(statistics.mean(rates))}
    return out


def order_free_cer(truth: str, ocr: str) -> float:
    """Characters missed, misread or extra whatever their order: the longer side less the
    characters both share (as multisets), per true character."""
    shared = sum((Counter(truth) & Counter(ocr)).values())
    return (max(len(truth), len(ocr)) - shared) / len(truth)


def ordered_cer(truth: str, ocr: str) -> float:
    return edit_distance(truth, ocr) / len(truth)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance a row at a time in numpy: substitutions and deletions come from the
    row above at once, and insertions along the row are a running minimum (cost j less k)."""
    bs = np.array([ord(c) for c in b], dtype=np.int64)
    j = np.arange(len(b) + 1)
    row = j.copy()
    for i, ch in enumerate(a, 1):
        step = np.empty_like(row)
        step[0] = i
        step[1:] = np.minimum(row[:-1] + (bs != ord(ch)), row[1:] + 1)
        row = np.minimum.accumulate(step - j) + j
    return int(row[-1])


def born_digital(pdf: Path, runs: int) -> dict:
    """Seconds per report through the text layer (warmed once; at least five runs: it is quick)."""
    extract(pdf)
    times = []
    for _ in range(max(runs, 5)):
        t = time.perf_counter()
        extract(pdf)
        times.append(time.perf_counter() - t)
    return {"pdf": pdf.name, "runs": len(times), "median_s_per_report": _round(statistics.median(times))}


def show(name: str, f: dict) -> None:
    sp, cer = f["speed"], f["cer"]
    print(f"{name}: {sp['scans']} scans x {sp['runs']} runs, {sp['pages']} pages ({', '.join(sp['page_px'])} px), "
          f"A4 at 200 dpi, {LEVEL}; refused {sp['refused']}")
    print(f"  plain RapidOCR() call, median s/page:   {sp['median_s_per_page_plain']}")
    print(f"  whole extract pipeline, median s/page:  {sp['median_s_per_page_ours']}")
    print(f"  CER over {cer['pages']} pages ({cer['truth_chars']} true characters), median / mean:")
    for engine in ("plain", "ours"):
        a, b = cer[f"{engine}_order_free"], cer[f"{engine}_ordered"]
        print(f"    {engine:5}  order-free {a['median']:.4f} / {a['mean']:.4f}   ordered {b['median']:.4f} / {b['mean']:.4f}")


def _median(values: list[float]) -> float | None:
    return _round(statistics.median(values)) if values else None


def _round(v: float) -> float:
    return round(v, 4)


if __name__ == "__main__":
    main()
