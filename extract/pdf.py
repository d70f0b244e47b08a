"""PDF ingest with pypdfium2: the text layer where it is usable, page images for OCR where it is not."""
from __future__ import annotations

import ctypes
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .cells import Box
from .records import ExtractError

TEXT_DPI = 144  # the pixel grid bboxes of text-layer pages are reported on
OCR_DPI = 200  # scanned pages are rendered at this resolution for OCR
MAX_PAGES = 40  # the tables sit in a report's first pages; a 300-page file is read no further


@dataclass(slots=True)
class Page:
    """One page: its text boxes when the text layer is usable, else its image for OCR."""

    number: int  # 1-based
    width: float  # pixels at ``dpi``
    height: float
    dpi: int
    boxes: list[Box] | None = None
    image: np.ndarray | None = None


def open_pdf(data: bytes, name: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        msg = str(e).lower()
        if "password" in msg:
            raise ExtractError(f"{name} is an encrypted PDF (password required)") from None
        if not re.search(rb"/Type\s*/Page[^s]", data):  # PDFium refuses a document without any page
            raise ExtractError(f"{name} is a PDF with no pages") from None
        raise ExtractError(f"{name} is not a readable PDF ({e})") from None


def pages(data: bytes, name: str, ocr_dpi: int = OCR_DPI, max_pages: int = MAX_PAGES, keep_images: bool = False):
    """Yield the report's pages one at a time (a page image is freed before the next is made);
    ``keep_images``: text-layer pages come with their image too, on their boxes' grid."""
    pdf = open_pdf(data, name)
    try:
        n = len(pdf)
        if n == 0:
            raise ExtractError(f"{name} is a PDF with no pages")
        digital = False  # a page before had a usable text layer
        for i in range(min(n, max_pages)):
            page = pdf[i]
            try:
                # a page of a born-digital report may hold only a table's tail (15 dashes): its few
                # characters are trusted once the report has shown it has a text layer
                boxes = text_layer(page, i + 1, min_chars=1 if digital else 20)
                digital = digital or boxes is not None
                if boxes is not None:
                    w, h = page.get_size()
                    image = page.render(scale=TEXT_DPI / 72, grayscale=True).to_numpy().copy() if keep_images else None
                    yield Page(i + 1, w * TEXT_DPI / 72, h * TEXT_DPI / 72, TEXT_DPI, boxes=boxes, image=image)
                else:
                    bitmap = page.render(scale=ocr_dpi / 72, grayscale=True)
                    image = bitmap.to_numpy().copy()
                    yield Page(i + 1, image.shape[1], image.shape[0], ocr_dpi, image=image)
            finally:
                page.close()
    finally:
        pdf.close()


def page_count(data: bytes, name: str) -> int:
    pdf = open_pdf(data, name)
    try:
        return len(pdf)
    finally:
        pdf.close()


def _ordinary(ch: str) -> bool:
    if ch.isspace() or ch.isascii():
        return True
    cat = unicodedata.category(ch)
    return ("\u4e00" <= ch <= "\u9fff") or cat.startswith(("P", "N", "S")) or "\uff00" <= ch <= "\uffef"


def text_layer(page: pdfium.PdfPage, number: int, min_chars: int = 20) -> list[Box] | None:
    """The page's characters as boxes, or None when the text layer is absent or garbage."""
    tp = page.get_textpage()
    try:
        n = tp.count_chars()
        if n < min_chars:
            return None
        text = tp.get_text_range(0, n)
        visible = [ch for ch in text if not ch.isspace()]
        if len(visible) < min_chars or sum(map(_ordinary, visible)) < 0.95 * len(visible):
            return None
        _, height = page.get_size()
        k = TEXT_DPI / 72
        boxes = []
        fonts: dict[int, bool] = {}
        for i in range(n):
            ch = tp.get_text_range(i, 1)
            if not ch or ch.isspace():
                continue
            if _embedded(tp, i, fonts):
                left, bottom, right, top = tp.get_charbox(i)
            else:
                left, bottom, right, top = _drawn_box(tp, i, ch)
            boxes.append(Box(ch, (left * k, (height - top) * k, right * k, (height - bottom) * k), number))
        return _decimal_points(boxes)
    finally:
        tp.close()


def _decimal_points(boxes: list[Box]) -> list[Box]:
    """A decimal point between two digits of the text stream, set on their line: PDFium may give
    the glyph a box of its own (zero-size, at the page's corner, or off the line), and the point
    then falls out of its number (``96171.6`` read as 961716)."""
    out = list(boxes)
    for i in range(1, len(boxes) - 1):
        before, point, after = boxes[i - 1], boxes[i], boxes[i + 1]
        if point.text in ".．" and before.text.isdigit() and after.text.isdigit() and before.page == after.page:
            x0, y0, x1, y1 = before.bbox
            gap = max(after.bbox[0] - x1, 0.0)
            out[i] = Box(".", (x1 + 0.25 * gap, y0 + 0.7 * (y1 - y0), x1 + 0.75 * gap, y1), point.page)
    return out


def _embedded(tp: pdfium.PdfTextPage, index: int, seen: dict[int, bool]) -> bool:
    """Whether the font of character ``index`` is embedded in the PDF (``seen``: per font handle)."""
    obj = pdfium_c.FPDFText_GetTextObject(tp, index)
    font = pdfium_c.FPDFTextObj_GetFont(obj) if obj else None
    if not font:
        return True
    key = ctypes.cast(font, ctypes.c_void_p).value or 0
    if key not in seen:
        seen[key] = bool(pdfium_c.FPDFFont_GetIsEmbedded(font))
    return seen[key]


def _drawn_box(tp: pdfium.PdfTextPage, index: int, ch: str) -> tuple[float, float, float, float]:
    """The box of a character in a font the PDF does not embed (STSong-Light, as office exports
    print): its glyph, and so its outline box (even its loose box's width), comes from whatever
    font this process substituted, or none.  What the PDF itself says stands in: the origin
    and size, with a CJK font's advances (a full em; half for ASCII) and heights (the em box
    for CJK, a digit's height over the baseline for the rest)."""
    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(tp, index, ctypes.byref(x), ctypes.byref(y))
    size = pdfium_c.FPDFText_GetFontSize(tp, index)
    if ch.isascii():
        return x.value, y.value, x.value + 0.5 * size, y.value + 0.7 * size
    return x.value, y.value - 0.12 * size, x.value + size, y.value + 0.88 * size
