"""Reviewed reports as training data: which cell of the sequence holds which key, as people decided.

A report every one of whose doubtful cells a reviewer decided says, for each key, which
cell of its sequence printed the value.  A reviewer's correction either re-reads a cell the
structure stage placed right (the digits were misread: the mapping stands) or says the
value sits in another cell (the cell was misplaced: the key moves to the cell on the
key's printed line that prints the decided value, nearest to where the key was placed).
Only the value model learns from them: label texts keep coming from generated reports.
"""
from __future__ import annotations

from dataclasses import replace

from extract.normalize import parse_number
from extract.reconcile import candidates
from extract.records import Cell, Reading, Report
from extract.review import where_blank
from extract.store import Store
from training.generate import Sample

SCANNED = ("pdf-scan", "image")  # page positions: the scan model's kind of input


def samples(store: Store) -> list[Sample]:
    """One sample per fully reviewed scan (nothing left to review, at least one decision)."""
    out = []
    for r in store.reports():
        if r["to_review"] or not r["reviewed"]:
            continue
        report = store.report(r["id"])
        sequence = store.sequence(r["id"])
        if report.source.kind not in SCANNED or not sequence:
            continue
        keys = assign(sequence, report)
        printed = [x for x in report.readings if x.value != 0]
        if sum(k is not None for k in keys) < 0.8 * len(printed):
            continue  # too little of the report found on its page to teach anything
        out.append(Sample(sequence, keys, ["none"] * len(sequence), {x.key: x.value for x in report.readings},
                          report.basis.variant, report.metadata.agency or "", report.metadata.year or 0,
                          {"reviewed"}))
    return out


def assign(sequence: list[Cell], report: Report) -> list[str | None]:
    """The key each cell holds, from the structure stage's placements and the decided values."""
    final = {x.key: x.value for x in report.readings}
    where = {(c.page, c.bbox): i for i, c in enumerate(sequence) if c.bbox}
    keys: list[str | None] = [None] * len(sequence)
    moved = []
    for r in report.basis.readings:
        i = where.get((r.page, r.bbox)) if r.bbox else None
        if i is not None and (parse_number(sequence[i].text) == final[r.key] or _misread(r, final[r.key])):
            keys[i] = r.key
        elif final[r.key] != 0 or i is not None:
            moved.append((r, i))
    for r, i in moved:
        if i is None and r.bbox is None:  # placed as a blank: where its column crosses its line
            page, box = where_blank(report, r.key) or (None, None)
            r = replace(r, page=page, bbox=box)
        j = _holder(sequence, keys, r, i, final[r.key])
        if j is not None:
            keys[j] = r.key
    return keys


def _misread(r: Reading, value) -> bool:
    """The decided value is a look-alike reading of what the cell prints: its place was right.
    (The reading's own candidates will not do: they hold its placement alternatives too, a
    neighbour's number among them.)"""
    return value in dict(candidates(r.text, ()))


def _holder(sequence: list[Cell], keys: list, r: Reading, i: int | None, value) -> int | None:
    """The free cell on the key's line printing ``value``, nearest to where the key was placed."""
    if i is None and not r.bbox:
        return None
    page, (x0, y0, x1, y1) = (sequence[i].page, sequence[i].bbox) if i is not None else (r.page, r.bbox)
    yc, xc = (y0 + y1) / 2, (x0 + x1) / 2
    line = [j for j, c in enumerate(sequence) if keys[j] is None and c.page == page and c.bbox
            and c.bbox[1] <= yc <= c.bbox[3] and parse_number(c.text) == value]
    return min(line, key=lambda j: abs((sequence[j].bbox[0] + sequence[j].bbox[2]) / 2 - xc), default=None)
