"""Table-structure classifier: a cell sequence onto the canonical (table, row, column) keys.

Two small estimators and a constrained decoder, in three parts:

* ``anchors``: ``LabelModel`` (char n-gram logistic regression) scores each text
  cell against every canonical row label, or none; the anchor decoder aligns
  those label cells monotonically to the rows of each template variant (rows in
  order, each row at most one label) and keeps the best variant.  The cells
  between one anchor and the next form a *run*: the value cells of that row
  (plus any rows whose label went missing).
* ``grid`` (cells on pages only): where each table's columns sit on each page
  (``ColumnGrid``), by named estimators tried in turn.
* ``values``: gradient boosting over position features (the grid's among them)
  scores every (candidate cell, column) pair of a run; a forward-backward pass
  over all monotone assignments (each column at most one cell, order kept)
  gives each column's value distribution, from which the value and its raw
  confidence come.

A calibrator per table maps the raw confidence to a calibrated one: a sigmoid
(Platt) on its log-odds, smooth where it matters, near 1; or, where errors
occur at every raw confidence (scans) and a sigmoid's flattened slope would cap
every confidence below the review threshold, isotonic regression (the empirical
accuracy, monotone).  Below ``threshold`` a cell is ``needs_review``.

scikit-learn fits the estimators; what they learnt is kept as plain arrays
(``fitted``), so reading a report does not load scikit-learn.  The shipped model
pickles ``StructureModels``, ``StructureModel``, ``LabelModel``, ``_label_text``
and ``fitted``'s classes under these names: they must stay importable from here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..normalize import Kind, kind_of
from ..records import Cell
from ..schema import VARIANTS, Variant
from .anchors import _TABLES as _TABLES
from .anchors import (
    TEMPLATE_SURE,
    LabelModel,
    Rival,
    Run,
    align_anchors,
    choose_template,
    first_fragments,
    label_stacks,
    layout_of,
    make_runs,
    shift_ambiguous,
)
from .anchors import _label_text as _label_text
from .fitted import Isotonic, Sigmoid, TreeEnsemble
from .grid import ESTIMATORS, ColumnGrid, GridKey, GridOptions, as_columns, column_grids, cut_merged
from .grid import _outcome_grid as _outcome_grid
from .grid import _page_shift as _page_shift
from .grid import _split_heading as _split_heading
from .values import (
    _CLIP,
    FEATURES,
    Assignment,
    _all_zero_groups,
    _rows_by_lines,
    _unplaced,
    column_marginals,
    decide,
    marks,
    pair_features,
    value_classifier,
)

__all__ = [
    "ESTIMATORS", "FEATURES", "TEMPLATE_SURE", "Assignment", "ColumnGrid", "GridOptions", "LabelModel", "Parse", "Rival", "Run",
    "StructureModel", "StructureModels", "align_anchors", "column_grids", "column_marginals", "cut_merged", "first_fragments",
    "is_scanned", "label_stacks", "layout_of", "make_runs", "marks", "on_pages", "pair_features", "shift_ambiguous",
]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log(1 - p)


@dataclass(slots=True)
class Parse:
    variant: Variant
    assignments: list[Assignment]
    runs: list[Run] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)
    grids: dict[GridKey, ColumnGrid] = field(default_factory=dict)  # per (page, table, columns in row)
    rival: Rival | None = None  # the template that came second

    @property
    def columns(self) -> tuple[dict, dict]:
        """The grids as (x centre per (page, table, columns in row, column), pitch per (page, table, columns in row))."""
        return as_columns(self.grids)

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
        self.values: TreeEnsemble | None = None
        self.calibrator: dict[str, Sigmoid | Isotonic | None] | None = None

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
        self.values = TreeEnsemble.from_sklearn(value_classifier().fit(np.vstack(X), np.asarray(y, dtype=int)))
        return self

    def _pair_features(self, cells: list[Cell], kinds: list[Kind], runs: list[Run],
                       grids: dict[GridKey, ColumnGrid] | None = None) -> tuple[np.ndarray, list]:
        feats, index = pair_features(cells, kinds, runs, grids)
        return (feats if self.geometric else np.delete(feats, FEATURES.index("x_dev"), axis=1)), index

    def fit_calibration(self, keys: list[str], raw: list[float], correct: list[bool]) -> StructureModel:
        """One calibrator per table: 表二's cells go wrong in other ways than 表三's and 表四's."""
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        self.calibrator = {}
        for table in _TABLES:
            pick = [i for i, k in enumerate(keys) if k.startswith(table + ".")]
            x = _logit(np.asarray([raw[i] for i in pick])).reshape(-1, 1)
            y = np.asarray([correct[i] for i in pick], int)
            if not 0 < y.sum() < len(y):
                self.calibrator[table] = None
            elif self.calibration == "isotonic":
                # no cell is certain: the best block's accuracy, at most 1 - 1e-4
                self.calibrator[table] = Isotonic.from_sklearn(
                    IsotonicRegression(y_min=0.0, y_max=1 - 1e-4, out_of_bounds="clip").fit(x[:, 0], y))
            else:
                self.calibrator[table] = Sigmoid.from_sklearn(LogisticRegression(C=100.0).fit(x, y))
        self.strong = self.calibrate("requests.total.total", 0.999)
        return self

    # prediction ----------------------------------------------------------------------------

    def _runs(self, cells: list[Cell], kinds: list[Kind],
              variants: list[Variant]) -> tuple[Variant, list[Run], dict, Rival | None]:
        text_cells = [i for i, k in enumerate(kinds) if k == Kind.TEXT]
        proba = self.labels.predict_proba([cells[i].text for i in text_cells])
        if self.geometric:
            # on a page a label wrapped over lines is read as one
            proba = self.labels.predict_stacked(cells, text_cells, proba, 0.2 if is_scanned(cells) else 0.6)
        return choose_template(cells, kinds, proba, self.labels.classes_, text_cells, variants, self.geometric)

    def predict(self, cells: list[Cell], layout: str | None = None) -> Parse:
        """Assign the cells; ``layout`` ("2019"/"2021") when known, else read from the table headings."""
        kinds = [kind_of(c.text) for c in cells]
        layout = layout or layout_of(cells)
        variants = [v for v in VARIANTS if layout in (None, v.layout)] or list(VARIANTS)
        variant, runs, anchors, rival = self._runs(cells, kinds, variants)
        grids = column_grids(cells, runs)
        feats, index = self._pair_features(cells, kinds, runs, grids)
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
            decided.append([decide(key, run, pair[:, j], float(empty[j]), cells, run.anchor_p if whole[r] else 1.0,
                                   self.geometric, self.calibrate)
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
        return Parse(variant, assignments, runs, anchors, grids, rival)

    def calibrate(self, key: str, raw: float) -> float:
        calibrator = (self.calibrator or {}).get(key.split(".", 1)[0])
        if calibrator is None:
            return raw
        return float(calibrator.predict_proba(_logit(np.asarray([[raw]])))[0, 1])

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

    def __init__(self, text: StructureModel, scanned: StructureModel, fingerprint: str | None = None):
        self.text, self.scanned = text, scanned
        # what the thresholds were calibrated through (``training.train.fingerprint``)
        self.fingerprint = fingerprint

    def for_cells(self, cells: list[Cell]) -> StructureModel:
        return self.scanned if on_pages(cells) else self.text

    def predict(self, cells: list[Cell], layout: str | None = None) -> Parse:
        return self.for_cells(cells).predict(cells, layout)
