"""Second look at a scan: ink where the reading found nothing, and every number read twice.

The structure stage takes a column with no box for a blank, and a box's reading for what it
prints.  On a scan the detector or the recogniser handled badly both can be wrong: a faint
``33`` the detector never boxed reads as a blank 0; a ``-18`` whose dash fell outside its box
reads 18.  So, on each page image, with the column positions and lines the parse found:

* every blank key's cell region (its column's span by its row's line) is looked at for ink
  that is no ruling line; ink is cut out and recognised twice (close, and wider and larger);
* every number read is recognised a second time from its cell's region, reaching further
  left (a minus sign) and scaled up; a short level stroke left of its digits is noted where
  the column may print a sign (本年增/减), and a ``1`` whose stroke leans as a slash's does
  is read again as the ``/`` it is;
* a row whose columns were found nowhere on its page (a table of blanks prints no number to
  place them by) is looked at whole: its line right of its label, less the boxes read there;
* a row whose columns reach past everything printed on its page was placed on a grid that
  is not the page's: none of its cells is where the grid says;
* a row whose columns crowd each other (two centres nearer than half a column) was placed on
  a grid no page prints: with a number on it, its cells may be shifted; a row of blanks is
  looked at whole, as a row whose columns were found nowhere;
* a number whose box stands in the column of a blank of its row, not in its own, was placed
  where the grid does not put it: one of the two is wrong.

This module only looks; what each look makes of a cell (its reading, its candidates, whether
a person must see it) is reconciliation's policy: ``reconcile.looked_again``.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np

from .normalize import Kind, kind_of, normalize
from .ocr import _SLASH, _SPREAD, _STROKES, _UPRIGHT, OcrEngine, ink_slope, stroke_slope, top_bar
from .records import BBox, Cell, Reading, Recognized, SecondLook, VerifyOptions
from .schema import SIGNED_KEYS
from .structure import _TABLES, Parse


@dataclass(frozen=True, slots=True)
class Region:
    """Where a key's cell lies on its page image."""

    page: int
    box: BBox  # x0, y0, x1, y1: the column's span by the row's line
    text_height: float


def regions(parse: Parse, cells: list[Cell]) -> dict[str, Region]:
    """Each key's cell region, where the parse placed its table's columns on its row's page."""
    centre, pitch = parse.columns
    by_key = {a.key: a for a in parse.assignments}
    heights = _text_heights(cells)
    out = {}
    for run in parse.runs:
        for row in run.rows:
            boxes = [cells[by_key[k].cell] for k in row.keys if by_key[k].cell is not None
                     and cells[by_key[k].cell].bbox is not None]
            if boxes:
                page = Counter(c.page for c in boxes).most_common(1)[0][0]
                ys = [c.bbox for c in boxes if c.page == page]
                y0, y1 = float(np.median([b[1] for b in ys])), float(np.median([b[3] for b in ys]))
            elif (at := parse.anchors.get(row.name, run.anchor)) is not None and cells[at].bbox is not None:
                label = cells[at]  # a row of blanks: its own label's line (or its run's)
                page, y0, y1 = label.page, label.bbox[1], label.bbox[3]
            else:
                continue
            th = heights.get(page)
            n, t = len(row.keys), _TABLES[row.table]
            # a table run on over a page keeps its columns: a page of it with no number placed
            # (its last rows blank) takes the columns of the page before or after
            at = next((q for q in (page, page - 1, page + 1) if (q, t, n) in pitch), None)
            if th is None:
                continue
            if at is None:  # no row of this width placed: the table's width, as a row of another width spans it
                for key, box in zip(row.keys, _spanned(centre, pitch, page, t, n)):
                    out[key] = Region(page, (box[0], y0 - 0.2 * th, box[1], y1 + 0.2 * th), th)
                continue
            p = pitch[(at, t, n)]
            known = [j for j in range(n) if (at, t, n, j) in centre]
            for j, key in enumerate(row.keys):
                x = centre.get((at, t, n, j))
                if x is None and known:  # a column the parse did not place, a pitch or two beyond one it did
                    near = min(known, key=lambda k: abs(k - j))
                    x = centre[(at, t, n, near)] + (j - near) * p if abs(near - j) <= 2 else None
                if x is not None:
                    out[key] = Region(page, (x - p / 2, y0 - 0.2 * th, x + p / 2, y1 + 0.2 * th), th)
    return out


def _spanned(centre: dict, pitch: dict, page: int, t: int, n: int) -> list[tuple[float, float]]:
    """``n`` equal columns over the width a grid of another width places on the page for the
    same table (表二's one-number rows span its three-number rows' columns); none without one."""
    for (q, u, m), p in pitch.items():
        xs = [centre.get((q, u, m, j)) for j in range(m)]
        if q == page and u == t and m != n and xs[0] is not None and xs[-1] is not None:
            left, right = xs[0] - p / 2, xs[-1] + p / 2
            w = (right - left) / n
            return [(left + j * w, left + (j + 1) * w) for j in range(n)]
    return []


def _text_heights(cells: list[Cell]) -> dict[int, float]:
    """The median height of the number boxes on each page."""
    seen: dict[int, list[float]] = {}
    for c in cells:
        if c.bbox is not None and any(ch.isdigit() for ch in c.text):
            seen.setdefault(c.page, []).append(c.bbox[3] - c.bbox[1])
    return {p: float(np.median(h)) for p, h in seen.items()}


@dataclass(frozen=True, slots=True)
class Band:
    """A row's whole line right of its label, where some of its blanks have no region: no column
    of its row was found on the page, or the ones found near them lay past the print."""

    keys: tuple[str, ...]  # the row's blank keys no region covers
    page: int
    box: BBox
    text_height: float
    read: tuple[BBox, ...]  # boxes read on the line already (labels, numbers placed): not ink to look at


def bands(parse: Parse, cells: list[Cell], readings: list[Reading], where: dict[str, Region]) -> list[Band]:
    """The lines of the rows with blanks no cell region covers, from their labels' right edge to
    the page's text block's (for a row whose label heads its columns, all the block under the
    label down to the text after its run)."""
    heights = _text_heights(cells)
    fallback = float(np.median(list(heights.values()))) if heights else None
    unseen = {r.key for r in readings if r.bbox is None and r.value == 0 and r.key not in where}
    placed = {a.cell for a in parse.assignments if a.cell is not None}
    out = []
    for run in parse.runs:
        for row in run.rows:
            keys = tuple(k for k in row.keys if k in unseen)
            at = parse.anchors.get(row.name)
            if not keys or at is None or cells[at].bbox is None:
                continue
            label = cells[at]
            page = [c for c in cells if c.page == label.page and c.bbox is not None]
            th = heights.get(label.page, fallback) or 0.8 * (label.bbox[3] - label.bbox[1])
            right = max(c.bbox[2] for c in page) + th
            if row.below:  # its label heads its columns: its line is somewhere under it, before the text after the run
                after = cells[run.span[1]] if run.span[1] < len(cells) else None
                bottom = after.bbox[1] if after is not None and after.page == label.page and after.bbox is not None \
                    and after.bbox[1] > label.bbox[3] else max(c.bbox[3] for c in page) + th
                box = (min(c.bbox[0] for c in page) - th, label.bbox[3], right, bottom)
            else:
                box = (label.bbox[2] + 0.3 * th, label.bbox[1] - 0.2 * th, right, label.bbox[3] + 0.2 * th)
            read = tuple(c.bbox for i, c in enumerate(cells) if c.page == label.page and c.bbox is not None
                         and (i in placed or kind_of(c.text) == Kind.TEXT) and _overlap(c.bbox, box))
            out.append(Band(keys, label.page, box, th, read))
    return out


def _overlap(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _band_marks(g: np.ndarray, band: Band, min_ink: float) -> list[BBox]:
    """The marks on a band's line that no box read, apart by more than a digit's gap: each a
    number (or a zero mark) no column took.  Only marks as tall as a digit's stroke count: a
    rule running askew through the line leaves flat pieces, and a dash is a zero mark."""
    x0, y0, x1, y1 = _clip(g, band.box)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return []
    crop = g[y0:y1, x0:x1].copy()
    pad = 0.1 * band.text_height
    for b in band.read:
        bx0, by0, bx1, by1 = _clip(g, _pad(b, pad))
        crop[max(by0 - y0, 0):max(by1 - y0, 0), max(bx0 - x0, 0):max(bx1 - x0, 0)] = 255
    th = band.text_height
    marks = sorted(m for m in _marks(crop, th, min_ink) if m[3] - m[1] >= min_ink * th)
    blobs: list[list[int]] = []
    for m in marks:
        if blobs and m[0] - blobs[-1][2] < 0.6 * th:
            b = blobs[-1]
            b[:] = [b[0], min(b[1], m[1]), max(b[2], m[2]), max(b[3], m[3])]
        else:
            blobs.append(list(m))
    return [(x0 + a, y0 + b, x0 + c, y0 + d) for a, b, c, d in blobs]


def off_print(where: dict[str, Region], parse: Parse, cells: list[Cell]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The rows whose cell regions reach past everything printed on their page (every box the
    detector found: prose, headings, labels, numbers), each as (its keys, the keys of its
    columns there): a column with nothing printed over it, under it or beside it is none of
    the table's, and the grid placed it wrongly (a 表四 whose first column is blank, placed
    one column to the right)."""
    extent: dict[int, tuple[float, float]] = {}
    for c in cells:
        if c.bbox is not None:
            lo, hi = extent.get(c.page, (math.inf, -math.inf))
            extent[c.page] = (min(lo, c.bbox[0]), max(hi, c.bbox[2]))
    out = []
    for run in parse.runs:
        for row in run.rows:
            keys = [k for k in row.keys if k in where and where[k].page in extent]
            outside = []
            for k in keys:
                (x0, _, x1, _), (left, right) = where[k].box, extent[where[k].page]
                if not left - 0.25 * (x1 - x0) <= (x0 + x1) / 2 <= right + 0.25 * (x1 - x0):
                    outside.append(k)
            if outside:
                out.append((tuple(row.keys), tuple(outside)))
    return out


def crowded(where: dict[str, Region], parse: Parse) -> list[tuple[str, ...]]:
    """The rows whose cell regions crowd each other: two neighbouring columns' centres nearer
    than half a column's width.  No printed table is so; the grid found for the row is not the
    page's (an estimator that packed columns together), and its blanks and numbers alike may be
    in the wrong columns."""
    out = []
    for run in parse.runs:
        for row in run.rows:
            boxes = [where[k] for k in row.keys if k in where]
            if len(boxes) < len(row.keys) or len({b.page for b in boxes}) != 1:
                continue
            centres = [(b.box[0] + b.box[2]) / 2 for b in boxes]
            widths = [b.box[2] - b.box[0] for b in boxes]
            if any(c1 - c0 < 0.5 * min(w0, w1) for c0, c1, w0, w1 in zip(centres, centres[1:], widths, widths[1:])):
                out.append(tuple(row.keys))
    return out


def off_column(where: dict[str, Region], parse: Parse, readings: list[Reading]) -> dict[str, str]:
    """Numbers whose box stands not in their own column's region but in that of a column of
    their row taken for a blank, both ways (key -> the other key): the placement and the grid
    disagree, and the number may be the blank column's (a column found one place off)."""
    by_key = {r.key: r for r in readings}
    out: dict[str, str] = {}
    for run in parse.runs:
        for row in run.rows:
            for k in row.keys:
                r, own = by_key.get(k), where.get(k)
                if r is None or r.bbox is None or own is None or r.page != own.page:
                    continue
                x = (r.bbox[0] + r.bbox[2]) / 2
                if own.box[0] <= x <= own.box[2]:
                    continue
                for other in row.keys:
                    o, region = by_key.get(other), where.get(other)
                    if other != k and o is not None and o.bbox is None and region is not None \
                            and region.page == own.page and region.box[0] <= x <= region.box[2]:
                        out[k], out[other] = other, k
    return out


_NEAR = 2  # columns this near one placed past the print are as unsure as it


@dataclass(frozen=True, slots=True)
class _Crop:
    """One crop to recognise, and what it is for."""

    key: str
    kind: str  # ink | ink_again | again | band
    image: np.ndarray
    box: BBox
    page: int | None
    keys: tuple[str, ...] = ()  # a band's: the keys its marks may belong to
    leans: bool = False  # a band's mark is one leaning stroke: a slash


def second_look(readings: list[Reading], parse: Parse, cells: list[Cell], images: dict[int, np.ndarray],
                engine: OcrEngine, options: VerifyOptions = VerifyOptions()) -> dict[str, SecondLook]:
    """What the pages show at the keys' cells when looked at again: the ink of every blank cell
    that holds some, every number read a second time.  (What that makes of each cell's status
    is reconciliation's to say: ``reconcile.looked_again``.)"""
    where = regions(parse, cells)
    by_key = {r.key: r for r in readings}
    off: set[str] = set()  # rows on a grid off the print, with a number placed near where it fails
    for keys, outside in off_print(where, parse, cells):
        at = [keys.index(k) for k in outside]
        near = [k for j, k in enumerate(keys) if any(abs(j - i) <= _NEAR for i in at) and k in by_key]
        if any(by_key[k].bbox is not None for k in near):
            off.update(k for k in keys if k in where)  # it may be shifted, and the rest of its row with it
        else:  # only blanks there: their line is looked at whole, as if no column were found
            for k in near:
                where.pop(k, None)
    # a grid whose columns crowd each other is none a page prints: a row with a number on it may
    # have it in the wrong column; a row of blanks is looked at whole, as if no column were found
    packed: list[tuple[str, ...]] = []
    for keys in crowded(where, parse):
        if any(by_key[k].bbox is not None for k in keys if k in by_key):
            packed.append(keys)
        else:
            for k in keys:
                where.pop(k, None)
    crops: list[_Crop] = []
    dashes: set[str] = set()
    leaning: set[str] = set()  # cells whose ink is one leaning stroke: a slash
    unsure: set[str] = set()  # numbers read 1 whose stroke is neither upright nor leaning: a 1 or a slash
    looks: dict[str, SecondLook] = {}  # blank cells whose region holds no ink, or only a dash
    for r in readings:
        region = where.get(r.key)
        image = images.get(region.page) if region else (images.get(r.page) if r.page else None)
        if image is None:
            continue
        g = _gray(image)
        th = region.text_height if region else (r.bbox[3] - r.bbox[1] if r.bbox else 0)
        if options.ink and r.bbox is None and r.value == 0 and region is not None:
            ink = _ink_box(g, region.box, th, options.min_ink)
            if ink is not None and _level_stroke(ink, th):  # a zero printed as a dash: nothing to read
                looks[r.key] = SecondLook(r.key, "clear", region.box, page=region.page)
            elif ink is not None:
                # close about the stroke: a wider crop of noisy paper gives Otsu's threshold noise to cut
                x0, y0, x1, y1 = _clip(g, _pad(ink, 0.15 * th))
                slope = stroke_slope(g[y0:y1, x0:x1])
                if slope is not None and slope < _LEANS:
                    leaning.add(r.key)
                crops.append(_Crop(r.key, "ink", _crop(g, _pad(ink, 0.3 * th)), ink, region.page))
                crops.append(_Crop(r.key, "ink_again", _crop(g, _pad(ink, 0.6 * th), options.scale), ink, region.page))
            else:
                looks[r.key] = SecondLook(r.key, "clear", region.box, page=region.page)
        elif options.second_reading and r.bbox is not None and r.candidates and any(ch.isdigit() for ch in r.text):
            x0, y0, x1, y1 = r.bbox
            left, right = (region.box[0], region.box[2]) if region else (x0 - th, x1 + th)
            box = (max(left, x0 - options.reach_left * th), y0 - 0.15 * th, min(right, x1 + 0.3 * th), y1 + 0.15 * th)
            # the region's own ink, cut close as the detector would (a wide crop of noisy paper reads
            # as characters), and with it any minus sign the first box left out
            marks = _ink_box(g, box, th, options.min_ink) or r.bbox
            ink = _union(marks, r.bbox)
            crops.append(_Crop(r.key, "again", _crop(g, _pad(ink, 0.4 * th, 0.1 * th), options.scale, plain=True), box,
                               r.page))
            # a 1 whose stroke leans is read again as the slash it is (``ocr.read_slashes`` weighed it
            # by a threshold a black rule beside grey ink defeats); the readings then disagree.  So
            # is a 7 with no bar across its top: a blurred slash, which a 7's diagonal leans as
            shape = normalize(r.text)
            slope = _print_slope(g, marks, left, right, th, barless=shape == "7") if shape in _ONE_STROKE else None
            if slope is not None and slope < _LEANS:
                leaning.add(r.key)
            elif slope is not None and slope < _UPRIGHT - _SPREAD:  # neither: blur leaves a slash half upright
                unsure.add(r.key)
            # a sign only where the report may print one (本年增/减): elsewhere a dash is no minus
            if r.key in SIGNED_KEYS and "-" not in normalize(r.text) and _dash_before(g, (box[0], y0, x1, y1), th):
                dashes.add(r.key)
    for band in bands(parse, cells, readings, where) if options.ink else ():
        g = _gray(images[band.page]) if band.page in images else None
        marks = [] if g is None else _band_marks(g, band, options.min_ink)
        if g is not None and not marks:  # the whole line is empty: its blanks were seen
            looks.update((k, SecondLook(k, "clear", band.box, page=band.page)) for k in band.keys)
        for m in marks:
            x0, y0, x1, y1 = _clip(g, _pad(m, 0.15 * band.text_height))
            slope = stroke_slope(g[y0:y1, x0:x1])
            crops.append(_Crop(band.keys[0], "band", _crop(g, _pad(m, 0.3 * band.text_height)), m, band.page,
                               band.keys, slope is not None and slope < _LEANS))
    # a grid reaching past the print: what its regions showed says nothing of the cells
    looks.update((k, SecondLook(k, "off_print", where[k].box, page=where[k].page)) for k in off)
    for keys in packed:
        looks.update((k, SecondLook(k, "crowded", where[k].box, page=where[k].page)) for k in keys if k not in off)
        off.update(keys)
    # a number standing in a blank's column: neither cell's look says where it belongs
    looks.update((k, SecondLook(k, "off_column", where[k].box, page=where[k].page, other=o))
                 for k, o in off_column(where, parse, readings).items() if k not in off)
    if not crops:
        return looks
    reads = [Recognized(*read) for read in engine.recognize_crops([c.image for c in crops])]
    on_band: dict[tuple[str, ...], list[tuple[_Crop, Recognized]]] = {}
    for c, read in zip(crops, reads):
        if c.kind == "band":
            on_band.setdefault(c.keys, []).append((c, _slash(read) if c.leans else read))
    for keys, marks in on_band.items():  # the marks no column took, read left to right
        box = (min(c.box[0] for c, _ in marks), min(c.box[1] for c, _ in marks),
               max(c.box[2] for c, _ in marks), max(c.box[3] for c, _ in marks))
        read = Recognized(" ".join(r.text for _, r in marks), min(r.score for _, r in marks))
        looks.update((k, SecondLook(k, "band", box, first=read, page=marks[0][0].page)) for k in keys)
    seen = {(c.key, c.kind): (c, _slash(read) if c.key in leaning else _slash(read, 0.5) if c.key in unsure else read)
            for c, read in zip(crops, reads) if c.kind != "band"}
    for (key, kind), (crop, read) in seen.items():
        if looks.get(key) is not None and looks[key].kind in ("off_print", "crowded", "off_column"):
            continue
        if kind == "ink":
            looks[key] = SecondLook(key, "ink", crop.box, seen[(key, "ink_again")][1], read, page=crop.page)
        elif kind == "again":
            looks[key] = SecondLook(key, "again", crop.box, read, dash=key in dashes, page=crop.page)
    return looks


def _slash(read: Recognized, score: float | None = None) -> Recognized:
    """Ink read as one stroke (``1``, ``7``) whose stroke leans as a slash's does: a zero printed
    as ``/`` (the recogniser takes slashes for ones; ``ocr.read_slashes``); ``score``: how sure,
    when the stroke leans too little to say (then the readings disagree, for the sums or a person)."""
    return Recognized("/", read.score if score is None else score) if normalize(read.text) in _ONE_STROKE else read


_ONE_STROKE = _STROKES | {"7"}
_LEANS = (_SLASH + _UPRIGHT) / 2  # halfway between an upright 1's stroke and a slash's


def _print_slope(g: np.ndarray, ink: BBox, left: float, right: float, th: float,
                 barless: bool = False) -> float | None:
    """The slope of the one stroke of ``ink`` (``ocr.stroke_slope``), measured on the page's own
    print, rules taken out, between ``left`` and ``right`` (a crop as narrow as the stroke says
    nothing of its slope): a grey slash between black rules is no ink at all to a threshold the
    rules set.  ``barless``: None for a glyph barred across its top (a 7, ``ocr.top_bar``)."""
    x0, y0, x1, y1 = _clip(g, (left, ink[1] - 0.15 * th, right, ink[3] + 0.15 * th))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    mask = _grown(g[y0:y1, x0:x1])[1]
    return None if barless and top_bar(mask) else ink_slope(mask)


def _level_stroke(ink: BBox, th: float) -> bool:
    """Ink that is one short level stroke (``—``, ``-``): far wider than tall, and much lower
    than a digit."""
    w, h = ink[2] - ink[0], ink[3] - ink[1]
    return h <= 0.3 * th and w >= 2.5 * max(h, 1.0)


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _ink_box(g: np.ndarray, box: BBox, th: float, min_ink: float) -> BBox | None:
    """The bounding box of the marks in a region that are neither ruling lines nor specks."""
    x0, y0, x1, y1 = _clip(g, box)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    marks = _marks(g[y0:y1, x0:x1], th, min_ink)
    if not marks:
        return None
    xs0, ys0 = min(m[0] for m in marks), min(m[1] for m in marks)
    xs1, ys1 = max(m[2] for m in marks), max(m[3] for m in marks)
    return float(x0 + xs0), float(y0 + ys0), float(x0 + xs1), float(y0 + ys1)


def _dark(crop: np.ndarray) -> np.ndarray:
    """Printed pixels: darker than the crop's paper (its bright majority) by more than the paper's
    own noise, so that faint grey ink counts, and only as much noise as clears five spreads."""
    paper, contrast = _paper(crop)
    return (crop < paper - contrast).astype(np.uint8)


def _paper(crop: np.ndarray) -> tuple[float, float]:
    """The crop's paper level, and how much darker than it print is: five spreads of the paper's
    noise (as if normal), at least ``_MIN_CONTRAST``."""
    paper, middle = np.percentile(crop, (90, 50))
    spread = max(float(paper - middle), 1.0) / 1.28
    return float(paper), max(_MIN_CONTRAST, 5 * spread)


_MIN_CONTRAST = 25.0  # grey levels: less is paper texture, not print


def _ink(crop: np.ndarray) -> np.ndarray:
    """Ink of a crop (1 where printed) with the ruling lines through it taken out."""
    return _without_rules(_dark(crop))


def _marks(crop: np.ndarray, th: float, min_ink: float) -> list[tuple[int, int, int, int]]:
    """The marks of a crop that are neither ruling lines nor specks, each as the box of its
    printed pixels.  A mark is grown from them into the paler pixels joined to them (smoothed,
    darker than the paper by half as much), so that a faded digit on noisy paper, whose print
    breaks into specks, counts as one mark; its box stays that of its print, as the recogniser
    is to see it."""
    dark, faint = _grown(crop)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(faint)
    out = []
    for k in range(1, n):
        x, y, w, h, area = stats[k]
        if (h >= min_ink * th or w >= min_ink * th) and area >= max(4.0, 0.02 * th * th):
            ys, xs = np.nonzero((labels[y:y + h, x:x + w] == k) & (dark[y:y + h, x:x + w] == 1))
            if len(xs):
                out.append((int(x + xs.min()), int(y + ys.min()), int(x + xs.max() + 1), int(y + ys.max() + 1)))
    return out


def _grown(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A crop's printed pixels, and its print grown into the paler pixels about it, rules taken out
    (``_marks``)."""
    paper, contrast = _paper(crop)
    dark = (crop < paper - contrast).astype(np.uint8)
    return dark, _without_rules((cv2.GaussianBlur(crop, (3, 3), 0) < paper - contrast / 2).astype(np.uint8))


def _without_rules(ink: np.ndarray) -> np.ndarray:
    """``ink`` less its ruling lines: a row of pixels mostly ink is a rule, and its neighbouring
    rows with it; then, of what is left, a column mostly ink (a digit between a shaded band and
    two rules is no column rule)."""
    rows = ink.mean(axis=1) > 0.6
    ink[rows | np.roll(rows, 1) | np.roll(rows, -1), :] = 0
    cols = ink.mean(axis=0) > 0.6
    ink[:, cols | np.roll(cols, 1) | np.roll(cols, -1)] = 0
    return ink


def _dash_before(g: np.ndarray, box: BBox, th: float) -> bool:
    """A short level stroke left of the digits at their middle height: a minus sign, also one
    printed touching the first digit (the detector's box then takes it for part of the digit).
    From the leftmost ink (specks aside), a run of thin columns inked near mid height, at least a
    quarter of a text height long: a digit's own left edge thickens within a few columns."""
    x0, y0, x1, y1 = _clip(g, box)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return False
    n, labels, stats, _ = cv2.connectedComponentsWithStats(_ink(g[y0:y1, x0:x1]))
    ink = np.isin(labels, [k for k in range(1, n) if stats[k, 4] >= max(4.0, 0.02 * th * th)])
    columns = np.flatnonzero(ink.any(axis=0))
    run = 0
    for x in range(columns[0], ink.shape[1]) if len(columns) else ():
        rows = np.flatnonzero(ink[:, x])
        if not len(rows) or rows[-1] - rows[0] + 1 > 0.25 * th or abs((rows[0] + rows[-1]) / 2 - (y1 - y0) / 2) > 0.2 * th:
            break
        run += 1
    return run >= 0.25 * th


def _union(a: BBox, b: BBox) -> BBox:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _pad(box: BBox, by: float, high: float | None = None) -> BBox:
    """The box grown by ``by`` each side (by ``high`` above and below, when given)."""
    dy = by if high is None else high
    return box[0] - by, box[1] - dy, box[2] + by, box[3] + dy


def _clip(g: np.ndarray, box: BBox) -> tuple[int, int, int, int]:
    h, w = g.shape[:2]
    return max(0, int(box[0])), max(0, int(box[1])), min(w, int(round(box[2]))), min(h, int(round(box[3])))


def _crop(g: np.ndarray, box: BBox, scale: float = 1.0, plain: bool = False) -> np.ndarray:
    """The region as the recogniser takes it: colour, rules whited out, contrast stretched
    (``plain``: as printed; on noisy paper stretching turns the noise to ink), scaled."""
    x0, y0, x1, y1 = _clip(g, box)
    crop = g[y0:max(y1, y0 + 4), x0:max(x1, x0 + 4)].copy()
    if not plain:
        crop[(_dark(crop) == 1) & (_ink(crop) == 0)] = 255  # a rule read as 1 would be a digit too many
        # faint ink stretched to black on white: the recogniser reads faded print as well as it reads dark
        crop = cv2.normalize(crop, None, 0, 255, cv2.NORM_MINMAX)
    if scale != 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
