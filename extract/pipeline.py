"""The pipeline: ingest -> metadata -> structure -> reconciliation -> Report."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from . import ingest, metadata, reconcile
from .normalize import normalize, parse_number
from .records import Basis, Cell, Check, Document, ExtractError, Figure, Number, Reading, Report
from .structure import Parse, StructureModel, StructureModels, cut_merged, is_scanned, marks

MODEL_PATH = Path(os.environ.get("EXTRACT_MODEL", Path(__file__).resolve().parent.parent / "models" / "structure.joblib"))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> StructureModels:
    import joblib

    if not path.exists():
        raise ExtractError(f"structure model not found at {path}: run `extract train` (or set EXTRACT_MODEL)")
    return joblib.load(path)


def extract(path: str | Path, model: StructureModels | StructureModel | None = None, device: str = "cpu") -> Report:
    """Read one report file into its canonical tables (``device``: where OCR runs, cpu or cuda)."""
    return extract_document(ingest.read(path, device=device), model)


def extract_document(doc: Document, model: StructureModels | StructureModel | None = None) -> Report:
    model = (model or load_model()).for_cells(doc.cells)
    meta = metadata.read(doc.text)
    parse, doc.cells = parse_cells(doc.cells, model, meta.layout)  # the sequence the readings refer to
    _require_tables(parse, doc)
    readings, missing = readings_of(parse, doc.cells, model)
    basis = Basis(tuple(readings), frozenset(missing), parse.variant, model.strong, not is_scanned(doc.cells),
                  len(parse.strays(doc.cells)))
    readings, checks = reconcile_basis(basis, meta.figures)
    return Report(doc.source, meta, parse.variant.layout, readings, checks, basis)


def parse_cells(cells: list[Cell], model: StructureModels | StructureModel,
                layout: str | None = None) -> tuple[Parse, list[Cell]]:
    """The structure stage: the cells' parse, and the cells it refers to.  A box the parse
    finds reaching over several columns is cut there, and the cut cells parsed again (the
    columns a parse finds may show more such boxes, so a few times over)."""
    parse = model.predict(cells, layout)
    for _ in range(_CUTS):
        cut = cut_merged(cells, parse)
        if cut is cells:
            break
        cells, parse = cut, model.predict(cut, layout)
    return parse, cells


_CUTS = 3  # parses after the first one, at most


def read_tables(parse: Parse, cells: list[Cell], model: StructureModels | StructureModel,
                figures: tuple[Figure, ...] = ()) -> tuple[list[Reading], list[Check]]:
    """Decided cells as readings (under the model's review thresholds: needs_review), then reconciled."""
    model = model.for_cells(cells)
    readings, missing = readings_of(parse, cells, model)
    return reconcile.reconcile(readings, missing, parse.variant, model.strong, figures, exact=not is_scanned(cells),
                               unread=len(parse.strays(cells)))


def reconcile_basis(basis: Basis, figures: tuple[Figure, ...] = (),
                    decided: dict[str, Number] | None = None) -> tuple[list[Reading], list[Check]]:
    """Reconcile the structure stage's readings, with the values a person ``decided`` taken as certain."""
    decided = decided or {}
    readings = [replace(r, value=decided[r.key], text=str(decided[r.key]), confidence=1.0, status="read",
                        candidates=(), placement=1.0, doubt=None) if r.key in decided else r
                for r in basis.readings]
    return reconcile.reconcile(readings, set(basis.missing) - set(decided), basis.variant, basis.strong, figures,
                               basis.exact, basis.unread)


def readings_of(parse: Parse, cells: list[Cell], model: StructureModel) -> tuple[list[Reading], set[str]]:
    """The structure stage's decisions as readings, and the keys no cell was found for."""
    witnesses = Counter(k for ident in reconcile.identities(parse.variant) for k in ident.keys)
    slash = reconcile.slash_prior([normalize(c.text) for c in cells])
    # a scan's blank cell under a box read as a character: a zero mark, or a number misread
    unread = marks(parse, cells) if is_scanned(cells) else {}
    readings = []
    for a in parse.assignments:
        cell = cells[a.cell] if a.cell is not None else None
        # a cell no identity can check has no second line of defence: it needs more confidence;
        # so does one only a single sum checks (表四), where two misreads can still add up
        threshold = model.threshold if witnesses[a.key] >= 2 else model.threshold_unchecked
        # A row placed without its label, or an unchecked cell of an ambiguous line, goes to a person.
        doubtful = a.doubt in ("unlabelled", "unplaced") or (a.doubt == "ambiguous_line" and a.key not in witnesses)
        if a.key in unread:  # its value is the blank's, as likely as a mark is a zero mark; no reading of its own
            cell = cells[unread[a.key]]
            options, confidence = (), a.confidence * reconcile.MARK_IS_ZERO
        else:
            # an OCR'd cell is as sure as its placement times the recogniser's own belief in its reading
            ocr = cell.candidates if cell is not None else ()
            options = reconcile.candidates(cell.text, ocr, slash) if ocr else ()
            if model.geometric:
                options = reconcile.with_placements(options, a.alternatives, a.value)
            confidence = a.confidence * (sum(p for t, p in ocr if parse_number(t) == a.value) if ocr else 1.0)
        status = "read" if confidence >= threshold and not doubtful else "needs_review"
        readings.append(Reading(a.key, a.value, cell.text if cell else "", round(confidence, 4), status,
                                cell.page if cell else None, cell.bbox if cell else None, options, a.confidence,
                                a.doubt if doubtful else None))
    if model.geometric:
        readings = _split_merged(readings, parse)
    return readings, {a.key for a in parse.assignments if a.cell is None and not a.blank}


def _split_merged(readings: list[Reading], parse: Parse) -> list[Reading]:
    """An OCR box that may hold two neighbouring cells' numbers (``156312``: 156 | 312, the
    gap between them lost) beside a cell read empty: the box's cell may read each tail of
    it, and the empty one the head (or the other way round), each at a look-alike's odds;
    only the identities can say which cut, if any, is right."""
    by_key = {r.key: r for r in readings}
    extra: dict[str, dict[Number, float]] = {}
    for row in parse.variant.rows:
        for left, right in zip(row.keys, row.keys[1:]):
            for full, empty in ((right, left), (left, right)):
                r, e = by_key[full], by_key[empty]
                if not r.candidates or e.text or not r.text.isdigit() or len(r.text) < 2:
                    continue
                for i in range(1, len(r.text)):
                    head, tail = r.text[:i], r.text[i:]
                    mine, theirs = (tail, head) if full == right else (head, tail)
                    if not any(len(t) > 1 and t[0] == "0" for t in (mine, theirs)):
                        extra.setdefault(full, {})[int(mine)] = reconcile.CONFUSION_PRIOR
                        extra.setdefault(empty, {})[int(theirs)] = reconcile.CONFUSION_PRIOR
    return [replace(r, candidates=reconcile.with_extra(r.candidates or ((r.value, 1.0),), extra[r.key]))
            if r.key in extra else r for r in readings]


def _require_tables(parse: Parse, doc: Document) -> None:
    """Refuse documents that are not these reports, or lack whole tables."""
    found = {}
    for table in ("proactive", "requests", "review_litigation"):
        rows = [r for r in parse.variant.rows if r.table == table and r.keys]
        found[table] = sum(1 for r in rows if r.name in parse.anchors) / len(rows)
    names = {"proactive": "二 (主动公开)", "requests": "三 (收到和处理申请)", "review_litigation": "四 (行政复议、行政诉讼)"}
    if sum(found.values()) < 0.5 or not doc.cells:
        raise ExtractError(f"{doc.source.path}: not a government information disclosure annual report (no canonical tables found)")
    lacking = [names[t] for t, share in found.items() if share < 0.3
               and not (t == "review_litigation" and _表四_headings(doc.cells) >= 2)]
    if lacking:
        raise ExtractError(f"{doc.source.path}: incomplete report, table {', '.join(lacking)} not found (truncated?)")


_表四 = ("行政诉讼", "未经复议直接起诉", "复议后起诉", "结果维持", "尚未审结")


def _表四_headings(cells: list[Cell]) -> int:
    """How many of 表四's own headings the document prints: on a scan its one row label
    (行政复议) may be lost to OCR while the table is there; its cells then go to review."""
    texts = {normalize(c.text) for c in cells}
    return sum(any(h in t for t in texts) for h in _表四)
