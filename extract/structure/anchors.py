"""Row labels: which text cells label which canonical rows, and the template they fit best.

``LabelModel`` scores every text cell against every row label; ``align_anchors``
places those labels on the rows of a template variant, in order, and
``choose_template`` keeps the variant they fit best.  The cells between one
anchor and the next form a ``Run``: the value cells of that row (plus any rows
whose label went missing).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..normalize import Kind, normalize, parse_number
from ..records import Cell
from ..schema import LAYOUT_MARKERS, SECTIONS_AFTER_TABLES, RowSpec, Variant
from .fitted import TextClassifier

# the tables in page order: grids and features know a table by its index here
_TABLES = {"proactive": 0, "requests": 1, "review_litigation": 2}
_MATCH_BIAS = 2.0  # a label cell anchors a row when its log-odds for that row exceed -2
# a template is taken without a person only this sure against the next (margin about 4.6 log-odds)
TEMPLATE_SURE = 0.99


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
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                     preprocessor=_label_text)
        classifier = LogisticRegression(C=self.C, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
        self.classifier_ = TextClassifier.from_sklearn(vectorizer, classifier)
        self.classes_ = self.classifier_.classes_
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.classifier_.predict_proba(texts)

    def predict_stacked(self, cells: list[Cell], text_cells: list[int], proba: np.ndarray, leading: float) -> np.ndarray:
        """``proba`` (of ``text_cells``) with every label wrapped over lines of a page read as
        one (``label_stacks``): its first line scores the whole text (``1.申请人无正当理由``
        alone reads as nothing), the lines after it as no label."""
        where = {c: n for n, c in enumerate(text_cells)}
        none = list(self.classes_).index("none")
        alone = list(np.argmax(proba, axis=1) != none)
        stacks = [s for s in label_stacks(cells, text_cells, alone, leading) if len(s) > 1]
        if not stacks:
            return proba
        proba = proba.copy()
        joined = self.predict_proba(["".join(cells[i].text for i in s) for s in stacks])
        nothing = np.zeros(proba.shape[1])
        nothing[none] = 1.0
        for stack, p in zip(stacks, joined):
            proba[where[stack[0]]] = p
            for i in stack[1:]:
                proba[where[i]] = nothing
        return proba


def _label_text(text: str) -> str:
    # the vectorizer's preprocessor: the shipped model pickles it as ``extract.structure._label_text``
    return normalize(text)[:60]


_AFTER_TABLES = re.compile("|".join(rf"^\s*{n}\s*[、.．]|{title}" for n, title in SECTIONS_AFTER_TABLES))
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


# --- alignment to a template --------------------------------------------------------------

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
        end = matches[nxt][0] if nxt is not None else tables_end(cells, kinds, pos + 1)
        cand = [i for i in range(pos + 1, end) if kinds[i] != Kind.TEXT]
        runs.append(Run(None if j is None else pos, p, covered, cand, (pos + 1, end)))
    return runs


def tables_end(cells: list[Cell], kinds: list[Kind], start: int) -> int:
    """Where the last table's run ends: at the first section heading after the tables, or the end."""
    return next((i for i in range(start, len(cells)) if kinds[i] == Kind.TEXT and _AFTER_TABLES.search(cells[i].text)),
                len(cells))


def choose_template(cells: list[Cell], kinds: list[Kind], proba: np.ndarray, classes: list[str], text_cells: list[int],
                    variants: list[Variant], on_page: bool) -> tuple[Variant, list[Run], dict[str, int], Rival | None]:
    """The variant whose rows the labels (``proba`` of ``text_cells``) fit best, its runs, the
    anchor cell of each row found, and the variant that came second.  ``on_page``: the cells
    lie on pages, where group headings anchor no run and a wrapped label anchors at its first line."""
    scored = []
    for variant in variants:
        score, matches = align_anchors(proba, classes, text_cells, variant)
        # a template row with values but no label found costs as much as the match bias buys
        scored.append((score - _MATCH_BIAS * sum(1 for r in variant.rows if r.keys), variant, matches))
    scored.sort(key=lambda s: -s[0])
    best, variant, matches = scored[0]
    rival = Rival(scored[1][1], best - scored[1][0]) if len(scored) > 1 else None
    if on_page:
        # a group heading is evidence of its variant, but on a page no anchor
        _, matches = align_anchors(proba, classes, text_cells, variant, headings=False)
        matches = first_fragments(matches, proba, classes, text_cells, variant)
    anchors = {variant.rows[j].name: cell for j, (cell, _) in matches.items()}
    return variant, make_runs(cells, kinds, variant, matches, not on_page), anchors, rival


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
