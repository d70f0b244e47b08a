"""Review: people confirm or correct the cells the machine is unsure of, in a browser.

A FastAPI app over the results store, with server-rendered pages and a small JSON API
under ``/api/``.  Every page and API call needs a reviewer's session (a cookie holding a
random token; the store keeps only its hash); every state-changing request carries the
session's CSRF token.  A reviewer is handed one cell at a time, leased so that no other
reviewer gets it; each decision is appended to the audit trail and the report is
reconciled again, so that cells the decision settles leave the queue.

Keys on the review page: type the number and press Enter, or Enter alone to accept the
value shown; ``s`` skips, ``x`` keeps the printed value though the report's own sums
break ("source itself is wrong"), ``u`` undoes the last decision.
"""
from __future__ import annotations

import html
import json
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from . import output
from .normalize import parse_number
from .pipeline import Extractor
from .reconcile import REASONS
from .records import ExtractError, Number, Report
from .schema import OUTCOME_LABELS, OUTCOMES, REVIEW_GROUPS, VARIANTS, split_key
from .store import Decision, QueueCell, Store

COOKIE, LOGIN_COOKIE = "extract_session", "extract_login"
GROUP_LABELS = dict(zip(REVIEW_GROUPS, ("行政复议", "行政诉讼：未经复议直接起诉", "行政诉讼：复议后起诉")))
ACTIONS = ("value", "accept", "skip", "source_wrong", "undo")


# --- what a decision does --------------------------------------------------------------------

def decide(store: Store, reviewer: str, cell_id: int, action: str, value: str | None = None) -> Decision | None:
    """Apply one reviewer action to a cell the reviewer holds, then reconcile its report again."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action == "undo":
        last = store.last_decision(reviewer)
        if last is None:
            return None
        d = store.record(last.cell_id, reviewer, last.old_value, "undo", undoes=last.id)
        reconsider(store, d.report_id)
        return d
    cell = store.cell(cell_id)
    if cell is None:
        raise KeyError(cell_id)
    if store.holder(cell_id) != reviewer:
        raise PermissionError("this cell is not yours to decide (its lease ran out or another reviewer holds it)")
    if action == "skip":
        return None
    new, reason = cell.value, {"accept": "confirmed", "source_wrong": "source_wrong"}.get(action)
    if action == "value":
        new = parse_number(value or "")
        if new is None or not str(value).strip():
            raise ValueError(f"not a number: {value!r}")
        reason = "confirmed" if new == cell.value else "corrected"
    d = store.record(cell_id, reviewer, new, reason)
    reconsider(store, d.report_id)
    return d


def reconsider(store: Store, report_id: int) -> None:
    """Reconcile a report again with every standing decision taken as certain."""
    report = store.report(report_id)
    readings, found = Extractor.reconsider(report, store.reviewed(report_id))
    store.update_readings(report_id, readings, found)


def export(store: Store, report_id: int, fmt: str) -> tuple[str, str]:
    """The reviewed report in the contract's JSON (with its audit trail) or CSV: (body, media type)."""
    report = store.report(report_id)
    if fmt == "csv":
        return output.to_csv(report), "text/csv; charset=utf-8"
    doc = output.to_dict(report)
    reviewed = store.reviewed(report_id)
    for cell in doc["cells"]:
        cell["reviewed"] = cell["key"] in reviewed
    doc["review"] = [_decision_json(d) for d in store.decisions(report_id)]
    return json.dumps(doc, ensure_ascii=False, indent=1), "application/json"


def labels(key: str) -> tuple[str, str]:
    """The row and column labels a report prints for a key."""
    table, row, column = split_key(key)
    if table == "review_litigation":
        return GROUP_LABELS[row], OUTCOME_LABELS[OUTCOMES.index(column)]
    for variant in VARIANTS:
        for spec in variant.rows:
            if key in spec.keys:
                return spec.label, spec.headers[spec.keys.index(key)] if spec.headers else column
    return row, column


def reason_words(reason: str | None) -> tuple[str, str]:
    """Why a cell needs review in a reviewer's words: what its reason's code means, and the detail."""
    if reason is None:
        return "no reason recorded (the report was stored before reasons were kept)", ""
    code, _, detail = reason.partition(": ")
    return REASONS.get(code, code), detail


# --- the app -----------------------------------------------------------------------------------

def create_app(store: Store) -> FastAPI:
    app = FastAPI(title="extract review", docs_url=None, redoc_url=None, openapi_url=None)

    def session(request: Request) -> tuple[str, str] | None:
        return store.session(request.cookies.get(COOKIE))

    def api_user(request: Request, write: bool = False) -> str:
        s = session(request)
        if s is None:
            raise HTTPException(401, "log in first")
        if write and not secrets.compare_digest(request.headers.get("x-csrf-token", ""), s[1]):
            raise HTTPException(403, "missing or wrong CSRF token")
        return s[0]

    async def form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def page_user(request: Request) -> tuple[str, str]:
        s = session(request)
        if s is None:
            raise _Login()
        return s

    @app.exception_handler(_Login)
    async def to_login(request: Request, exc: _Login):
        return RedirectResponse("/login", 303)

    # pages ------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, failed: int = 0):
        token = secrets.token_urlsafe(24)
        body = f"""<h1>extract review</h1>
<form method="post" action="/login" class="login">
<input type="hidden" name="csrf" value="{token}">
<label>Reviewer <input name="name" id="name" autofocus autocomplete="username"></label>
<label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label>
<button type="submit" id="login">Log in</button>
{'<p class="error" id="error">Wrong name or password.</p>' if failed else ''}
</form>"""
        response = HTMLResponse(_page("Log in", body))
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.post("/login")
    async def login(request: Request):
        f = await form(request)
        # login CSRF: the form must carry the token its own page set (double submit)
        if not secrets.compare_digest(f.get("csrf", ""), request.cookies.get(LOGIN_COOKIE, "") or "-"):
            raise HTTPException(403, "missing or wrong CSRF token")
        if not store.check_password(f.get("name", ""), f.get("password", "")):
            return RedirectResponse("/login?failed=1", 303)
        token, _ = store.open_session(f["name"])
        response = RedirectResponse("/", 303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request):
        _, csrf = page_user(request)
        if not secrets.compare_digest((await form(request)).get("csrf", ""), csrf):
            raise HTTPException(403, "missing or wrong CSRF token")
        store.close_session(request.cookies[COOKIE])
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request):
        name, csrf = page_user(request)
        rows = "".join(
            f"<tr><td><a href='/reports/{r['id']}'>{_e(r['agency'] or Path(r['path']).name)}</a></td><td>{r['year'] or ''}</td>"
            f"<td class='n' id='todo-{r['id']}'>{r['to_review']}</td><td class='n'>{r['reviewed']}</td>"
            f"<td><a href='/review?report={r['id']}'>review</a></td></tr>" for r in store.reports())
        body = f"""{_header(name, csrf)}<h1>Reports</h1><p><a id="start" href="/review">Review the queue, worst first</a></p>
<table class="list"><tr><th>report</th><th>year</th><th>to review</th><th>reviewed</th><th></th></tr>{rows}</table>"""
        return _page("Reports", body)

    @app.get("/review", response_class=HTMLResponse)
    async def review(request: Request, report: int | None = None, skip: str = "", cell: int | None = None):
        name, csrf = page_user(request)
        skipped = tuple(int(x) for x in skip.split(",") if x.isdigit())
        q = store.claim(name, report, skipped, cell)
        if q is None:
            where = " in this report" if report else ""
            return _page("Queue empty", f"{_header(name, csrf)}<h1 id='done'>Nothing left to review{where}.</h1>"
                                        "<p><a href='/'>Reports</a></p>")
        return _page(f"Review {q.key}", _header(name, csrf) + _review_body(store, q, csrf, report, skipped))

    @app.post("/review")
    async def review_decide(request: Request):
        name, csrf = page_user(request)
        f = await form(request)
        if not secrets.compare_digest(f.get("csrf", ""), csrf):
            raise HTTPException(403, "missing or wrong CSRF token")
        report = f.get("report") or None
        skipped = [x for x in f.get("skip", "").split(",") if x.isdigit()]
        action, cell_id = f.get("action", "value"), int(f.get("cell_id", "0") or 0)
        again = None
        try:
            d = decide(store, name, cell_id, action, f.get("value"))
        except (ValueError, KeyError) as e:
            return _page("Not taken", f"{_header(name, csrf)}<p class='error'>{_e(str(e))}</p><p><a href='/review'>Back</a></p>")
        except PermissionError as e:
            raise HTTPException(409, str(e)) from None
        if action == "skip":
            skipped.append(str(cell_id))
        if action == "undo" and d is not None:
            again = d.cell_id
        query = {k: v for k, v in (("report", report), ("skip", ",".join(skipped)), ("cell", again)) if v}
        return RedirectResponse("/review" + (f"?{urlencode(query)}" if query else ""), 303)

    @app.get("/reports/{report_id}", response_class=HTMLResponse)
    async def report_page(request: Request, report_id: int):
        name, csrf = page_user(request)
        report = _report(store, report_id)
        tables = "".join(_table_html(report, t, None) for t in ("proactive", "requests", "review_litigation"))
        body = f"""{_header(name, csrf)}<h1>{_e(report.metadata.agency or report.source.path)} {report.metadata.year or ''}</h1>
<p><a href="/review?report={report_id}">Review this report</a>
 · <a id="export-json" href="/api/reports/{report_id}/export?format=json">JSON</a>
 · <a id="export-csv" href="/api/reports/{report_id}/export?format=csv">CSV</a></p>{tables}"""
        return _page("Report", body)

    @app.get("/crop/{cell_id}.png")
    async def crop(request: Request, cell_id: int):
        page_user(request)
        q = store.cell(cell_id)
        if q is None:
            raise HTTPException(404, "no such cell")
        report = _report(store, q.report_id)
        where = (q.page, q.bbox) if q.bbox else where_blank(report, q.key)
        if where is None:
            raise HTTPException(404, "no image of this cell")
        try:
            path = store.page_path(report.source.sha256, where[0])
        except ExtractError:
            raise HTTPException(404, "no image of this cell") from None
        if not path.exists():
            raise HTTPException(404, "no image of this cell")
        return Response(_crop_png(path, where[1]), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/pages/{name:path}")
    async def page_image(request: Request, name: str):
        """A stored page image by its name under the data directory's pages/ (nothing outside it)."""
        page_user(request)
        root = (store.data_dir / "pages").resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise HTTPException(403, "outside the data directory")
        if not path.is_file() or path.suffix != ".png":
            raise HTTPException(404, "no such page")
        return Response(path.read_bytes(), media_type="image/png")

    # the JSON API -------------------------------------------------------------------------

    @app.get("/api/reports")
    async def api_reports(request: Request):
        api_user(request)
        return store.reports()

    @app.get("/api/queue")
    async def api_queue(request: Request, report: int | None = None):
        """Claim the next cell to review (leased to the caller) and describe it."""
        q = store.claim(api_user(request), report)
        if q is None:
            return JSONResponse({"cell": None})
        row, column = labels(q.key)
        return {"cell": {"id": q.id, "report_id": q.report_id, "key": q.key, "value": q.value, "text": q.text,
                         "confidence": q.confidence, "page": q.page, "bbox": q.bbox, "row": row, "column": column,
                         "candidates": [list(c) for c in q.candidates], "review_reason": q.reason}}

    @app.post("/api/decisions")
    async def api_decide(request: Request):
        name = api_user(request, write=True)
        try:
            body = json.loads(await request.body() or b"{}")
            d = decide(store, name, int(body.get("cell_id", 0)), str(body.get("action", "value")),
                       None if body.get("value") is None else str(body["value"]))
        except (ValueError, KeyError, TypeError) as e:
            raise HTTPException(422, str(e)) from None
        except PermissionError as e:
            raise HTTPException(409, str(e)) from None
        return {"decision": _decision_json(d) if d else None}

    @app.get("/api/reports/{report_id}/decisions")
    async def api_decisions(request: Request, report_id: int):
        api_user(request)
        return [_decision_json(d) for d in store.decisions(report_id)]

    @app.get("/api/reports/{report_id}/export")
    async def api_export(request: Request, report_id: int, format: str = "json"):
        api_user(request)
        if format not in ("json", "csv"):
            raise HTTPException(422, "format is json or csv")
        _report(store, report_id)
        body, media = export(store, report_id, format)
        return PlainTextResponse(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="report-{report_id}.{format}"'})

    return app


class _Login(Exception):
    """A page asked for without a session: to the login page."""


def where_blank(report: Report, key: str) -> tuple[int, tuple[float, float, float, float]] | None:
    """Where on its page a cell the scan left blank sits: between its row's printed
    neighbours, spaced as they are (a blank has no box of its own)."""
    table, row, _ = split_key(key)
    # 表四 prints its three groups on one line
    line = [r for r in report.readings if split_key(r.key)[0] == table and (table == "review_litigation" or
                                                                           split_key(r.key)[1] == row)]
    known = [(n, r) for n, r in enumerate(line) if r.bbox and r.page]
    at = next(n for n, r in enumerate(line) if r.key == key)
    if len(known) < 2:
        return None
    (i, a), (j, b) = min(known, key=lambda x: abs(x[0] - at)), sorted(known, key=lambda x: abs(x[0] - at))[1]
    if a.page != b.page or i == j:
        return None
    pitch = ((b.bbox[0] + b.bbox[2]) - (a.bbox[0] + a.bbox[2])) / 2 / (j - i)
    x = (a.bbox[0] + a.bbox[2]) / 2 + pitch * (at - i)
    half = max(abs(pitch) * 0.35, 10.0)
    return a.page, (x - half, a.bbox[1], x + half, a.bbox[3])


def _report(store: Store, report_id: int) -> Report:
    try:
        return store.report(report_id)
    except KeyError:
        raise HTTPException(404, "no such report") from None


def _decision_json(d: Decision) -> dict:
    return {"id": d.id, "cell_id": d.cell_id, "report_id": d.report_id, "key": d.key, "reviewer": d.reviewer,
            "at": d.at, "old_value": d.old_value, "new_value": d.new_value, "reason": d.reason, "undoes": d.undoes}


# --- rendering -----------------------------------------------------------------------------------

def _e(text) -> str:
    return html.escape(str(text))


def _num(v: Number) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _crop_png(path: Path, bbox: tuple[float, float, float, float]) -> bytes:
    """The cell with its neighbours around it, the cell boxed in red, at a readable size."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    x0, y0, x1, y1 = bbox
    h = max(y1 - y0, 20.0)
    X0, Y0 = max(int(x0 - 4 * h), 0), max(int(y0 - 1.5 * h), 0)
    X1, Y1 = min(int(x1 + 4 * h), image.shape[1]), min(int(y1 + 1.5 * h), image.shape[0])
    piece = image[Y0:Y1, X0:X1].copy()
    cv2.rectangle(piece, (int(x0) - X0 - 3, int(y0) - Y0 - 3), (int(x1) - X0 + 3, int(y1) - Y0 + 3), (0, 0, 220), 2)
    scale = max(1.0, 160 / max(piece.shape[0], 1))
    if scale > 1:
        piece = cv2.resize(piece, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    ok, png = cv2.imencode(".png", piece)
    return png.tobytes() if ok else b""


def _review_body(store: Store, q: QueueCell, csrf: str, report_filter: int | None, skipped: tuple[int, ...]) -> str:
    report = store.report(q.report_id)
    row, column = labels(q.key)
    crop = (f"<img id='crop' src='/crop/{q.id}.png' alt='the cell on the page'>"
            if q.bbox and q.page or where_blank(report, q.key)
            else f"<p id='crop' class='text'>Printed text: <b>{_e(q.text or '(blank)')}</b> (no page image)</p>")
    cands = "".join(f"<li><kbd>{_e(_num(v))}</kbd> {p:.0%}</li>" for v, p in q.candidates[:4])
    table = split_key(q.key)[0]
    left = sum(1 for r in report.readings if r.status == "needs_review")
    why, detail = reason_words(q.reason)
    return f"""<h1>{_e(report.metadata.agency or Path(report.source.path).name)} {report.metadata.year or ''}
<small>· {left} left in this report</small></h1>
<div class="cell" data-cell="{q.id}">
 <div class="where"><span id="row-label">{_e(row)}</span> × <span id="column-label">{_e(column)}</span>
  <code id="key">{_e(q.key)}</code></div>
 <p class="reason">Why a person must look: <span id="reason">{_e(why)}</span> <small id="reason-detail">{_e(detail)}</small></p>
 {crop}
 <form method="post" action="/review" id="decide" autocomplete="off">
  <input type="hidden" name="csrf" value="{_e(csrf)}">
  <input type="hidden" name="cell_id" value="{q.id}">
  <input type="hidden" name="report" value="{report_filter or ''}">
  <input type="hidden" name="skip" value="{','.join(map(str, skipped))}">
  <input type="hidden" name="action" id="action" value="value">
  <label>Value read: <b id="current">{_e(_num(q.value))}</b> ({q.confidence:.0%}) — type the printed number, Enter to accept
  <input name="value" id="value" inputmode="decimal" autofocus placeholder="{_e(_num(q.value))}"></label>
 </form>
 <p class="keys"><kbd>Enter</kbd> accept / save · <kbd>s</kbd> skip · <kbd>x</kbd> the source itself is wrong · <kbd>u</kbd> undo last</p>
 {'<ul class="cands" id="candidates">' + cands + '</ul>' if cands else ''}
</div>
{_table_html(report, table, q.key)}
<script>
const f = document.getElementById('decide'), v = document.getElementById('value'), a = document.getElementById('action');
v.focus();
f.addEventListener('submit', () => {{ if (a.value === 'value' && v.value.trim() === '') a.value = 'accept'; }});
document.addEventListener('keydown', (e) => {{
  const act = {{s: 'skip', x: 'source_wrong', u: 'undo'}}[e.key];
  if (act && !e.ctrlKey && !e.metaKey && !e.altKey) {{ e.preventDefault(); a.value = act; f.submit(); }}
}});
</script>"""


def _table_html(report: Report, table: str, current: str | None) -> str:
    """One canonical table as the report prints it, the current cell and the cells of its
    broken identities marked."""
    by_key = {r.key: r for r in report.readings if r.key.startswith(table + ".")}
    broken = {k for c in report.checks if not c.holds and (current is None or current in c.keys) for k in c.keys}
    rows: dict[str, list] = {}
    for key, r in by_key.items():
        rows.setdefault(split_key(key)[1], []).append(r)
    first = next(iter(rows.values()), [])
    out = ["<tr><th></th>" + "".join(f"<th>{_e(labels(r.key)[1])}</th>" for r in first) + "</tr>"] if table != "proactive" else []
    for readings in rows.values():
        tds = []
        for r in readings:
            cls = " ".join(c for c in ("current" if r.key == current else "", "broken" if r.key in broken else "",
                                       r.status) if c)
            why = f" · {r.reason}" if r.reason else ""
            tds.append(f"<td class='{cls}' title='{_e(labels(r.key)[1])}: {r.confidence:.0%}{_e(why)}'>{_e(_num(r.value))}</td>")
        out.append(f"<tr><th>{_e(labels(readings[0].key)[0])}</th>{''.join(tds)}</tr>")
    names = {"proactive": "表二 主动公开", "requests": "表三 收到和处理申请", "review_litigation": "表四 复议、诉讼"}
    return f"<h2>{names[table]}</h2><table class='report' id='table-{table}'>{''.join(out)}</table>"


def _header(name: str, csrf: str) -> str:
    return (f"<nav><a href='/'>Reports</a> · <a href='/review'>Queue</a> · <span id='who'>{_e(name)}</span>"
            f"<form method='post' action='/logout' class='inline'><input type='hidden' name='csrf' value='{_e(csrf)}'>"
            f"<button id='logout'>Log out</button></form></nav>")


_STYLE = """body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:1.5em;max-width:1200px}
nav{margin-bottom:1em}form.inline{display:inline;margin-left:1em}.cell{border:1px solid #ccc;padding:1em;margin-bottom:1em}
#crop{max-width:100%;border:1px solid #999;display:block;margin:.5em 0}#value{font-size:1.6em;width:10em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:.85em}td{text-align:right}
th{text-align:left;font-weight:normal;max-width:22em}td.needs_review{background:#fff3c4}td.broken{outline:2px solid #d33}
td.current{background:#ffd0d0;font-weight:bold}td.corrected{background:#dff3df}.error{color:#b00}.n{text-align:right}
kbd{border:1px solid #999;border-radius:3px;padding:0 4px}.reason{margin:.4em 0;color:#7a4b00}.login label{display:block;margin:.5em 0}"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>{_e(title)} · extract</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def serve(store: Store, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")

