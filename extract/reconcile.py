"""Arithmetic reconciliation: the identities the tables obey, evaluated into checks.

An identity is ``sum(parts) == total``.  Cells the structure stage could not
find are derived from an identity when it determines them uniquely (still
``needs_review``: derived, not read).  Where identities fail, the cells in them
offer other readings: the recogniser's n-best and the digits it is known to
confuse, and, for a cell read off a page, the values the structure stage would
have given it placed otherwise (a neighbour's number, or a blank).  An exact
search finds the most probable set of readings that makes every identity hold.
It is taken (``corrected``) only when it is far more probable than any other,
and every cell it changes is vouched for by two identities; otherwise the cells
it could have changed go to a person.  A failing identity whose cells were all
read exactly and placed confidently is the report's own error
(``source_inconsistent``); any other failure is ``unresolved``.

Whether a cell goes to a person is decided here, and why: ``first_look`` for the
structure stage's readings, then the rules of ``settle`` and ``reconcile``.  Each
rule names keys with a reason (``REASONS``); the first to name a key says why.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .normalize import normalize, parse_number
from .records import Check, Figure, Number, Reading, Recognized, SecondLook
from .schema import Variant, sums

if TYPE_CHECKING:
    from .structure import Assignment, StructureModel


@dataclass(frozen=True, slots=True)
class Identity:
    rule: str
    parts: tuple[str, ...]
    total: tuple[str, ...]  # one key, or two for 一+二 = 三+四

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.parts, *self.total)


def identities(variant: Variant) -> list[Identity]:
    """The sums the variant's tables print (``schema.SUMS``)."""
    return [Identity(rule, parts, total) for rule, parts, total in sums(variant)]


def witnesses(variant: Variant) -> Counter[str]:
    """How many identities check each key."""
    return Counter(k for ident in identities(variant) for k in ident.keys)


def stated(figures: tuple[Figure, ...]) -> tuple[list[Identity], dict[str, int]]:
    """The prose's figures as identities over a constant: the cells' sum is the stated figure."""
    idents = [Identity(f"narrative.{f.name}", f.keys, (f"narrative.{f.name}",)) for f in figures]
    return idents, {f"narrative.{f.name}": f.value for f in figures}


def _holds(ident: Identity, values: dict[str, float]) -> bool:
    return abs(sum(values[k] for k in ident.parts) - sum(values[k] for k in ident.total)) < 1e-6


def _broken(idents: list[Identity], values: dict[str, float]) -> list[Identity]:
    """The identities whose cells are all there and do not add up."""
    return [i for i in idents if all(k in values for k in i.keys) and not _holds(i, values)]


# --- who must look, and why ---------------------------------------------------------------

# A needs_review cell's reason is a code, then ": " and what in this report made it so.
# Code -> what it means, in a reviewer's words.
REASONS = {
    "not_found": "no cell of the tables was found for it",
    "derived": "no cell of the tables was found for it; its value is what one of the sums makes it",
    "placement": "where the cell sits in the table is in doubt",
    "low_confidence": "read or placed with too little confidence",
    "unchecked": "fewer than two sums check it, so it needs more confidence than it has",
    "identity_failed": "a sum it is part of does not add up",
    "fix_ambiguous": "several corrections of the failing sums are about as likely",
    "fix_uncertain": "a correction of the failing sums exists, but is not sure enough to take",
    "split_ambiguous": "one box may hold two neighbouring numbers, and where it splits is not sure",
    "row_in_doubt": "its row is in doubt: a number lost or misplaced in a row shifts the rest of it",
    "line_in_doubt": "表四 is one printed line: a number lost or misplaced before it shifts the rest",
    "column_in_doubt": "a number of its row placed in doubt may belong here",
    "stray_number": "a number of the tables that no cell took may belong in its sums",
    "ink_unread": "ink where the cell is that the recogniser could not read",
    "blank_unseen": "a blank whose place on the page the second look could not find, so no one saw it empty",
    "ink_unplaced": "its row's line holds ink that no column of the table was found for",
    "grid_off_print": "the columns found for its row reach past all the page prints: its cells may be shifted",
    "readings_disagree": "two readings of the cell disagree",
    "template_doubt": "the table variant it belongs to was taken in doubt",
    "undone": "a reviewer's decision on it was taken back",
}


def why(code: str, detail: str) -> str:
    """A review reason: ``code: detail``."""
    if code not in REASONS:
        raise ValueError(f"unknown review reason {code!r}")
    return f"{code}: {detail}"


def threshold_for(checks: int, model: StructureModel) -> float:
    """The confidence a cell needs to be read without a person: more where fewer than two
    identities check it (表二 none; 表四 one sum, where two misreads can still add up)."""
    return model.threshold if checks >= 2 else model.threshold_unchecked


def first_look(a: Assignment, confidence: float, checks: int, model: StructureModel) -> tuple[str | None, str | None]:
    """Whether the structure stage's reading of a cell goes to a person: (the doubt that sends
    it, why), why None when it is read.  ``confidence``: its placement's and its reading's;
    ``checks``: how many identities check the key.

    A key no cell was found for goes; so does a row placed without its label or beside a
    number no column took, and a cell no identity checks on an ambiguous line.  Else the
    confidence decides, against more for a cell fewer than two identities check: it has no
    second line of defence (表二 none; 表四 one sum, where two misreads can still add up)."""
    doubt = a.doubt if a.doubt in ("unlabelled", "unplaced") or a.doubt == "ambiguous_line" and not checks else None
    threshold = threshold_for(checks, model)
    if a.cell is None and not a.blank:
        return doubt, why("not_found", "no cell of the tables holds it")
    if doubt:
        return doubt, why("placement", doubt)
    if confidence >= threshold:
        return None, None
    if checks >= 2:
        return None, why("low_confidence", f"confidence {confidence:.4f} < threshold {threshold:g}")
    return None, why("unchecked", f"confidence {confidence:.4f} < threshold {threshold:g}, {('no', 'one')[checks]} identity checks it")


def not_looked_at(r: Reading) -> Reading:
    """A scan's blank the second look could not find on its page (no region for its column or
    line): nothing saw that it holds no number, so a person does, whatever the sums say (a
    number lost with its neighbours shifted keeps every sum)."""
    if r.bbox is not None or r.value != 0 or r.status == "needs_review":
        return r
    return replace(r, status="needs_review", doubt="unseen",
                   reason=why("blank_unseen", "the second look found no region of the page for it"))


def looked_again(r: Reading, look: SecondLook, threshold: float) -> Reading:
    """A cell after the second look at its page (``verify``): a blank that holds ink takes the
    ink's reading; a number read twice alike stands; readings that disagree give the cell both
    readings' candidates and send it to a person, unless the identities settle it (a cell
    sent for this alone, with no doubt of its place, may be released or corrected later)."""
    if look.kind == "clear":
        return replace(r, inspected=True)
    if look.kind == "off_print":
        return replace(r, status="needs_review", doubt="placement",
                       reason=why("grid_off_print", "the columns found for its row reach past all the page prints"))
    if look.kind == "crowded":
        return replace(r, status="needs_review", doubt="placement",
                       reason=why("placement", "the columns found for its row crowd each other: its cells may be shifted"))
    if look.kind == "off_column":
        return replace(r, status="needs_review", doubt="placement",
                       reason=why("placement", f"a number of its row placed as {r.key if r.bbox else look.other} "
                                                f"stands in the column of {look.other if r.bbox else r.key}"))
    if look.kind == "band":
        if all(_value(t, _INK_LOOKALIKE) == 0 for t in look.first.text.split()):
            return replace(r, inspected=True)  # zero marks only on the line: its blanks stand
        return replace(r, status="needs_review", doubt="unseen", text=look.first.text, page=look.page or r.page,
                       reason=why("ink_unplaced", f"its row's line holds ink read as {look.first.text!r}, "
                                                  "and no column of its table was found on the page"))
    return _inked(r, look, threshold) if look.kind == "ink" else _read_again(r, look)


def _inked(r: Reading, look: SecondLook, threshold: float) -> Reading:
    first, again = look.first, look.again
    value, other = _value(first.text, _INK_LOOKALIKE), _value(again.text, _INK_LOOKALIKE)
    if value == 0 and other in (0, None) or value is None and other == 0:
        return replace(r, inspected=True)  # a zero mark (— or /) where the column prints its zeros so: the blank stands
    if value in (None, 0) and other not in (None, 0):  # the closer crop read nothing, the wider one a number
        first, again, value, other = again, first, other, value
    if value is None:
        return replace(r, status="needs_review", text=first.text, page=look.page or r.page, bbox=look.box,
                       reason=why("ink_unread", f"the blank cell holds ink read as {first.text!r}"))
    # the first look saw no number here: as likely a blank (a zero mark) as the ink reads poorly
    options = with_extra(_ink_candidates(first, value), {0: max(CONFUSION_PRIOR, 1 - first.score)})
    if other != value and other is not None:
        # two readings that disagree: the likelier value, the first look's blank counted with them
        # (a grey 0 cut short reads 6 or 9 close and 0 wide); the sums then say whether it stands
        options = _merged(options, _ink_candidates(again, other))
        value = options[0][0]
    # a letter read for a digit (``s`` for a faint 5) is a look-alike: as sure as a confusion is likely
    letters = _value(first.text) != value
    confidence = round(min(r.placed, first.score) * (0.5 if letters else 1.0), 4)
    if other != value:
        reason = why("readings_disagree", f"ink read as {first.text!r} and {again.text!r}")
    elif confidence < threshold or r.doubt is not None:
        reason = why("low_confidence", f"ink read as {first.text!r} at {confidence:.3f}, below {threshold:.3f}")
    else:
        reason = None
    return replace(r, value=value, text=first.text, confidence=confidence, status="needs_review" if reason else "read",
                   page=look.page or r.page, bbox=look.box, candidates=options, reason=reason)


def _ink_candidates(read: Recognized, value: Number) -> tuple[tuple[Number, float], ...]:
    """A reading of ink as candidates: the recogniser's n-best for digits, else the value its look-alike letters make."""
    return candidates(read.text, read.nbest) if read.nbest else candidates(str(value), ((str(value), 1.0),))


def _read_again(r: Reading, look: SecondLook) -> Reading:
    again = look.again
    value = _value(again.text)
    if value == r.value and not look.dash:
        return r
    extra = dict(candidates(again.text, again.nbest or ((again.text, 1.0),))) if value is not None else {}
    if look.dash:
        extra[-r.value] = max(extra.get(-r.value, 0.0), 0.5)
    options = _merged(r.candidates or ((r.value, 1.0),), tuple(extra.items())) if extra else r.candidates
    detail = f"read as {r.text!r}, then as {again.text!r}" + (" with a dash before it" if look.dash else "")
    return replace(r, status="needs_review", candidates=options, reason=why("readings_disagree", detail))


def _merged(a: tuple[tuple[Number, float], ...], b: tuple[tuple[Number, float], ...]) -> tuple[tuple[Number, float], ...]:
    """Two independent readings' candidates, each weighing half."""
    prob: dict[Number, float] = {}
    for options in (a, b):
        total = sum(p for _, p in options) or 1.0
        for v, p in options:
            prob[v] = prob.get(v, 0.0) + p / total / 2
    return tuple(sorted(prob.items(), key=lambda kv: -kv[1]))


def lookalike(text: str) -> Number | None:
    """The number a reading's letters resemble (``s`` for 5, ``B`` for 8), when it reads as letters only."""
    t = normalize(text)
    return None if not t or t.isdigit() else _value(t, _INK_LOOKALIKE)


def _value(text: str, lookalike: dict | None = None) -> Number | None:
    """The number a reading prints (0 for a zero mark); None when it read none, or characters
    (``lookalike``: letters taken for the digits they resemble)."""
    t = normalize(text)
    if not t:
        return None
    if lookalike and not t.isdigit() and t.translate(lookalike).isdigit():
        t = t.translate(lookalike)
    return 0 if t == "一" else parse_number(t)


# letters the recogniser reads for faint digits it cannot make out, in ink no box was found for
_INK_LOOKALIKE = str.maketrans("SsBZzgqbOoD", "55822996000")


def template_doubt(readings: list[Reading], keys: set[str], detail: str) -> list[Reading]:
    """The keys that stand or fall with a template taken in doubt go to a person, and stay
    (``doubt``: no identity can tell a template from its rival)."""
    return [replace(r, status="needs_review", doubt="template", reason=why("template_doubt", detail))
            if r.key in keys else r for r in readings]


def placement_doubt(readings: list[Reading], keys: dict[str, str]) -> list[Reading]:
    """Keys whose place the source leaves in doubt go to a person, and stay (``doubt``), with why."""
    return [replace(r, status="needs_review", doubt="placement", reason=why("placement", keys[r.key]))
            if r.key in keys else r for r in readings]


def tables_not_found(readings: list[Reading], tables: set[str]) -> list[Reading]:
    """Every key of a table whose rows were not found (its headings printed, its row labels not
    read) goes to a person, and stays (``doubt``): nothing anchors where its numbers belong."""
    return [replace(r, status="needs_review", doubt="unlabelled",
                    reason=why("not_found", f"the rows of table {r.key.split('.', 1)[0]} were not found"))
            if r.key.split(".", 1)[0] in tables else r for r in readings]


def _send(doubtful: dict[str, str], reasons: dict[str, str]) -> None:
    """Send keys to a person; one already sent keeps its first reason."""
    for k, reason in reasons.items():
        doubtful.setdefault(k, reason)


def _failing_rules(broken: list[Identity]) -> dict[str, str]:
    """Each key of the failing identities, and their rules."""
    rules: dict[str, list[str]] = {}
    for ident in broken:
        for k in ident.keys:
            rules.setdefault(k, []).append(ident.rule)
    return {k: ", ".join(r) for k, r in rules.items()}


def fill_missing(readings: list[Reading], missing: set[str], variant: Variant) -> list[Reading]:
    """Derive cells no table cell was found for, where one identity pins them down."""
    values = {r.key: r.value for r in readings}
    unknown = set(missing)
    derived_by: dict[str, str] = {}
    changed = True
    while changed and unknown:
        changed = False
        for ident in identities(variant):
            todo = [k for k in ident.keys if k in unknown]
            if len(todo) != 1:
                continue
            k = todo[0]
            parts = sum(values[x] for x in ident.parts if x != k)
            totals = sum(values[x] for x in ident.total if x != k)
            derived = totals - parts if k in ident.parts else parts - totals
            if derived < 0:
                continue
            values[k] = derived
            derived_by[k] = ident.rule
            unknown.discard(k)
            changed = True
    return [replace(r, value=values[r.key], text="", reason=why("derived", f"no cell holds it; derived from {derived_by[r.key]}"))
            if r.key in derived_by else r for r in readings]


# --- other readings of an OCR'd cell -----------------------------------------------------

# Digits the recogniser takes for one another on poor scans, and how likely such a slip is
# against its own best reading; a dropped or doubled digit is rarer still.
CONFUSABLE = {"0": "689", "1": "74", "2": "7", "3": "85", "4": "1", "5": "63", "6": "508", "7": "12",
              "8": "0369", "9": "08"}
CONFUSION_PRIOR, EDIT_PRIOR = 1e-3, 1e-4


def candidates(text: str, ocr: tuple[tuple[str, float], ...], slash: float = 0.0) -> tuple[tuple[Number, float], ...]:
    """The numbers an OCR'd cell may print, most probable first: the recogniser's n-best
    readings, and, for its best one, every known look-alike digit, dropped or doubled digit
    (each at least at its prior, relative to the best reading).  ``slash``: how likely a
    ``1`` is a zero printed as ``/`` that the recogniser took for one (see ``slash_prior``)."""
    prob: dict[Number, float] = {}
    for t, p in ocr or ((text, 1.0),):
        v = parse_number(t)
        if v is not None:
            prob[v] = prob.get(v, 0.0) + p
    digits = normalize(text)
    if not digits.isdigit() or not prob:
        return tuple(sorted(prob.items(), key=lambda kv: -kv[1]))
    variants = {}
    for i, d in enumerate(digits):
        for other in CONFUSABLE.get(d, ""):
            variants[digits[:i] + other + digits[i + 1:]] = CONFUSION_PRIOR
        variants.setdefault(digits[:i] + digits[i + 1:], EDIT_PRIOR)
        variants.setdefault(digits[:i + 1] + d + digits[i + 1:], EDIT_PRIOR)
    if slash and digits == "1":
        variants["0"] = max(slash, CONFUSION_PRIOR)
    priors: dict[Number, float] = {}
    for t, prior in variants.items():
        v = parse_number(t) if t and (len(t) == 1 or t[0] != "0") else None
        if v is not None:
            priors[v] = max(priors.get(v, 0.0), prior)
    top = max(prob.values())
    if ocr and top < JUNK_BELOW:  # the recogniser cannot tell what it saw: a smudge, nothing printed
        priors[0] = max(priors.get(0, 0.0), (1 - top) / top)
    return with_extra(tuple(prob.items()), priors)


# a number box read with less confidence than this may be a smudge over a blank cell
JUNK_BELOW = 0.5
# how often a recogniser reads a printed ``/`` as ``1`` on a poor scan: an assumed rate (the
# worst page of 500 generated scans read 4 of its some 100 slashes so, most read none)
SLASH_AS_ONE = 0.02


def slash_prior(texts: list[str]) -> float:
    """How likely a ``1`` of these cells is a zero printed as ``/`` and read as ``1``: none
    unless the report prints zero so (two ``/`` or more); else as many slashes as the
    recogniser would have taken for ones, shared among the ones read."""
    slashes, ones = sum(t == "/" for t in texts), sum(t == "1" for t in texts)
    if slashes < 2 or not ones:
        return 0.0
    return min(0.5, SLASH_AS_ONE * slashes / ones)


def with_extra(options: tuple[tuple[Number, float], ...], priors: dict[Number, float]) -> tuple[tuple[Number, float], ...]:
    """``options`` with more readings, each at least at its prior relative to the best one."""
    prob = dict(options)
    top = max(prob.values())
    for v, prior in priors.items():
        prob[v] = max(prob.get(v, 0.0), prior * top)
    total = sum(prob.values())
    return tuple((v, p / total) for v, p in sorted(prob.items(), key=lambda kv: -kv[1]))


def with_placements(options: tuple[tuple[Number, float], ...], placements: tuple[tuple[Number | None, float], ...],
                    value: Number) -> tuple[tuple[Number, float], ...]:
    """A page cell's readings when its place is in doubt too: each value the structure stage
    would give the key placed otherwise (another cell, or a blank), at that placement's
    probability, and the readings of the cell it took, sharing that one's."""
    prob: dict[Number, float] = {}
    for v, p in placements:
        if v is None:
            continue
        for w, q in (options or ((v, 1.0),)) if v == value else ((v, 1.0),):
            prob[w] = prob.get(w, 0.0) + p * q
    total = sum(prob.values())
    if not total:
        return options
    return tuple((v, p / total) for v, p in sorted(prob.items(), key=lambda kv: -kv[1]))


# --- the search ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Fix:
    """Readings that make every identity hold, and what they cost: the sum over changed cells
    of -log(P(new reading) / P(reading taken))."""

    changes: tuple[tuple[str, Number], ...]
    cost: float
    guessed: tuple[str, ...] = ()  # changed cells whose new value no candidate offered


MAX_CHANGES = 4


def solve(values: dict[str, Number], alternatives: dict[str, tuple[tuple[Number, float], ...]],
          idents: list[Identity], keep: int = 2, guess_cost: float | None = None,
          limit: float = math.inf) -> list[Fix]:
    """The ``keep`` cheapest sets of changed readings under which every identity holds, cheapest first.

    Exact branch and bound: some cell of the first failing identity must change, so branch on
    those cells' readings; a branch costing more than the ``keep``-th best found, or than
    ``limit``, is cut.
    ``guess_cost``: a cell may also take, at this cost, whatever value mends the failing
    identity (a number the scan lost, or two numbers it merged, is no candidate of its own).
    """
    involved = [i for i in idents if all(k in values for k in i.keys)]
    residual = [sum(values[k] for k in i.parts) - sum(values[k] for k in i.total) for i in involved]
    sign: dict[str, list[tuple[int, int]]] = {}
    for n, ident in enumerate(involved):
        for k in ident.parts:
            sign.setdefault(k, []).append((n, 1))
        for k in ident.total:
            sign.setdefault(k, []).append((n, -1))
    options = {}
    for k, alts in alternatives.items():
        p_taken = next((p for v, p in alts if v == values.get(k)), 0.0)
        if k in sign and p_taken > 0:
            options[k] = [(v, math.log(p_taken / p)) for v, p in alts if v != values[k] and p > 0]
    found: dict[frozenset, tuple[float, tuple[str, ...]]] = {}
    changed: dict[str, Number] = {}
    guessed: list[str] = []

    def bound() -> float:
        costs = sorted(c for c, _ in found.values())
        return min(costs[keep - 1], limit) if len(costs) >= keep else limit

    def readings(k: str, failing: int) -> list[tuple[Number, float, bool]]:
        out = [(v, c, False) for v, c in options.get(k, ())]
        if guess_cost is not None:
            # the value that mends the identity branched on, or another failing one of the cell's
            # (a number lost from a row and a column at once mends its column, not its row alone)
            for n, sg in sorted(sign[k], key=lambda ns: ns[0] != failing):
                v = values[k] - sg * residual[n]
                if abs(residual[n]) > 1e-6 and v >= 0 and v != values[k] and all(v != w for w, _, _ in out):
                    out.append((v, guess_cost, True))
        return out

    def search(cost: float) -> None:
        failing = next((n for n, r in enumerate(residual) if abs(r) > 1e-6), None)
        if failing is None:
            key = frozenset(changed.items())
            if cost < found.get(key, (math.inf,))[0]:
                found[key] = (cost, tuple(sorted(guessed)))
            return
        if len(changed) == MAX_CHANGES:
            return
        for k in involved[failing].keys:
            if k in changed:
                continue
            for v, c, guess in readings(k, failing):
                if cost + c >= bound():
                    continue
                delta = v - values[k]
                for n, sg in sign[k]:
                    residual[n] += sg * delta
                changed[k] = v
                guessed.extend([k] * guess)
                search(cost + c)
                del guessed[len(guessed) - guess:]
                del changed[k]
                for n, sg in sign[k]:
                    residual[n] -= sg * delta

    search(0.0)
    fixes = sorted((Fix(tuple(sorted(ch)), c, g) for ch, (c, g) in found.items()), key=lambda f: f.cost)
    return fixes[:keep]


# Taken without a person only when the best fix is this many times likelier than the next,
# and costs no more than two look-alike digits.
CERTAIN_ODDS, MAX_COST = 100.0, -2 * math.log(CONFUSION_PRIOR) + 1.0


def reconcile(readings: list[Reading], missing: set[str], variant: Variant,
              strong: float = 0.999, figures: tuple[Figure, ...] = (), exact: bool = True,
              unread: int = 0, inconsistent: frozenset[str] = frozenset()) -> tuple[list[Reading], list[Check]]:
    """Derive missing cells, correct certain misreadings (of a page), and send the rest of what breaks an identity to review.

    ``exact``: the cells are the report's own characters (a text or a text layer).
    When an identity fails, its cells placed with less than ``strong`` confidence
    are suspects, and so are their whole rows (a misplaced cell shifts its
    neighbours; a column a scan lost moves every number after it, and the rows
    still add up).  In an exact source, failures among confidently placed cells
    are the report's own: ``source_inconsistent``.  Cells read off a page are not
    exact: see ``settle``.  Nor, when ``unread`` numbers of the tables went to no cell (a number
    wrapped over two lines): a failing identity may be one of them, so its cells go to a person.
    ``inconsistent``: the identities the source breaks whichever way its doubtful cells read
    (every split of a flat text's digits): failing, they are ``source_inconsistent``.

    The rules run in turn (``settle``'s first), each naming keys with a reason; the first
    reason a key gets is its own, and a cell already in review keeps the one it came with.
    """
    readings = fill_missing(readings, missing, variant)
    by_key = {r.key: r for r in readings}  # as the structure stage left them
    doubtful: dict[str, str] = {}
    if not exact:
        readings, doubtful, explained = settle(readings, variant, figures, missing, strong)
    else:
        explained = set()
    values = {r.key: r.value for r in readings}
    broken = _broken(identities(variant), values)
    _send(doubtful, _rows_in_doubt([i for i in broken if i.rule not in explained], by_key, doubtful, strong))
    if exact and unread:
        _send(doubtful, _strays(broken, unread))
    _send(doubtful, _blanks_in_doubt(readings, by_key, doubtful, strong, exact))
    _send(doubtful, _contradicted(figures, values, by_key))
    readings = [replace(r, status="needs_review", reason=r.reason or doubtful[r.key]) if r.key in doubtful else r
                for r in readings]
    return readings, checks(readings, variant, figures, inconsistent)


def _rows_in_doubt(broken: list[Identity], by_key: dict[str, Reading], doubtful: dict[str, str],
                   strong: float) -> dict[str, str]:
    """Every cell of a row with a doubtful cell in a failing identity: a misplaced cell shifts
    its neighbours, and a column a scan lost moves every number after it while the rows still
    add up.  (On a page a blank is a 0 no character printed: in a failing identity it is no
    witness, unless the second look found its region free of ink.  Two readings that disagree
    doubt a cell's characters, not its place.)"""
    paged = any(r.bbox for r in by_key.values())
    failed = _failing_rules(broken)
    cause: dict[str, str] = {}  # row -> its doubtful cell
    for ident in broken:
        for k in ident.keys:
            r = by_key[k]
            if (r.status == "needs_review" and _code(r.reason) != "readings_disagree" or r.placed < strong
                    or k in doubtful and r.placed <= strong or paged and not r.bbox and not r.inspected):
                cause.setdefault(_row_of(k), k)
    return {k: why("identity_failed", failed[k]) if k in failed else
            why("row_in_doubt", f"{cause[_row_of(k)]} is in doubt, in failing {failed[cause[_row_of(k)]]}")
            for k in by_key if _row_of(k) in cause}


def _strays(broken: list[Identity], unread: int) -> dict[str, str]:
    """Every cell of a failing identity when numbers of the tables went to no cell: the
    identity may lack one of them."""
    return {k: why("stray_number", f"{unread} number(s) of the tables in no cell; failing: {rules}")
            for k, rules in _failing_rules(broken).items()}


def _blanks_in_doubt(readings: list[Reading], by_key: dict[str, Reading], doubtful: dict[str, str], strong: float,
                     exact: bool) -> dict[str, str]:
    """The blanks of a row whose number (on a page: a scan or a text layer) is placed in doubt:
    the number may belong in any of them, its row total holds wherever it sits (zeros printed
    as blanks give no other clue).  表四 prints its three groups on one line: on a text layer
    (``settle`` sees to a scan's) a group left wholly blank beside a doubtful one may be where
    its numbers belong.  (Not a number the arithmetic corrected: identities placed it, or it
    was a smudge.)"""
    corrected = {r.key for r in readings if r.status == "corrected"}
    cause: dict[str, str] = {}  # row -> its number placed in doubt
    for k, r in by_key.items():
        if r.bbox and r.placed < strong and k not in corrected and (r.status == "needs_review" or k in doubtful):
            cause.setdefault(_row_of(k), k)
    blank = {k for k, r in by_key.items() if not r.bbox and r.value == 0}
    line = next((k for row, k in cause.items() if row.startswith("review_litigation.")), None)
    if exact and line:
        for group in {_row_of(k) for k in by_key if k.startswith("review_litigation.")}:
            if all(k in blank for k in by_key if _row_of(k) == group):
                cause.setdefault(group, line)
    return {k: why("column_in_doubt", f"{cause[_row_of(k)]} is placed in doubt and may belong here")
            for k in blank if _row_of(k) in cause}


def _contradicted(figures: tuple[Figure, ...], values: dict[str, Number], by_key: dict[str, Reading]) -> dict[str, str]:
    """An OCR'd cell the prose contradicts (an exactly read one is the report's own slip)."""
    prose, constants = stated(figures)
    return {k: why("identity_failed", rules) for k, rules in _failing_rules(_broken(prose, values | constants)).items()
            if k in by_key and len(by_key[k].candidates) > 1}


# Fixes kept per search on a page: when this many are all near the best, where the error
# lies is not known and every cell of the failing identities goes to a person.
KEEP = 6
# What taking a value no candidate offers costs: dearer than a look-alike digit, so that a
# misreading the candidates explain is preferred, cheaper than two.
GUESS_COST = -math.log(CONFUSION_PRIOR) + 3.0
# The dearest fix that still says where the error lies (never taken): two lost numbers.
LOCATE_COST = 2 * GUESS_COST


def settle(readings: list[Reading], variant: Variant, figures: tuple[Figure, ...] = (),
           missing: set[str] = frozenset(), strong: float = 0.999) -> tuple[list[Reading], dict[str, str], set[str]]:
    """Readings off a page after the certain corrections, the keys a person must see, with why,
    and the rules of the failing identities a fix explains (taken or not: where the error lies is known).

    A page cell may be misread or misplaced (its candidates hold both), and a blank may
    be a number the scan lost.  When identities fail, the search over every cell's
    candidates says where the error lies: the cells changed by any fix nearly as probable
    as the best go to a person, unless the best is certain and vouched for, when it is
    taken.  A fix too dear to take (numbers the scan lost, which no candidate offers) still
    says where the error lies, when few fixes come near it.  When no fix within reach
    explains the failure, or too many do, every cell of the failing identities goes to a
    person, and so do the rows beside a failing row total.

    A figure the prose states vouches for a change like an identity does, but does not
    bind the search: prose is sometimes loose (受理 counting last year's carry-over too).
    """
    by_key = {r.key: r for r in readings}
    values = {k: r.value for k, r in by_key.items()}
    idents = [i for i in identities(variant) if all(k in by_key for k in i.keys)]
    failing = _broken(idents, values)
    readings = _release(readings, idents, failing, missing)
    by_key = {r.key: r for r in readings}
    prose, constants = stated(figures)
    prose = [i for i in prose if all(k in by_key for k in i.parts)]
    alternatives = {k: r.candidates for k, r in by_key.items() if len(r.candidates) > 1}
    taken: dict[Fix, float] = {}
    doubtful: dict[str, str] = {}
    explained: set[str] = set()
    # 表三 and each group of 表四 share no cell: each is its own search
    for group in _connected(idents):
        broken = [i for i in failing if i in group]
        if not broken:
            continue
        fixes = _searched(values, alternatives, group)
        near = [f for f in fixes if f.cost - fixes[0].cost < math.log(CERTAIN_ODDS)]
        if not fixes or len(near) == KEEP:
            _send(doubtful, _unsettled(broken, variant))
            continue
        explained |= {i.rule for i in broken}
        best = fixes[0]
        if best.cost > MAX_COST:
            _send(doubtful, _not_taken(near, broken, by_key, values, variant, "it costs more than two look-alike digits"))
            continue
        # a cell placed without its label, or derived, may hold a value no candidate offers: a
        # fix that moves one (rather than reading its own digits otherwise) is never certain; one
        # that leaves them be and mends both identities of every cell it changes is: a lone
        # wrong value breaks no two identities that cross elsewhere.  A value no candidate
        # offers is a guess, never taken, but for a box the recogniser read as no number at all
        in_doubt = any((by_key[k].doubt or k in missing) and v not in dict(_own_readings(by_key[k]))
                       for k, v in best.changes)
        if len(near) == 1 and not in_doubt and all(unread(by_key[k]) for k in best.guessed) and (
                _vouched(best, broken, prose, values, constants, group) or _pointed_out(best, broken, by_key, strong)):
            taken[best] = math.exp(fixes[1].cost - best.cost) if len(fixes) > 1 else math.inf
            continue
        unsure = ("a cell placed in doubt takes a value its characters do not read" if in_doubt else
                  "it guesses a value no reading offers" if not all(unread(by_key[k]) for k in best.guessed) else
                  "fewer than two identities vouch for it")
        _send(doubtful, _not_taken(near, broken, by_key, values, variant, unsure))
    # 表四 is one printed line: a number placed in doubt there (a blank before it, or a box
    # too many) may have pushed every later one a column on, and each group still adds up
    # (not a cell a taken fix re-reads: its place was never in doubt, only its characters)
    fixed = {k for fix in taken for k, _ in fix.changes}
    line = [k for k in variant.keys if k.startswith("review_litigation.") and k in by_key]
    first = next((n for n, k in enumerate(line) if by_key[k].status == "needs_review" and k not in fixed
                  and not unread(by_key[k])), len(line))
    if first < len(line):
        _send(doubtful, {k: why("line_in_doubt", f"from {line[first]} on, which is in doubt") for k in line[first:]})
    for fix, odds in taken.items():
        readings = _take(readings, fix, odds)
    if taken:  # the identities a fix mended now hold: what they vouch for is read after all
        readings = _release(readings, idents, _broken(idents, {r.key: r.value for r in readings}), missing)
    return readings, doubtful, explained


def _searched(values: dict[str, Number], alternatives: dict[str, tuple[tuple[Number, float], ...]],
              group: list[Identity]) -> list[Fix]:
    """The cheapest fixes of a group's identities, searched from the readings taken and again
    from each cell's likeliest reading: a page whose zeros print as ``/`` may read a dozen of
    them ``1`` first and ``/`` when read again, more changes than one search reaches, and each
    of them is then a change back or none.  Costs are against the readings taken."""
    limit = LOCATE_COST + math.log(CERTAIN_ODDS)
    fixes = solve(values, alternatives, group, KEEP, GUESS_COST, limit)
    keys = {k for i in group for k in i.keys}
    prob = {k: dict(alternatives[k]) for k in keys & alternatives.keys() if values[k] in dict(alternatives[k])}
    likeliest = {k: max(p, key=p.get) for k, p in prob.items()}
    likeliest = {k: v for k, v in likeliest.items() if v != values[k]}
    if not likeliest:
        return fixes
    offset = sum(math.log(prob[k][values[k]] / prob[k][v]) for k, v in likeliest.items())
    for f in solve(values | likeliest, alternatives, group, KEEP, GUESS_COST, limit - offset):
        changes = {k: v for k, v in (likeliest | dict(f.changes)).items() if v != values[k]}
        fixes.append(Fix(tuple(sorted(changes.items())), offset + f.cost, f.guessed))
    cheapest: dict[tuple, Fix] = {}
    for f in sorted(fixes, key=lambda f: f.cost):
        cheapest.setdefault(f.changes, f)
    return list(cheapest.values())[:KEEP]


def _not_taken(near: list[Fix], broken: list[Identity], by_key: dict[str, Reading], values: dict[str, Number],
               variant: Variant, unsure: str) -> dict[str, str]:
    """Why the cells the near-best fixes change go to a person (``unsure``: why a lone one was
    not taken), and the rows of the values they guess: a guess is a lost or merged number, and
    the rest of its row may have shifted with it."""
    rules = ", ".join(i.rule for i in broken)
    out = _cuts(near, by_key, variant)
    for k in dict.fromkeys(k for f in near for k, _ in f.changes):
        reads = " or ".join(dict.fromkeys(str(dict(f.changes).get(k, values[k])) for f in near))
        out.setdefault(k, why("fix_ambiguous", f"{len(near)} fixes of {rules} about as likely read it {reads}") if len(near) > 1
                       else why("fix_uncertain", f"the best fix of {rules} reads it {reads}, but {unsure}"))
    for g in dict.fromkeys(g for f in near for g in f.guessed):
        for k in by_key:
            if _row_of(k) == _row_of(g):
                out.setdefault(k, why("row_in_doubt", f"{g} may be a number the scan lost or merged"))
    return out


def _cuts(near: list[Fix], by_key: dict[str, Reading], variant: Variant) -> dict[str, str]:
    """The two cells of a box that near-best fixes cut in two (``156312`` as 156 | 312, the blank
    beside it taking one part: see ``pipeline._split_merged``), and the cuts."""
    cuts: dict[tuple[str, str], list[str]] = {}
    for f in near:
        new = dict(f.changes)
        for row in variant.rows:
            for pair in zip(row.keys, row.keys[1:]):
                texts = [by_key[k].text for k in pair]
                if all(k in new for k in pair) and "" in texts and f"{new[pair[0]]}{new[pair[1]]}" == "".join(texts):
                    cuts.setdefault(pair, []).append(f"{new[pair[0]]} | {new[pair[1]]}")
    return {k: why("split_ambiguous", f"{''.join(by_key[x].text for x in pair)} may be {' or '.join(dict.fromkeys(c))}"
                   + ("" if len(c) == len(near) else " or not cut"))
            for pair, c in cuts.items() for k in pair}


# Of the boxes read as characters under a scan's blank cells (500 generated scans), 21 of 22
# were zero marks (``—`` read as ``m``), one a number (``4`` read as ``在``)
MARK_IS_ZERO = 0.95


def unread(r: Reading) -> bool:
    """A cell whose box the recogniser read as no number at all: its value is whatever the
    identities make it, its own reading says nothing against that."""
    return r.bbox is not None and not r.candidates and parse_number(r.text) is None


def _pointed_out(fix: Fix, broken: list[Identity], by_key: dict[str, Reading], strong: float) -> bool:
    """One sum alone may mend one cell when the recogniser itself points it out: it could not
    make the cell's characters out, and read every other cell of the sum surely, each surely
    placed (two misreads that still add up would need two doubted cells).  Its own place
    may be in doubt when it becomes a blank: a smudge is nothing printed wherever it sits."""
    if len(fix.changes) != 1 or len(broken) != 1:
        return False
    (key, value), = fix.changes
    r = by_key[key]
    return (r.confidence < JUNK_BELOW * r.placed and value in dict(_own_readings(r)) and (value == 0 or r.placed >= strong)
            and all(_read_surely(by_key[k]) and by_key[k].placed >= strong for k in broken[0].keys if k != key))


def _own_readings(r: Reading) -> tuple[tuple[Number, float], ...]:
    """What the cell's own characters may read, its place aside: its look-alikes, and a
    blank when the recogniser could not make them out (its belief: confidence over placement)."""
    belief = r.confidence / r.placed if r.candidates and r.placed > 0 else 1.0
    return candidates(r.text, ((r.text, min(max(belief, 1e-6), 1.0)),))  # a reading no n-best offered: barely believed


def _connected(idents: list[Identity]) -> list[list[Identity]]:
    """The identities in groups that share no cell with one another."""
    groups: list[tuple[set[str], list[Identity]]] = []
    for ident in idents:
        keys, members = set(ident.keys), [ident]
        for g in [g for g in groups if g[0] & keys]:
            groups.remove(g)
            keys |= g[0]
            members = g[1] + members
        groups.append((keys, members))
    return [m for _, m in groups]


# The confidence of a cell placed with doubt that two identities, both holding, vouch for:
# on held-out scans every such cell was right.
VOUCHED = 0.95


def _release(readings: list[Reading], idents: list[Identity], failing: list[Identity], missing: set[str]) -> list[Reading]:
    """A page cell sent to review only for a doubtful place (no lost label, no odd line) is
    read after all when two identities over it hold: a misplaced number breaks its row or
    its column.  (Not a cell the page lacked: a derived value makes its identity hold.)"""
    broken = {k for i in failing for k in i.keys}
    # where an identity fails, a whole table may have shifted: nothing there is released
    tables = {k.split(".", 1)[0] for k in broken}
    count: dict[str, int] = {}
    for i in idents:
        for k in i.keys:
            count[k] = count.get(k, 0) + 1
    # a whole 表四 line vouches for places, not readings: one sum cannot see two misreads
    # that still add up, so a cell the recogniser doubts stays with a person
    by_key = {r.key: r for r in readings}
    whole = {k for k in _whole_line(readings, idents, broken) if _read_surely(by_key[k])}
    return [replace(r, status="read", confidence=max(r.confidence, VOUCHED), reason=None, doubt=None)
            if r.status == "needs_review" and r.doubt is None and r.key not in missing
            and (count.get(r.key, 0) >= 2 and r.key.split(".", 1)[0] not in tables or r.key in whole and r.doubt is None)
            else r for r in readings]


def _read_surely(r: Reading) -> bool:
    """The recogniser's own belief in the cell's reading, its place aside, is near certain."""
    return r.placement is None or r.confidence >= 0.99 * r.placement


def _whole_line(readings: list[Reading], idents: list[Identity], broken: set[str]) -> set[str]:
    """表四's keys when its line is whole: a printed cell for every column, left to right on one
    page, and every group adding up.  Then order and place agree, and a number lost or split
    would have shifted one group's sum."""
    line = [r for r in readings if r.key.startswith("review_litigation.")]
    groups = [i for i in idents if i.rule.startswith("review_litigation.")]
    if not line or not groups or broken & {r.key for r in line} or any(r.bbox is None for r in line):
        return set()
    xs = [r.bbox[0] for r in line]
    if len({r.page for r in line}) > 1 or xs != sorted(xs):
        return set()
    return {r.key for r in line}


def _vouched(fix: Fix, failing: list[Identity], prose: list[Identity], values: dict, constants: dict,
             group: list[Identity] = ()) -> bool:
    """Every changed cell is in two identities the fix mends (a prose figure counts as one).
    An identity that holds before and after, where the fix moves one part and the total alike
    (a row whose one number was misread the same way in its cell and in its total), counts
    for both: only a pair of such misreads in one row mends those two columns together."""
    after = values | constants | dict(fix.changes)
    witnesses = failing + [i for i in prose if not _holds(i, values | constants) and _holds(i, after)]
    new = dict(fix.changes)
    for i in group:
        moved = {k: new[k] - values[k] for k in i.keys if k in new}
        if len(moved) == 2 and len(set(moved.values())) == 1 and sum(k in i.total for k in moved) == 1:
            witnesses.append(i)
    return all(sum(k in i.keys for i in witnesses) >= 2 for k, _ in fix.changes)


def _take(readings: list[Reading], fix: Fix, odds: float) -> list[Reading]:
    """The fix's readings, ``corrected``, as sure as the fix is against the next best."""
    new = dict(fix.changes)
    confidence = round(min(1 - 1 / (1 + odds), 0.9999), 4)  # no second fix: odds are infinite
    return [replace(r, value=new[r.key], status="corrected", confidence=confidence, reason=None) if r.key in new else r
            for r in readings]


def _unsettled(failing: list[Identity], variant: Variant) -> dict[str, str]:
    """Every cell of a failing identity; for a failing row total, its neighbouring rows' too
    (a value the scan slipped into the next row leaves that row adding up: 0 = 0)."""
    rows = [r.keys for r in variant.rows if r.keys]
    row_of = {k: i for i, keys in enumerate(rows) for k in keys}
    out = {k: why("identity_failed", rules) for k, rules in _failing_rules(failing).items()}
    for ident in failing:
        if ident.rule.startswith("requests.row_total."):
            i = row_of[ident.total[0]]
            _send(out, {k: why("row_in_doubt", f"beside failing {ident.rule}") for j in (i - 1, i + 1)
                        if 0 <= j < len(rows) and rows[j][0].startswith("requests.") for k in rows[j]})
    return out


def _code(reason: str | None) -> str | None:
    return reason.split(":", 1)[0] if reason else None


def _row_of(key: str) -> str:
    return key.rsplit(".", 1)[0]


def checks(readings: list[Reading], variant: Variant, figures: tuple[Figure, ...] = (),
           inconsistent: frozenset[str] = frozenset()) -> list[Check]:
    by_key = {r.key: r for r in readings}
    prose, constants = stated(figures)
    values = {k: r.value for k, r in by_key.items()} | constants
    out = []
    for ident in identities(variant) + prose:
        cells = tuple(k for k in ident.keys if k in by_key)
        if len(cells) < len(ident.keys) - (ident in prose):
            continue
        holds = _holds(ident, values)
        statuses = {by_key[k].status for k in cells}
        if holds:
            verdict = "corrected" if "corrected" in statuses else "ok"
        else:
            sure = "needs_review" not in statuses or ident.rule in inconsistent
            verdict = "source_inconsistent" if sure else "unresolved"
        out.append(Check(ident.rule, holds, verdict, cells))
    return out
