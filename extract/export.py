"""The store as tables: one row per report (wide: every canonical key a column) or one per cell (long)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .output import value_of
from .records import ExtractError
from .schema import VARIANTS
from .store import Store

REPORT_FIELDS = ("report_id", "path", "sha256", "kind", "agency", "year", "layout", "cells", "to_review", "reviewed")
CELL_FIELDS = ("report_id", "path", "agency", "year", "key", "value", "text", "confidence", "status", "page", "review_reason")
# every key of either layout, in template order
KEYS = tuple(dict.fromkeys(k for v in VARIANTS for k in v.keys))


def rows(store: Store, shape: str) -> tuple[tuple[str, ...], list[dict]]:
    if shape not in ("wide", "long"):
        raise ExtractError(f"unknown shape {shape!r} (wide or long)")
    out = []
    for r in store.reports():
        report = store.report(r["id"])
        head = {"report_id": r["id"], "path": report.source.path, "agency": report.metadata.agency,
                "year": report.metadata.year}
        if shape == "long":
            out += [{**head, "key": x.key, "value": value_of(x), "text": x.text, "confidence": x.confidence,
                     "status": x.status, "page": x.page, "review_reason": x.reason} for x in report.readings]
        else:
            wide = {**head, "sha256": report.source.sha256, "kind": report.source.kind, "layout": report.layout,
                    "cells": r["cells"], "to_review": r["to_review"], "reviewed": r["reviewed"]}
            wide.update({x.key: value_of(x) for x in report.readings})
            out.append(wide)
    return (REPORT_FIELDS + KEYS if shape == "wide" else CELL_FIELDS), out


def export(store: Store, fmt: str, shape: str = "wide", out: Path | None = None) -> str:
    """Write the table to ``out`` (returns "") or return it as text (jsonl, csv)."""
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
        raise ExtractError(f"unknown format {fmt!r} (jsonl, csv or parquet)")
    if out is not None:
        tmp = out.with_name(out.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        return ""
    return text
