"""The pipeline: ingest -> metadata -> structure -> reconciliation -> Report."""
from __future__ import annotations

import os
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from . import flat, ingest, metadata, reconcile
from .normalize import normalize, parse_number
from .ocr import default_engine
from .records import Basis, Cell, Check, Document, ExtractError, Figure, Metadata, Number, Reading, Report, Template
from .structure import Parse, StructureModel, StructureModels, cut_merged, is_scanned, marks
from .verify import VerifyOptions, second_look

MODEL_PATH = Path(os.environ.get("EXTRACT_MODEL", Path(__file__).resolve().parent.parent / "models" / "structure.joblib"))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> StructureModels:
    import joblib

    if not path.exists():
        raise ExtractError(f"structure model not found at {path}: run `extract train` (or set EXTRACT_MODEL)")
    return joblib.load(path)


def extract(path: str | Path, model: StructureModels | StructureModel | None = None, device: str = "cpu") -> Report:
    """Read one report file into its canonical tables (``device``: where OCR runs, cpu or cuda)."""
    return extract_document(ingest.read(path, device=device), model, device=device)


SCANNED = ("pdf-scan", "image")  # source kinds whose characters an OCR engine read: not exact


def extract_document(doc: Document, model: StructureModels | StructureModel | None = None, engine=None,
                     device: str = "cpu", options: VerifyOptions = VerifyOptions()) -> Report:
    """``engine``: what recognises the crops of a scan's second look (by default the OCR engine)."""
    model = (model or load_model()).for_cells(doc.cells)
    meta = metadata.read(doc.text)
    if doc.source.kind == "text":
        report = _read_flat(doc, meta, model)
        if report is not None:
            return report
    parse, doc.cells = parse_cells(doc.cells, model, meta.layout)  # the sequence the readings refer to
    unanchored = _require_tables(parse, doc)
    scanned = doc.source.kind in SCANNED  # its characters are an OCR engine's, not the report's own
    readings, missing = readings_of(parse, doc.cells, model, scanned)
    if scanned and doc.images:
        readings = look_again(readings, parse, doc, model, engine or default_engine(device), options)
    readings = _template_doubt(readings, parse, doc.cells, unanchored)
    if doc.source.kind == "text" and ingest.is_markdown(doc.text):
        readings = cells_lost(readings, parse, doc.cells)
    readings = reconcile.tables_not_found(readings, unanchored)
    basis = Basis(tuple(readings), frozenset(missing), parse.variant, model.strong, not scanned,
                  len(parse.strays(doc.cells)))
    readings, checks = reconcile_basis(basis, meta.figures)
    template = Template(parse.variant, round(parse.template_p, 4), parse.rival.variant if parse.rival else None)
    return Report(doc.source, meta, parse.variant.layout, readings, checks, basis, template)


def _read_flat(doc: Document, meta: Metadata, model: StructureModel) -> Report | None:
    """A crawler's flat text (``flat``): its tables' cells ran together, so no cell sequence
    holds them; their rows' digits are split by the tables' sums.  None for any other text."""
    found = flat.read(doc.text, meta.layout, meta.figures) if meta.layout else None
    if found is None:
        return None
    variant, readings, missing = found
    basis = Basis(tuple(readings), frozenset(missing), variant, model.strong, True, 0)
    readings, checks = reconcile_basis(basis, meta.figures)
    return Report(doc.source, meta, variant.layout, readings, checks, basis, Template(variant))


def _template_doubt(readings: list[Reading], parse: Parse, cells: list[Cell], unanchored: set[str]) -> list[Reading]:
    """A template taken in doubt (or one whose 表三 rows were not found: nothing tells its （六）
    from its rival's) sends its own keys to a person, and gives the rival's keys too, so that no
    key the report may print is absent from the output."""
    rival = parse.rival.variant if parse.rival else None
    doubt = parse.in_doubt(cells)
    if rival is not None and rival.layout == parse.variant.layout and "requests" in unanchored:
        doubt |= set(parse.variant.keys) - set(rival.keys)
    if not doubt:
        return readings
    detail = f"took {_variant_name(parse.variant)} over {_variant_name(rival)} at p={parse.template_p:.3f}"
    own = set(parse.variant.keys)
    extra = [k for k in rival.keys if k not in own] if rival.layout == parse.variant.layout else []
    readings = readings + [Reading(k, 0, "", 0.0, "needs_review") for k in extra]
    return reconcile.template_doubt(readings, doubt | set(extra), detail)


def cells_lost(readings: list[Reading], parse: Parse, cells: list[Cell]) -> list[Reading]:
    """A markdown row that prints fewer value cells than its row has (a converter drops empty
    cells): which cell each number belongs in is not known, so the row goes to a person."""
    short: dict[str, str] = {}
    value = lambda c: not _CJK.search(c.text.replace("无", ""))  # noqa: E731
    for row in parse.variant.rows:
        at = parse.anchors.get(row.name)
        if at is None or not row.keys:
            continue
        if row.table == "review_litigation":  # 表四's values stand on a line of their own, under its headings
            lines = {cells[a.cell].row for a in parse.assignments if a.key in row.keys and a.cell is not None}
            after = [c for c in cells if c.row in lines and value(c)]
        else:
            label = cells[at]
            after = [c for c in cells if c.row == label.row and c.col > label.col and value(c)]
        if len(after) < len(row.keys):
            short.update((k, f"its row prints {len(after)} value cells for {len(row.keys)}: cells were lost") for k in row.keys)
    return reconcile.placement_doubt(readings, short) if short else readings


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _variant_name(v) -> str:
    return f"the {v.layout} layout with （六） " + ("in three sub-items" if v.other_split else "as one row")


def look_again(readings: list[Reading], parse: Parse, doc: Document, model: StructureModel, engine,
               options: VerifyOptions = VerifyOptions()) -> list[Reading]:
    """The second look at a scan's pages (``verify``), judged under the model's review thresholds."""
    checks = reconcile.witnesses(parse.variant)
    looks = second_look(readings, parse, doc.cells, doc.images, engine, options)
    unseen = reconcile.not_looked_at if options.ink else (lambda r: r)
    return [reconcile.looked_again(r, looks[r.key], reconcile.threshold_for(checks[r.key], model))
            if r.key in looks else unseen(r) for r in readings]


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
    """Decided cells as readings (under the model's review thresholds: needs_review), then reconciled.
    For a bare cell sequence (training, evaluation): exact unless an OCR engine read its cells;
    a document's exactness is its source's kind (``extract_document``)."""
    model = model.for_cells(cells)
    readings, missing = readings_of(parse, cells, model)
    return reconcile.reconcile(readings, missing, parse.variant, model.strong, figures, exact=not is_scanned(cells),
                               unread=len(parse.strays(cells)))


def reconcile_basis(basis: Basis, figures: tuple[Figure, ...] = (),
                    decided: dict[str, Number] | None = None) -> tuple[list[Reading], list[Check]]:
    """Reconcile the structure stage's readings, with the values a person ``decided`` taken as certain."""
    decided = decided or {}
    readings = [replace(r, value=decided[r.key], text=str(decided[r.key]), confidence=1.0, status="read",
                        candidates=(), placement=1.0, doubt=None, reason=None) if r.key in decided else r
                for r in basis.readings]
    return reconcile.reconcile(readings, set(basis.missing) - set(decided), basis.variant, basis.strong, figures,
                               basis.exact, basis.unread)


def readings_of(parse: Parse, cells: list[Cell], model: StructureModel,
                scanned: bool | None = None) -> tuple[list[Reading], set[str]]:
    """The structure stage's decisions as readings (read, or sent to a person: ``reconcile.first_look``)
    (``scanned``: the source's characters are an OCR engine's; for a bare cell sequence, as its cells say),
    and the keys no cell was found for."""
    checks = reconcile.witnesses(parse.variant)
    slash = reconcile.slash_prior([normalize(c.text) for c in cells])
    # a scan's blank cell under a box read as a character: a zero mark, or a number misread
    unread = marks(parse, cells) if (is_scanned(cells) if scanned is None else scanned) else {}
    readings = []
    for a in parse.assignments:
        cell = cells[a.cell] if a.cell is not None else None
        if a.key in unread:  # its value is the blank's, as likely as a mark is a zero mark; no reading of its own
            cell = cells[unread[a.key]]
            options, confidence = (), a.confidence * reconcile.MARK_IS_ZERO
            like = reconcile.lookalike(cell.text)
            if like:  # letters that look like a digit (``s`` for 5): that number, or a zero mark
                options, confidence = ((a.value, 0.5), (like, 0.5)), a.confidence * 0.5
        else:
            # an OCR'd cell is as sure as its placement times the recogniser's own belief in its reading
            ocr = cell.candidates if cell is not None else ()
            options = reconcile.candidates(cell.text, ocr, slash) if ocr else ()
            if model.geometric:
                options = reconcile.with_placements(options, a.alternatives, a.value)
            confidence = a.confidence * (sum(p for t, p in ocr if parse_number(t) == a.value) if ocr else 1.0)
        doubt, reason = reconcile.first_look(a, confidence, checks[a.key], model)
        readings.append(Reading(a.key, a.value, cell.text if cell else "", round(confidence, 4),
                                "read" if reason is None else "needs_review", cell.page if cell else None,
                                cell.bbox if cell else None, options, a.confidence, doubt, reason))
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


def _require_tables(parse: Parse, doc: Document) -> set[str]:
    """Refuse documents that are not these reports, or lack whole tables; the tables whose rows
    were not found, although the document prints their headings.  A refusal needs as much
    evidence as an acceptance: a report whose title and tables' headings the document prints
    is read, and what its rows' labels do not anchor goes to a person."""
    found = {}
    for table in _HEADINGS:
        rows = [r for r in parse.variant.rows if r.table == table and r.keys]
        found[table] = sum(1 for r in rows if r.name in parse.anchors) / len(rows)
    names = {"proactive": "二 (主动公开)", "requests": "三 (收到和处理申请)", "review_litigation": "四 (行政复议、行政诉讼)"}
    text = normalize(doc.text) + "".join(normalize(c.text) for c in doc.cells)
    # a table's title, or two of its headings: a page too faint to read may print no more
    printed = {t for t, heads in _HEADINGS.items() if sum(h in text for h in heads) >= 2 or _TITLES[t] in text}
    titled = "政府信息公开" in text and "年度报告" in text
    if sum(found.values()) < 0.5 and not (titled and len(printed) == len(_HEADINGS)) or not doc.cells:
        raise ExtractError(f"{doc.source.path}: not a government information disclosure annual report (no canonical tables found)")
    lacking = [names[t] for t, share in found.items() if share < 0.3 and t not in printed]
    if lacking:
        raise ExtractError(f"{doc.source.path}: incomplete report, table {', '.join(lacking)} not found (truncated?)")
    return {t for t, share in found.items() if share < 0.3}


# each table's title, and the headings it prints besides its row labels (column and group headings)
_TITLES = {"proactive": "主动公开政府信息情况", "requests": "收到和处理政府信息公开申请情况",
           "review_litigation": "行政复议、行政诉讼情况"}
_HEADINGS = {
    "proactive": (_TITLES["proactive"], "制发件数", "废止件数", "现行有效件数", "处理决定数量", "本年新制作数量", "对外公开总数量"),
    "requests": (_TITLES["requests"], "申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织"),
    "review_litigation": ("行政诉讼", "未经复议直接起诉", "复议后起诉", "结果维持", "结果纠正", "尚未审结"),
}
