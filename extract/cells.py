"""Cell building from geometry: text boxes on pages -> lines -> table cells in reading order.

Shared by the PDF text layer (one box per character) and OCR (one box per
recognised text segment).  Boxes on one line that sit far apart are separate
cells; page headers and footers (page numbers) are dropped; a table that runs
on over a page break simply continues, since rows are numbered across pages.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace

from .normalize import normalize
from .records import BBox, Cell

# (the dashes round a page number as the recogniser reads them too: ``~2-``, ``一2一``)
_PAGE_MARK = re.compile(r"^([-—–－~～一_=]*\d{1,3}[-—–－~～一_=]*|第\d{1,3}页(共\d{1,3}页)?|\d{1,3}/\d{1,3})$")


@dataclass(frozen=True, slots=True)
class Box:
    """A piece of text on a page, in page pixels (origin top left)."""

    text: str
    bbox: BBox
    page: int
    score: float = 1.0
    candidates: tuple[tuple[str, float], ...] = ()  # the recogniser's n-best readings of a number

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    @property
    def yc(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


def lines_of(boxes: list[Box]) -> list[list[Box]]:
    """Group boxes into text lines by vertical position, each line left to right."""
    if not boxes:
        return []
    h = statistics.median(b.height for b in boxes) or 1.0
    lines: list[list[Box]] = []
    centres: list[float] = []
    for b in sorted(boxes, key=lambda b: (b.yc, b.bbox[0])):
        if lines and abs(b.yc - centres[-1]) < 0.5 * h:
            lines[-1].append(b)
            centres[-1] += (b.yc - centres[-1]) / len(lines[-1])
        else:
            lines.append([b])
            centres.append(b.yc)
    return [sorted(line, key=lambda b: b.bbox[0]) for line in lines]


def segments(line: list[Box], gap: float) -> list[list[Box]]:
    """Split a line where the horizontal gap between neighbours exceeds ``gap``."""
    out: list[list[Box]] = []
    for b in line:
        if out and b.bbox[0] - out[-1][-1].bbox[2] <= gap:
            out[-1].append(b)
        else:
            out.append([b])
    return out


def _merge(boxes: list[Box]) -> tuple[str, BBox]:
    text = "".join(b.text for b in boxes)
    x0 = min(b.bbox[0] for b in boxes)
    y0 = min(b.bbox[1] for b in boxes)
    x1 = max(b.bbox[2] for b in boxes)
    y1 = max(b.bbox[3] for b in boxes)
    return text, (x0, y0, x1, y1)


@dataclass(frozen=True, slots=True)
class PageBoxes:
    """One page's boxes.  ``gap``: the horizontal gap, in line heights, beyond which
    neighbouring boxes are separate cells (characters of a text layer need joining; OCR
    segments are already cells, and the gap between narrow columns can be less than a line)."""

    boxes: list[Box]
    height: float
    gap: float = 1.0


CHAR_GAP, SEGMENT_GAP = 1.0, 0.15


def build_cells(pages: list[PageBoxes]) -> tuple[list[Cell], str]:
    """Cells of every page in reading order, and the pages' running text."""
    cells: list[Cell] = []
    text_lines: list[str] = []
    row = start = 0  # start: where the cells of the last line begin
    for page in pages:
        for line in lines_of([b for b in page.boxes if b.text.strip()]):
            h = statistics.median(b.height for b in line)
            parts = segments(line, page.gap * h)
            segs = [_merge(s) for s in parts]
            joined = normalize("".join(t for t, _ in segs))
            top = min(bb[1] for _, bb in segs)
            # a page number is one number (``- 3 -``); ``2 2`` at a page's top is a table row's values
            if sum(any(ch.isdigit() for ch in t) for t, _ in segs) == 1 and \
                    (top < 0.08 * page.height or top > 0.92 * page.height) and _PAGE_MARK.match(joined):
                continue
            above = cells[start:] if len(cells) > start and cells[start].page == line[0].page else []
            if (joined := _wrapped(segs, above)) is not None:
                cells[start:] = joined
                text_lines[-1] = " ".join(c.text for c in joined)
                continue
            start = len(cells)
            for col, ((text, bbox), seg) in enumerate(zip(segs, parts)):
                alternatives = seg[0].candidates if len(seg) == 1 else ()
                cells.append(Cell(text.strip(), row, col, line[0].page, bbox, alternatives))
            text_lines.append(" ".join(t.strip() for t, _ in segs))
            row += 1
    return cells, "\n".join(text_lines)


def _wrapped(segs: list[tuple[str, BBox]], above: list[Cell]) -> list[Cell] | None:
    """The line above with this line's numbers joined on, when every piece of this line is
    the tail of a number wrapped in a narrow column (``24`` over ``6``: 246)."""
    if not above or not all(t.strip().isdigit() for t, _ in segs):
        return None
    out = list(above)
    for text, bbox in segs:
        heads = [k for k, c in enumerate(out) if _tail_of(text.strip(), bbox, c)]
        if len(heads) != 1:
            return None
        c = out[heads[0]]
        joined = (min(bbox[0], c.bbox[0]), c.bbox[1], max(bbox[2], c.bbox[2]), bbox[3])
        out[heads[0]] = replace(c, text=c.text + text.strip(), bbox=joined, candidates=())
    return out


def _tail_of(text: str, bbox: BBox, head: Cell) -> bool:
    """Digits right under a number (the boxes may overlap a little), closer to it than rows
    of a table ever sit, and no longer than it: a line breaks when the column is full, and
    one digit never wraps."""
    if head.bbox is None or not head.text.isdigit() or len(head.text) < max(2, len(text)):
        return False
    x0, y0, x1, y1 = bbox
    h = min(y1 - y0, head.bbox[3] - head.bbox[1])
    overlap = min(x1, head.bbox[2]) - max(x0, head.bbox[0])
    return overlap > 0.5 * min(x1 - x0, head.bbox[2] - head.bbox[0]) and -0.25 * h < y0 - head.bbox[3] < 0.35 * h
