"""The pipeline: ingest -> metadata -> structure -> reconciliation -> Report."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from . import ingest, metadata, reconcile
from .records import Document, ExtractError, Reading, Report
from .structure import Parse, StructureModel

MODEL_PATH = Path(os.environ.get("EXTRACT_MODEL", Path(__file__).resolve().parent.parent / "models" / "structure.joblib"))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> StructureModel:
    import joblib

    if not path.exists():
        raise ExtractError(f"structure model not found at {path}: run `extract train` (or set EXTRACT_MODEL)")
    return joblib.load(path)


def extract(path: str | Path, model: StructureModel | None = None) -> Report:
    """Read one report file into its canonical tables."""
    return extract_document(ingest.read(path), model)


def extract_document(doc: Document, model: StructureModel | None = None) -> Report:
    model = model or load_model()
    meta = metadata.read(doc.text)
    parse = model.predict(doc.cells, meta.layout)
    _require_tables(parse, doc)
    readings = readings_of(parse, doc, model.threshold)
    missing = {a.key for a in parse.assignments if a.cell is None}
    readings = reconcile.fill_missing(readings, missing, parse.variant)
    return Report(doc.source, meta, parse.variant.layout, readings, reconcile.checks(readings, parse.variant))


def readings_of(parse: Parse, doc: Document, threshold: float) -> list[Reading]:
    out = []
    for a in parse.assignments:
        cell = doc.cells[a.cell] if a.cell is not None else None
        status = "read" if a.confidence >= threshold else "needs_review"
        out.append(Reading(a.key, a.value, cell.text if cell else "", round(a.confidence, 4), status,
                           cell.page if cell else None, cell.bbox if cell else None))
    return out


def _require_tables(parse: Parse, doc: Document) -> None:
    """Refuse documents that are not these reports, or lack whole tables."""
    found = {}
    for table in ("proactive", "requests", "review_litigation"):
        rows = [r for r in parse.variant.rows if r.table == table and r.keys]
        found[table] = sum(1 for r in rows if r.name in parse.anchors) / len(rows)
    names = {"proactive": "二 (主动公开)", "requests": "三 (收到和处理申请)", "review_litigation": "四 (行政复议、行政诉讼)"}
    if sum(found.values()) < 0.5 or not doc.cells:
        raise ExtractError(f"{doc.source.path}: not a government information disclosure annual report (no canonical tables found)")
    lacking = [names[t] for t, share in found.items() if share < 0.3]
    if lacking:
        raise ExtractError(f"{doc.source.path}: incomplete report, table {', '.join(lacking)} not found (truncated?)")
