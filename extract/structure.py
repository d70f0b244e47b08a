"""Table-structure classifier: a cell sequence onto the canonical (table, row, column) keys.

Two small estimators and a constrained decoder:

* ``LabelModel`` (char n-gram logistic regression) scores each text cell
  against every canonical row label, or none.
* The anchor decoder aligns those label cells monotonically to the rows of
  each template variant (rows in order, each row at most one label) and keeps
  the best variant.  The cells between one anchor and the next form a *run*:
  the value cells of that row (plus any rows whose label went missing).
* ``ValueModel`` (gradient boosting over position features) scores every
  (candidate cell, column) pair of a run; a forward-backward pass over all
  monotone assignments (each column at most one cell, order kept) gives each
  column's value distribution, from which the value and its raw confidence come.
* A calibrator per table maps the raw confidence to a calibrated one: a
  sigmoid (Platt) on its log-odds, smooth where it matters, near 1; or, where
  errors occur at every raw confidence (scans) and a sigmoid's flattened slope
  would cap every confidence below the review threshold, isotonic regression
  (the empirical accuracy, monotone).  Below ``threshold`` a cell is ``needs_review``.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from .normalize import Kind, kind_of, normalize, parse_number
from .records import Cell, Number
from .schema import APPLICANT_LABELS, LAYOUT_MARKERS, OUTCOME_LABELS, VARIANTS, RowSpec, Variant

_TABLES = {"proactive": 0, "requests": 1, "review_litigation": 2}
_EMPTY_LOGIT = -5.0  # a column left with no cell: cheaper than a very unlikely cell, dearer than a plausible one
_CLIP = 15.0
_MATCH_BIAS = 2.0  # a label cell anchors a row when its log-odds for that row exceed -2


def layout_of(cells: list[Cell]) -> str | None:
    """The layout whose own column headings the cells print most, if any."""
    texts = [normalize(c.text) for c in cells if len(c.text) < 40]
    votes = {layout: sum(1 for t in texts for m in markers if m in t) for layout, markers in LAYOUT_MARKERS.items()}
    best = max(votes, key=votes.get)
    return best if votes[best] > 0 and list(votes.values()).count(votes[best]) == 1 else None


# --- label classifier ---------------------------------------------------------------------

class LabelModel:
    """Which canonical row a text cell labels (or ``none``), from its characters."""

    def __init__(self, C: float = 8.0):
        self.C = C

    def fit(self, texts: list[str], labels: list[str]) -> LabelModel:
        self.vectorizer_ = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                           preprocessor=_label_text)
        X = self.vectorizer_.fit_transform(texts)
        self.classifier_ = LogisticRegression(C=self.C, max_iter=2000).fit(X, labels)
        self.classes_ = list(self.classifier_.classes_)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.classifier_.predict_proba(self.vectorizer_.transform(texts))


def _label_text(text: str) -> str:
    return normalize(text)[:60]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log(1 - p)


def shift_ambiguous(run: Run, cells: list[Cell], kinds: list[Kind]) -> bool:
    """True when the printed row itself cannot say which cell is which.

    The row's printed line holds more value cells than the row has columns, and
    a blank (zero, or only layout filler?) stands before a non-zero number, so
    dropping one blank or another moves that number to another column.
    """
    if run.anchor is None or not run.cells:
        return False
    # the anchor's own line, or the first line of values when they were printed on the next one
    first = cells[run.anchor].row if any(cells[i].row == cells[run.anchor].row for i in run.cells) else cells[run.cells[0]].row
    line = [i for i in run.cells if cells[i].row == first]
    if len(line) <= len(run.keys):
        return False
    nonzero = [i for i in line if kinds[i] == Kind.NUMBER and parse_number(cells[i].text) != 0]
    return bool(nonzero) and any(kinds[i] == Kind.BLANK and i < nonzero[-1] for i in line)


# --- decoding records ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Assignment:
    """The decided cell for one canonical key."""

    key: str
    cell: int | None  # index into the cell sequence; None when blank or when no cell could be found
    value: Number
    confidence: float  # calibrated
    alternatives: tuple[tuple[Number | None, float], ...] = ()
    # why the text alone cannot settle the cell: "unlabelled" (its row's label was not found),
    # "ambiguous_line" (the printed line has more cells than columns, with a blank before a number)
    doubt: str | None = None
    blank: bool = False  # no cell, on a page where the column is blank: the value is 0, read, not missing


@dataclass(slots=True)
class Run:
    """The cells after one anchor label, and the canonical columns they may fill."""

    anchor: int | None
    anchor_p: float
    rows: list[RowSpec]
    cells: list[int]  # value-like candidate cells, in order
    span: tuple[int, int]  # [start, end) in the cell sequence

    @property
    def keys(self) -> list[str]:
        return [k for r in self.rows for k in r.keys]


@dataclass(frozen=True, slots=True)
class Rival:
    """The runner-up template, and how far behind the one taken (in the alignment's log-odds)."""

    variant: Variant
    margin: float


# a template is taken without a person only this sure against the next (margin about 4.6 log-odds)
TEMPLATE_SURE = 0.99


@dataclass(slots=True)
class Parse:
    variant: Variant
    assignments: list[Assignment]
    runs: list[Run] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)
    # where each table's columns sit on each page, and their pitch (``_column_positions``)
    columns: tuple[dict, dict] = field(default_factory=lambda: ({}, {}))
    rival: Rival | None = None  # the template that came second

    @property
    def template_p(self) -> float:
        """How sure the template is against the one that came second (its margin as log-odds)."""
        return 1.0 if self.rival is None else 1 / (1 + math.exp(-min(self.rival.margin, 50.0)))

    def in_doubt(self, cells: list[Cell], sure: float = TEMPLATE_SURE) -> set[str]:
        """Keys that stand or fall with the template, when it was not clearly the best and the
        page shows more: those the rival lays out otherwise (（六） as one row or three, the 2019
        or the 2021 表二), where their rows' stretch holds more numbers than they have columns
        (three lines of sub-items read under a single row's label)."""
        if self.rival is None or self.template_p >= sure:
            return set()
        differ = set(self.variant.keys) - set(self.rival.variant.keys)
        for run in self.runs:
            keys = set(run.keys)
            numbers = sum(kind_of(cells[i].text) == Kind.NUMBER for i in run.cells)
            if keys & differ and numbers > len(keys):
                return differ
        return set()

    def strays(self, cells: list[Cell]) -> list[int]:
        """Number cells among the tables' values that no key took (a number wrapped over two
        lines of a narrow column leaves its first digits so)."""
        used = {a.cell for a in self.assignments if a.cell is not None}
        if not used:
            return []
        return [i for i in range(min(used), max(used) + 1) if i not in used and kind_of(cells[i].text) == Kind.NUMBER]


# --- anchors ------------------------------------------------------------------------------

def align_anchors(label_proba: np.ndarray, classes: list[str], text_cells: list[int],
                  variant: Variant, headings: bool = True) -> tuple[float, dict[int, tuple[int, float]]]:
    """Monotone alignment of label cells to template rows; returns (score, {row index: (cell, trust)}).

    ``headings``: group headings with no values of their own (（六）其他处理) take part.  On a
    page they do not: printed in a band beside their sub-rows, they are read between them.
    """
    rows = variant.rows
    col = [classes.index(r.name) if r.name in classes and (headings or r.keys) else None for r in rows]
    m, t = len(text_cells), len(rows)
    p = np.zeros((m, t))
    for j, c in enumerate(col):
        if c is not None:
            p[:, j] = label_proba[:, c]
    gain = np.log(np.clip(p, 1e-9, 1 - 1e-9)) - np.log(np.clip(1 - p, 1e-9, 1)) + _MATCH_BIAS
    best = np.zeros((m + 1, t + 1))
    for i in range(1, m + 1):
        gi = gain[i - 1]
        prev, cur = best[i - 1], best[i]
        for j in range(1, t + 1):
            g = prev[j - 1] + gi[j - 1] if gi[j - 1] > 0 else -1.0
            cur[j] = max(prev[j], cur[j - 1], g)
    matches: dict[int, tuple[int, float]] = {}
    i, j = m, t
    while i > 0 and j > 0:
        if best[i][j] == best[i - 1][j]:
            i -= 1
        elif best[i][j] == best[i][j - 1]:
            j -= 1
        else:
            matches[j - 1] = (i - 1, 0.0)
            i, j = i - 1, j - 1
    # How sure each row is: its label's probability against the rows the order would also allow there
    # (those between the neighbouring anchors), and never more than a weak label's own probability.
    order = sorted(matches)
    for k, j in enumerate(order):
        i = matches[j][0]
        lo = order[k - 1] + 1 if k else 0
        hi = order[k + 1] if k + 1 < len(order) else t
        rival = max((p[i, r] for r in range(lo, hi) if r != j), default=0.0)
        trust = p[i, j] / (p[i, j] + rival + 1e-9) * min(1.0, p[i, j] / 0.5)
        matches[j] = (text_cells[i], float(trust))
    return float(best[m][t]), matches


def first_fragments(matches: dict[int, tuple[int, float]], label_proba: np.ndarray, classes: list[str],
                    text_cells: list[int], variant: Variant) -> dict[int, tuple[int, float]]:
    """Anchor each row on the first line of its label.

    A label wrapped over two lines of a page (``5. 要求行政机关确认或`` / ``重新出具已获取信息``)
    prints its values on the first line, between the two fragments in reading order; the
    alignment may have picked the second.  Any earlier fragment since the previous anchor
    that reads as the same row takes its place.
    """
    where = {c: i for i, c in enumerate(text_cells)}
    out = dict(matches)
    prev = -1
    for j in sorted(matches):
        cell, trust = matches[j]
        name = variant.rows[j].name
        if name in classes:
            k = classes.index(name)
            earlier = [c for c in text_cells if prev < c < cell
                       and int(np.argmax(label_proba[where[c]])) == k and label_proba[where[c], k] >= 0.5]
            if earlier:
                out[j] = (earlier[0], trust)
        prev = out[j][0]
    return out


_ENUMERATED = re.compile(r"^\s*(?:\d+\s*[.、．]|[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+\s*[、.．])")


def label_stacks(cells: list[Cell], text_cells: list[int], alone: list[bool], leading: float = 0.2) -> list[list[int]]:
    """Text cells of a page stacked into labels: a line that is no label ``alone`` continues
    the label whose last line sits right above it, in the same column (other columns' text
    may come between, in reading order: a group heading printed in a band); an enumerated
    line starts its own.  ``leading``: the widest gap between a label's lines, in line
    heights (an OCR box takes the leading in; a text layer's em box does not)."""
    stacks: list[list[int]] = []
    for i, is_label in zip(text_cells, alone):
        c = cells[i]
        above = None
        if c.bbox is not None and not is_label and not _ENUMERATED.match(c.text):
            for stack in reversed(stacks[-4:]):
                last = cells[stack[-1]]
                if last.bbox is None or last.page != c.page:
                    continue
                (x0, y0, x1, y1), (u0, v0, u1, _) = last.bbox, c.bbox
                overlap = min(x1, u1) - max(x0, u0)
                height = y1 - y0
                if overlap > 0.5 * min(x1 - x0, u1 - u0) and -0.6 * height < v0 - y1 < leading * height:
                    above = stack
                    break
        if above is not None:
            above.append(i)
        else:
            stacks.append([i])
    return stacks


def make_runs(cells: list[Cell], kinds: list[Kind], variant: Variant,
              matches: dict[int, tuple[int, float]], headings: bool = True) -> list[Run]:
    """Cut the sequence at the anchors; rows whose label was not found join the run before them
    (group headings too, unless they took no part in the alignment)."""
    rows = variant.rows
    starts = sorted(matches)
    bounds = [j for j in starts]
    if not starts or starts[0] > 0:
        bounds.insert(0, None)  # rows before the first anchor: a run with no label
    runs = []
    for b, j in enumerate(bounds):
        first = 0 if j is None else j
        nxt = bounds[b + 1] if b + 1 < len(bounds) else None
        covered = [r for r in rows[first: nxt if nxt is not None else len(rows)] if headings or r.keys]
        if not any(r.keys for r in covered):
            continue
        pos, p = matches[j] if j is not None else (-1, 0.0)
        end = matches[nxt][0] if nxt is not None else len(cells)
        cand = [i for i in range(pos + 1, end) if kinds[i] != Kind.TEXT]
        runs.append(Run(None if j is None else pos, p, covered, cand, (pos + 1, end)))
    return runs


# --- pair features ------------------------------------------------------------------------

FEATURES = (
    "kind_number", "kind_zero", "kind_blank", "a", "v", "u", "au", "j", "n", "n_row", "j_in_row", "row_in_run",
    "rows_in_run", "d_v", "e_v", "d_u", "e_u", "v_minus_n", "u_minus_n", "row_off", "col_rel", "typ_dev",
    "src_row_vl", "src_rank", "src_rank_dev", "table", "anchor_p", "trailing_blank", "leading_blank",
    "gap_text", "prev_kind", "next_kind", "first_row_dev", "blanks", "doc_blank_share", "from_end", "x_dev",
)


def _typical_columns(cells: list[Cell], runs: list[Run]) -> dict[tuple[int, int, int], float]:
    """Per (table, columns in row, column): the source column values usually sit in."""
    seen: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for run in runs:
        if run.anchor is None or len(run.rows) != 1:
            continue
        arow = cells[run.anchor].row
        same = [i for i in run.cells if cells[i].row == arow]
        n = len(run.keys)
        if len(same) == n:
            t = _TABLES[run.rows[0].table]
            for j, i in enumerate(same):
                seen[(t, n, j)].append(cells[i].col)
    return {k: float(np.median(v)) for k, v in seen.items()}


def _centre(cell: Cell) -> float:
    return (cell.bbox[0] + cell.bbox[2]) / 2


def _column_positions(cells: list[Cell], runs: list[Run]) -> tuple[dict, dict]:
    """Where on the page each column of a table sits, from its complete rows.

    Geometry (PDF and scans only) knows what the cell order cannot: a scan prints
    no box for a blank cell, so the cells after it shift left in the order but
    stay under their own column.  Returns the x centre per (page, table, columns
    in row, column) and the column pitch per (page, table, columns in row).
    """
    seen: dict[tuple[int, int, int, int], list[float]] = defaultdict(list)
    boxes: dict[tuple[int, int, int], list[tuple[float, float]]] = defaultdict(list)
    for run in runs:
        if run.anchor is None or cells[run.anchor].bbox is None:
            continue
        by_line: dict[int, list[int]] = defaultdict(list)
        for i in run.cells:
            by_line[cells[i].row].append(i)
        t = _TABLES[run.rows[0].table]
        for row in run.rows:
            n = len(row.keys)
            for line in by_line.values():
                boxes[(cells[line[0]].page, t, n)] += [(cells[i].bbox[0], cells[i].bbox[2]) for i in line]
                if len(line) == n and n > 1:
                    for j, i in enumerate(line):
                        seen[(cells[i].page, t, n, j)].append(_centre(cells[i]))
    # No complete row (a report printing zeros as blanks): the column headings say where
    # the columns are, on this page or the one the table began on (moved as that page's
    # boxes show: no two pages of a scan lie alike under the scanner).
    partial: dict[tuple[int, int], dict[int, float]] = {}
    for t, n, columns in _headings_found(cells, runs):
        if 2 * len(columns) < n:
            partial[(t, n)] = columns  # too few to place the columns by; enough to refute a guess
            continue
        for page, tt, nn in list(boxes):
            if (tt, nn) == (t, n) and not any((page, t, n, j) in seen for j in range(n)):
                a, b = _page_shift(_stacks(boxes[(page, t, n)]), columns)
                for j, x in columns.items():
                    seen[(page, t, n, j)] = [a * x + b]
    # Nor any heading found: the columns are where the boxes
    # of all rows pile up.  As many stacks as columns: one each.  Fewer, in 表三 only: its
    # first and last columns (自然人 and 总计 are rarely all blank) set an even pitch, and
    # the stacks between must each fall on its own column of it.  Elsewhere (表二's short
    # rows, 表四's mostly zero outcomes) a blank first or last column is common: no guess.
    for (page, t, n), spans in boxes.items():
        if n < 2 or (page, t, n, 0) in seen:
            continue
        stacks = _stacks(spans)
        if len(stacks) == n:
            cols = list(range(n))
        elif len(stacks) >= 2 and t == _TABLES["requests"]:
            first, last = float(np.median(stacks[0])), float(np.median(stacks[-1]))
            at = [(float(np.median(xs)) - first) / (last - first) * (n - 1) for xs in stacks]
            cols = [round(a) for a in at]
            if any(abs(a - c) > 0.25 for a, c in zip(at, cols)) or len(set(cols)) < len(cols):
                continue
            step = (last - first) / (n - 1)  # a heading read elsewhere says 自然人 was blank after all
            if any(abs(first + j * step - x) > 0.5 * step for j, x in partial.get((t, n), {}).items()):
                continue
        else:
            continue
        for j, xs in zip(cols, stacks):
            seen[(page, t, n, j)] = xs
    centre = {k: float(np.median(v)) for k, v in seen.items()}
    # a column whose heading was not read (or ran into its neighbour's) lies between the
    # columns found on either side, at their pitch: unplaced, its blanks-shifted values
    # would go by order alone, to any column the geometry does not rule out
    for page, t, n in {k[:3] for k in centre}:
        known = [j for j in range(n) if (page, t, n, j) in centre]
        for j in range(n):
            lo = max((k for k in known if k < j), default=None)
            hi = min((k for k in known if k > j), default=None)
            if j not in known and lo is not None and hi is not None:
                a, b = centre[(page, t, n, lo)], centre[(page, t, n, hi)]
                centre[(page, t, n, j)] = a + (b - a) * (j - lo) / (hi - lo)
    pitch: dict[tuple[int, int, int], list[float]] = defaultdict(list)
    for (page, t, n, j), x in centre.items():
        nxt = min((k for k in range(j + 1, n) if (page, t, n, k) in centre), default=None)
        if nxt is not None:
            pitch[(page, t, n)].append((centre[(page, t, n, nxt)] - x) / (nxt - j))
    return centre, {k: float(np.median(v)) for k, v in pitch.items() if np.median(v) > 0}


def cut_merged(cells: list[Cell], parse: Parse) -> list[Cell]:
    """The cells with every number box that spans two or more columns of its table cut at
    the columns' boundaries, each piece taking its share of the box by digit count: the
    OCR reads neighbouring numbers of narrow columns as one box where no rule parts them
    (``13401461`` over 尚未审结 and 总计).  The same list when no box does."""
    centre, pitch = parse.columns
    cuts: dict[int, list[Cell]] = {}
    for run in parse.runs:
        widths = {len(row.keys) for row in run.rows if row.keys}
        if len(widths) != 1:
            continue
        n, t = widths.pop(), _TABLES[run.rows[0].table]
        for i in run.cells:
            c = cells[i]
            if c.bbox is None or (c.page, t, n) not in pitch:
                continue
            margin = _CUT_MARGIN * pitch[(c.page, t, n)]
            xs = [centre[(c.page, t, n, j)] for j in range(n) if (c.page, t, n, j) in centre]
            inside = [x for x in xs if c.bbox[0] + margin < x < c.bbox[2] - margin]
            if len(inside) >= 2 and (pieces := _pieces_at(c, [(a + b) / 2 for a, b in zip(inside, inside[1:])])):
                cuts[i] = pieces
    if not cuts:
        return cells
    out, shift = [], {}
    for i, c in enumerate(cells):
        extra = shift.get((c.page, c.row), 0)
        for k, piece in enumerate(cuts.get(i, [c])):
            out.append(replace(piece, col=c.col + extra + k))
        shift[(c.page, c.row)] = extra + len(cuts.get(i, [c])) - 1
    return out


# how far inside a box a column's centre must lie for the box to reach over that column (in pitches)
_CUT_MARGIN = 0.1


def _pieces_at(cell: Cell, bounds: list[float]) -> list[Cell] | None:
    """The number box cut at each x of ``bounds`` (its digits evenly spread over its width),
    with the OCR's readings of the same length cut alike; None unless every piece is a number."""
    text = normalize(cell.text)
    if not text.isdigit():
        return None
    x0, y0, x1, y1 = cell.bbox
    per = (x1 - x0) / len(text)
    at = [sum(x0 + (d + 0.5) * per < b for d in range(len(text))) for b in bounds]
    edges = [0, *at, len(text)]
    parts = [text[a:b] for a, b in zip(edges, edges[1:])]
    if any(not p or (len(p) > 1 and p[0] == "0") for p in parts):
        return None
    out = []
    for k, (a, b) in enumerate(zip(edges, edges[1:])):
        readings: dict[str, float] = {}
        for t, p in cell.candidates:
            if len(t) == len(text):
                readings[t[a:b]] = readings.get(t[a:b], 0.0) + p
        out.append(replace(cell, text=parts[k], bbox=(x0 + a * per, y0, x0 + b * per, y1),
                           candidates=tuple(sorted(readings.items(), key=lambda kv: -kv[1])) or ((parts[k], 1.0),)))
    return out


def _page_shift(stacks: list[list[float]], columns: dict[int, float]) -> tuple[float, float]:
    """(a, b) such that a box under column x sits near a * x + b on this page: the shift
    that brings most stacks of boxes within a fifth of a pitch of a column, then scale and
    shift fitted to those (scale only when they span most of the table)."""
    xs = sorted(columns.values())
    if len(xs) < 2 or not stacks:
        return 1.0, 0.0
    pitch = (xs[-1] - xs[0]) / max(1, max(columns) - min(columns))
    centres = [float(np.median(st)) for st in stacks]

    def matched(a: float, b: float) -> list[tuple[float, float]]:
        pairs = [(min(xs, key=lambda x: abs(a * x + b - c)), c) for c in centres]
        return [(x, c) for x, c in pairs if abs(a * x + b - c) < 0.2 * pitch]

    shifts = [c - x for c in centres for x in xs if abs(c - x) < 0.5 * pitch]
    if not shifts:
        return 1.0, 0.0
    b = max(shifts, key=lambda b: (len(matched(1.0, b)), -abs(b)))
    pairs = matched(1.0, b)
    if len({x for x, _ in pairs}) >= 2 and max(x for x, _ in pairs) - min(x for x, _ in pairs) > 0.5 * (xs[-1] - xs[0]):
        a, b = np.polyfit([x for x, _ in pairs], [c for _, c in pairs], 1)
        if abs(a - 1) < 0.1 and len(matched(a, b)) >= len(pairs):
            return float(a), float(b)
    return 1.0, b if pairs else 0.0


# the column headings of 表三 and 表四, in page order
_HEADINGS = {"requests": APPLICANT_LABELS, "review_litigation": OUTCOME_LABELS * 3}


def _headings_found(cells: list[Cell], runs: list[Run]) -> list[tuple[int, int, dict[int, float]]]:
    """(table, columns, x centre per column found) for every table's column headings on the
    page: 表三's and 表四's above their first value; the heading row 表二 prints over each of
    its sub-tables (本年制发件数 | 本年废止件数 | 现行有效件数) anywhere before 表三.
    Sub-tables with as many columns share positions: the first found, in table order.
    Tables with fewer than half their headings read have those few."""
    out = [(_TABLES[table], len(labels), _heading_columns(cells, runs, table, labels))
           for table, labels in _HEADINGS.items()]
    end = min((r.cells[0] for r in runs if r.rows[0].table == "requests" and r.cells), default=len(cells))
    for labels in dict.fromkeys(row.headers for run in runs for row in run.rows
                                if row.table == "proactive" and len(row.headers) == len(row.keys) > 1):
        out.append((_TABLES["proactive"], len(labels), _heading_columns(cells, runs, "proactive", labels, (0, end))))
    return out


def _heading_columns(cells: list[Cell], runs: list[Run], table: str, labels: tuple[str, ...],
                     region: tuple[int, int] | None = None) -> dict[int, float]:
    """The x centre of each column of ``table`` whose heading is found between the previous
    table's last value and this table's first, in page order: each heading cell is the next
    label it begins (a heading wrapped in a narrow column shows its first characters; 表四's
    repeat for each of its three groups); headings stacked a character a line are not found
    at all.  表四's come from ``_outcome_grid`` when it is sure of them."""
    own = [r for r in runs if r.rows[0].table == table and r.cells]
    if not own:
        return {}
    first = min(r.cells[0] for r in own)
    before = 1 + max((i for r in runs if r.rows[0].table != table for i in r.cells if i < first), default=-1)
    before, first = region or (before, first)
    heads = [piece for c in cells[before:first] if c.bbox is not None and kind_of(c.text) == Kind.TEXT
             and 2 <= len(normalize(c.text)) <= 8 for piece in _split_heading(c, labels)]
    if table == "review_litigation" and region is None and cells[first].bbox is not None:
        # 表四's fifteen narrow headings are often read as nothing or as junk, set a
        # character a line, and repeat for each group; but their boxes still stand over
        # their columns, and the values under them
        page = cells[first].page
        over = [c for c in cells[before:first] if c.page == page and c.bbox is not None
                and kind_of(c.text) == Kind.TEXT and len(normalize(c.text)) <= 8]
        values = [cells[i] for r in own for i in r.cells if cells[i].page == page and cells[i].bbox is not None]
        if grid := _outcome_grid(over, values, _text_width(cells)):
            return grid
    return _match_headings(heads, labels)


def _text_width(cells: list[Cell]) -> float:
    """The width of the report's text block: the widest spread of boxes on any page."""
    spread: dict[int, list[float]] = {}
    for c in cells:
        if c.bbox is not None:
            lo, hi = spread.setdefault(c.page, [math.inf, -math.inf])
            spread[c.page] = [min(lo, c.bbox[0]), max(hi, c.bbox[2])]
    return max((hi - lo for lo, hi in spread.values()), default=0.0)


def _match_headings(heads: list[Cell], labels: tuple[str, ...]) -> dict[int, float]:
    """Each heading stack, left to right, is the next label it begins: column -> x centre."""
    found: dict[int, float] = {}
    k = 0
    for x, text in _heading_stacks(heads):
        nxt = next((j for j in range(k, min(k + 5, len(labels))) if labels[j].startswith(text)), None)
        if nxt is not None:
            found[nxt] = x
            k = nxt + 1
    return found


def _split_heading(cell: Cell, labels: tuple[str, ...]) -> list[Cell]:
    """A heading cell that is neighbouring columns' pieces run together (``审结总计``,
    ``商业科研社会法律``: narrow columns set close) as those pieces, each over its share of the box."""
    text = normalize(cell.text)
    cuts = _pieces(text, labels)
    if len(cuts) < 3:
        return [cell]
    x0, y0, x1, y1 = cell.bbox
    at = [x0 + (x1 - x0) * c / len(text) for c in cuts]
    return [replace(cell, text=text[a:b], bbox=(at[k], y0, at[k + 1], y1)) for k, (a, b) in enumerate(zip(cuts, cuts[1:]))]


def _pieces(text: str, labels: tuple[str, ...]) -> list[int]:
    """Where to cut ``text`` into pieces of two or more characters that each stand in some
    label, the longest last piece first: the cut positions, 0 and len(text) included ([] when
    it cannot be cut)."""
    if any(text in label for label in labels):
        return [0, len(text)]
    for i in range(len(text) - 2, 1, -1):
        if any(text[i:] in label for label in labels) and (head := _pieces(text[:i], labels)):
            return [*head, len(text)]
    return []


# 表四's column headings over its three groups: a group heading's centre is its middle column
_GROUP_HEADINGS = (("复议后", 12), ("直接起诉", 7), ("未经复议", 7), ("行政复议", 2))
_PITCH_SPREAD = 0.15  # how far a table's column pitch strays from a fifteenth of the text block
_COLUMN_SPREAD = 0.12  # how far one column's width strays from the pitch
_SAME_COLUMN = 0.15  # how far two boxes of one column stray from each other, in pitches
_WRONG_LABEL = 6.0  # a heading read as another column's label: unlikely, not impossible
_SURE = 4.0  # a value's column is taken when every other column costs this much more
_MISFIT = 9.0  # three spreads off: a box where no column is


def _outcome_grid(heads: list[Cell], values: list[Cell], width: float, n: int = 15) -> dict[int, float]:
    """表四's columns from everything over and in them, by the most probable alignment of
    boxes to columns: left to right in column order; neighbours a whole number of pitches
    apart, give or take one column's jitter; a heading read as a label only under a column
    of that label (``结果`` over 结果维持 or 结果纠正; junk anywhere); a group heading over
    its group's middle column; the pitch near a fifteenth of the text block, unless the
    boxes say the table is narrower.  A number box wider than a column is the numbers of
    as many columns as it spans, run together (``4713`` for 47 and 13): as many values, a
    pitch apart.  Nothing is placed unless every value's column is clear (each other column
    costs ``_SURE`` more) and every value sits where its column says (no step beside it
    past ``_MISFIT``)."""
    pitch = width / n
    if not values or pitch <= 0:
        return {}
    heading_points = []  # (x, cost per column, line of a value or None, box of a value or None)
    for c in (piece for h in heads for piece in _split_heading(h, OUTCOME_LABELS)):
        text = normalize(c.text)
        group = next((col for key, col in _GROUP_HEADINGS if key in text), None)
        if group is not None:
            heading_points.append((_centre(c), np.where(np.arange(n) == group, 0.0, np.inf), None, None))
        elif c.bbox[2] - c.bbox[0] <= 1.5 * pitch:  # wider: several columns' headings read as one box
            labelled = [j for j in range(n) if OUTCOME_LABELS[j % 5].startswith(text) or text.startswith(OUTCOME_LABELS[j % 5])]
            heading_points.append((_centre(c), np.where(np.isin(np.arange(n), labelled) | (not labelled), 0.0, _WRONG_LABEL),
                                   None, None))
    one = float(np.median([c.bbox[2] - c.bbox[0] for c in values]))  # how wide one number prints
    best, overall = None, None
    for p in pitch * np.arange(0.35, 1.3, 0.01):
        value_points = _value_points(values, p, one, n)
        points = sorted(_over_columns(heading_points, value_points, p) + value_points, key=lambda q: q[0])
        steps = _alignment_steps(points, p, n)
        fwd = [points[0][1] + ((p / pitch - 1) / _PITCH_SPREAD) ** 2]
        for (_, cost, _, _), t in zip(points[1:], steps):
            fwd.append((fwd[-1][:, None] + t).min(axis=0) + cost)
        bwd = [np.zeros(n)]
        for (_, cost, _, _), t in zip(reversed(points[1:]), reversed(steps)):
            bwd.append((t + (cost + bwd[-1])[None, :]).min(axis=1))
        marginal = np.array(fwd) + np.array(bwd[::-1])  # the best alignment with point k at column j
        # each value box by its first point: its column under this pitch
        first = {}
        for k, q in enumerate(points):
            if q[3] is not None:
                first.setdefault(q[3], k)
        per_box = np.array([marginal[first[b]] for b in range(len(values))])
        if best is None or marginal[0].min() < best[0]:
            best = (marginal[0].min(), p, marginal.argmin(axis=1), steps, points)
        overall = per_box if overall is None else np.minimum(overall, per_box)
    _, p, at, steps, points = best
    seen = set()
    for k, (_, _, _, box) in enumerate(points):
        if box is None or box in seen:
            continue
        seen.add(box)
        m = np.sort(overall[box])
        beside = [steps[i][at[i], at[i + 1]] for i in (k - 1, k) if 0 <= i < len(steps)]
        if not np.isfinite(m[0]) or m[1] - m[0] < _SURE or max(beside, default=0.0) > _MISFIT:
            return {}
    placed: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    spanning = {b for b in range(len(values)) if sum(q[3] == b for q in points) > 1}
    for (x, cost, line, box), j in zip(points, at):
        # a group heading is over a group, not a column; a box over several columns is at none
        if np.isfinite(cost).sum() > 1 and box not in spanning:
            placed[int(j)][line is None].append(x)
    # where the values of a column sit says best where it is
    centre = {j: float(np.mean(under or over)) for j, (under, over) in placed.items()}
    known = sorted(centre)
    out = {}
    for j in range(n):
        lo = max((k for k in known if k <= j), default=None)
        hi = min((k for k in known if k >= j), default=None)
        if lo is not None and hi is not None and lo != hi:
            out[j] = centre[lo] + (centre[hi] - centre[lo]) * (j - lo) / (hi - lo)
        else:
            k = lo if lo is not None else hi
            out[j] = centre[k] + (j - k) * p
    return out


def _over_columns(heads: list[tuple], values: list[tuple], p: float) -> list[tuple]:
    """The heading points that may stand over a column: not one between two neighbouring values
    of a line (no blank column between them) and over neither (a heading over two columns read
    as one box, or junk).  Such a point would part the two values in the alignment's chain, and
    they could then share a column."""
    lines: dict = defaultdict(list)
    for x, _, line, _ in values:
        lines[line].append(x)
    gaps = [(a, b) for xs in lines.values() for a, b in zip(sorted(xs), sorted(xs)[1:]) if b - a < 1.5 * p]
    return [h for h in heads if not any(a + 2 * _SAME_COLUMN * p < h[0] < b - 2 * _SAME_COLUMN * p for a, b in gaps)]


def _value_points(values: list[Cell], p: float, one: float, n: int) -> list[tuple]:
    """The alignment's points for the value boxes at pitch ``p``: one per box, or, for a number
    box wider than a column by whole pitches, one per column it spans, a pitch apart."""
    out = []
    for b, c in enumerate(values):
        text = normalize(c.text)
        span = max(1, min(len(text), round((c.bbox[2] - c.bbox[0] - one) / p) + 1)) if text.isdigit() else 1
        for k in range(span):
            out.append((_centre(c) + (k - (span - 1) / 2) * p, np.zeros(n), c.row, b))
    return out


def _alignment_steps(points: list, p: float, n: int) -> list[np.ndarray]:
    """The cost of each next point at column j' after this one at column j, at pitch ``p``."""
    gap = np.arange(n)[None, :] - np.arange(n)[:, None]
    steps = []
    for (xa, _, la, *_), (xb, _, lb, *_) in zip(points, points[1:]):
        d = (xb - xa) / p
        t = np.where(gap > 0, (d - gap) ** 2 / (_COLUMN_SPREAD ** 2 * np.maximum(gap, 1)), (d / _SAME_COLUMN) ** 2)
        t[gap < 0] = np.inf
        if la is not None and la == lb:
            t[gap == 0] = np.inf  # two values of one line: two columns
        steps.append(t)
    return steps


def _heading_stacks(heads: list[Cell]) -> list[tuple[float, str]]:
    """Heading cells left to right, the short pieces of one heading wrapped in a narrow column
    (``结果`` over ``维持``) joined top to bottom; a heading over several columns stands alone."""
    if not heads:
        return []
    tol = 0.8 * float(np.median([c.bbox[3] - c.bbox[1] for c in heads]))
    stacks: list[list[Cell]] = []
    for c in sorted((c for c in heads if len(normalize(c.text)) <= 3), key=_centre):
        if stacks and _centre(c) - _centre(stacks[-1][-1]) < tol:
            stacks[-1].append(c)
        else:
            stacks.append([c])
    stacks += [[c] for c in heads if len(normalize(c.text)) > 3]
    out = [(float(np.mean([_centre(c) for c in st])), "".join(normalize(c.text) for c in sorted(st, key=lambda c: c.bbox[1])))
           for st in stacks]
    return sorted(out)


def _stacks(spans: list[tuple[float, float]]) -> list[list[float]]:
    """Horizontal spans merged where they overlap: the centres of each stack."""
    stacks: list[list[float]] = []
    right = -math.inf
    for x0, x1 in sorted(set(spans)):
        if x0 > right:
            stacks.append([])
        stacks[-1].append((x0 + x1) / 2)
        right = max(right, x1)
    return stacks


def pair_features(cells: list[Cell], kinds: list[Kind], runs: list[Run],
                  columns: tuple[dict, dict] | None = None) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """One feature row per (run, candidate position, column); ``columns``: the runs' column
    positions when already found."""
    typical = _typical_columns(cells, runs)
    centre, pitch = columns or _column_positions(cells, runs)
    nan = math.nan
    # how this report prints zero: mostly blanks, or blanks only as layout filler
    value_like = [k for k in kinds if k != Kind.TEXT]
    blank_share = sum(k == Kind.BLANK for k in value_like) / max(len(value_like), 1)
    rows, index = [], []
    for r_i, run in enumerate(runs):
        cand = run.cells
        v = len(cand)
        if not v:
            continue
        filled = [i for i in cand if kinds[i] != Kind.BLANK]
        u = len(filled)
        urank = {i: a for a, i in enumerate(filled)}
        last_filled = filled[-1] if filled else -1
        first_filled = filled[0] if filled else 10**9
        cols = [(row_i, j_in_row, len(row.keys), _TABLES[row.table])
                for row_i, row in enumerate(run.rows) for j_in_row in range(len(row.keys))]
        n = len(cols)
        arow = cells[run.anchor].row if run.anchor is not None else None
        acol = cells[run.anchor].col if run.anchor is not None else None
        by_src: dict[int, list[int]] = defaultdict(list)
        for i in cand:
            by_src[cells[i].row].append(i)
        first_src = cells[cand[0]].row
        prev_vl = run.span[0]
        for a, i in enumerate(cand):
            c, k = cells[i], kinds[i]
            au = urank.get(i, nan)
            gap = sum(1 for x in range(prev_vl, i) if kinds[x] == Kind.TEXT)
            prev_vl = i + 1
            src = by_src[c.row]
            srank = src.index(i)
            base = [
                k == Kind.NUMBER, k == Kind.ZERO, k == Kind.BLANK, a, v, u, au,
            ]
            for j, (row_i, j_in_row, n_row, table) in enumerate(cols):
                tcol = typical.get((table, n_row, j_in_row))
                tx, step = centre.get((c.page, table, n_row, j_in_row)), pitch.get((c.page, table, n_row))
                x_dev = (_centre(c) - tx) / step if c.bbox is not None and tx is not None and step else nan
                rows.append(base + [
                    j, n, n_row, j_in_row, row_i, len(run.rows),
                    a - j, (v - 1 - a) - (n - 1 - j), au - j, (u - 1 - au) - (n - 1 - j), v - n, u - n,
                    min(c.row - arow, 10) if arow is not None else nan,
                    c.col - acol if arow is not None and c.row == arow else nan,
                    c.col - tcol if tcol is not None else nan,
                    len(src), srank, srank - j_in_row, table, run.anchor_p if run.anchor is not None else nan,
                    k == Kind.BLANK and i > last_filled, k == Kind.BLANK and i < first_filled,
                    min(gap, 10), kinds[i - 1] if i > 0 else -1, kinds[i + 1] if i + 1 < len(kinds) else -1,
                    c.row - first_src, v - u, blank_share, (len(src) - 1 - srank) - (n_row - 1 - j_in_row),
                    x_dev,
                ])
                index.append((r_i, a, j))
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES)), index


# --- assignment over a run ----------------------------------------------------------------

def column_marginals(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward-backward over monotone partial assignments of v cells to n columns.

    ``logits[a, j]`` is the log-odds that cell a fills column j.  Returns
    (P[a, j] that cell a fills column j, P[j] that column j stays empty).
    """
    v, n = logits.shape
    w = np.exp(np.clip(logits, -_CLIP, _CLIP))
    e = math.exp(_EMPTY_LOGIT)
    # alpha[j][p]: weight of columns < j placed with every used cell < p (p = next free cell)
    alpha = np.zeros((n + 1, v + 1))
    alpha[0, 0] = 1.0
    scale = np.ones(n + 1)
    for j in range(n):
        pre = np.cumsum(alpha[j])  # pre[i] = sum of alpha[j][p] for p <= i
        nxt = alpha[j] * e
        nxt[1:] += w[:, j] * pre[:-1]
        s = nxt.sum()
        scale[j + 1] = s
        alpha[j + 1] = nxt / s
    beta = np.zeros((n + 1, v + 1))
    beta[n, :] = 1.0
    for j in range(n - 1, -1, -1):
        # beta[j][p] = e*beta[j+1][p] + sum_{i>=p} w[i,j] beta[j+1][i+1]
        tail = np.zeros(v + 1)
        contrib = w[:, j] * beta[j + 1, 1:]
        tail[:v] = np.cumsum(contrib[::-1])[::-1]
        beta[j] = (e * beta[j + 1] + tail) / scale[j + 1]
    pair = np.zeros((v, n))
    empty = np.zeros(n)
    for j in range(n):
        pre = np.cumsum(alpha[j])
        pair[:, j] = pre[:-1] * w[:, j] * beta[j + 1, 1:] / scale[j + 1]
        empty[j] = (alpha[j] * e * beta[j + 1]).sum() / scale[j + 1]
    z = pair.sum(axis=0) + empty
    return pair / z, empty / z


def _all_zero_groups(runs: list[Run], doubtful: list[bool], cells: list[Cell]) -> set[int]:
    """Doubtful runs whose placement cannot change a value: where a stretch of adjacent doubtful
    runs of one table has a cell for every key and every cell reads 0, every key in it is 0
    whichever row a cell takes; so it is where the stretch holds no cell at all (zeros printed
    as blanks), in a table whose identities would see a number the scan lost (表三, 表四).
    (Page runs: a run with a lost label is grouped with the run before it, where its values
    may sit.)"""
    settled, group = set(), []
    for r in range(len(runs) + 1):
        joins = r < len(runs) and doubtful[r] and (not group or runs[group[-1]].rows[0].table == runs[r].rows[0].table)
        if joins:
            group.append(r)
            continue
        held = [i for g in group for i in runs[g].cells]
        zeros = len(held) >= sum(len(runs[g].keys) for g in group) and all(parse_number(cells[i].text) == 0 for i in held)
        if group and (zeros or not held and runs[group[0]].rows[0].table != "proactive"):
            settled |= set(group)
        group = [r] if r < len(runs) and doubtful[r] else []
    return settled


_NUMBERISH = re.compile(r"^[^\u4e00-\u9fff]{0,2}\d[^\u4e00-\u9fff]{0,6}$")


def _rows_by_lines(run: Run, decided: list[Assignment], cells: list[Cell]) -> bool:
    """A run holding rows whose labels were lost, whose cells still say which row is which:
    every row printed a line of its own, the first on its label's line, and each row's
    cells were decided from its own line.  Rows of one table only: between two tables a
    page prints headings, and a table whose every label was lost is not told by order."""
    rows = [row for row in run.rows if row.keys]
    if run.anchor is None or len(rows) < 2 or not run.cells or cells[run.anchor].bbox is None \
            or len({row.table for row in rows}) > 1:
        return False
    lines = sorted({cells[i].row for i in run.cells})
    if len(lines) != len(rows) or lines[0] != cells[run.anchor].row:
        return False
    line_of = {row.name: line for row, line in zip(rows, lines)}
    key_row = {k: row.name for row in rows for k in row.keys}
    return all(a.cell is None or cells[a.cell].row == line_of[key_row[a.key]] for a in decided)


def _unplaced(run: Run, decided: list[Assignment], cells: list[Cell], kinds: list[Kind]) -> bool:
    """A number among the row's values that no column took (``.20`` for ``-20``, a ``1`` the
    columns could not place): on a page that prints zeros as blanks, its column reads 0."""
    taken = {a.cell for a in decided}
    label = cells[run.anchor].bbox if run.anchor is not None else None
    for i in range(*run.span):
        t, box = normalize(cells[i].text), cells[i].bbox
        if i in taken or t.endswith((".", "、")) or not _NUMBERISH.match(t):
            continue
        if label and box and box[2] <= label[2] + 0.5 * (box[3] - box[1]):
            continue  # in the label's own column: a piece of the label (“三安全一稳定”'s quotes read as 99)
        if kinds[i] == Kind.TEXT or parse_number(t) not in (0, None):
            return True
    return False


def marks(parse: Parse, cells: list[Cell]) -> dict[str, int]:
    """The blank keys of a page under whose column a short text box stands on the row's line:
    a zero mark the recogniser read as letters (``—`` as ``m``), or a number it read as a
    character (``4`` as ``在``).  Key -> that box.  Only where the row's numbers lie on one
    line and the box within a few tenths of a pitch of the column's centre."""
    centre, pitch = parse.columns
    by_key = {a.key: a for a in parse.assignments}
    out = {}
    for run in parse.runs:
        short = [i for i in range(*run.span) if cells[i].bbox is not None and kind_of(cells[i].text) == Kind.TEXT
                 and len(normalize(cells[i].text)) <= 2]
        for row in run.rows:
            lines = {(cells[by_key[k].cell].page, cells[by_key[k].cell].row) for k in row.keys
                     if by_key[k].cell is not None}
            if len(lines) != 1:
                continue
            (page, line), = lines
            n, t = len(row.keys), _TABLES[row.table]
            p = pitch.get((page, t, n))
            for j, k in enumerate(row.keys):
                x = centre.get((page, t, n, j))
                if by_key[k].cell is not None or x is None or p is None:
                    continue
                under = [i for i in short if (cells[i].page, cells[i].row) == (page, line)
                         and abs(_centre(cells[i]) - x) < 2 * _SAME_COLUMN * p]
                if len(under) == 1:
                    out[k] = under[0]
    return out


# --- the whole classifier -----------------------------------------------------------------

class StructureModel:
    """Cell sequence -> canonical assignments with calibrated confidences."""

    def __init__(self, threshold: float = 0.9, threshold_unchecked: float = 0.99, strong: float = 0.999,
                 geometric: bool = False, calibration: str = "sigmoid"):
        self.geometric = geometric  # uses the cells' page positions (a text-like input has none)
        self.calibration = calibration  # sigmoid | isotonic
        self.threshold = threshold  # for cells an arithmetic identity checks
        self.threshold_unchecked = threshold_unchecked  # for cells none does (表二)
        self.temperature = 1.0  # pair logits are divided by it, so rival assignments keep their share
        self.strong = strong  # confidence above which a cell in a broken identity is trusted over the identity
        self.labels = LabelModel()
        self.values = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, max_leaf_nodes=31,
                                                     l2_regularization=1.0, random_state=0)
        self.calibrator: dict[str, LogisticRegression | IsotonicRegression | None] | None = None

    # training ------------------------------------------------------------------------------

    def fit_labels(self, texts: list[str], labels: list[str]) -> StructureModel:
        self.labels.fit(texts, labels)
        return self

    def fit_values(self, sequences: list[list[Cell]], keys: list[list[str | None]],
                   variants: list[Variant]) -> StructureModel:
        X, y = [], []
        for cells, cell_keys, variant in zip(sequences, keys, variants):
            kinds = [kind_of(c.text) for c in cells]
            runs = self._runs(cells, kinds, [variant])[1]
            feats, index = self._pair_features(cells, kinds, runs)
            X.append(feats)
            y.extend(cell_keys[runs[r].cells[a]] == runs[r].keys[j] for r, a, j in index)
        self.values.fit(np.vstack(X), np.asarray(y, dtype=int))
        return self

    def _pair_features(self, cells: list[Cell], kinds: list[Kind], runs: list[Run],
                       columns: tuple[dict, dict] | None = None) -> tuple[np.ndarray, list]:
        feats, index = pair_features(cells, kinds, runs, columns)
        return (feats if self.geometric else np.delete(feats, FEATURES.index("x_dev"), axis=1)), index

    def fit_calibration(self, keys: list[str], raw: list[float], correct: list[bool]) -> StructureModel:
        """One calibrator per table: 表二's cells go wrong in other ways than 表三's and 表四's."""
        self.calibrator = {}
        for table in _TABLES:
            pick = [i for i, k in enumerate(keys) if k.startswith(table + ".")]
            x = _logit(np.asarray([raw[i] for i in pick])).reshape(-1, 1)
            y = np.asarray([correct[i] for i in pick], int)
            if not 0 < y.sum() < len(y):
                self.calibrator[table] = None
            elif self.calibration == "isotonic":
                # no cell is certain: the best block's accuracy, at most 1 - 1e-4
                self.calibrator[table] = IsotonicRegression(y_min=0.0, y_max=1 - 1e-4, out_of_bounds="clip").fit(x[:, 0], y)
            else:
                self.calibrator[table] = LogisticRegression(C=100.0).fit(x, y)
        self.strong = self.calibrate("requests.total.total", 0.999)
        return self

    # prediction ----------------------------------------------------------------------------

    def _runs(self, cells: list[Cell], kinds: list[Kind],
              variants: list[Variant]) -> tuple[Variant, list[Run], dict, Rival | None]:
        text_cells = [i for i, k in enumerate(kinds) if k == Kind.TEXT]
        proba = self.labels.predict_proba([cells[i].text for i in text_cells])
        if self.geometric:
            proba = self._stacked_labels(cells, text_cells, proba)
        scored = []
        for variant in variants:
            score, matches = align_anchors(proba, self.labels.classes_, text_cells, variant)
            # a template row with values but no label found costs as much as the match bias buys
            scored.append((score - _MATCH_BIAS * sum(1 for r in variant.rows if r.keys), variant, matches))
        scored.sort(key=lambda s: -s[0])
        best, variant, matches = scored[0]
        rival = Rival(scored[1][1], best - scored[1][0]) if len(scored) > 1 else None
        if self.geometric:
            # a group heading is evidence of its variant, but on a page no anchor
            _, matches = align_anchors(proba, self.labels.classes_, text_cells, variant, headings=False)
            matches = first_fragments(matches, proba, self.labels.classes_, text_cells, variant)
        anchors = {variant.rows[j].name: cell for j, (cell, _) in matches.items()}
        return variant, make_runs(cells, kinds, variant, matches, not self.geometric), anchors, rival

    def predict(self, cells: list[Cell], layout: str | None = None) -> Parse:
        """Assign the cells; ``layout`` ("2019"/"2021") when known, else read from the table headings."""
        kinds = [kind_of(c.text) for c in cells]
        layout = layout or layout_of(cells)
        variants = [v for v in VARIANTS if layout in (None, v.layout)] or list(VARIANTS)
        variant, runs, anchors, rival = self._runs(cells, kinds, variants)
        columns = _column_positions(cells, runs)
        feats, index = self._pair_features(cells, kinds, runs, columns)
        proba = self.values.predict_proba(feats)[:, 1] if len(feats) else np.zeros(0)
        logit = (np.log(np.clip(proba, 1e-7, 1)) - np.log(np.clip(1 - proba, 1e-7, 1))) / self.temperature
        per_run: dict[int, np.ndarray] = {}
        for (r, a, j), lg in zip(index, logit):
            m = per_run.get(r)
            if m is None:
                m = per_run[r] = np.full((len(runs[r].cells), len(runs[r].keys)), -_CLIP)
            m[a, j] = lg
        # A value is only as sure as the label that placed its row; when a run also holds rows whose
        # label was not found, none of its cells is sure (the split between the rows is a guess).
        # (an anchor on a group heading with no values of its own, （六）其他处理, labels none of the rows after it)
        whole = [run.anchor is not None and bool(run.rows[0].keys) and sum(1 for row in run.rows if row.keys) == 1
                 for run in runs]
        decided = []
        for r, run in enumerate(runs):
            if r in per_run:
                pair, empty = column_marginals(per_run[r])
            else:
                pair, empty = np.zeros((0, len(run.keys))), np.ones(len(run.keys))
            decided.append([self._decide(key, run, pair[:, j], float(empty[j]), cells, run.anchor_p if whole[r] else 1.0)
                            for j, key in enumerate(run.keys)])
        # on a page, rows whose labels were lost are told apart when each printed a line of its own
        known = [whole[r] or self.geometric and _rows_by_lines(run, decided[r], cells) for r, run in enumerate(runs)]
        # On a page the values beside a lost label may sit in the run before it, where they add up
        # as well as in their own row: that run is as unsure.
        before_lost = {r - 1 for r in range(1, len(runs)) if self.geometric and not known[r]
                       and runs[r - 1].rows[0].table == runs[r].rows[0].table}
        settled = _all_zero_groups(runs, [not known[r] or r in before_lost for r in range(len(runs))], cells) \
            if self.geometric else set()
        assignments = []
        for r, run in enumerate(runs):
            doubt = ("unlabelled" if (not known[r] or r in before_lost) and r not in settled else
                     "ambiguous_line" if shift_ambiguous(run, cells, kinds) else
                     "unplaced" if self.geometric and _unplaced(run, decided[r], cells, kinds) else None)
            assignments.extend(replace(a, doubt=doubt) for a in decided[r])
        done = {a.key for a in assignments}
        for key in variant.keys:  # rows whose run could not be formed at all
            if key not in done:
                assignments.append(Assignment(key, None, 0, 0.0))
        order = {k: i for i, k in enumerate(variant.keys)}
        assignments.sort(key=lambda a: order[a.key])
        return Parse(variant, assignments, runs, anchors, columns, rival)

    def _stacked_labels(self, cells: list[Cell], text_cells: list[int], proba: np.ndarray) -> np.ndarray:
        """On a page, a label wrapped over lines is read as one: its first line scores the whole
        text (``1.申请人无正当理由`` alone reads as nothing), the lines after it as no label."""
        where = {c: n for n, c in enumerate(text_cells)}
        none = list(self.labels.classes_).index("none")
        alone = list(np.argmax(proba, axis=1) != none)
        stacks = [s for s in label_stacks(cells, text_cells, alone, 0.2 if is_scanned(cells) else 0.6) if len(s) > 1]
        if not stacks:
            return proba
        proba = proba.copy()
        joined = self.labels.predict_proba(["".join(cells[i].text for i in s) for s in stacks])
        nothing = np.zeros(proba.shape[1])
        nothing[none] = 1.0
        for stack, p in zip(stacks, joined):
            proba[where[stack[0]]] = p
            for i in stack[1:]:
                proba[where[i]] = nothing
        return proba

    def _decide(self, key: str, run: Run, pair: np.ndarray, empty: float, cells: list[Cell], trust: float) -> Assignment:
        dist: dict[Number | None, float] = defaultdict(float)
        best_cell: dict[Number | None, tuple[float, int]] = {}
        for a, p in enumerate(pair):
            i = run.cells[a]
            val = parse_number(cells[i].text)
            dist[val] += p
            if p > best_cell.get(val, (-1.0, -1))[0]:
                best_cell[val] = (p, i)
        # On a page a column with no box is a blank cell, and a blank prints 0; in a text
        # sequence blanks are cells of their own, so no cell means the value was not found.
        dist[0 if self.geometric else None] += empty
        ranked = sorted(dist.items(), key=lambda kv: -kv[1])
        value, raw = ranked[0]
        alternatives = tuple((v, round(p, 4)) for v, p in ranked[:4])
        if value is None:
            return Assignment(key, None, 0, 0.0, alternatives)
        blank = value not in best_cell or (value == 0 and self.geometric and best_cell[0][0] < empty)
        cell = None if blank else best_cell[value][1]
        return Assignment(key, cell, value, self.calibrate(key, raw * trust), alternatives, blank=blank)

    def calibrate(self, key: str, raw: float) -> float:
        calibrator = (self.calibrator or {}).get(key.split(".", 1)[0])
        if calibrator is None:
            return raw
        x = _logit(np.asarray([[raw]]))
        if isinstance(calibrator, IsotonicRegression):
            return float(calibrator.predict(x[:, 0])[0])
        return float(calibrator.predict_proba(x)[0, 1])

    def for_cells(self, cells: list[Cell]) -> StructureModel:
        return self


def is_scanned(cells: list[Cell]) -> bool:
    """Cells an OCR engine read: they carry its readings, so their characters are not exact."""
    return any(c.candidates for c in cells)


def on_pages(cells: list[Cell]) -> bool:
    """Cells placed on printed pages (scans, PDF text layers): a blank cell left no box at all,
    so where a cell sits on the page, not its place in the line, says its column."""
    return any(c.bbox is not None for c in cells)


class StructureModels:
    """One model per kind of cell sequence, each with its own calibration and thresholds.

    Text-like sequences (text, HTML, DOCX) come in source rows and columns; page
    ones (scans, PDF text layers) are boxes on pages, with no box where a cell is
    blank, so the page position of a cell is what says its column.  One model
    trained on both was less accurate on each and, calibrated on their mixture,
    sent five times as many text cells to review.  The text model read born-digital
    PDFs that print zeros as blank cells with silent errors (37 in 40 generated
    ones); the page model read them with 2.
    """

    def __init__(self, text: StructureModel, scanned: StructureModel):
        self.text, self.scanned = text, scanned

    def for_cells(self, cells: list[Cell]) -> StructureModel:
        return self.scanned if on_pages(cells) else self.text

    def predict(self, cells: list[Cell], layout: str | None = None) -> Parse:
        return self.for_cells(cells).predict(cells, layout)
