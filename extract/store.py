"""The results store: reports, their cells and checks, reviewers, and every review decision.

One SQLite file by default; any SQLAlchemy URL (``postgresql+psycopg://…``) for a shared
deployment, through the same code.  A report is stored with the basis its reconciliation
started from, so that a reviewer's decision can be reconciled with the rest of the report
again.  Decisions are only ever appended: who, when, old value, new value, reason.  Page
images of scanned reports are kept beside the database, in its data directory, for the
reviewer's crops.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from .reconcile import why
from .records import Basis, Cell, Check, ExtractError, Figure, Metadata, Number, Reading, Report, Source
from .schema import Variant

meta = sa.MetaData()

reports = sa.Table(
    "reports", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("agency", sa.Text),
    sa.Column("year", sa.Integer),
    sa.Column("layout", sa.String(8), nullable=False),
    sa.Column("figures", sa.Text, nullable=False),  # JSON: the prose's figures
    sa.Column("basis", sa.Text, nullable=False),  # JSON: what reconciliation started from
    sa.Column("cells", sa.Text, nullable=False),  # JSON: the document's cell sequence (to learn from corrections)
    sa.Column("created", sa.Float, nullable=False),
    sqlite_autoincrement=True,  # an id is never reused: decisions name reports by it
)

cells = sa.Table(
    "cells", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),  # the key's place in the canonical order
    sa.Column("key", sa.String(80), nullable=False),
    sa.Column("value", sa.Text, nullable=False),  # JSON number: an int, or a decimal for money
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("page", sa.Integer),
    sa.Column("bbox", sa.Text),  # JSON [x0, y0, x1, y1] in page pixels
    sa.Column("candidates", sa.Text, nullable=False),  # JSON [[value, p], ...]
    sa.Column("review_reason", sa.Text),  # why a needs_review cell must be seen (``code: detail``)
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
    # a cell handed to one reviewer is not handed to another until the lease runs out
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", sa.Float),
    sa.UniqueConstraint("report_id", "key"),
    sqlite_autoincrement=True,
)

checks = sa.Table(
    "checks", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("rule", sa.String(120), nullable=False),
    sa.Column("holds", sa.Boolean, nullable=False),
    sa.Column("verdict", sa.String(24), nullable=False),
    sa.Column("keys", sa.Text, nullable=False),
)

decisions = sa.Table(
    "decisions", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cell_id", sa.Integer, sa.ForeignKey("cells.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("report_id", sa.Integer, nullable=False, index=True),
    sa.Column("key", sa.String(80), nullable=False),
    sa.Column("reviewer", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("old_value", sa.Text, nullable=False),
    sa.Column("new_value", sa.Text, nullable=False),
    # confirmed | corrected | source_wrong: the value stands though an identity fails | undo
    sa.Column("reason", sa.String(24), nullable=False),
    sa.Column("undoes", sa.Integer),  # the decision an undo takes back
    sqlite_autoincrement=True,
)

# every input file a batch met, by content: done (its report) or failed (its error)
files = sa.Table(
    "files", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), index=True),  # none when the file could not even be read
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # done | failed
    sa.Column("error", sa.Text),
    sa.Column("report_id", sa.Integer),
    sa.Column("seconds", sa.Float),
    sa.Column("at", sa.Float, nullable=False),
    sqlite_autoincrement=True,
)

reviewers = sa.Table(
    "reviewers", meta,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password", sa.Text, nullable=False),  # scrypt$n$r$p$salt$hash
    sa.Column("created", sa.Float, nullable=False),
)

# columns added since the first stores were made: an older database gains them, empty, when opened
ADDED = (cells.c.review_reason,)

sessions = sa.Table(
    "sessions", meta,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # the cookie's token is never stored
    sa.Column("reviewer", sa.String(64), sa.ForeignKey("reviewers.name", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)

LEASE_SECONDS = 300.0
SESSION_SECONDS = 12 * 3600.0
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True, slots=True)
class QueueCell:
    """A cell a reviewer is asked to decide, with what the page shows around it."""

    id: int
    report_id: int
    key: str
    value: Number
    text: str
    confidence: float
    page: int | None
    bbox: tuple[float, float, float, float] | None
    candidates: tuple[tuple[Number, float], ...]
    reason: str | None  # why it needs review


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    cell_id: int
    report_id: int
    key: str
    reviewer: str
    at: float
    old_value: Number
    new_value: Number
    reason: str
    undoes: int | None


def url_for(db: str | Path) -> str:
    """A path is a SQLite file; anything with ``://`` is a database URL already."""
    db = str(db)
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


class Store:
    """The results store at ``db`` (a path or a URL); page images live under ``data_dir``
    (by default beside a SQLite file: ``results.sqlite`` -> ``results.data/``)."""

    def __init__(self, db: str | Path, data_dir: str | Path | None = None, lease_seconds: float = LEASE_SECONDS,
                 clock: Callable[[], float] = time.time):
        """``clock`` (seconds since the epoch) is the store's one source of time: leases, sessions
        and the times it records; a test drives it to run a lease out without waiting."""
        self.url, self.lease_seconds, self.clock = url_for(db), lease_seconds, clock
        sqlite = self.url.startswith("sqlite")
        self.engine = sa.create_engine(self.url, future=True,
                                       connect_args={"timeout": 30, "check_same_thread": False} if sqlite else {})
        if sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite begins a transaction only at the first write, so a read before it sees
            # another snapshot than the write: begin every transaction here, taking the write
            # lock at once (writes are short; two writers never interleave)
            sa.event.listen(self.engine, "begin", lambda con: con.exec_driver_sql("BEGIN IMMEDIATE"))
        if data_dir is None:
            if not sqlite:
                raise ExtractError("a database URL needs --data-dir for the page images")
            data_dir = Path(self.url.removeprefix("sqlite:///")).with_suffix(".data")
        self.data_dir = Path(data_dir).resolve()
        with self.engine.begin() as con:
            meta.create_all(con)
            _add_columns(con)

    # reports ----------------------------------------------------------------------------------

    def add_report(self, report: Report, images: dict[int, object] | None = None, sequence: list[Cell] = (),
                   seconds: float | None = None) -> int:
        """Store a report, its page images and the cell sequence it was read from.  The same file
        stored again replaces the earlier reading, unless a reviewer has decided any of its
        cells: then the reviewed one stays (its id is returned), as nothing reviewed is overwritten."""
        if report.basis is None:
            raise ValueError("a stored report needs its reconciliation basis")
        # images first: a run killed before the transaction below commits leaves a file to redo
        for page, image in (images or {}).items():
            self._save_page(report.source.sha256, page, image)
        with self.engine.begin() as con:
            rid = self._add_report(con, report, sequence)
            con.execute(files.insert().values(sha256=report.source.sha256, path=report.source.path, status="done",
                                              report_id=rid, seconds=seconds, at=self.clock()))
        return rid

    def _add_report(self, con, report: Report, sequence: list[Cell]) -> int:
        old = con.execute(sa.select(reports.c.id).where(reports.c.sha256 == report.source.sha256)).scalar()
        if old is not None:
            if con.execute(sa.select(sa.func.count()).where(decisions.c.report_id == old)).scalar():
                return old
            con.execute(cells.delete().where(cells.c.report_id == old))
            con.execute(checks.delete().where(checks.c.report_id == old))
            con.execute(reports.delete().where(reports.c.id == old))
        rid = con.execute(reports.insert().values(
            sha256=report.source.sha256, path=report.source.path, kind=report.source.kind,
            pages=report.source.pages, agency=report.metadata.agency, year=report.metadata.year,
            layout=report.layout, figures=json.dumps([asdict(f) for f in report.metadata.figures], ensure_ascii=False),
            basis=_dump_basis(report.basis), created=self.clock(),
            cells=json.dumps([[c.text, c.row, c.col, c.page, list(c.bbox) if c.bbox else None,
                               [list(x) for x in c.candidates]] for c in sequence], ensure_ascii=False),
        )).inserted_primary_key[0]
        con.execute(cells.insert(), [_cell_row(rid, n, r) for n, r in enumerate(report.readings)])
        _write_checks(con, rid, report.checks)
        return rid

    def record_failure(self, sha256: str | None, path: str, error: str) -> None:
        with self.engine.begin() as con:
            con.execute(files.insert().values(sha256=sha256, path=path, status="failed", error=error, at=self.clock()))

    def files_seen(self) -> set[str]:
        """The content hashes of every file a run has finished, done or failed."""
        with self.engine.connect() as con:
            return {h for (h,) in con.execute(sa.select(files.c.sha256).where(files.c.sha256.is_not(None)))}

    def failures(self) -> list[tuple[str, str]]:
        with self.engine.connect() as con:
            return [(p, e) for p, e in con.execute(sa.select(files.c.path, files.c.error)
                                                   .where(files.c.status == "failed").order_by(files.c.id))]

    def report(self, report_id: int) -> Report:
        """The report as it stands now, reviewed values included."""
        with self.engine.connect() as con:
            row = con.execute(reports.select().where(reports.c.id == report_id)).mappings().first()
            if row is None:
                raise KeyError(report_id)
            cell_rows = con.execute(cells.select().where(cells.c.report_id == report_id)
                                    .order_by(cells.c.position)).mappings().all()
            check_rows = con.execute(checks.select().where(checks.c.report_id == report_id)
                                     .order_by(checks.c.id)).mappings().all()
        readings = [Reading(c["key"], json.loads(c["value"]), c["text"], c["confidence"], c["status"], c["page"],
                            tuple(json.loads(c["bbox"])) if c["bbox"] else None,
                            tuple(tuple(x) for x in json.loads(c["candidates"])), reason=c["review_reason"])
                    for c in cell_rows]
        found = [Check(c["rule"], c["holds"], c["verdict"], tuple(json.loads(c["keys"]))) for c in check_rows]
        source = Source(row["path"], row["sha256"], row["pages"], row["kind"])
        metadata = Metadata(row["agency"], row["year"], row["layout"], _figures(row["figures"]))
        return Report(source, metadata, row["layout"], readings, found, _load_basis(row["basis"]))

    def sequence(self, report_id: int) -> list[Cell]:
        """The cell sequence a report was read from."""
        with self.engine.connect() as con:
            text = con.execute(sa.select(reports.c.cells).where(reports.c.id == report_id)).scalar()
        return [Cell(t, r, c, p, tuple(b) if b else None, tuple(tuple(x) for x in cand))
                for t, r, c, p, b, cand in json.loads(text or "[]")]

    def reports(self) -> list[dict]:
        """Every report with its counts of cells still to review and already reviewed."""
        todo = sa.func.sum(sa.case((cells.c.status == "needs_review", 1), else_=0))
        done = sa.func.sum(sa.case((cells.c.reviewed, 1), else_=0))
        q = (sa.select(reports.c.id, reports.c.path, reports.c.agency, reports.c.year, reports.c.layout,
                       todo.label("to_review"), done.label("reviewed"), sa.func.count(cells.c.id).label("cells"))
             .join(cells, cells.c.report_id == reports.c.id).group_by(reports.c.id).order_by(sa.desc("to_review"), reports.c.id))
        with self.engine.connect() as con:
            return [dict(r) for r in con.execute(q).mappings()]

    def values(self, report_ids: list[int], keys: list[str]) -> dict[int, dict[str, Number]]:
        """Some keys' values of many reports at once: {report id: {key: value}}."""
        out: dict[int, dict[str, Number]] = {}
        with self.engine.connect() as con:
            for start in range(0, len(report_ids), 500):
                q = sa.select(cells.c.report_id, cells.c.key, cells.c.value).where(
                    cells.c.report_id.in_(report_ids[start:start + 500]) & cells.c.key.in_(keys))
                for rid, key, value in con.execute(q):
                    out.setdefault(rid, {})[key] = json.loads(value)
        return out

    def reviewed(self, report_id: int) -> dict[str, Number]:
        """The values reviewers decided for the report's cells (the latest decision that stands)."""
        with self.engine.connect() as con:
            rows = con.execute(sa.select(cells.c.key, cells.c.value).where(
                (cells.c.report_id == report_id) & cells.c.reviewed)).all()
        return {k: json.loads(v) for k, v in rows}

    # the queue --------------------------------------------------------------------------------

    def claim(self, reviewer: str, report_id: int | None = None, skip: tuple[int, ...] = (),
              cell_id: int | None = None) -> QueueCell | None:
        """The worst cell to review that no other reviewer holds, leased to ``reviewer``.

        Grouped by report (the report with the most left first), lowest confidence first
        within it.  The lease is taken by a conditional update: of two reviewers racing for
        one cell, one update finds it taken and that reviewer takes the next.
        """
        now = self.clock()
        free = (cells.c.lease_until.is_(None) | (cells.c.lease_until < now) | (cells.c.lease_owner == reviewer))
        left = (sa.select(cells.c.report_id, sa.func.count().label("n")).where(cells.c.status == "needs_review")
                .group_by(cells.c.report_id).subquery())
        q = (sa.select(cells.c.id).join(left, left.c.report_id == cells.c.report_id)
             .where((cells.c.status == "needs_review") & free)
             .order_by(sa.desc(left.c.n), cells.c.report_id, cells.c.confidence, cells.c.position).limit(20))
        if report_id is not None:
            q = q.where(cells.c.report_id == report_id)
        if skip:
            q = q.where(cells.c.id.not_in(skip))
        with self.engine.begin() as con:
            # a reviewer holds one cell at a time
            con.execute(cells.update().where((cells.c.lease_owner == reviewer) & (cells.c.status == "needs_review"))
                        .values(lease_owner=None, lease_until=None))
            wanted = [cell_id] if cell_id is not None else []  # a cell asked for by name (undo shows it again)
            for cid in wanted + [c for (c,) in con.execute(q).all() if c != cell_id]:
                taken = con.execute(cells.update().where((cells.c.id == cid) & free & (cells.c.status == "needs_review"))
                                    .values(lease_owner=reviewer, lease_until=now + self.lease_seconds)).rowcount
                if taken:
                    return self._queue_cell(con, cid)
        return None

    def release(self, reviewer: str) -> None:
        with self.engine.begin() as con:
            con.execute(cells.update().where(cells.c.lease_owner == reviewer).values(lease_owner=None, lease_until=None))

    def cell(self, cell_id: int) -> QueueCell | None:
        with self.engine.connect() as con:
            return self._queue_cell(con, cell_id)

    def _queue_cell(self, con, cell_id: int) -> QueueCell | None:
        c = con.execute(cells.select().where(cells.c.id == cell_id)).mappings().first()
        if c is None:
            return None
        return QueueCell(c["id"], c["report_id"], c["key"], json.loads(c["value"]), c["text"], c["confidence"],
                         c["page"], tuple(json.loads(c["bbox"])) if c["bbox"] else None,
                         tuple(tuple(x) for x in json.loads(c["candidates"])), c["review_reason"])

    def holder(self, cell_id: int) -> str | None:
        with self.engine.connect() as con:
            row = con.execute(sa.select(cells.c.lease_owner, cells.c.lease_until).where(cells.c.id == cell_id)).first()
        return row[0] if row and row[1] and row[1] >= self.clock() else None

    # decisions --------------------------------------------------------------------------------

    def record(self, cell_id: int, reviewer: str, new_value: Number, reason: str, undoes: int | None = None) -> Decision:
        """Append one decision and set the cell's value; reconciling the report again is the caller's."""
        with self.engine.begin() as con:
            c = con.execute(cells.select().where(cells.c.id == cell_id)).mappings().first()
            if c is None:
                raise KeyError(cell_id)
            did = con.execute(decisions.insert().values(
                cell_id=cell_id, report_id=c["report_id"], key=c["key"], reviewer=reviewer, at=self.clock(),
                old_value=c["value"], new_value=json.dumps(new_value), reason=reason, undoes=undoes)).inserted_primary_key[0]
            reviewed = reason != "undo" or self._decided_before(con, cell_id, undoes)
            con.execute(cells.update().where(cells.c.id == cell_id).values(
                value=json.dumps(new_value), reviewed=reviewed, lease_owner=None, lease_until=None,
                status="read" if reviewed else "needs_review", confidence=1.0 if reviewed else c["confidence"],
                review_reason=None if reviewed else why("undone", f"decision {undoes} taken back")))
            row = con.execute(decisions.select().where(decisions.c.id == did)).mappings().first()
        return _decision(row)

    def _decided_before(self, con, cell_id: int, undone: int | None) -> bool:
        """Whether the cell still has a standing decision once ``undone`` is taken back."""
        rows = con.execute(decisions.select().where(decisions.c.cell_id == cell_id).order_by(decisions.c.id)).mappings().all()
        taken_back = {r["undoes"] for r in rows if r["reason"] == "undo"} | {undone}
        return any(r["reason"] != "undo" and r["id"] not in taken_back for r in rows)

    def last_decision(self, reviewer: str) -> Decision | None:
        """The reviewer's latest decision that has not been taken back."""
        with self.engine.connect() as con:
            rows = con.execute(decisions.select().where(decisions.c.reviewer == reviewer)
                               .order_by(decisions.c.id.desc()).limit(200)).mappings().all()
        undone = {r["undoes"] for r in rows if r["reason"] == "undo"}
        return next((_decision(r) for r in rows if r["reason"] != "undo" and r["id"] not in undone), None)

    def decisions(self, report_id: int | None = None) -> list[Decision]:
        q = decisions.select().order_by(decisions.c.id)
        if report_id is not None:
            q = q.where(decisions.c.report_id == report_id)
        with self.engine.connect() as con:
            return [_decision(r) for r in con.execute(q).mappings()]

    def update_readings(self, report_id: int, readings: list[Reading], found: list[Check]) -> None:
        """A report's cells and checks after reconciling again; reviewed cells keep their decision."""
        with self.engine.begin() as con:
            done = {k for (k,) in con.execute(sa.select(cells.c.key).where(
                (cells.c.report_id == report_id) & cells.c.reviewed))}
            for r in readings:
                if r.key in done:
                    continue
                con.execute(cells.update().where((cells.c.report_id == report_id) & (cells.c.key == r.key)
                                                 & ~cells.c.reviewed).values(
                    value=json.dumps(r.value), status=r.status, confidence=r.confidence,
                    candidates=json.dumps([list(c) for c in r.candidates]), review_reason=r.reason))
            con.execute(checks.delete().where(checks.c.report_id == report_id))
            _write_checks(con, report_id, found)

    # reviewers and sessions -------------------------------------------------------------------

    def add_reviewer(self, name: str, password: str) -> None:
        if not name or len(name) > 64 or not name.isprintable():
            raise ExtractError("a reviewer's name is 1 to 64 printable characters")
        if len(password) < 8:
            raise ExtractError("a password needs at least 8 characters")
        with self.engine.begin() as con:
            con.execute(reviewers.delete().where(reviewers.c.name == name))
            con.execute(reviewers.insert().values(name=name, password=_hash_password(password), created=self.clock()))

    def check_password(self, name: str, password: str) -> bool:
        with self.engine.connect() as con:
            stored = con.execute(sa.select(reviewers.c.password).where(reviewers.c.name == name)).scalar()
        # a name that does not exist costs as much as a wrong password: no timing oracle
        return _verify_password(password, stored or _DUMMY) and stored is not None

    def open_session(self, name: str) -> tuple[str, str]:
        """A new session for the reviewer: (the cookie's token, the session's CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.engine.begin() as con:
            con.execute(sessions.delete().where(sessions.c.expires < self.clock()))
            con.execute(sessions.insert().values(token_hash=_sha(token), reviewer=name, csrf=csrf,
                                                 expires=self.clock() + SESSION_SECONDS))
        return token, csrf

    def session(self, token: str | None) -> tuple[str, str] | None:
        """(reviewer, csrf) of a live session, or None."""
        if not token:
            return None
        with self.engine.connect() as con:
            row = con.execute(sa.select(sessions.c.reviewer, sessions.c.csrf, sessions.c.expires)
                              .where(sessions.c.token_hash == _sha(token))).first()
        return (row[0], row[1]) if row and row[2] > self.clock() else None

    def close_session(self, token: str) -> None:
        with self.engine.begin() as con:
            con.execute(sessions.delete().where(sessions.c.token_hash == _sha(token)))

    # page images --------------------------------------------------------------------------------

    def page_path(self, sha256: str, page: int) -> Path:
        """Where a page image lives; only names this store makes, always inside the data directory."""
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256) or not 0 < int(page) < 10_000:
            raise ExtractError("no such page")
        path = (self.data_dir / "pages" / sha256 / f"{int(page)}.png").resolve()
        if not path.is_relative_to(self.data_dir):
            raise ExtractError("no such page")
        return path

    def _save_page(self, sha256: str, page: int, image) -> None:
        import cv2

        path = self.page_path(sha256, page)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part.png")
        cv2.imwrite(str(tmp), image)
        tmp.replace(path)


def _sqlite_pragmas(dbapi_con, _record) -> None:
    dbapi_con.isolation_level = None  # transactions are begun by the "begin" listener
    # WAL: a killed writer loses only its open transaction
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _cell_row(report_id: int, position: int, r: Reading) -> dict:
    return {"report_id": report_id, "position": position, "key": r.key, "value": json.dumps(r.value), "text": r.text,
            "confidence": r.confidence, "status": r.status, "page": r.page,
            "bbox": json.dumps([round(x, 1) for x in r.bbox]) if r.bbox else None,
            "candidates": json.dumps([list(c) for c in r.candidates]), "review_reason": r.reason, "reviewed": False}


def _add_columns(con) -> None:
    """The columns an older database lacks (``ADDED``), added empty."""
    for column in ADDED:
        if column.name not in {c["name"] for c in sa.inspect(con).get_columns(column.table.name)}:
            con.execute(sa.text(f"ALTER TABLE {column.table.name} ADD COLUMN {column.name} {column.type.compile(con.dialect)}"))


def _write_checks(con, report_id: int, found: list[Check]) -> None:
    if found:
        con.execute(checks.insert(), [{"report_id": report_id, "rule": c.rule, "holds": c.holds, "verdict": c.verdict,
                                       "keys": json.dumps(list(c.keys))} for c in found])


def _decision(row) -> Decision:
    return Decision(row["id"], row["cell_id"], row["report_id"], row["key"], row["reviewer"], row["at"],
                    json.loads(row["old_value"]), json.loads(row["new_value"]), row["reason"], row["undoes"])


def _figures(text: str) -> tuple[Figure, ...]:
    return tuple(Figure(f["name"], tuple(f["keys"]), f["value"]) for f in json.loads(text))


def _dump_basis(basis: Basis) -> str:
    readings = [[r.key, r.value, r.text, r.confidence, r.status, r.page, list(r.bbox) if r.bbox else None,
                 [list(c) for c in r.candidates], r.placement, r.doubt, r.reason, r.inspected] for r in basis.readings]
    return json.dumps({"readings": readings, "missing": sorted(basis.missing), "layout": basis.variant.layout,
                       "other_split": basis.variant.other_split, "strong": basis.strong, "exact": basis.exact, "unread": basis.unread,
                       "inconsistent": sorted(basis.inconsistent)},
                      ensure_ascii=False)


def _load_basis(text: str) -> Basis:
    b = json.loads(text)
    # a basis stored before readings had reasons (or were inspected) has none
    readings = tuple(Reading(k, v, t, c, s, p, tuple(box) if box else None, tuple(tuple(x) for x in cand), pl, d, *rest)
                     for k, v, t, c, s, p, box, cand, pl, d, *rest in b["readings"])
    return Basis(readings, frozenset(b["missing"]), Variant(b["layout"], b["other_split"]), b["strong"], b["exact"],
                 b.get("unread", 0), frozenset(b.get("inconsistent", ())))


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + f"{salt.hex()}${digest.hex()}"


def _verify_password(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)


_DUMMY = _hash_password(secrets.token_urlsafe(16))
