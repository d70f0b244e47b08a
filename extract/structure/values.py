"""Value placement: which value cell of a run fills which canonical column.

Gradient boosting (``value_classifier``) scores every (candidate cell, column)
pair of a run from its ``pair_features``; a forward-backward pass over all
monotone assignments (each column at most one cell, order kept:
``column_marginals``) gives each column's value distribution, from which
``decide`` takes the value and its raw confidence.  The rest says when a run's
placement is in doubt, or cannot matter.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..normalize import Kind, kind_of, normalize, parse_number
from ..records import Cell, Number
from .anchors import _TABLES, Run
from .grid import ColumnGrid, GridKey, GridOptions, _centre, column_grids

if TYPE_CHECKING:
    from . import Parse

_EMPTY_LOGIT = -5.0  # a column left with no cell: cheaper than a very unlikely cell, dearer than a plausible one
_CLIP = 15.0


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


def value_classifier():
    """The (cell, column) pair classifier, untrained (scikit-learn's; ``fitted.TreeEnsemble`` keeps what it learns)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, max_leaf_nodes=31,
                                          l2_regularization=1.0, random_state=0)


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


def pair_features(cells: list[Cell], kinds: list[Kind], runs: list[Run],
                  grids: Mapping[GridKey, ColumnGrid] | None = None) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """One feature row per (run, candidate position, column); ``grids``: the runs' column
    grids when already found."""
    typical = _typical_columns(cells, runs)
    grids = column_grids(cells, runs) if grids is None else grids
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
                grid = grids.get((c.page, table, n_row))
                tx, step = (grid.x.get(j_in_row), grid.pitch) if grid is not None else (None, None)
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


def decide(key: str, run: Run, pair: np.ndarray, empty: float, cells: list[Cell], trust: float,
           on_page: bool, calibrate: Callable[[str, float], float]) -> Assignment:
    """The value of column ``key`` from its marginals (``pair`` per candidate cell, ``empty``),
    the calibrated confidence of ``trust`` times its raw probability, and its rivals."""
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
    dist[0 if on_page else None] += empty
    ranked = sorted(dist.items(), key=lambda kv: -kv[1])
    value, raw = ranked[0]
    alternatives = tuple((v, round(p, 4)) for v, p in ranked[:4])
    if value is None:
        return Assignment(key, None, 0, 0.0, alternatives)
    blank = value not in best_cell or (value == 0 and on_page and best_cell[0][0] < empty)
    cell = None if blank else best_cell[value][1]
    return Assignment(key, cell, value, calibrate(key, raw * trust), alternatives, blank=blank)


# --- doubt --------------------------------------------------------------------------------

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


def marks(parse: Parse, cells: list[Cell], options: GridOptions = GridOptions()) -> dict[str, int]:
    """The blank keys of a page under whose column a short text box stands on the row's line:
    a zero mark the recogniser read as letters (``—`` as ``m``), or a number it read as a
    character (``4`` as ``在``).  Key -> that box.  Only where the row's numbers lie on one
    line and the box within a few tenths of a pitch of the column's centre."""
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
            grid = parse.grids.get((page, _TABLES[row.table], len(row.keys)))
            if grid is None or grid.pitch is None:
                continue
            for j, k in enumerate(row.keys):
                x = grid.x.get(j)
                if by_key[k].cell is not None or x is None:
                    continue
                under = [i for i in short if (cells[i].page, cells[i].row) == (page, line)
                         and abs(_centre(cells[i]) - x) < 2 * options.same_column * grid.pitch]
                if len(under) == 1:
                    out[k] = under[0]
    return out
