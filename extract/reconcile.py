"""Arithmetic reconciliation: the identities the tables obey, evaluated into checks.

An identity is ``sum(parts) == total``.  Cells the structure stage could not
find are derived from an identity when it determines them uniquely (still
``needs_review``: derived, not read).  Where identities fail, the OCR'd cells
in them offer other readings (the recogniser's n-best, and the digits it is
known to confuse); an exact search finds the most probable set of readings
that makes every identity hold.  It is taken (``corrected``) only when it is
far more probable than any other, and every cell it changes is vouched for by
two identities; otherwise the cells go to a person.  A failing identity whose
cells were all read exactly and placed confidently is the report's own error
(``source_inconsistent``); any other failure is ``unresolved``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .normalize import normalize, parse_number
from .records import Check, Figure, Number, Reading
from .schema import APPLICANTS, OUTCOMES, REVIEW_GROUPS, Variant


@dataclass(frozen=True, slots=True)
class Identity:
    rule: str
    parts: tuple[str, ...]
    total: tuple[str, ...]  # one key, or two for 一+二 = 三+四

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.parts, *self.total)


def identities(variant: Variant) -> list[Identity]:
    rows = [r.name.split(".", 1)[1] for r in variant.rows if r.table == "requests" and r.keys]
    outcomes = [r for r in rows if r not in ("new_received", "carried_over", "total", "carried_forward")]
    out = []
    for row in rows:
        out.append(Identity(f"requests.row_total.{row}",
                            tuple(f"requests.{row}.{c}" for c in APPLICANTS[:-1]), (f"requests.{row}.total",)))
    for col in APPLICANTS:
        out.append(Identity(f"requests.column_total.{col}",
                            tuple(f"requests.{r}.{col}" for r in outcomes), (f"requests.total.{col}",)))
        out.append(Identity(f"requests.balance.{col}",
                            (f"requests.new_received.{col}", f"requests.carried_over.{col}"),
                            (f"requests.total.{col}", f"requests.carried_forward.{col}")))
    for g in REVIEW_GROUPS:
        out.append(Identity(f"review_litigation.total.{g}",
                            tuple(f"review_litigation.{g}.{o}" for o in OUTCOMES[:-1]), (f"review_litigation.{g}.total",)))
    return out


def stated(figures: tuple[Figure, ...]) -> tuple[list[Identity], dict[str, int]]:
    """The prose's figures as identities over a constant: the cells' sum is the stated figure."""
    idents = [Identity(f"narrative.{f.name}", f.keys, (f"narrative.{f.name}",)) for f in figures]
    return idents, {f"narrative.{f.name}": f.value for f in figures}


def _holds(ident: Identity, values: dict[str, float]) -> bool:
    return abs(sum(values[k] for k in ident.parts) - sum(values[k] for k in ident.total)) < 1e-6


def _broken(idents: list[Identity], values: dict[str, float]) -> list[Identity]:
    """The identities whose cells are all there and do not add up."""
    return [i for i in idents if all(k in values for k in i.keys) and not _holds(i, values)]


def fill_missing(readings: list[Reading], missing: set[str], variant: Variant) -> list[Reading]:
    """Derive cells no table cell was found for, where one identity pins them down."""
    values = {r.key: r.value for r in readings}
    unknown = set(missing)
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
            unknown.discard(k)
            changed = True
    return [replace(r, value=values[r.key], text="") if r.key in missing and r.key not in unknown else r
            for r in readings]


# --- other readings of an OCR'd cell -----------------------------------------------------

# Digits the recogniser takes for one another on poor scans, and how likely such a slip is
# against its own best reading; a dropped or doubled digit is rarer still.
CONFUSABLE = {"0": "689", "1": "74", "2": "7", "3": "85", "4": "1", "5": "63", "6": "508", "7": "12",
              "8": "0369", "9": "08"}
CONFUSION_PRIOR, EDIT_PRIOR = 1e-3, 1e-4


def candidates(text: str, ocr: tuple[tuple[str, float], ...]) -> tuple[tuple[Number, float], ...]:
    """The numbers an OCR'd cell may print, most probable first: the recogniser's n-best
    readings, and, for its best one, every known look-alike digit, dropped or doubled digit
    (each at least at its prior, relative to the best reading)."""
    prob: dict[Number, float] = {}
    for t, p in ocr or ((text, 1.0),):
        v = parse_number(t)
        if v is not None:
            prob[v] = prob.get(v, 0.0) + p
    digits = normalize(text)
    if not digits.isdigit() or not prob:
        return tuple(sorted(prob.items(), key=lambda kv: -kv[1]))
    top = max(prob.values())
    variants = {}
    for i, d in enumerate(digits):
        for other in CONFUSABLE.get(d, ""):
            variants[digits[:i] + other + digits[i + 1:]] = CONFUSION_PRIOR
        variants.setdefault(digits[:i] + digits[i + 1:], EDIT_PRIOR)
        variants.setdefault(digits[:i + 1] + d + digits[i + 1:], EDIT_PRIOR)
    for t, prior in variants.items():
        v = parse_number(t) if t and (len(t) == 1 or t[0] != "0") else None
        if v is not None:
            prob[v] = max(prob.get(v, 0.0), prior * top)
    total = sum(prob.values())
    return tuple((v, p / total) for v, p in sorted(prob.items(), key=lambda kv: -kv[1]))


# --- the search ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Fix:
    """Readings that make every identity hold, and what they cost: the sum over changed cells
    of -log(P(new reading) / P(reading taken))."""

    changes: tuple[tuple[str, Number], ...]
    cost: float


MAX_CHANGES = 3


def solve(values: dict[str, Number], alternatives: dict[str, tuple[tuple[Number, float], ...]],
          idents: list[Identity], keep: int = 2) -> list[Fix]:
    """The ``keep`` cheapest sets of changed readings under which every identity holds, cheapest first.

    Exact branch and bound: some cell of the first failing identity must change, so branch on
    those cells' readings; a branch costing more than the ``keep``-th best found is cut.
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
    found: dict[frozenset, float] = {}
    changed: dict[str, Number] = {}

    def bound() -> float:
        costs = sorted(found.values())
        return costs[keep - 1] if len(costs) >= keep else math.inf

    def search(cost: float) -> None:
        failing = next((n for n, r in enumerate(residual) if abs(r) > 1e-6), None)
        if failing is None:
            found[frozenset(changed.items())] = cost
            return
        if len(changed) == MAX_CHANGES:
            return
        for k in involved[failing].keys:
            if k in changed:
                continue
            for v, c in options.get(k, ()):
                if cost + c >= bound():
                    continue
                delta = v - values[k]
                for n, sg in sign[k]:
                    residual[n] += sg * delta
                changed[k] = v
                search(cost + c)
                del changed[k]
                for n, sg in sign[k]:
                    residual[n] -= sg * delta

    search(0.0)
    fixes = sorted((Fix(tuple(sorted(ch)), c) for ch, c in found.items()), key=lambda f: f.cost)
    return fixes[:keep]


# Taken without a person only when the best fix is this many times likelier than the next,
# and costs no more than two look-alike digits.
CERTAIN_ODDS, MAX_COST = 100.0, -2 * math.log(CONFUSION_PRIOR) + 1.0


def correct(readings: list[Reading], variant: Variant, figures: tuple[Figure, ...] = ()) -> tuple[list[Reading], set[str]]:
    """Readings after the certain corrections, and the keys a person must see.

    A figure the prose states vouches for a change like an identity does, but does not
    bind the search: prose is sometimes loose (受理 counting last year's carry-over too).
    """
    by_key = {r.key: r for r in readings}
    values = {k: r.value for k, r in by_key.items()}
    prose, constants = stated(figures)
    prose = [i for i in prose if all(k in by_key for k in i.parts)]
    # identities a person already has to look at (a cell placed in doubt) are theirs to settle
    idents = [i for i in identities(variant)
              if all(k in by_key and by_key[k].status != "needs_review" for k in i.keys)]
    failing = _broken(idents, values)
    if not failing:
        return readings, set()
    alternatives = {k: r.candidates for k, r in by_key.items() if len(r.candidates) > 1}
    fixes = solve(values, alternatives, idents)
    doubtful = {k for i in failing for k in i.keys if k in alternatives}
    if not fixes or fixes[0].cost > MAX_COST:
        return readings, doubtful
    best = fixes[0]
    odds = math.exp(fixes[1].cost - best.cost) if len(fixes) > 1 else math.inf
    after = values | constants | dict(best.changes)
    witnesses = failing + [i for i in prose if not _holds(i, values | constants) and _holds(i, after)]
    vouched = all(sum(k in i.keys for i in witnesses) >= 2 for k, _ in best.changes)
    if odds < CERTAIN_ODDS or not vouched:
        return readings, doubtful | {k for f in fixes for k, _ in f.changes}
    new = dict(best.changes)
    confidence = odds / (1 + odds)
    out = [replace(r, value=new[r.key], status="corrected", confidence=round(min(r.confidence, confidence), 4))
           if r.key in new else r for r in readings]
    return out, set()


def reconcile(readings: list[Reading], missing: set[str], variant: Variant,
              strong: float = 0.999, figures: tuple[Figure, ...] = (), exact: bool = True) -> tuple[list[Reading], list[Check]]:
    """Derive missing cells, correct certain misreadings, and send the rest of what breaks an identity to review.

    When an identity fails, its cells placed with less than ``strong`` confidence
    (placement alone: how sure the reading is, is the search's business) are
    suspects, and so are their whole rows (a misplaced cell shifts its neighbours).
    Failures among confidently placed cells are reading errors or the report's own:
    OCR'd cells are corrected where that is certain and sent to a person where not;
    a failing identity of exactly read cells is left as the report printed it:
    ``source_inconsistent``.  ``exact``: the cells are the
    report's own characters (a text or a text layer); cells read off a scan are
    not, and every cell of an identity no correction settles goes to a person
    (a blank the scan lost a faint number in is no more certain than a digit).
    """
    readings = fill_missing(readings, missing, variant)
    by_key = {r.key: r for r in readings}
    values = {k: r.value for k, r in by_key.items()}
    suspect = {_row_of(k) for ident in _broken(identities(variant), values) for k in ident.keys
               if by_key[k].status == "needs_review" or by_key[k].placed < strong}
    if suspect:
        readings = [replace(r, status="needs_review") if _row_of(r.key) in suspect else r for r in readings]
    readings, doubtful = correct(readings, variant, figures)
    if not exact:
        doubtful |= _unsettled(readings, variant)
    # an OCR'd cell the prose contradicts goes to a person too (exactly read ones: the report's own slip)
    prose, constants = stated(figures)
    doubtful |= {k for i in _broken(prose, {r.key: r.value for r in readings} | constants)
                 for k in i.parts if len(by_key[k].candidates) > 1}
    if doubtful:
        readings = [replace(r, status="needs_review") if r.key in doubtful else r for r in readings]
    return readings, checks(readings, variant, figures)


def _unsettled(readings: list[Reading], variant: Variant) -> set[str]:
    """Every cell of a failing identity; for a failing row total, its neighbouring rows' too
    (a value the scan slipped into the next row leaves that row adding up: 0 = 0)."""
    rows = [r.keys for r in variant.rows if r.keys]
    row_of = {k: i for i, keys in enumerate(rows) for k in keys}
    out = set()
    for ident in _broken(identities(variant), {r.key: r.value for r in readings}):
        out |= set(ident.keys)
        if ident.rule.startswith("requests.row_total."):
            i = row_of[ident.total[0]]
            out |= {k for j in (i - 1, i + 1) if 0 <= j < len(rows) and rows[j][0].startswith("requests.")
                    for k in rows[j]}
    return out


def _row_of(key: str) -> str:
    return key.rsplit(".", 1)[0]


def checks(readings: list[Reading], variant: Variant, figures: tuple[Figure, ...] = ()) -> list[Check]:
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
            verdict = "unresolved" if "needs_review" in statuses else "source_inconsistent"
        out.append(Check(ident.rule, holds, verdict, cells))
    return out
