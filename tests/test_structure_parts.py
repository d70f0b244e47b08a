"""The structure stage's three parts (anchors, grid, values) on small synthetic inputs: boxes
placed by hand in page pixels, label probabilities and pair logits written out."""
from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from extract.normalize import Kind, kind_of
from extract.records import Cell
from extract.schema import APPLICANT_LABELS, Variant
from extract.structure import Assignment, Parse
from extract.structure.anchors import (
    _TABLES,
    Run,
    align_anchors,
    choose_template,
    first_fragments,
    layout_of,
    make_runs,
    shift_ambiguous,
)
from extract.structure.grid import (
    ESTIMATORS,
    GridOptions,
    as_columns,
    between_known,
    column_grids,
    complete_rows,
    cut_merged,
)
from extract.structure.values import FEATURES, _all_zero_groups, column_marginals, decide, marks, pair_features

VARIANT = Variant("2021", True)
ROWS = {r.name: r for r in VARIANT.rows}
REQUESTS = (1, _TABLES["requests"], len(APPLICANT_LABELS))  # the grid key of 表三's rows on page 1
X = [400.0 + 100 * j for j in range(7)]  # where 表三's seven columns stand


def number(text: str, line: int, x: float, col: int = 1, page: int = 1) -> Cell:
    w = 10 + 10 * len(text)
    return Cell(text, line, col, page, (x - w / 2, 100 + 40 * line, x + w / 2, 130 + 40 * line), ((text, 0.99),))


def text(t: str, line: int, x0: float, x1: float, page: int = 1) -> Cell:
    return Cell(t, line, 0, page, (x0, 100 + 40 * line, x1, 130 + 40 * line), ((t, 0.99),))


def table3(lines: list[dict[int, str]], headings: dict[int, str] | None = None, shift: float = 0.0) -> tuple[list[Cell], list[Run]]:
    """表三's first rows on a page: its column headings (column -> text) over ``lines`` of
    values (column -> number printed, a blank column printing no box), each under its row
    label, the values ``shift`` px right of the headings."""
    cells = [text(t, 0, X[j] - 30, X[j] + 30) for j, t in (headings or {}).items()]
    runs = []
    names = ["requests.new_received", "requests.carried_over", "requests.granted", "requests.partial"]
    for k, (line, name) in enumerate(zip(lines, names), start=1):
        anchor = len(cells)
        cells.append(text(ROWS[name].label[:8], k, 40, 300))
        cells += [number(v, k, X[j] + shift, col) for col, (j, v) in enumerate(sorted(line.items()), start=1)]
        runs.append(Run(anchor, 1.0, [ROWS[name]], list(range(anchor + 1, len(cells))), (anchor + 1, len(cells))))
    return cells, runs


def moved(cells: list[Cell], j: int, dx: float) -> list[Cell]:
    """The cells with the number boxes of column ``j`` moved ``dx`` px right."""
    return [replace(c, bbox=(c.bbox[0] + dx, c.bbox[1], c.bbox[2] + dx, c.bbox[3]))
            if kind_of(c.text) == Kind.NUMBER and (c.bbox[0] + c.bbox[2]) / 2 == X[j] else c for c in cells]


def full(*missing: int, value: str = "3") -> dict[int, str]:
    return {j: value for j in range(7) if j not in missing}


# --- anchors ------------------------------------------------------------------------------

def label_proba(classes: list[str], labels: list[str | None], p: float = 0.98) -> np.ndarray:
    """One row per text cell: ``p`` on its label (None: on ``none``), the rest spread evenly."""
    out = np.full((len(labels), len(classes)), (1 - p) / (len(classes) - 1))
    for i, label in enumerate(labels):
        out[i, classes.index(label or "none")] = p
    return out


def test_align_anchors_keeps_the_row_order():
    classes = [r.name for r in VARIANT.rows] + ["none"]
    # 规章, a title, 行政许可, then a 规范性文件 label out of order: the alignment is monotone
    labels = ["proactive.regulations", None, "proactive.licensing", "proactive.normative_docs"]
    proba = label_proba(classes, labels)
    proba[3] = label_proba(classes, ["proactive.normative_docs"], 0.6)[0]
    score, matches = align_anchors(proba, classes, [0, 4, 8, 12], VARIANT)
    rows = [r.name for r in VARIANT.rows]
    assert {rows[j]: cell for j, (cell, _) in matches.items()} == {"proactive.regulations": 0, "proactive.licensing": 8}
    assert all(trust > 0.95 for _, trust in matches.values()) and score > 0


def test_a_label_that_another_row_could_be_is_trusted_less():
    classes = [r.name for r in VARIANT.rows] + ["none"]
    proba = label_proba(classes, ["proactive.regulations"], 0.6)
    proba[0, classes.index("proactive.normative_docs")] = 0.35
    _, matches = align_anchors(proba, classes, [0], VARIANT)
    (cell, trust), = matches.values()
    assert cell == 0 and trust == pytest.approx(0.6 / 0.95, abs=1e-6)


def test_a_wrapped_label_anchors_at_its_first_line():
    classes = [r.name for r in VARIANT.rows] + ["none"]
    proba = label_proba(classes, ["proactive.regulations", "proactive.regulations"], 0.7)
    matches = {0: (5, 0.9)}  # the alignment took the second fragment
    assert first_fragments(matches, proba, classes, [3, 5], VARIANT) == {0: (3, 0.9)}


def test_runs_cut_at_the_anchors_and_a_row_whose_label_was_lost_joins_the_one_before():
    cells = [Cell(t, r, c) for t, r, c in [("规章", 0, 0), ("1", 0, 1), ("0", 0, 2), ("4", 0, 3),
                                            ("2", 1, 1), ("", 1, 2), ("6", 1, 3),  # 规范性文件's label lost
                                            ("行政许可", 2, 0), ("9", 2, 1)]]
    kinds = [kind_of(c.text) for c in cells]
    runs = make_runs(cells, kinds, VARIANT, {0: (0, 0.99), 2: (7, 0.95)})
    assert [[r.name for r in run.rows][:2] for run in runs] == [["proactive.regulations", "proactive.normative_docs"],
                                                                ["proactive.licensing", "proactive.punishment"]]
    assert (runs[0].anchor, runs[0].cells, runs[0].span) == (0, [1, 2, 3, 4, 5, 6], (1, 7))
    assert (runs[1].anchor, runs[1].anchor_p, runs[1].cells) == (7, 0.95, [8])
    # rows before the first anchor: a run with no label
    assert make_runs(cells, kinds, VARIANT, {2: (7, 0.95)})[0].anchor is None


def test_the_last_run_ends_at_the_section_after_the_tables():
    # the prose after 表四 prints words that read as values (无 is a zero): they are no table's
    last = VARIANT.rows.index(ROWS["review_litigation"])
    cells = [Cell(t, r, 0) for r, t in enumerate(["行政复议", "3", "0", "3", "五.存在的主要问题及改进情况", "一是…", "无"])]
    kinds = [kind_of(c.text) for c in cells]
    run = make_runs(cells, kinds, VARIANT, {last: (0, 0.99)})[-1]
    assert (run.cells, run.span) == ([1, 2, 3], (1, 4))
    # a heading numbered within the tables, as 表三's rows and 表二's groups are, ends nothing
    cells[4] = Cell("（五）监督保障", 4, 0)
    assert make_runs(cells, [kind_of(c.text) for c in cells], VARIANT, {last: (0, 0.99)})[-1].span == (1, 7)


def test_the_template_the_labels_fit_best_is_taken_over_its_rival():
    variants = [Variant("2021", True), Variant("2021", False)]
    classes = sorted({r.name for v in variants for r in v.rows}) + ["none"]
    printed = [("（六）其他处理", "requests.other"), ("1.申请人无正当理由逾期不补正", "requests.other.overdue_correction"),
               ("2.申请人逾期未按收费通知", "requests.other.overdue_fee"), ("3.其他", "requests.other.other")]
    cells = []
    for line, (label, _) in enumerate(printed):
        cells += [text(label, line, 40, 300), number("1", line, 400)]
    kinds = [kind_of(c.text) for c in cells]
    text_cells = [i for i, k in enumerate(kinds) if k == Kind.TEXT]
    proba = label_proba(classes, [name for _, name in printed])
    variant, runs, anchors, rival = choose_template(cells, kinds, proba, classes, text_cells, variants, on_page=True)
    assert variant.other_split and rival.variant == Variant("2021", False) and rival.margin > 10
    # on a page the group heading is evidence of the variant but anchors no run
    assert "requests.other" not in anchors and anchors["requests.other.overdue_fee"] == 4
    assert [run.anchor for run in runs if run.anchor is not None] == [2, 4, 6]


def test_a_line_with_more_cells_than_columns_and_a_blank_before_a_number_is_ambiguous():
    row = ROWS["proactive.regulations"]
    cells = [Cell("规章", 0, 0), Cell("", 0, 1), Cell("2", 0, 2), Cell("0", 0, 3), Cell("5", 0, 4)]
    kinds = [kind_of(c.text) for c in cells]
    assert shift_ambiguous(Run(0, 1.0, [row], [1, 2, 3, 4], (1, 5)), cells, kinds)
    assert not shift_ambiguous(Run(0, 1.0, [row], [2, 3, 4], (1, 5)), cells, kinds)  # as many cells as columns


def test_the_layout_is_read_from_its_own_headings():
    assert layout_of([Cell("本年制发件数", 0, 0), Cell("规章", 1, 0)]) == "2021"
    assert layout_of([Cell("本年新制作数量", 0, 0)]) == "2019"
    assert layout_of([Cell("规章", 0, 0)]) is None


# --- grid ---------------------------------------------------------------------------------

def test_the_estimators_are_tried_in_order():
    assert [e.__name__ for e in ESTIMATORS] == ["complete_rows", "column_headings", "box_stacks", "even_pitch", "between_known"]


def test_a_complete_row_places_every_column():
    cells, runs = table3([full(), full(2)], dict(enumerate(APPLICANT_LABELS)), shift=12)
    grid = column_grids(cells, runs)[REQUESTS]
    assert (grid.page, grid.table, grid.n) == REQUESTS
    assert grid.x == {j: x + 12 for j, x in enumerate(X)} and grid.pitch == 100
    assert set(grid.found_by.values()) == {"complete_rows"}


def test_without_a_complete_row_the_headings_place_the_columns_moved_to_the_boxes():
    # zeros printed as blanks: no row has a box in every column; the values lie 12 px right of the headings
    cells, runs = table3([full(0, 6), full(2, 3)], dict(enumerate(APPLICANT_LABELS)), shift=12)
    grid = column_grids(cells, runs)[REQUESTS]
    assert all(grid.x[j] == pytest.approx(x + 12) for j, x in enumerate(X))
    assert set(grid.found_by.values()) == {"column_headings"}
    # the heading 社会公益组织 ran into its neighbours' and went unread: its column lies between theirs
    cells, runs = table3([full(0, 6), full(2, 3)], {j: t for j, t in enumerate(APPLICANT_LABELS) if j != 3}, shift=12)
    grid = column_grids(cells, runs)[REQUESTS]
    assert grid.x[3] == pytest.approx(X[3] + 12) and grid.found_by[3] == "between_known"


def test_headings_on_the_page_the_table_began_on_are_moved_to_where_the_next_pages_boxes_lie():
    heads = [text(t, 0, X[j] - 30, X[j] + 30) for j, t in enumerate(APPLICANT_LABELS)]
    cells, runs = table3([full(0, 6), full(2, 3)], shift=15)
    cells = heads + [Cell(c.text, c.row, c.col, 2, c.bbox, c.candidates) for c in cells]
    runs = [Run(r.anchor + 7, 1.0, r.rows, [i + 7 for i in r.cells], (r.span[0] + 7, r.span[1] + 7)) for r in runs]
    grid = column_grids(cells, runs)[(2, *REQUESTS[1:])]
    assert all(grid.x[j] == pytest.approx(x + 15) for j, x in enumerate(X))


def test_neighbouring_headings_read_as_one_box_place_their_columns():
    # five narrow headings wrapped after three characters, read as one box across their columns
    run_together = "".join(label[:3] for label in APPLICANT_LABELS[:5])
    heads = [text(run_together, 0, X[0] - 50, X[4] + 50), text("其他", 0, X[5] - 30, X[5] + 30),
             text("总计", 0, X[6] - 30, X[6] + 30)]
    cells, runs = table3([{1: "53", 5: "21", 6: "74"}, {0: "3", 6: "3"}])
    cells = heads + cells
    runs = [Run(r.anchor + 3, 1.0, r.rows, [i + 3 for i in r.cells], (r.span[0] + 3, r.span[1] + 3)) for r in runs]
    grid = column_grids(cells, runs)[REQUESTS]
    assert all(grid.x[j] == pytest.approx(x) for j, x in enumerate(X)), grid.x
    assert set(grid.found_by.values()) == {"column_headings"}


def test_too_few_headings_read_place_nothing():
    cells, runs = table3([full(0, 6), full(2, 3)], dict(enumerate(APPLICANT_LABELS)))
    strict = column_grids(cells, runs, GridOptions(headings_needed=1.01))[REQUESTS]  # every heading needed, and more
    assert set(strict.found_by.values()) == {"box_stacks"}


def test_with_no_heading_the_columns_are_where_the_boxes_of_all_rows_stack_up():
    cells, runs = table3([full(0, 6), full(2, 3)])
    grid = column_grids(cells, runs)[REQUESTS]
    assert grid.x == dict(enumerate(X)) and set(grid.found_by.values()) == {"box_stacks"}
    # only the estimators asked for
    assert column_grids(cells, runs, estimators=(complete_rows, between_known)) == {}


def test_表三s_stacks_fall_on_an_even_pitch_and_a_column_never_printed_lies_between():
    cells, runs = table3([full(0, 3, 6), full(2, 3)])  # 社会公益组织 blank in every row
    grid = column_grids(cells, runs)[REQUESTS]
    assert grid.x == {j: pytest.approx(x) for j, x in enumerate(X)} and grid.pitch == pytest.approx(100)
    assert grid.found_by == {j: "between_known" if j == 3 else "even_pitch" for j in range(7)}
    # a stack off the even pitch by more than the tolerance (科研机构's, 30 px right): no guess
    assert REQUESTS not in column_grids(moved(cells, 2, 30), runs)


def _labels_to(cells: list[Cell], x1: float) -> list[Cell]:
    """The cells with their row labels reaching to ``x1``."""
    return [replace(c, bbox=(c.bbox[0], c.bbox[1], x1, c.bbox[3])) if c.row > 0 and kind_of(c.text) == Kind.TEXT else c
            for c in cells]


def test_no_even_pitch_guess_where_自然人_may_be_the_blank_column():
    # 自然人 blank in every row: the first stack is 商业企业's; taken for 自然人's, every value would
    # move one column left and every sum still hold.  A column's room left of it: no guess.
    lines = [{1: "3", 6: "3"}, {1: "4", 6: "9"}]
    cells, runs = table3(lines)
    assert REQUESTS not in column_grids(cells, runs)
    # labels reaching to just left of the first stack leave no room for another column: it is 自然人's
    assert column_grids(_labels_to(cells, X[1] - 60), runs)[REQUESTS].x[0] == X[1]
    # unless a heading read elsewhere (商业企业's, over the first stack) says otherwise
    cells, runs = table3(lines, {1: APPLICANT_LABELS[1]})
    assert REQUESTS not in column_grids(_labels_to(cells, X[1] - 60), runs)


def test_other_tables_make_no_even_pitch_guess():
    row = ROWS["proactive.regulations"]
    cells = [text("规章", 1, 40, 200), number("4", 1, 400), number("7", 1, 600)]
    assert column_grids(cells, [Run(0, 1.0, [row], [1, 2], (1, 3))]) == {}


def test_a_box_over_two_columns_is_cut_at_their_boundary():
    cells, runs = table3([full(value="5"), {0: "3", 1: "3", 2: "3", 3: "3", 4: "4713", 6: "8"}])
    # 47 and 13 of two narrow columns read as one box, and its runner-up reading 4718
    cells = [replace(c, bbox=(X[4] - 25, c.bbox[1], X[5] + 25, c.bbox[3]), candidates=(("4713", 0.9), ("4718", 0.1)))
             if c.text == "4713" else c for c in cells]
    out = cut_merged(cells, Parse(VARIANT, [], runs, {}, column_grids(cells, runs)))
    assert [c.text for c in out if c.row == 2][1:] == ["3", "3", "3", "3", "47", "13", "8"]
    assert [c.col for c in out if c.row == 2][-3:] == [5, 6, 7]  # the pieces after it move along the line
    forty_seven, thirteen = (next(c for c in out if c.text == t) for t in ("47", "13"))
    assert forty_seven.bbox[2] == thirteen.bbox[0] == (X[4] + X[5]) / 2
    assert forty_seven.candidates == (("47", 1.0),) and thirteen.candidates == (("13", 0.9), ("18", 0.1))


def test_nothing_is_cut_where_no_box_spans_two_columns():
    cells, runs = table3([full(), full(1)])
    assert cut_merged(cells, Parse(VARIANT, [], runs, {}, column_grids(cells, runs))) is cells


def test_the_grids_read_as_centres_and_pitches():
    cells, runs = table3([full(), full(1)])
    grids = column_grids(cells, runs)
    centre, pitch = as_columns(grids)
    assert centre == {(*REQUESTS, j): x for j, x in enumerate(X)} and pitch == {REQUESTS: 100.0}
    assert Parse(VARIANT, [], runs, {}, grids).columns == (centre, pitch)


# --- values -------------------------------------------------------------------------------

def brute_force_marginals(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every monotone partial assignment of cells to columns, weighed as the decoder weighs it."""
    v, n = logits.shape
    w, e = np.exp(logits), math.exp(-5.0)
    pair, empty, z = np.zeros((v, n)), np.zeros(n), 0.0
    for chosen in itertools.product([None, *range(v)], repeat=n):
        used = [a for a in chosen if a is not None]
        if used != sorted(set(used)):
            continue  # order kept, each cell at most once
        weight = math.prod(w[a, j] if a is not None else e for j, a in enumerate(chosen))
        z += weight
        for j, a in enumerate(chosen):
            if a is None:
                empty[j] += weight
            else:
                pair[a, j] += weight
    return pair / z, empty / z


def test_column_marginals_are_the_distribution_over_monotone_assignments():
    logits = np.array([[2.0, -1.0, -3.0], [0.5, 1.5, -2.0], [-4.0, 0.0, 3.0], [-1.0, -2.0, 1.0]])
    pair, empty = column_marginals(logits)
    assert np.allclose(pair.sum(axis=0) + empty, 1.0)  # each column: one cell or empty
    assert np.all(pair.sum(axis=1) <= 1 + 1e-12)  # each cell fills one column at most
    want_pair, want_empty = brute_force_marginals(logits)
    assert np.allclose(pair, want_pair) and np.allclose(empty, want_empty)


def test_a_column_takes_the_value_its_cells_give_or_on_a_page_a_blank():
    row = ROWS["proactive.regulations"]
    cells = [Cell("规章", 0, 0), Cell("5", 0, 1), Cell("5", 0, 2), Cell("7", 0, 3)]
    run = Run(0, 1.0, [row], [1, 2, 3], (1, 4))
    a = decide(row.keys[0], run, np.array([0.5, 0.3, 0.1]), 0.1, cells, 1.0, False, lambda key, raw: raw)
    assert (a.cell, a.value, a.confidence, a.blank) == (1, 5, pytest.approx(0.8), False)
    assert a.alternatives[0] == (5, 0.8)
    # no cell likely: on a page the column is blank (0, read); in a text sequence the value is missing
    on_page = decide(row.keys[0], run, np.array([0.1, 0.0, 0.1]), 0.8, cells, 0.5, True, lambda key, raw: raw)
    assert (on_page.cell, on_page.value, on_page.blank, on_page.confidence) == (None, 0, True, pytest.approx(0.4))
    assert decide(row.keys[0], run, np.array([0.1, 0.0, 0.1]), 0.8, cells, 1.0, False, lambda key, raw: raw).confidence == 0.0


def test_a_box_under_its_column_has_no_x_deviation_there():
    cells, runs = table3([full(), full(1)])
    kinds = [kind_of(c.text) for c in cells]
    feats, index = pair_features(cells, kinds, runs)
    assert feats.shape == (len(index), len(FEATURES))
    x_dev = dict(zip(index, feats[:, FEATURES.index("x_dev")]))
    # the second line's second box (科研机构's, after a blank) against each column: its own is 2
    assert [x_dev[(1, 1, j)] for j in range(7)] == [2.0, 1.0, 0.0, -1.0, -2.0, -3.0, -4.0]
    assert np.isnan(pair_features(cells, kinds, runs, {})[0][:, FEATURES.index("x_dev")]).all()  # no grid: no deviation


def test_a_short_text_box_under_a_blank_column_is_its_mark():
    cells, runs = table3([full(), full(3)])
    cells.append(text("m", 2, X[3] - 3, X[3] + 13))  # a dash the recogniser read as a letter, 5 px right
    runs[1] = Run(runs[1].anchor, 1.0, runs[1].rows, runs[1].cells, (runs[1].span[0], len(cells)))
    keys = ROWS["requests.carried_over"].keys
    values = iter(runs[1].cells)
    assignments = [Assignment(k, next(values) if j != 3 else None, 3 if j != 3 else 0, 0.99, blank=j == 3)
                   for j, k in enumerate(keys)]
    first = [Assignment(k, i, 3, 0.99) for k, i in zip(ROWS["requests.new_received"].keys, runs[0].cells)]
    parse = Parse(VARIANT, first + assignments, runs, {}, column_grids(cells, runs))
    assert marks(parse, cells) == {keys[3]: len(cells) - 1}
    assert marks(parse, cells, GridOptions(same_column=0.01)) == {}


def test_doubtful_runs_of_blanks_cannot_change_a_value():
    cells = [Cell("0", 0, 1), Cell("0", 0, 2)]
    one = [ROWS["requests.new_received"]]
    runs = [Run(None, 0.0, one, [], (0, 0)), Run(None, 0.0, [ROWS["requests.carried_over"]], [], (0, 0)),
            Run(None, 0.0, [ROWS["proactive.regulations"]], [0, 1], (0, 2))]
    assert _all_zero_groups(runs, [True, True, False], cells) == {0, 1}  # 表三 rows holding no box at all
    assert _all_zero_groups(runs, [False, False, True], cells) == set()  # 表二: two zeros for three keys
