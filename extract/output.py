"""A Report as the contract's JSON document, or as CSV (one row per cell key)."""
from __future__ import annotations

import csv
import io
import json

from .records import Number, Reading, Report
from .schema import split_key

SCHEMA_VERSION = "1"
CSV_FIELDS = ("key", "table", "row", "column", "value", "status", "confidence", "text", "page", "bbox", "review_reason")


def to_dict(report: Report) -> dict:
    values: dict = {}
    for r in report.readings:
        table, row, column = split_key(r.key)
        values.setdefault(table, {}).setdefault(row, {})[column] = value_of(r)
    cells = []
    for r in report.readings:
        cell = {"key": r.key, "value": value_of(r), "text": r.text, "confidence": r.confidence, "status": r.status}
        if r.page is not None:
            cell["page"] = r.page
        if r.bbox is not None:
            cell["bbox"] = [round(x, 1) for x in r.bbox]
        if r.status != "read" and len(r.candidates) > 1:  # what a reviewer may pick from
            cell["candidates"] = [[v, round(p, 4)] for v, p in r.candidates[:4]]
        if r.status == "needs_review":
            cell["review_reason"] = r.reason
        cells.append(cell)
    s = report.source
    return {
        "schema_version": SCHEMA_VERSION,
        "source": {"path": s.path, "sha256": s.sha256, "pages": s.pages, "kind": s.kind},
        "agency": report.metadata.agency,
        "agency_reason": report.metadata.agency_reason,
        "year": report.metadata.year,
        "layout": report.layout,
        **({"template": _template(report.template)} if report.template else {}),
        "values": values,
        "cells": cells,
        "checks": [{"rule": c.rule, "holds": c.holds, "verdict": c.verdict, "keys": list(c.keys)} for c in report.checks],
    }


def value_of(r: Reading) -> Number | None:
    """A cell's value as output: null when it is not known (no cell found, no sum derives it)."""
    return None if r.unknown else r.value


def _template(t) -> dict:
    """Which variant of the tables was taken, and how sure against the runner-up."""
    out = {"layout": t.variant.layout, "other_split": t.variant.other_split, "p": t.p}
    if t.rival is not None:
        out["rival"] = {"layout": t.rival.layout, "other_split": t.rival.other_split}
    return out


def to_json(report: Report, indent: int | None = 1) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=indent, allow_nan=False)


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in report.readings:
        table, row, column = split_key(r.key)
        bbox = " ".join(f"{x:.1f}" for x in r.bbox) if r.bbox else ""
        value = "" if r.unknown else r.value
        w.writerow((r.key, table, row, column, value, r.status, r.confidence, r.text, r.page or "", bbox, r.reason or ""))
    return buf.getvalue()
