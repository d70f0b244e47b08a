"""Arithmetic reconciliation: the identities the tables obey, evaluated into checks.

An identity is ``sum(parts) == total``.  Cells the structure stage could not
find are derived from an identity when it determines them uniquely (still
``needs_review``: derived, not read).  A failing identity whose cells were all
read confidently is the report's own error (``source_inconsistent``); one with
an unsure cell is ``unresolved``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .records import Check, Reading
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


def _holds(ident: Identity, values: dict[str, float]) -> bool:
    return abs(sum(values[k] for k in ident.parts) - sum(values[k] for k in ident.total)) < 1e-6


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


def reconcile(readings: list[Reading], missing: set[str], variant: Variant,
              strong: float = 0.999) -> tuple[list[Reading], list[Check]]:
    """Derive missing cells, evaluate every identity, and send the suspect rows of broken identities to review.

    When an identity fails, its cells read with less than ``strong`` confidence
    are suspects, and so are their whole rows (a misplaced cell shifts its
    neighbours).  A failing identity whose every cell is strong is left as the
    report printed it: ``source_inconsistent``.
    """
    readings = fill_missing(readings, missing, variant)
    by_key = {r.key: r for r in readings}
    values = {k: r.value for k, r in by_key.items()}
    suspect = set()
    for ident in identities(variant):
        if all(k in by_key for k in ident.keys) and not _holds(ident, values):
            suspect |= {_row_of(k) for k in ident.keys
                        if by_key[k].confidence < strong or by_key[k].status == "needs_review"}
    if suspect:
        readings = [replace(r, status="needs_review") if _row_of(r.key) in suspect else r for r in readings]
    return readings, checks(readings, variant)


def _row_of(key: str) -> str:
    return key.rsplit(".", 1)[0]


def checks(readings: list[Reading], variant: Variant) -> list[Check]:
    by_key = {r.key: r for r in readings}
    values = {k: r.value for k, r in by_key.items()}
    out = []
    for ident in identities(variant):
        if not all(k in by_key for k in ident.keys):
            continue
        holds = _holds(ident, values)
        statuses = {by_key[k].status for k in ident.keys}
        if holds:
            verdict = "corrected" if "corrected" in statuses else "ok"
        else:
            verdict = "unresolved" if "needs_review" in statuses else "source_inconsistent"
        out.append(Check(ident.rule, holds, verdict, ident.keys))
    return out
