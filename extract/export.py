"""The store as tables: one row per report (wide: every canonical key a column) or one per cell (long);
as a workbook, both: a sheet per canonical table and one of cells."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from .output import value_of
from .records import ExtractError, Report
from .schema import VARIANTS, split_key
from .store import Store

REPORT_FIELDS = ("report_id", "path", "sha256", "kind", "agency", "year", "layout", "cells", "to_review", "reviewed")
CELL_FIELDS = ("report_id", "path", "agency", "year", "key", "value", "text", "confidence", "status", "page", "review_reason")
# every key of either layout, in template order
KEYS = tuple(dict.fromkeys(k for v in VARIANTS for k in v.keys))
# the canonical tables (表二 proactive, 表三 requests, 表四 review_litigation): their keys, in template order
TABLES = {t: tuple(k for k in KEYS if split_key(k)[0] == t) for t in dict.fromkeys(split_key(k)[0] for k in KEYS)}


def rows(store: Store, shape: str) -> tuple[tuple[str, ...], list[dict]]:
    _check_shape(shape)
    out = []
    for r, report in _reports(store):
        if shape == "long":
            out += _long(r, report)
        else:
            out.append(_wide(r, report))
    return (REPORT_FIELDS + KEYS if shape == "wide" else CELL_FIELDS), out


def _check_shape(shape: str) -> None:
    if shape not in ("wide", "long"):
        raise ExtractError(f"unknown shape {shape!r} (wide or long)")


def _reports(store: Store) -> Iterator[tuple[dict, Report]]:
    """Every stored report with its summary row (cell counts), one at a time."""
    for r in store.reports():
        yield r, store.report(r["id"])


def _head(r: dict, report: Report) -> dict:
    return {"report_id": r["id"], "path": report.source.path, "agency": report.metadata.agency, "year": report.metadata.year}


def _wide(r: dict, report: Report) -> dict:
    wide = {**_head(r, report), "sha256": report.source.sha256, "kind": report.source.kind, "layout": report.layout,
            "cells": r["cells"], "to_review": r["to_review"], "reviewed": r["reviewed"]}
    wide.update({x.key: value_of(x) for x in report.readings})
    return wide


def _long(r: dict, report: Report) -> list[dict]:
    head = _head(r, report)
    return [{**head, "key": x.key, "value": value_of(x), "text": x.text, "confidence": x.confidence,
             "status": x.status, "page": x.page, "review_reason": x.reason} for x in report.readings]


def export(store: Store, fmt: str, shape: str = "wide", out: Path | None = None) -> str:
    """Write the table (xlsx: the workbook) to ``out`` (returns "") or return it as text (jsonl, csv)."""
    if fmt == "xlsx":
        if out is None:
            raise ExtractError("xlsx is binary: give an output file with -o")
        _check_shape(shape)  # a workbook holds both shapes; a misspelt one is still refused
        _xlsx(store, out)
        return ""
    fields, data = rows(store, shape)
    if fmt == "parquet":
        if out is None:
            raise ExtractError("parquet is binary: give an output file with -o")
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ExtractError("parquet needs pyarrow: pip install 'extract[parquet]'") from None
        columns = {f: [d.get(f) for d in data] for f in fields}
        # a money column mixes integers and decimals: one type per column
        table = pa.table({f: pa.array([None if v is None else float(v) for v in col]) if f in KEYS or f == "value"
                          else pa.array(col) for f, col in columns.items()})
        pq.write_table(table, out)
        return ""
    if fmt == "jsonl":
        text = "".join(json.dumps({f: d.get(f) for f in fields}, ensure_ascii=False) + "\n" for d in data)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fields, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(data)
        text = buf.getvalue()
    else:
        raise ExtractError(f"unknown format {fmt!r} (jsonl, csv, parquet or xlsx)")
    if out is not None:
        tmp = out.with_name(out.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        return ""
    return text


# --- xlsx: a workbook for people ------------------------------------------------------------

# what names a report on each table's sheet, before the table's keys
SHEET_HEAD = ("report_id", "path", "sha256", "kind", "agency", "year", "layout")
SHEET_ROWS = 1_048_576  # Excel opens no more rows than this in one sheet (the header row included)
REVIEW_FILL = "FFEB9C"  # Excel's own "neutral" yellow: a cell a person must still confirm
# column widths in characters; a key column is as wide as its key, within bounds
WIDTHS = {"report_id": 10, "path": 40, "sha256": 18, "kind": 10, "agency": 30, "year": 7, "layout": 8, "key": 46,
          "value": 12, "text": 12, "confidence": 11, "status": 14, "page": 6, "review_reason": 60}


class _Sheet:
    """A write-only sheet (rows stream to disk: a large store fits in memory) that goes on in a
    second sheet of the same name past Excel's row limit.  openpyxl is imported here, not with the
    module: a jsonl or csv export does without it."""

    def __init__(self, wb, title: str, fields: tuple[str, ...], limit: int = SHEET_ROWS) -> None:
        from openpyxl import cell, comments, styles, utils

        self.x = {"cell": cell.WriteOnlyCell, "illegal": cell.cell.ILLEGAL_CHARACTERS_RE, "comment": comments.Comment,
                  "fill": styles.PatternFill("solid", fgColor=REVIEW_FILL), "bold": styles.Font(bold=True),
                  "wrap": styles.Alignment(wrap_text=True, vertical="top"), "letter": utils.get_column_letter}
        self.wb, self.title, self.fields, self.limit = wb, title, fields, limit
        self.sheets: list[list] = []  # [worksheet, rows written]

    def append(self, row: dict, review: dict[str, str | None], comment: bool = True) -> None:
        """One row of ``row``'s values; a field ``review`` names is filled, with its reason as a comment."""
        if not self.sheets or self.sheets[-1][1] >= self.limit:
            self._new()
        ws = self.sheets[-1][0]
        ws.append([self._cell(ws, row.get(f), review.get(f), comment) for f in self.fields])
        self.sheets[-1][1] += 1

    def close(self) -> None:
        if not self.sheets:  # an empty store still gives every sheet, with its header
            self._new()
        for ws, n in self.sheets:
            ws.auto_filter.ref = f"A1:{self.x['letter'](len(self.fields))}{n}"

    def _new(self) -> None:
        n = len(self.sheets)
        ws = self.wb.create_sheet(self.title if n == 0 else f"{self.title} {n + 1}")
        ws.freeze_panes = "B2"  # the header row and the report id stay in view
        for i, f in enumerate(self.fields, 1):
            ws.column_dimensions[self.x["letter"](i)].width = WIDTHS.get(f, min(max(len(f), 8), 24) + 2)
        header = [self.x["cell"](ws, f) for f in self.fields]
        for c in header:
            c.font, c.alignment = self.x["bold"], self.x["wrap"]
        ws.append(header)
        self.sheets.append([ws, 1])

    def _cell(self, ws, value, review: str | None, comment: bool):
        """Text stays text (openpyxl takes a leading ``=`` for a formula, and refuses control
        characters, which an OCR'd text may hold); a cell still to review is filled."""
        if isinstance(value, str):
            value = self.x["illegal"].sub("", value)
        formula_like = isinstance(value, str) and value.startswith("=")
        if review is None and not formula_like:
            return value
        c = self.x["cell"](ws, value)
        if formula_like:
            c.data_type = "s"
        if review is not None:
            c.fill = self.x["fill"]
            if comment:
                c.comment = self.x["comment"](self.x["illegal"].sub("", review), "extract", width=320, height=90)
        return c


def _reason(status: str, reason: str | None) -> str | None:
    """What a cell's comment says: its review reason; None for a cell that needs no review."""
    if status != "needs_review":
        return None
    return reason or "needs_review (no reason recorded)"


def _xlsx(store: Store, out: Path, limit: int = SHEET_ROWS) -> None:
    """One workbook: a sheet per canonical table (a row per report, a column per key, cells to
    review filled and their reasons as comments), and ``cells`` (a row per cell: the long shape)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    tables = [_Sheet(wb, t, SHEET_HEAD + keys, limit) for t, keys in TABLES.items()]
    cells = _Sheet(wb, "cells", CELL_FIELDS, limit)
    for r, report in _reports(store):
        wide = _wide(r, report)
        review = {x.key: _reason(x.status, x.reason) for x in report.readings}
        for sheet in tables:
            sheet.append(wide, review)
        for row in _long(r, report):
            # the reason has its own column here: the value is filled, without a comment
            cells.append(row, {"value": _reason(row["status"], row["review_reason"])}, comment=False)
    for sheet in (*tables, cells):
        sheet.close()
    tmp = out.with_name(out.name + ".part")
    wb.save(tmp)
    tmp.replace(out)
