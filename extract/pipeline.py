"""The pipeline: ingest -> metadata -> structure -> reconciliation -> Report."""
from __future__ import annotations

import copy
import logging
import os
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import flat, ingest, metadata, reconcile
from .normalize import normalize, parse_number
from .pdf import MAX_PAGES, OCR_DPI
from .records import Basis, Cell, Check, Document, ExtractError, Figure, Metadata, Number, Reading, Report, Template, VerifyOptions
from .schema import RowSpec
from .structure import Parse, StructureModel, StructureModels, cut_merged, is_scanned, marks

if TYPE_CHECKING:  # scans only: a text report is read without loading OpenCV
    from .ocr import OcrEngine

MODEL_PATH = Path(os.environ.get("EXTRACT_MODEL", Path(__file__).resolve().parent.parent / "models" / "structure.joblib"))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> StructureModels:
    import joblib

    if not path.exists():
        raise ExtractError(f"structure model not found at {path}: run `extract train` (or set EXTRACT_MODEL)")
    return joblib.load(path)


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """How an ``Extractor`` reads reports.

    The review thresholds are calibrated per model (text-like sources, and pages: scans and
    PDF text layers) by ``extract train`` and kept in the model file; None takes them
    (0.9 for a cell an arithmetic identity checks, 0.99 for one none does, for both of the
    shipped models).  A higher threshold sends more cells to a person; a lower one than
    calibrated risks silent errors."""

    device: str = "cpu"  # where OCR runs: cpu, or cuda (pip install 'extract[gpu]')
    ocr_threads: int | None = None  # onnxruntime threads of the default OCR engine (None: its own default)
    ocr_dpi: int = OCR_DPI  # a PDF's scanned pages are rendered at this resolution for OCR
    max_pages: int = MAX_PAGES  # a PDF or image is read no further (the tables sit at the front)
    keep_images: bool = False  # keep text-layer pages' images too (a reviewer's crops)
    threshold: float | None = None  # below this calibrated confidence a checked cell goes to review
    threshold_unchecked: float | None = None  # the same for a cell no identity checks (表二)
    verify: VerifyOptions = VerifyOptions()  # a scan's second look: ink in blank cells, every number read twice


class Extractor:
    """Reads report files into their canonical tables: ``Extractor().convert("report.pdf")``.

    ``ocr``: the engine that reads scanned pages and recognises the second look's crops (any
    ``OcrEngine``; by default PP-OCR through rapidocr on ``options.device``, made at the first
    page that needs it).  ``model``: the structure model (by default the shipped one, or
    ``$EXTRACT_MODEL``).  One Extractor keeps both loaded across files."""

    def __init__(self, options: ExtractOptions = ExtractOptions(), ocr: OcrEngine | None = None,
                 model: StructureModels | StructureModel | str | Path | None = None):
        self.options = options
        self._ocr = ocr
        loaded = load_model(Path(model)) if isinstance(model, str | Path) else model or load_model()
        self.model = _with_thresholds(loaded, options.threshold, options.threshold_unchecked)

    @property
    def ocr(self) -> OcrEngine:
        if self._ocr is None:
            from .ocr import default_engine

            self._ocr = default_engine(self.options.device, self.options.ocr_threads)
        return self._ocr

    def convert(self, path: str | Path) -> Report:
        """One report file (PDF, image, text, HTML, DOCX) into its canonical tables."""
        return self.convert_document(self.read(path))

    def read(self, path: str | Path) -> Document:
        """The ingest stage alone: the file's text and cells (and, for scans, page images)."""
        o = self.options
        return ingest.read(path, ocr=ingest.LazyOcr(lambda: self.ocr), keep_images=o.keep_images, dpi=o.ocr_dpi, max_pages=o.max_pages)

    def convert_document(self, doc: Document) -> Report:
        """The stages after ingest: metadata, structure, the second look (scans), reconciliation."""
        with _stage("metadata", doc) as note:
            meta = metadata.read(doc.text)
            note(f"agency {meta.agency!r}, year {meta.year}, layout {meta.layout}, {len(meta.figures)} prose figures")
        model = self.model.for_cells(doc.cells)
        if doc.source.kind == "text":
            with _stage("flat text", doc) as note:
                report = _read_flat(doc, meta, model)
                note("its cells ran together" if report is not None else "its cells stand apart: the structure stage reads it")
            if report is not None:
                _log_result(doc, report)
                return report
        with _stage("structure", doc) as note:
            parse, doc.cells = parse_cells(doc.cells, model, meta.layout)  # the sequence the readings refer to
            note(f"{_variant_name(parse.variant)}, p={parse.template_p:.3f}, {len(parse.anchors)} rows anchored")
            unanchored = _require_tables(parse, doc)
            scanned = doc.source.kind in SCANNED  # its characters are an OCR engine's, not the report's own
            readings, missing = readings_of(parse, doc.cells, model, scanned)
        if scanned and doc.images:
            with _stage("second look", doc) as note:
                readings = look_again(readings, parse, doc, model, self.ocr, self.options.verify)
                note(f"{len(doc.images)} pages")
        readings = _template_doubt(readings, parse, doc.cells, unanchored)
        if doc.source.kind == "text" and ingest.is_markdown(doc.text):
            readings = cells_lost(readings, parse, doc.cells)
        readings = reconcile.tables_not_found(readings, unanchored)
        basis = Basis(tuple(readings), frozenset(missing), parse.variant, model.strong, not scanned,
                      len(parse.strays(doc.cells)))
        with _stage("reconcile", doc):
            readings, checks = reconcile_basis(basis, meta.figures)
        template = Template(parse.variant, round(parse.template_p, 4), parse.rival.variant if parse.rival else None)
        report = Report(doc.source, meta, parse.variant.layout, readings, checks, basis, template)
        _log_result(doc, report)
        return report

    @staticmethod
    def reconsider(report: Report, decided: dict[str, Number]) -> tuple[list[Reading], list[Check]]:
        """A stored report reconciled again, with the values a person ``decided`` taken as certain
        (review: the structure stage's readings are kept in ``report.basis``)."""
        return reconcile_basis(report.basis, report.metadata.figures, decided)


def _with_thresholds(model, threshold: float | None, unchecked: float | None):
    """The model with review thresholds other than its calibrated ones (a copy: the loaded one is shared)."""
    if threshold is None and unchecked is None:
        return model
    if isinstance(model, StructureModels):
        return StructureModels(*(_with_thresholds(m, threshold, unchecked) for m in (model.text, model.scanned)),
                              getattr(model, "fingerprint", None))
    model = copy.copy(model)
    model.threshold = model.threshold if threshold is None else threshold
    model.threshold_unchecked = model.threshold_unchecked if unchecked is None else unchecked
    return model


log = logging.getLogger("extract")


@contextmanager
def _stage(name: str, doc: Document):
    """Times a stage and logs it, one line, with what it decided (``note``)."""
    notes: list[str] = []
    t = time.perf_counter()
    yield notes.append
    log.info("%s: %s%s, %.3f s", name, Path(doc.source.path).name, "".join(f": {n}" for n in notes), time.perf_counter() - t)


def _log_result(doc: Document, report: Report) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    reasons = Counter((r.reason or "").split(":", 1)[0] or "-" for r in report.readings if r.status == "needs_review")
    verdicts = Counter(c.verdict for c in report.checks)
    log.info("result: %s: %s layout, %d cells, checks %s, %d to review%s", Path(doc.source.path).name,
             report.layout, len(report.readings), ", ".join(f"{k} {n}" for k, n in verdicts.most_common()),
             sum(reasons.values()), f" ({', '.join(f'{k} {n}' for k, n in reasons.most_common())})" if reasons else "")


def extract(path: str | Path, model: StructureModels | StructureModel | None = None, device: str = "cpu") -> Report:
    """Read one report file into its canonical tables: a shortcut for ``Extractor(...).convert(path)``."""
    return Extractor(ExtractOptions(device=device), model=model).convert(path)


SCANNED = ("pdf-scan", "image")  # source kinds whose characters an OCR engine read: not exact


def extract_document(doc: Document, model: StructureModels | StructureModel | None = None, engine: OcrEngine | None = None,
                     device: str = "cpu", options: VerifyOptions = VerifyOptions()) -> Report:
    """An ingested document through the later stages (``engine``: what recognises a scan's
    second-look crops, by default the OCR engine on ``device``)."""
    return Extractor(ExtractOptions(device=device, verify=options), ocr=engine, model=model).convert_document(doc)


def _read_flat(doc: Document, meta: Metadata, model: StructureModel) -> Report | None:
    """A crawler's flat text (``flat``): its tables' cells ran together, so no cell sequence
    holds them; their rows' digits are split by the tables' sums.  None for any other text."""
    found = flat.read(doc.text, meta.layout, meta.figures) if meta.layout else None
    if found is None:
        return None
    basis = Basis(tuple(found.readings), frozenset(found.missing), found.variant, model.strong, True, 0,
                  found.inconsistent)
    readings, checks = reconcile_basis(basis, meta.figures)
    return Report(doc.source, meta, found.variant.layout, readings, checks, basis, Template(found.variant))


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
    cells): which cell each number belongs in is decided by the tables' sums, as a flat text's
    splits are (``flat.place``); a row they leave in doubt goes to a person, with its placements'
    values as candidates.  表四's groups are placed as one row: its lines under the headings."""
    value = lambda c: not _CJK.search(c.text.replace("无", ""))  # noqa: E731
    short: dict[str, flat.Printed] = {}
    unparsed: dict[str, str] = {}
    review: list[RowSpec] = []
    for row in parse.variant.rows:
        at = parse.anchors.get(row.name)
        if at is None or not row.keys:
            continue
        if row.table == "review_litigation":  # 表四's values stand on lines of their own, under its headings
            review.append(row)
        else:
            label = cells[at]
            after = [c for c in cells if c.row == label.row and c.col > label.col and value(c)]
            _short(row, after, short, unparsed, {cells[a.cell] for a in parse.assignments
                                                  if a.key in row.keys and a.cell is not None})
    if review:
        keys = {k for row in review for k in row.keys}
        assigned = {cells[a.cell] for a in parse.assignments if a.key in keys and a.cell is not None}
        lines = {c.row for c in assigned if c.text.strip()}  # not a heading line's empty cells
        row = RowSpec("review_litigation", "表四", sum((r.keys for r in review), ()))
        if lines:
            _short(row, [c for c in cells if c.row in lines and value(c)], short, unparsed, assigned)
        else:  # no cell of its lines was placed: where its numbers are is not known
            unparsed.update((k, "no value cells were found for its lines") for k in row.keys)
    if not short and not unparsed:
        return readings
    # the sums place a row only by cells read with confidence: one in doubt vouches for nothing
    sure = {r.key: r.value for r in readings if r.status != "needs_review"}
    placed, broken = flat.place(short, sure, parse.variant) if short else ({}, set())
    doubt = dict(unparsed)
    taken: dict[str, Number] = {}
    shown: dict[str, Number] = {}
    offered: dict[str, Counter] = {}
    by_key = {r.key: r for r in readings}
    for name, options in placed.items():
        row, printed = short[name].row, short[name].numbers
        model = tuple(by_key[k].value for k in row.keys)
        least = min(o.cost for o in options)
        aligned = [o for o in options if o.cost == least]
        # taken: the one placement the sums allow, or the one whose blanks stand where the
        # page's empty cells do when the structure stage read the row so too (two readings agree)
        if name not in broken and (len(options) == 1 or len(aligned) == 1 and aligned[0].values == model):
            taken.update(zip(row.keys, (options[0] if len(options) == 1 else aligned[0]).values))
            continue
        detail = (f"its row prints {len(printed)} numbers for {len(row.keys)} cells: cells were lost or added, "
                  + ("and no placement of them makes every sum hold" if name in broken else
                     f"and {len(options)} placements fit the sums"))
        doubt.update((k, detail) for k in row.keys)
        # shown first: the placement whose blanks stand where the page's empty cells do, then
        # the one most like the structure stage's own reading of the row
        likeliest = min(options, key=lambda o: (o.cost, -sum(a == b for a, b in zip(o.values, model)),
                                                [not v for v in o.values]))
        shown.update(zip(row.keys, likeliest.values))
        offered.update((k, Counter(o.values[n] for o in options)) for n, k in enumerate(row.keys))
    readings = [_placed(r, taken, shown, offered) for r in readings]
    return reconcile.placement_doubt(readings, doubt) if doubt else readings


def _placed(r: Reading, taken: dict[str, Number], shown: dict[str, Number], offered: dict[str, Counter]) -> Reading:
    """A lost-cell row's reading: the one placement's value, or the placements' values as candidates."""
    if r.key in taken:
        return replace(r, value=taken[r.key], text=str(taken[r.key]), confidence=1.0, status="read", placement=1.0,
                       doubt=None, reason=None)
    if r.key in offered:
        values = offered[r.key]
        return replace(r, value=shown[r.key],
                       candidates=tuple((v, round(c / values.total(), 4)) for v, c in values.most_common()))
    return r


def _short(row: RowSpec, after: list[Cell], short: dict[str, flat.Printed], unparsed: dict[str, str],
           assigned: set[Cell]) -> None:
    """A row printing another count of cells than it has (empty cells dropped, or stray empty
    ones added): its numbers, to be placed; or, where they do not parse or the structure stage
    took numbers from elsewhere for the row (a line the row ran on to), why not."""
    if len(after) == len(row.keys):
        return
    after = sorted(after, key=lambda c: (c.row, c.col))
    numbers = [c for c in after if c.text.strip()]
    if len(numbers) > len(row.keys):
        return
    printed = tuple(parse_number(normalize(c.text)) for c in numbers)
    if any(v is None for v in printed) or not {c for c in assigned if c.text.strip()} <= set(numbers):
        unparsed.update((k, f"its row prints {len(after)} cells for {len(row.keys)}: cells were lost or added")
                        for k in row.keys)
        return
    empties = [0]
    for c in after:
        if c.text.strip():
            empties.append(0)
        else:
            empties[-1] += 1
    short[row.name] = flat.Printed(row, printed, tuple(empties))


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _variant_name(v) -> str:
    return f"the {v.layout} layout with （六） " + ("in three sub-items" if v.other_split else "as one row")


def look_again(readings: list[Reading], parse: Parse, doc: Document, model: StructureModel, engine,
               options: VerifyOptions = VerifyOptions()) -> list[Reading]:
    """The second look at a scan's pages (``verify``), judged under the model's review thresholds."""
    checks = reconcile.witnesses(parse.variant)
    from .verify import second_look

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
                               basis.exact, basis.unread, basis.inconsistent)


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
