"""Column positions: where on each page each table's columns sit.

Geometry (PDF and scans only) knows what the cell order cannot: a scan prints no
box for a blank cell, so the cells after it shift left in the order but stay
under their own column.  ``column_grids`` finds, per page, table and number of
columns in a row, a ``ColumnGrid``: each column's x centre and the pitch between
columns.  Named estimators are tried in order (``ESTIMATORS``); each sees what
the earlier ones placed and places what they left:

1. ``complete_rows``: the rows with a box in every column;
2. ``column_headings``: the headings printed over the columns (moved to where this
   page's boxes lie, ``_page_shift``; 表四's narrow ones by ``_outcome_grid``);
3. ``box_stacks``: as many stacks of boxes, over all rows, as columns: one each;
4. ``even_pitch``: fewer stacks, in 表三: they fall on an even pitch;
5. ``between_known``: a column between two known ones, at their pitch.

A number box that reaches over two or more columns is cut at their boundaries
(``cut_merged``).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..normalize import Kind, kind_of, normalize
from ..records import Cell
from ..schema import APPLICANT_LABELS, OUTCOME_LABELS
from .anchors import _TABLES, Run

if TYPE_CHECKING:
    from . import Parse

GridKey = tuple[int, int, int]  # (page, table, columns in row)


@dataclass(frozen=True, slots=True)
class GridOptions:
    """The settings of the column estimators.  Distances are in column pitches unless said."""

    # column headings
    headings_needed: float = 0.5  # fewer of a table's headings read than this share place nothing (they may refute a guess)
    heading_chars: tuple[int, int] = (2, 8)  # a heading cell holds this many characters (a title more, a mark fewer)
    heading_lookahead: int = 5  # a heading read may skip the next four columns' headings, not read
    heading_join: float = 0.8  # short pieces of one heading stand this near (in line heights), left to right
    shift_window: float = 0.5  # a page's shift against the headings' page is tried from stacks this near a heading
    shift_match: float = 0.2  # a stack this near a shifted heading stands under it
    scale_span: float = 0.5  # headings matched over more than this share of the table fit a scale too,
    scale_limit: float = 0.1  # a scale this near 1
    # 表三's even pitch, from fewer stacks of boxes than columns
    stack_off: float = 0.25  # a stack this far off every column of the even pitch is none of them
    heading_refutes: float = 0.5  # a heading read this far off its column of the even pitch refutes it
    second_room: float = 1.4  # a first stack this many pitches (its own as the second column) clear of the labels may be the second
    # 表四's outcome grid (``_outcome_grid``)
    pitch_spread: float = 0.15  # how far a table's column pitch strays from a fifteenth of the text block
    pitches_tried: tuple[float, float, float] = (0.35, 1.3, 0.01)  # pitches tried, in fifteenths of the text block
    column_spread: float = 0.12  # how far one column's width strays from the pitch
    same_column: float = 0.15  # how far two boxes of one column stray from each other
    wide_heading: float = 1.5  # a heading box wider than this is several columns' headings read as one
    neighbours: float = 1.5  # two values of a line nearer than this have no blank column between them
    wrong_label: float = 6.0  # cost of a heading read as another column's label: unlikely, not impossible
    sure: float = 4.0  # a value's column is taken when every other column costs this much more
    misfit: float = 9.0  # three spreads off: a box where no column is
    # boxes over several columns
    cut_margin: float = 0.1  # a column's centre this far inside a box means the box reaches over it


@dataclass(frozen=True, slots=True)
class ColumnGrid:
    """Where the columns of one table's rows of ``n`` columns sit on one page."""

    page: int
    table: int  # index in ``_TABLES``
    n: int  # columns in the row
    x: dict[int, float]  # column -> its x centre on the page; a column no estimator placed is missing
    pitch: float | None  # the distance between neighbouring columns; None where it cannot be told
    found_by: dict[int, str]  # column -> the estimator that placed it

    @property
    def key(self) -> GridKey:
        return self.page, self.table, self.n


@dataclass(frozen=True, slots=True)
class GridEvidence:
    """What the estimators look at: the value boxes of the labelled runs, and the headings."""

    lines: list[tuple[int, int, list[Cell]]]  # (table, columns in row, a printed line's value cells), per row of each run
    spans: dict[GridKey, list[tuple[float, float]]]  # every value box's x span, per page, table and columns in row
    headings: list[tuple[int, int, dict[int, float]]]  # (table, columns, x centre per column) of the headings found
    label_right: dict[tuple[int, int], float]  # per (page, table): the right edge of its rows' labels

    @classmethod
    def of(cls, cells: list[Cell], runs: list[Run], options: GridOptions = GridOptions()) -> GridEvidence:
        lines: list[tuple[int, int, list[Cell]]] = []
        spans: dict[GridKey, list[tuple[float, float]]] = defaultdict(list)
        label_right: dict[tuple[int, int], float] = {}
        for run in runs:
            if run.anchor is None or cells[run.anchor].bbox is None:
                continue
            label = cells[run.anchor]
            at = (label.page, _TABLES[run.rows[0].table])
            label_right[at] = max(label_right.get(at, -math.inf), label.bbox[2])
            by_line: dict[int, list[Cell]] = defaultdict(list)
            for i in run.cells:
                by_line[cells[i].row].append(cells[i])
            t = _TABLES[run.rows[0].table]
            # a run holding rows whose labels were lost: its lines count for each of them
            for row in run.rows:
                n = len(row.keys)
                for line in by_line.values():
                    spans[(line[0].page, t, n)] += [(c.bbox[0], c.bbox[2]) for c in line]
                    lines.append((t, n, line))
        return cls(lines, dict(spans), _headings_found(cells, runs, options), label_right)

    def partial_headings(self, options: GridOptions) -> dict[tuple[int, int], dict[int, float]]:
        """Per (table, columns): the headings found where too few were to place the columns by
        (enough to refute a guess)."""
        return {(t, n): columns for t, n, columns in self.headings if len(columns) < options.headings_needed * n}


Placed = Mapping[GridKey, Mapping[int, float]]
Estimator = Callable[[GridEvidence, Placed, GridOptions], dict[GridKey, dict[int, float]]]


def complete_rows(evidence: GridEvidence, placed: Placed, options: GridOptions) -> dict[GridKey, dict[int, float]]:
    """Each column where the boxes of the lines with a box in every column centre (the median)."""
    seen: dict[GridKey, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for t, n, line in evidence.lines:
        if len(line) == n and n > 1:
            for j, c in enumerate(line):
                seen[(c.page, t, n)][j].append(_centre(c))
    return {key: {j: float(np.median(xs)) for j, xs in columns.items()} for key, columns in seen.items()}


def column_headings(evidence: GridEvidence, placed: Placed, options: GridOptions) -> dict[GridKey, dict[int, float]]:
    """No complete row (a report printing zeros as blanks): the column headings say where the
    columns are, on this page or the one the table began on, moved as this page's boxes show
    (no two pages of a scan lie alike under the scanner).  Sub-tables with as many columns
    share the first headings found."""
    out: dict[GridKey, dict[int, float]] = {}
    for t, n, columns in evidence.headings:
        if len(columns) < options.headings_needed * n:
            continue
        for key, spans in evidence.spans.items():
            if key[1:] == (t, n) and not placed.get(key) and key not in out:
                a, b = _page_shift(_stacks(spans), columns, options)
                out[key] = {j: float(a * x + b) for j, x in columns.items()}
    return out


def box_stacks(evidence: GridEvidence, placed: Placed, options: GridOptions) -> dict[GridKey, dict[int, float]]:
    """Nor any heading found: the columns are where the boxes of all rows pile up, when they
    pile up in as many stacks as there are columns (one each)."""
    out = {}
    for (page, t, n), spans in evidence.spans.items():
        if n < 2 or 0 in placed.get((page, t, n), {}):
            continue
        stacks = _stacks(spans)
        if len(stacks) == n:
            out[(page, t, n)] = {j: float(np.median(xs)) for j, xs in enumerate(stacks)}
    return out


def even_pitch(evidence: GridEvidence, placed: Placed, options: GridOptions) -> dict[GridKey, dict[int, float]]:
    """Fewer stacks than columns, in 表三 only: its first and last columns (自然人 and 总计 are
    rarely all blank) set an even pitch, and the stacks between must each fall on its own
    column of it.  Elsewhere (表二's short rows, 表四's mostly zero outcomes) a blank first or
    last column is common: no guess.  Nor where 自然人 may be the blank one: the stacks fit as
    well from the second column, and there is a column's room left of the first stack (every
    sum holds either way, so only the page can tell)."""
    partial = evidence.partial_headings(options)
    out = {}
    for (page, t, n), spans in evidence.spans.items():
        if n < 3 or 0 in placed.get((page, t, n), {}) or t != _TABLES["requests"]:
            continue
        stacks = _stacks(spans)
        if len(stacks) < 2:
            continue
        first, last = float(np.median(stacks[0])), float(np.median(stacks[-1]))
        centres = [float(np.median(xs)) for xs in stacks]
        cols = _on_pitch(centres, n - 1, options)
        if cols is None:
            continue
        room = first - evidence.label_right.get((page, t), -math.inf)
        if room >= options.second_room * (last - first) / (n - 2) and _on_pitch(centres, n - 2, options) is not None:
            continue
        step = (last - first) / (n - 1)  # a heading read elsewhere says 自然人 was blank after all
        if any(abs(first + j * step - x) > options.heading_refutes * step for j, x in partial.get((t, n), {}).items()):
            continue
        out[(page, t, n)] = {j: float(np.median(xs)) for j, xs in zip(cols, stacks)}
    return out


def _on_pitch(centres: list[float], steps: int, options: GridOptions) -> list[int] | None:
    """The column (from the first stack's) of each stack, when the first and last stand ``steps``
    columns apart at an even pitch and every stack between falls on a column of its own."""
    at = [(x - centres[0]) / (centres[-1] - centres[0]) * steps for x in centres]
    cols = [round(a) for a in at]
    if any(abs(a - c) > options.stack_off for a, c in zip(at, cols)) or len(set(cols)) < len(cols):
        return None
    return cols


def between_known(evidence: GridEvidence, placed: Placed, options: GridOptions) -> dict[GridKey, dict[int, float]]:
    """A column whose heading was not read (or ran into its neighbour's) lies between the
    columns found on either side, at their pitch: unplaced, its blanks-shifted values would
    go by order alone, to any column the geometry does not rule out."""
    out: dict[GridKey, dict[int, float]] = {}
    for (page, t, n), x in placed.items():
        for j in range(n):
            lo = max((k for k in x if k < j), default=None)
            hi = min((k for k in x if k > j), default=None)
            if j not in x and lo is not None and hi is not None:
                out.setdefault((page, t, n), {})[j] = x[lo] + (x[hi] - x[lo]) * (j - lo) / (hi - lo)
    return out


# tried in this order: each places only what the ones before it left
ESTIMATORS: tuple[Estimator, ...] = (complete_rows, column_headings, box_stacks, even_pitch, between_known)


def column_grids(cells: list[Cell], runs: list[Run], options: GridOptions = GridOptions(),
                 estimators: tuple[Estimator, ...] = ESTIMATORS) -> dict[GridKey, ColumnGrid]:
    """The grid of every table on every page its runs' values lie on (with a box), by the
    ``estimators`` in turn; a later one's column replaces an earlier one's."""
    evidence = GridEvidence.of(cells, runs, options)
    placed: dict[GridKey, dict[int, float]] = {}
    found_by: dict[GridKey, dict[int, str]] = {}
    for estimator in estimators:
        for key, x in estimator(evidence, placed, options).items():
            placed.setdefault(key, {}).update(x)
            found_by.setdefault(key, {}).update(dict.fromkeys(x, estimator.__name__))
    grids = {}
    for (page, t, n), x in placed.items():
        x = dict(sorted(x.items()))
        grids[(page, t, n)] = ColumnGrid(page, t, n, x, _pitch(x, n), dict(sorted(found_by[(page, t, n)].items())))
    return grids


def _pitch(x: dict[int, float], n: int) -> float | None:
    """The median distance from each placed column to the next placed one, per column between them."""
    steps = []
    for j, at in x.items():
        nxt = min((k for k in range(j + 1, n) if k in x), default=None)
        if nxt is not None:
            steps.append((x[nxt] - at) / (nxt - j))
    return float(np.median(steps)) if steps and np.median(steps) > 0 else None


def as_columns(grids: Mapping[GridKey, ColumnGrid]) -> tuple[dict[tuple[int, int, int, int], float], dict[GridKey, float]]:
    """The grids as (x centre per (page, table, columns in row, column), pitch per (page, table, columns in row))."""
    centre = {(*g.key, j): x for g in grids.values() for j, x in g.x.items()}
    return centre, {g.key: g.pitch for g in grids.values() if g.pitch is not None}


def _centre(cell: Cell) -> float:
    return (cell.bbox[0] + cell.bbox[2]) / 2


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


def _page_shift(stacks: list[list[float]], columns: dict[int, float], options: GridOptions = GridOptions()) -> tuple[float, float]:
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
        return [(x, c) for x, c in pairs if abs(a * x + b - c) < options.shift_match * pitch]

    shifts = [c - x for c in centres for x in xs if abs(c - x) < options.shift_window * pitch]
    if not shifts:
        return 1.0, 0.0
    b = max(shifts, key=lambda b: (len(matched(1.0, b)), -abs(b)))
    pairs = matched(1.0, b)
    if len({x for x, _ in pairs}) >= 2 and \
            max(x for x, _ in pairs) - min(x for x, _ in pairs) > options.scale_span * (xs[-1] - xs[0]):
        a, b = np.polyfit([x for x, _ in pairs], [c for _, c in pairs], 1)
        if abs(a - 1) < options.scale_limit and len(matched(a, b)) >= len(pairs):
            return float(a), float(b)
    return 1.0, b if pairs else 0.0


# --- column headings ----------------------------------------------------------------------

# the column headings of 表三 and 表四, in page order
_HEADINGS = {"requests": APPLICANT_LABELS, "review_litigation": OUTCOME_LABELS * 3}


def _headings_found(cells: list[Cell], runs: list[Run], options: GridOptions = GridOptions()) -> list[tuple[int, int, dict[int, float]]]:
    """(table, columns, x centre per column found) for every table's column headings on the
    page: 表三's and 表四's above their first value; the heading row 表二 prints over each of
    its sub-tables (本年制发件数 | 本年废止件数 | 现行有效件数) anywhere before 表三.
    Sub-tables with as many columns share positions: the first found, in table order.
    Tables with fewer than half their headings read have those few."""
    out = [(_TABLES[table], len(labels), _heading_columns(cells, runs, table, labels, options=options))
           for table, labels in _HEADINGS.items()]
    end = min((r.cells[0] for r in runs if r.rows[0].table == "requests" and r.cells), default=len(cells))
    for labels in dict.fromkeys(row.headers for run in runs for row in run.rows
                                if row.table == "proactive" and len(row.headers) == len(row.keys) > 1):
        out.append((_TABLES["proactive"], len(labels), _heading_columns(cells, runs, "proactive", labels, (0, end), options)))
    return out


def _heading_columns(cells: list[Cell], runs: list[Run], table: str, labels: tuple[str, ...],
                     region: tuple[int, int] | None = None, options: GridOptions = GridOptions()) -> dict[int, float]:
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
    fewest, most = options.heading_chars
    # (a heading box too long is neighbouring headings read as one, in pieces: its pieces count)
    heads = [piece for c in cells[before:first] if c.bbox is not None and kind_of(c.text) == Kind.TEXT
             for piece in _split_heading(c, labels) if fewest <= len(normalize(piece.text)) <= most]
    if table == "review_litigation" and region is None and cells[first].bbox is not None:
        # 表四's fifteen narrow headings are often read as nothing or as junk, set a
        # character a line, and repeat for each group; but their boxes still stand over
        # their columns, and the values under them
        page = cells[first].page
        over = [c for c in cells[before:first] if c.page == page and c.bbox is not None
                and kind_of(c.text) == Kind.TEXT and len(normalize(c.text)) <= most]
        values = [cells[i] for r in own for i in r.cells if cells[i].page == page and cells[i].bbox is not None]
        if grid := _outcome_grid(over, values, _text_width(cells), options):
            return grid
    return _match_headings(heads, labels, options)


def _text_width(cells: list[Cell]) -> float:
    """The width of the report's text block: the widest spread of boxes on any page."""
    spread: dict[int, list[float]] = {}
    for c in cells:
        if c.bbox is not None:
            lo, hi = spread.setdefault(c.page, [math.inf, -math.inf])
            spread[c.page] = [min(lo, c.bbox[0]), max(hi, c.bbox[2])]
    return max((hi - lo for lo, hi in spread.values()), default=0.0)


def _match_headings(heads: list[Cell], labels: tuple[str, ...], options: GridOptions = GridOptions()) -> dict[int, float]:
    """Each heading stack, left to right, is the next label it begins: column -> x centre."""
    found: dict[int, float] = {}
    k = 0
    for x, text in _heading_stacks(heads, options):
        nxt = next((j for j in range(k, min(k + options.heading_lookahead, len(labels))) if labels[j].startswith(text)), None)
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


def _heading_stacks(heads: list[Cell], options: GridOptions = GridOptions()) -> list[tuple[float, str]]:
    """Heading cells left to right, the short pieces of one heading wrapped in a narrow column
    (``结果`` over ``维持``) joined top to bottom; a heading over several columns stands alone."""
    if not heads:
        return []
    tol = options.heading_join * float(np.median([c.bbox[3] - c.bbox[1] for c in heads]))
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


# --- 表四's outcome grid ------------------------------------------------------------------

# 表四's column headings over its three groups: a group heading's centre is its middle column
_GROUP_HEADINGS = (("复议后", 12), ("直接起诉", 7), ("未经复议", 7), ("行政复议", 2))


def _outcome_grid(heads: list[Cell], values: list[Cell], width: float, options: GridOptions = GridOptions()) -> dict[int, float]:
    """表四's columns from everything over and in them, by the most probable alignment of
    boxes to columns: left to right in column order; neighbours a whole number of pitches
    apart, give or take one column's jitter; a heading read as a label only under a column
    of that label (``结果`` over 结果维持 or 结果纠正; junk anywhere); a group heading over
    its group's middle column; the pitch near a fifteenth of the text block, unless the
    boxes say the table is narrower.  A number box wider than a column is the numbers of
    as many columns as it spans, run together (``4713`` for 47 and 13): as many values, a
    pitch apart.  Nothing is placed unless every value's column is clear (each other column
    costs ``options.sure`` more) and every value sits where its column says (no step beside it
    past ``options.misfit``)."""
    n = len(_HEADINGS["review_litigation"])
    pitch = width / n
    if not values or pitch <= 0:
        return {}
    heading_points = []  # (x, cost per column, line of a value or None, box of a value or None)
    for c in (piece for h in heads for piece in _split_heading(h, OUTCOME_LABELS)):
        text = normalize(c.text)
        group = next((col for key, col in _GROUP_HEADINGS if key in text), None)
        if group is not None:
            heading_points.append((_centre(c), np.where(np.arange(n) == group, 0.0, np.inf), None, None))
        elif c.bbox[2] - c.bbox[0] <= options.wide_heading * pitch:
            labelled = [j for j in range(n) if OUTCOME_LABELS[j % 5].startswith(text) or text.startswith(OUTCOME_LABELS[j % 5])]
            heading_points.append((_centre(c), np.where(np.isin(np.arange(n), labelled) | (not labelled), 0.0, options.wrong_label),
                                   None, None))
    one = float(np.median([c.bbox[2] - c.bbox[0] for c in values]))  # how wide one number prints
    best, overall = None, None
    for p in pitch * np.arange(*options.pitches_tried):
        value_points = _value_points(values, p, one, n)
        points = sorted(_over_columns(heading_points, value_points, p, options) + value_points, key=lambda q: q[0])
        steps = _alignment_steps(points, p, n, options)
        fwd = [points[0][1] + ((p / pitch - 1) / options.pitch_spread) ** 2]
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
        if not np.isfinite(m[0]) or m[1] - m[0] < options.sure or max(beside, default=0.0) > options.misfit:
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


def _over_columns(heads: list[tuple], values: list[tuple], p: float, options: GridOptions) -> list[tuple]:
    """The heading points that may stand over a column: not one between two neighbouring values
    of a line (no blank column between them) and over neither (a heading over two columns read
    as one box, or junk).  Such a point would part the two values in the alignment's chain, and
    they could then share a column."""
    lines: dict = defaultdict(list)
    for x, _, line, _ in values:
        lines[line].append(x)
    gaps = [(a, b) for xs in lines.values() for a, b in zip(sorted(xs), sorted(xs)[1:]) if b - a < options.neighbours * p]
    return [h for h in heads if not any(a + 2 * options.same_column * p < h[0] < b - 2 * options.same_column * p for a, b in gaps)]


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


def _alignment_steps(points: list, p: float, n: int, options: GridOptions) -> list[np.ndarray]:
    """The cost of each next point at column j' after this one at column j, at pitch ``p``."""
    gap = np.arange(n)[None, :] - np.arange(n)[:, None]
    steps = []
    for (xa, _, la, *_), (xb, _, lb, *_) in zip(points, points[1:]):
        d = (xb - xa) / p
        t = np.where(gap > 0, (d - gap) ** 2 / (options.column_spread ** 2 * np.maximum(gap, 1)), (d / options.same_column) ** 2)
        t[gap < 0] = np.inf
        if la is not None and la == lb:
            t[gap == 0] = np.inf  # two values of one line: two columns
        steps.append(t)
    return steps


# --- boxes over several columns -----------------------------------------------------------

def cut_merged(cells: list[Cell], parse: Parse, options: GridOptions = GridOptions()) -> list[Cell]:
    """The cells with every number box that spans two or more columns of its table cut at
    the columns' boundaries, each piece taking its share of the box by digit count: the
    OCR reads neighbouring numbers of narrow columns as one box where no rule parts them
    (``13401461`` over 尚未审结 and 总计).  The same list when no box does."""
    cuts: dict[int, list[Cell]] = {}
    for run in parse.runs:
        widths = {len(row.keys) for row in run.rows if row.keys}
        if len(widths) != 1:
            continue
        n, t = widths.pop(), _TABLES[run.rows[0].table]
        for i in run.cells:
            c = cells[i]
            grid = parse.grids.get((c.page, t, n))
            if c.bbox is None or grid is None or grid.pitch is None:
                continue
            margin = options.cut_margin * grid.pitch
            xs = [grid.x[j] for j in range(n) if j in grid.x]
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
