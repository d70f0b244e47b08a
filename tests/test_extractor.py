"""The library's converter: ``Extractor(options, ocr, model).convert(path)``, with an OCR engine of
another class passed in (not patched in), and options that change what it does."""
from __future__ import annotations

import numpy as np
import pytest

from extract import ExtractOptions, Extractor, extract
from extract.cells import Box
from extract.ocr import OcrPage
from training.render import render, to_pdf

SEED = 13  # a one-table-per-page generated scan (as the end-to-end scan test uses)


class PlainRapidOcr:
    """A second OCR engine class: rapidocr as it comes (its own default settings, no deskew,
    no turn, no n-best), with each number's one reading as its only candidate."""

    def __init__(self):
        from rapidocr import RapidOCR

        self.engine = RapidOCR(params={"Global.log_level": "error"})
        self.pages = self.crops = 0

    def read_page(self, image: np.ndarray, page: int) -> OcrPage:
        self.pages += 1
        out = self.engine(image, use_det=True, use_cls=False, use_rec=True)  # rapidocr keeps the last call's flags
        boxes = []
        quads = getattr(out, "boxes", None)
        for quad, text, score in zip(quads if quads is not None else [], out.txts or (), out.scores or ()):
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            bbox = (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
            boxes.append(Box(text, bbox, page, float(score), ((text, float(score)),) if text.isdigit() else ()))
        return OcrPage(boxes, image)

    def recognize_crops(self, crops):
        self.crops += len(crops)
        out = []
        for crop in crops:
            rec = self.engine(np.dstack([crop] * 3) if crop.ndim == 2 else crop, use_det=False, use_cls=False)
            text, score = (rec.txts[0], float(rec.scores[0])) if rec.txts else ("", 0.0)
            out.append((text, score, ((text, score),) if text.isdigit() else ()))
        return out


@pytest.fixture(scope="module")
def scan_pdf(tmp_path_factory):
    s = render(SEED)
    path = tmp_path_factory.mktemp("scan") / "scan.pdf"
    path.write_bytes(to_pdf(s.pages, 200))
    return s, path


def _silent(report, values) -> list[str]:
    got = {r.key: r for r in report.readings}
    return [k for k, v in values.items() if got[k].value != v and got[k].status != "needs_review"]


def test_a_second_ocr_engine_class_passed_in_reads_the_scan(scan_pdf):
    s, path = scan_pdf
    engine = PlainRapidOcr()
    extractor = Extractor(ExtractOptions(), ocr=engine)
    report = extractor.convert(path)
    assert extractor.ocr is engine and engine.pages == len(s.pages) and engine.crops > 0  # both of its uses ran
    assert report.source.kind == "pdf-scan"
    assert not _silent(report, s.values)
    right = sum(r.value == s.values[r.key] for r in report.readings if r.key in s.values)
    assert right >= 0.9 * len(s.values)


def test_options_change_what_the_extractor_does(scan_pdf):
    s, path = scan_pdf
    engine = PlainRapidOcr()
    default = Extractor(ocr=engine).convert(path)
    strict = Extractor(ExtractOptions(threshold=0.99999, threshold_unchecked=0.99999), ocr=engine).convert(path)
    review = lambda r: {x.key for x in r.readings if x.status == "needs_review"}  # noqa: E731
    assert review(default) < review(strict)  # a higher threshold sends more cells, and every one before
    assert not _silent(strict, s.values)
    # the shipped model's calibrated thresholds are the defaults, and stay untouched by a stricter copy
    shipped = Extractor().model
    assert (shipped.text.threshold, shipped.scanned.threshold) == (0.9, 0.9)
    pages = engine.pages
    with pytest.raises(Exception, match="not found|not a government"):  # the tables stand past page 1
        Extractor(ExtractOptions(max_pages=1), ocr=engine).convert(path)
    assert engine.pages == pages + 1


def test_extract_is_the_extractors_shortcut(seeds):
    a, b = extract(seeds[0]), Extractor().convert(seeds[0])
    assert [(r.key, r.value, r.status) for r in a.readings] == [(r.key, r.value, r.status) for r in b.readings]
