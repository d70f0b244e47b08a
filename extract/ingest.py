"""Ingest: a file on disk becomes a Document (running text + table cells in reading order).

Text-like inputs are handled here: plain text (UTF-8, UTF-16 or GB18030/GBK,
detected), HTML (rowspan/colspan honoured) and DOCX tables.
"""
from __future__ import annotations

import hashlib
import html
import io
import logging
import re
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

from .pdf import MAX_PAGES, OCR_DPI
from .records import Cell, Document, ExtractError, Source

log = logging.getLogger("extract")
MAX_BYTES = 50 * 1024 * 1024  # text-like reports are a few hundred KB; refuse absurd inputs early
MAX_PDF_BYTES = 500 * 1024 * 1024
_PROSE = 40  # a line longer than this with no table structure is running text, not a cell


def read(path: str | Path, ocr=None, device: str = "cpu", keep_images: bool = False,
         dpi: int = OCR_DPI, max_pages: int = MAX_PAGES) -> Document:
    """Read a report file of any supported kind.

    Pages with no usable text layer, and images, are read by ``ocr`` (by default
    the PP-OCR engine on ``device``); a usable text layer is never OCR'd.
    The document keeps the images of the pages OCR read (on the grid its boxes lie on), for
    the pipeline's second look; ``keep_images``: those of text-layer pages too, for a
    reviewer's crops.  A PDF's scanned pages are rendered at ``dpi``; a PDF or image is
    read no further than ``max_pages``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ExtractError(f"cannot read {path}: {e.strerror or e}") from None
    if path.is_dir():
        raise ExtractError(f"{path} is a directory, not a report file")
    if size == 0:
        raise ExtractError(f"{path} is empty")
    with path.open("rb") as f:
        head = f.read(65536)
    kind = sniff(path, head)
    limit = MAX_PDF_BYTES if kind in ("pdf", "image") else MAX_BYTES
    if size > limit:
        raise ExtractError(f"{path} is {size / 2**20:.0f} MiB, larger than the {limit // 2**20} MiB limit")
    data = path.read_bytes()
    source = lambda kind, pages=1: Source(str(path), hashlib.sha256(data).hexdigest(), pages, kind)  # noqa: E731
    if kind == "pdf":
        return read_pdf(data, path, source, ocr or LazyOcr(lambda: _default_engine(device)), keep_images, dpi, max_pages)
    if kind == "image":
        return read_image(data, path, source, ocr or LazyOcr(lambda: _default_engine(device)), keep_images, max_pages)
    if kind == "docx":
        text, cells = parse_docx(data, path)
        return Document(source("docx"), text, cells)
    text = decode(data, path)
    if kind == "html":
        text, cells = parse_html(text)
        return Document(source("html"), text, cells)
    return Document(source("text"), text, parse_text(text))


def sniff(path: Path, data: bytes) -> str:
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:4] in (b"\x89PNG", b"II*\x00", b"MM\x00*") or head[:3] == b"\xff\xd8\xff":
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    lowered = head[:256].lower()
    if path.suffix.lower() in (".html", ".htm") or lowered.startswith((b"<!doctype html", b"<html")) or b"<table" in data[:65536].lower():
        return "html"
    return "text"


def decode(data: bytes, path: Path) -> str:
    """Decode text in the encodings Chinese reports come in, refusing binary data."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    control = sum(1 for b in data[:4096] if b < 9 or 13 < b < 32)
    if b"\x00" in data[:4096] or control > len(data[:4096]) * 0.01:
        raise ExtractError(f"{path} is binary data, not a text report")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes much Latin-1 junk; require the text to be mostly CJK or ASCII.
        cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
        if encoding == "utf-8" or cjk >= 0.2 * sum(1 for ch in text if ord(ch) > 127):
            return text
    raise ExtractError(f"{path}: unknown text encoding (not UTF-8, UTF-16 or GB18030/GBK)")


def is_blank(image) -> bool:
    """A page with (almost) no ink: nothing to OCR.  Ink is what is clearly darker than the
    paper, not than mid-grey: a faded scan prints its text in light grey."""
    import numpy as np

    return float((image < float(np.median(image)) - 48).mean()) < 0.0005


class LazyOcr:
    """An OCR engine made by ``make`` only when a page actually needs OCR (a text layer never does)."""

    def __init__(self, make):
        self.make = make

    def read_page(self, image, page: int):
        return self.make().read_page(image, page)


def _default_engine(device: str):
    from .ocr import default_engine

    return default_engine(device)


# --- PDF ----------------------------------------------------------------------------------


def read_pdf(data: bytes, path: Path, source, ocr, keep_images: bool = False, dpi: int = OCR_DPI,
             max_pages: int = MAX_PAGES) -> Document:
    from . import pdf
    from .cells import CHAR_GAP, SEGMENT_GAP, PageBoxes, build_cells

    pages, scanned, images = [], 0, {}
    t = time.perf_counter()
    for page in pdf.pages(data, str(path), ocr_dpi=dpi, max_pages=max_pages, keep_images=keep_images):
        gap = CHAR_GAP
        read = None
        if page.boxes is None:
            if not is_blank(page.image):
                read = ocr.read_page(page.image, page.number)
                page.boxes, page.image = read.boxes, read.image
            else:
                page.boxes = []
            scanned += 1
            gap = SEGMENT_GAP
        log.info("ingest: %s: page %d: %s, %d boxes, %.2f s", path.name, page.number,
                 "text layer" if gap == CHAR_GAP else "blank" if read is None else f"OCR at {dpi} dpi",
                 len(page.boxes), time.perf_counter() - t)
        t = time.perf_counter()
        # an OCR'd page's image is kept: the pipeline looks at it again (``verify``)
        if (keep_images or read is not None) and page.boxes:
            images[page.number] = page.image
        page.image = None
        pages.append(PageBoxes(page.boxes, page.height, gap))
    cells, text = build_cells(pages)
    kind = "pdf-scan" if scanned else "pdf-text"
    return Document(source(kind, pdf.page_count(data, str(path))), text, cells, images)


def _read_frame(ocr, frame, name: str, page: int, images: dict):
    t = time.perf_counter()
    if is_blank(frame):
        log.info("ingest: %s: page %d: blank", name, page)
        return []
    read = ocr.read_page(frame, page)
    images[page] = read.image  # the pipeline looks at it again (``verify``)
    log.info("ingest: %s: page %d: OCR, %d boxes, %.2f s", name, page, len(read.boxes), time.perf_counter() - t)
    return read.boxes


def read_image(data: bytes, path: Path, source, ocr, keep_images: bool = False, max_pages: int = MAX_PAGES) -> Document:
    """PNG, JPEG or (multi-page) TIFF scans, each frame a page."""
    import numpy as np
    from PIL import Image, ImageSequence, UnidentifiedImageError

    from .cells import SEGMENT_GAP, PageBoxes, build_cells

    try:
        img = Image.open(io.BytesIO(data))
        frames = [np.asarray(frame.convert("L")) for _, frame in zip(range(max_pages), ImageSequence.Iterator(img))]
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as e:
        raise ExtractError(f"{path} is not a readable image ({e.__class__.__name__})") from None
    images: dict = {}
    pages = [PageBoxes(_read_frame(ocr, frame, path.name, i + 1, images), frame.shape[0], SEGMENT_GAP)
             for i, frame in enumerate(frames)]
    cells, text = build_cells(pages)
    return Document(source("image", len(frames)), text, cells, images)


# --- plain text ---------------------------------------------------------------------------

_SPACED = re.compile(r"[ \u3000\xa0]{2,}")


def parse_text(text: str) -> list[Cell]:
    """Cells of the tables in plain text.

    Two shapes occur: one table row per line with tab-separated cells, and
    (Word exports) one cell per line after a tab, with blank lines between rows
    and no-tab lines continuing the cell above.  Text with no tabs at all is
    split on runs of two or more spaces.  Markdown pipe tables (what PDF converters
    write, also inside a ``.txt``) are read as their rows.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if is_markdown(text):
        return _rows_to_cells(_markdown_rows(lines))
    tabbed = [ln for ln in lines if "\t" in ln]
    if not tabbed:
        return _rows_to_cells([_SPACED.split(ln.strip()) for ln in lines if ln.strip()])
    if sum(1 for ln in tabbed if re.fullmatch(r"\t[^\t]*", ln)) > 0.8 * len(tabbed):
        return _rows_to_cells(_cell_per_line_rows(lines))
    return _rows_to_cells(_table_lines(lines, lambda ln: ln.split("\t")))


# a markdown table row (``| label | 1 | 2 |``), and its header separator (``|---|:---:|``)
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?(\s*:?-{2,}:?\s*\|)+\s*:?-*:?\s*$")


def is_markdown(text: str) -> bool:
    """Text that holds markdown pipe tables (three pipe rows or more)."""
    return sum(bool(_PIPE_ROW.match(ln)) for ln in text.splitlines()) >= 3


def _markdown_rows(lines: list[str]) -> list[list[str]]:
    """Rows of markdown pipe tables, as PDF converters write them: a pipe row's cells in order
    (separator rows dropped), and the lines between rows (``### 一、…`` headings, short text)
    as rows of one cell, as a heading between tables is."""
    rows = []
    for ln in lines:
        if _PIPE_RULE.match(ln):
            continue
        if _PIPE_ROW.match(ln):
            inner = ln.strip()[1:-1]
            rows.append([re.sub(r"<br\s*/?>", "\n", c.replace("\\|", "|")).strip() for c in re.split(r"(?<!\\)\|", inner)])
        elif ln.strip():
            rows.append([ln.strip().lstrip("#").strip()])
    return rows


def _table_lines(lines: list[str], split) -> list[list[str]]:
    """Rows from tab-separated lines, with the short no-tab lines (headings, wrapped cells) before them."""
    rows, pending = [], []
    for ln in lines:
        if "\t" in ln:
            rows.extend(pending)
            pending = []
            rows.append(split(ln))
        elif len(ln.strip()) > _PROSE:
            pending = []  # running text: what came before it is not part of the next table
        elif ln.strip():
            pending.append([ln])
    return rows


def _cell_per_line_rows(lines: list[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    row: list[str] = []
    after_blank = True
    for ln in lines:
        if ln.startswith("\t"):
            row.append(ln[1:])
            after_blank = False
        elif not ln.strip():
            if row:
                rows.append(row)
                row = []
            after_blank = True
        elif row and not after_blank:
            row[-1] += "\n" + ln  # a cell's text wrapped onto a line of its own
        else:
            if row:
                rows.append(row)
            row = [ln]
            after_blank = False
    if row:
        rows.append(row)
    return rows


def _rows_to_cells(rows: list[list[str]]) -> list[Cell]:
    cells = []
    for r, fields in enumerate(rows):
        if len(fields) == 1 and len(fields[0].strip()) > _PROSE:
            continue
        cells.extend(Cell(f.strip(), r, c) for c, f in enumerate(fields))
    return cells


# --- HTML ---------------------------------------------------------------------------------


class _HTMLTables(HTMLParser):
    """Collects running text and every table as a grid honouring rowspan/colspan."""

    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: list[list[tuple[int, int, str]]] = []  # per table: (row, col, text)
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._stack.append({"row": -1, "col": 0, "taken": set(), "cells": []})
        elif tag == "tr" and self._stack:
            t = self._stack[-1]
            t["row"] += 1
            t["col"] = 0
        elif tag in ("td", "th") and self._stack:
            t = self._stack[-1]
            if t["row"] < 0:
                t["row"] = 0
            while (t["row"], t["col"]) in t["taken"]:
                t["col"] += 1
            rs, cs = _span(a.get("rowspan")), _span(a.get("colspan"))
            for dr in range(rs):
                for dc in range(cs):
                    t["taken"].add((t["row"] + dr, t["col"] + dc))
            t["cells"].append([t["row"], t["col"], []])
            t["col"] += cs
            self._cell = t["cells"][-1][2]
        if tag in self._BLOCK:
            self._newline()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th"):
            self._cell = None
            self.text.append("\t")
        elif tag == "table" and self._stack:
            t = self._stack.pop()
            self.tables.append([(r, c, "".join(parts)) for r, c, parts in t["cells"]])
            self._cell = None
        if tag in self._BLOCK:
            self._newline()

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def _newline(self):
        self.text.append("\n")
        if self._cell is not None:
            self._cell.append("\n")


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100))
    except ValueError:
        return 1


def parse_html(markup: str) -> tuple[str, list[Cell]]:
    parser = _HTMLTables()
    parser.feed(markup)
    parser.close()
    text = re.sub(r"\n\s*\n+", "\n", html.unescape("".join(parser.text)))
    return text, _grid_cells(parser.tables)


def _grid_cells(tables: list[list[tuple[int, int, str]]]) -> list[Cell]:
    cells, base = [], 0
    for table in tables:
        for r, c, t in sorted(table, key=lambda x: (x[0], x[1])):
            cells.append(Cell(t.strip().replace("\xa0", " ").strip(), base + r, c))
        base += 1 + max((r for r, _, _ in table), default=0)
    return cells


# --- DOCX ---------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def parse_docx(data: bytes, path: Path) -> tuple[str, list[Cell]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError):
        raise ExtractError(f"{path} is not a readable DOCX file (no word/document.xml)") from None
    try:
        body = ElementTree.fromstring(xml).find(f"{_W}body")
    except ElementTree.ParseError:
        raise ExtractError(f"{path}: DOCX document.xml is corrupt") from None
    lines, tables = [], []
    for el in body if body is not None else []:
        if el.tag == f"{_W}p":
            lines.append(_para_text(el))
        elif el.tag == f"{_W}tbl":
            table = _docx_table(el)
            tables.append(table)
            lines.extend("\t".join(t for r2, _, t in table if r2 == r) for r in sorted({r for r, _, _ in table}))
    return "\n".join(lines), _grid_cells(tables)


def _para_text(p) -> str:
    return "".join(t.text or "" for t in p.iter() if t.tag in (f"{_W}t", f"{_W}tab") and (t.text or t.tag == f"{_W}t"))


def _docx_table(tbl) -> list[tuple[int, int, str]]:
    cells = []
    for r, tr in enumerate(tbl.findall(f"{_W}tr")):
        col = 0
        for tc in tr.findall(f"{_W}tc"):
            props = tc.find(f"{_W}tcPr")
            span, merged = 1, False
            if props is not None:
                gs = props.find(f"{_W}gridSpan")
                if gs is not None:
                    span = _span(gs.get(f"{_W}val"))
                vm = props.find(f"{_W}vMerge")
                merged = vm is not None and vm.get(f"{_W}val", "continue") == "continue"
            if not merged:  # a vertically merged continuation repeats the cell above
                cells.append((r, col, "\n".join(_para_text(p) for p in tc.findall(f"{_W}p"))))
            col += span
    return cells
