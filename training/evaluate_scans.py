"""Score the scan path (OCR -> cells -> structure) on rendered, degraded reports the model never saw.

    python -m training.evaluate_scans --count 40            # mild/medium/heavy in turn, every style
    python -m training.evaluate_scans --count 6 --show 10   # a quick look at the errors
    python -m training.evaluate_scans --misread 2           # misread digits: corrected or sent to review?
    python -m training.evaluate_scans --born-digital --start 0 --count 100   # the same reports as born-digital PDFs

Accuracy is taken before any arithmetic correction: the structure stage's own
values against the rendered truth, per style and per degradation level.  The
cells wrong then are followed to the end (corrected, sent to review, silent),
also by cause: the OCR misread the number, lost it, or read it right and the
structure placed it wrong.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import pickle
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import cv2

from extract import ocr
from extract.cells import SEGMENT_GAP, PageBoxes, build_cells
from extract.normalize import normalize
from extract.pipeline import extract_document, load_model, parse_cells, read_tables
from extract.records import Cell, Document, ExtractError, Source
from extract.structure import Assignment, Parse
from training import render
from training.generate import misread
from training.train import is_right

EVAL_SEED = 1_000_000
LEVELS = ("mild", "medium", "heavy")


RENDERERS = ("render", "html")  # training.render (PIL) and training.render_html (Chromium): built differently


def renderer(name: str):
    if name == "html":
        from training import render_html

        return render_html
    return render


@functools.cache
def _code_version(name: str = "render") -> str:
    """Boxes made by another OCR version (``ocr.BOXES_VERSION``) or other rendering code are not these boxes."""
    code = f"ocr {ocr.BOXES_VERSION}\n".encode() + Path(renderer(name).__file__).read_bytes()
    return hashlib.sha256(code).hexdigest()[:12]


def ocr_pages(seed: int, level: str, cache: Path | None = None, name: str = "render") -> tuple:
    """The rendered scan and its OCR'd pages (boxes and the upright page image; kept under
    ``cache`` when given: OCR is the slow part, and the stages after it are what changes)."""
    s = renderer(name).scan(seed, level)
    path = cache / _code_version(name) / f"{name}-{seed}-{level}.pkl" if cache else None
    if path and path.exists():
        boxes, images = pickle.loads(path.read_bytes())
        return s, [ocr.OcrPage(b, cv2.imdecode(i, cv2.IMREAD_UNCHANGED)) for b, i in zip(boxes, images)], None
    t = time.perf_counter()
    pages = [ocr.default_engine().read_page(p, n + 1) for n, p in enumerate(s.pages)]
    seconds = time.perf_counter() - t
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(([p.boxes for p in pages], [cv2.imencode(".png", p.image)[1] for p in pages])))
    return s, pages, seconds


def cells_of(s, boxes: list) -> list:
    """The scan's cell sequence from its OCR boxes, as ingest builds it."""
    return build_cells([PageBoxes(b, p.shape[0], SEGMENT_GAP) for b, p in zip(boxes, s.pages)])[0]


def document_of(s, pages: list[ocr.OcrPage]) -> Document:
    """The scan as ingest makes it of an image file: its text, cells and page images."""
    cells, text = build_cells([PageBoxes(p.boxes, p.image.shape[0], SEGMENT_GAP) for p in pages])
    return Document(Source(f"scan-{s.level}", "", len(pages), "image"), text, cells,
                    {n + 1: p.image for n, p in enumerate(pages)})


def evaluate(count: int, start: int = EVAL_SEED, show: int = 0, cache: Path | None = None, name: str = "render") -> dict:
    """The whole pipeline on rendered scans (``name``: which renderer drew them).  Accuracy
    before arithmetic correction (the structure stage's values after the second look) per
    group; after it, what a user gets: silent errors, review load, accuracy of the cells not
    sent to review, what became of the cells the reading got wrong (corrected, sent to review,
    or silent), why cells went to review, metadata, and scans refused."""
    model = load_model()
    tally = defaultdict(lambda: [0, 0])  # group -> [cells, right before reconciliation]
    outcome = Counter()  # what became of the cells wrong before reconciliation
    causes: dict[str, Counter] = defaultdict(Counter)  # the same, by what went wrong
    final, reasons, meta = Counter(), Counter(), Counter()
    bins = defaultdict(lambda: [0, 0, 0, 0])  # confidence bin -> [cells, right, of them not sent to review, right]
    errors, seconds, refused = [], [], []
    for i in range(count):
        seed, level = start + i, LEVELS[i % len(LEVELS)]
        s, pages, ocr_seconds = ocr_pages(seed, level, cache, name)
        t = time.perf_counter()
        doc = document_of(s, pages)
        read = list(doc.cells)
        try:
            report = extract_document(doc, model)
        except ExtractError as e:
            refused.append((seed, str(e)))
            continue
        # numbers the OCR ran together, parted by their columns
        final["boxes_cut"] += len({(c.page, c.bbox) for c in read} - {(c.page, c.bbox) for c in doc.cells})
        if ocr_seconds is not None:
            seconds.append((ocr_seconds + time.perf_counter() - t) / len(s.pages))
        meta["agency"] += report.metadata.agency == s.agency
        meta["year"] += report.metadata.year == s.year
        meta["layout"] += report.layout == s.variant.layout
        by_key, before = {r.key: r for r in report.readings}, {r.key: r for r in report.basis.readings}
        groups = [f"level:{level}", f"layout:{s.variant.layout}", f"zero:{s.style['zero'] or 'blank'}"]
        groups += [f"style:{k}" for k, v in s.style.items() if v is True]
        parse = None
        for key, r in by_key.items():
            want = s.values.get(key)
            ok, ok_after = is_right(before[key].value, want), is_right(r.value, want)
            final["cells"] += 1
            final["review"] += r.status == "needs_review"
            final["corrected"] += r.status == "corrected"
            if r.status == "needs_review":
                reasons[(r.reason or "none").split(":", 1)[0]] += 1
            b = bins[min(int(r.confidence * 10) / 10, 0.9) if r.confidence < 0.95 else 0.95]
            b[0] += 1
            b[1] += ok_after
            if r.status != "needs_review":
                final["accepted"] += 1
                final["accepted_right"] += ok_after
                b[2] += 1
                b[3] += ok_after
            if not ok_after and r.status != "needs_review":
                final["silent"] += 1
                errors.append((name, seed, level, key, r.value, want, r.confidence, r.status, r.text))
            if not ok:
                end = ("corrected" if ok_after and r.status == "corrected" else
                       "sent_to_review" if r.status == "needs_review" else "silent")
                outcome[end] += 1
                parse = parse or parse_cells(doc.cells, model)[0]
                a = next((a for a in parse.assignments if a.key == key), None)
                # (a key of the rival template, given because the template was taken in doubt)
                causes[_cause(a, s.values, parse, doc.cells) if a else "template"][end] += 1
            for g in ["all", *groups]:
                tally[g][0] += 1
                tally[g][1] += ok
    for e in errors[:show]:
        print("renderer={} seed={} level={} key={} got={} want={} conf={} status={} text={}".format(*e))
    n = max(final["cells"], 1)
    read_whole = max(count - len(refused), 1)
    return {
        "renderer": name, "reports": count, "refused": refused, "cells": final["cells"],
        "accuracy_before_reconciliation": {g: round(r / c, 4) for g, (c, r) in sorted(tally.items())},
        "cells_by_group": {g: c for g, (c, _) in sorted(tally.items())},
        "silent_errors": final["silent"], "review_load": round(final["review"] / n, 4),
        "review_reasons": dict(reasons.most_common()),
        "corrected_cells": final["corrected"], "boxes_cut": final["boxes_cut"],
        "accuracy_of_cells_not_in_review": round(final["accepted_right"] / max(final["accepted"], 1), 5),
        "metadata_right": {k: round(v / read_whole, 4) for k, v in meta.items()},
        "wrong_before_reconciliation": dict(outcome),
        "wrong_before_reconciliation_by_cause": {k: dict(v) for k, v in sorted(causes.items())},
        # every cell by its confidence, and the cells of that bin not sent to review
        "reliability": {f"{lo:.2f}+": {"cells": c, "right": round(r / c, 4), "not_in_review": a,
                                       "not_in_review_right": round(ar / a, 4) if a else None}
                        for lo, (c, r, a, ar) in sorted(bins.items())},
        "median_seconds_per_page": round(sorted(seconds)[len(seconds) // 2], 2) if seconds else None,
    }


def _cause(a: Assignment, values: dict, parse: Parse, cells: list[Cell]) -> str:
    """Why the reading of a cell was wrong: ``placed`` (the OCR read the numbers right, the
    structure put this one's elsewhere or another's here: the text in its place is another
    cell's of its row, or its own number is among its row's cells), ``misread`` (the OCR read
    its number as another), ``lost`` (the OCR read no number where one is printed) or
    ``not_found`` (its table's rows were not found)."""
    run = next((r for r in parse.runs if a.key in r.keys), None)
    if run is None:
        return "not_found"  # its table's rows were not found
    want = values.get(a.key)
    if a.cell is not None:
        text = normalize(cells[a.cell].text)
        others = {str(values.get(k)) for k in run.keys if k != a.key}
        return "placed" if text in others else "misread"
    texts = {normalize(cells[i].text) for i in run.cells}
    return "placed" if want == 0 or str(want) in texts else "lost"


def misreads(count: int, start: int = EVAL_SEED, per_scan: int = 2, cache: Path | None = None) -> dict:
    """What becomes of digits the recogniser misreads: on each scan, ``per_scan`` number cells
    the reading placed right, in any table, are read as a look-alike (the recogniser nearly
    sure of it), and the whole path runs again.  Outcomes of those cells, and silent errors
    anywhere."""
    model = load_model()
    outcome, by_table = Counter(), defaultdict(Counter)
    for i in range(count):
        seed, level = start + i, LEVELS[i % len(LEVELS)]
        s, pages, _ = ocr_pages(seed, level, cache)
        parse, cells = parse_cells(cells_of(s, [p.boxes for p in pages]), model)
        right = [(a.cell, a.key) for a in parse.assignments if a.cell is not None and cells[a.cell].text.isdigit()
                 and is_right(a.value, s.values.get(a.key))]
        picked = dict(random.Random(seed).sample(right, min(per_scan, len(right))))
        cells = [misread(c) if n in picked else c for n, c in enumerate(cells)]
        readings, _ = read_tables(*parse_cells(cells, model), model)
        for r in readings:
            ok = is_right(r.value, s.values.get(r.key))
            outcome["silent_errors"] += not ok and r.status != "needs_review"
            if r.key in picked.values():
                what = ("corrected" if ok and r.status == "corrected" else
                        "sent_to_review" if r.status == "needs_review" else "read_right" if ok else "silent_misread")
                outcome["misread"] += 1
                outcome[what] += 1
                by_table[r.key.split(".")[0]][what] += 1
    return {**outcome, "by_table": {t: dict(c) for t, c in by_table.items()}}


def born_digital(count: int, start: int) -> dict:
    """The whole pipeline on rendered reports saved as born-digital PDFs (``render.to_text_pdf``:
    a standard CJK font, not embedded), against their truth: no OCR, exact characters, so every
    error is the structure stage's or the page's layout's."""
    import tempfile

    from extract import pipeline

    outcome: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(start, start + count):
            s = render.render(seed)
            path = Path(tmp) / f"{seed}.pdf"
            path.write_bytes(render.to_text_pdf(s))
            report = pipeline.extract(path)
            got = {r.key: r for r in report.readings}
            for key, want in s.values.items():
                r = got.get(key)
                ok = r is not None and is_right(r.value, want)
                review = r is not None and r.status == "needs_review"
                outcome.update(cells=1, right=ok, review=review, silent_errors=not ok and not review)
            outcome["reports"] += 1
            outcome["ocr_pages"] += report.source.kind != "pdf-text"
            outcome["meta_right"] += (report.metadata.agency, report.metadata.year, report.layout) == \
                (s.agency, s.year, s.variant.layout)
    n = outcome["cells"]
    return {**outcome, "accuracy": round(outcome["right"] / n, 5), "review_load": round(outcome["review"] / n, 5)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--start", type=int, default=EVAL_SEED)
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cache", type=Path, help="keep each scan's OCR boxes here and reuse them")
    ap.add_argument("--misread", type=int, default=0, metavar="N",
                    help="instead: read N placed number cells per scan as look-alike digits, and say what became of them")
    ap.add_argument("--born-digital", action="store_true", help="instead: the reports as born-digital PDFs, no OCR")
    ap.add_argument("--renderer", choices=RENDERERS, default="render", help="which renderer draws the scans")
    args = ap.parse_args(argv)
    if args.born_digital:
        figures = born_digital(args.count, args.start)
    elif args.misread:
        figures = misreads(args.count, args.start, args.misread, args.cache)
    else:
        figures = evaluate(args.count, args.start, args.show, args.cache, args.renderer)
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
