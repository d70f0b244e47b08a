"""Review in the browser: a real server, the real store, real headless Chromium driven by Playwright."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from extract import ingest
from extract.normalize import parse_number
from extract.pipeline import extract_document
from extract.reconcile import REASONS
from extract.review import create_app, reason_words
from extract.store import Store
from training.corrections import samples
from training.render import scan, to_pdf

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# a generated scan (never trained on) whose reading leaves a few cells to a person
SEED, LEVEL = 1_000_030, "mild"
PASSWORD = "correct horse battery"
# safety nets that hold at three times the load: a server's start and stop, one page's step
START_TIMEOUT = 120.0
STEP_MS = 120_000


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """The generated scan read once: its report, page images and truth."""
    s = scan(SEED, LEVEL)
    path = tmp_path_factory.mktemp("scan") / "scan.pdf"
    path.write_bytes(to_pdf(s.pages, 200))
    doc = ingest.read(path, keep_images=True)
    report = extract_document(doc)
    flagged = [r.key for r in report.readings if r.status == "needs_review"]
    assert flagged, "the scan must leave cells to review"
    return report, doc, s.values


class Server:
    """The review app on a free loopback port, in a thread, over its own store."""

    def __init__(self, store: Store):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.store, self.url = store, f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.__exit__()
                pytest.fail("the review server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(START_TIMEOUT)
        assert not self.thread.is_alive(), "the review server did not stop"


@pytest.fixture
def server(scanned, tmp_path):
    report, doc, _ = scanned
    # the store's clock stands still: no lease runs out, however slowly a browser goes
    store = Store(tmp_path / "results.sqlite", clock=lambda: 1_700_000_000.0)
    store.add_report(report, doc.images, doc.cells)
    for name in ("alice", "bob"):
        store.add_reviewer(name, PASSWORD)
    with Server(store) as s:
        yield s


def login(client: httpx.Client, name: str = "alice", password: str = PASSWORD) -> str:
    """Log in through the form as a browser does; the session's CSRF token from the next page."""
    page = client.get("/login")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = client.post("/login", data={"csrf": token, "name": name, "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    home = client.get("/")
    return home.text.split("name='csrf' value='")[1].split("'")[0]


def _browser(playwright):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `python3 scripts/dev.py test` installs it")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=STEP_MS)


# --- refusals ----------------------------------------------------------------------------------

def test_no_session_forged_csrf_and_paths_outside_the_data_directory_are_refused(server):
    with httpx.Client(base_url=server.url) as anon:
        assert anon.get("/api/reports").status_code == 401
        assert anon.get("/api/queue").status_code == 401
        assert anon.post("/api/decisions", json={"cell_id": 1, "action": "accept"}).status_code == 401
        assert anon.get("/api/reports/1/export").status_code == 401
        r = anon.get("/review")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert anon.get("/crop/1.png").status_code == 303
        # the login form itself needs the token its page set
        assert anon.post("/login", data={"name": "alice", "password": PASSWORD}).status_code == 403
        anon.get("/login")
        assert anon.post("/login", data={"csrf": "forged", "name": "alice", "password": PASSWORD}).status_code == 403
    with httpx.Client(base_url=server.url) as c:
        page = c.get("/login")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = c.post("/login", data={"csrf": token, "name": "alice", "password": "wrong password"})
        assert r.headers["location"] == "/login?failed=1" and c.get("/api/reports").status_code == 401
    with httpx.Client(base_url=server.url) as c:
        csrf = login(c)
        cell = c.get("/api/queue").json()["cell"]
        assert cell["review_reason"].partition(": ")[0] in REASONS
        decision = {"cell_id": cell["id"], "action": "accept"}
        assert c.post("/api/decisions", json=decision).status_code == 403
        assert c.post("/api/decisions", json=decision, headers={"x-csrf-token": "forged"}).status_code == 403
        form = {"csrf": "forged", "cell_id": str(cell["id"]), "action": "accept"}
        assert c.post("/review", data=form).status_code == 403
        assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
        assert not server.store.decisions()
        # paths: only page images under the data directory, whatever the spelling
        secret = server.store.data_dir.parent / "results.sqlite"
        for path in ("../results.sqlite", "..%2Fresults.sqlite", "%2e%2e/%2e%2e/results.sqlite", "/etc/passwd",
                     "..%2f..%2f..%2fetc%2fpasswd", "%2Fetc%2Fpasswd"):
            r = c.get("/pages/" + path)
            assert r.status_code in (403, 404), path
            assert secret.read_bytes()[:16] not in r.content and b"root:" not in r.content
        sha = server.store.report(1).source.sha256
        assert c.get(f"/pages/{sha}/{cell['page'] or 1}.png").headers["content-type"] == "image/png"
        # a cell another reviewer holds is not ours to decide
        with httpx.Client(base_url=server.url) as bob:
            bob_csrf = login(bob, "bob")
            r = bob.post("/api/decisions", json=decision, headers={"x-csrf-token": bob_csrf})
            assert r.status_code == 409
        assert c.post("/api/decisions", json=decision, headers={"x-csrf-token": csrf}).status_code == 200
        assert [d.reviewer for d in server.store.decisions()] == ["alice"]


# --- a whole review in the browser -----------------------------------------------------------

def test_a_reviewer_reviews_every_flagged_cell_with_the_keyboard_to_the_truth(server, scanned):
    from playwright.sync_api import sync_playwright

    _, _, truth = scanned
    actions = []
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page()
        page.set_default_timeout(STEP_MS)
        page.goto(server.url + "/review")
        page.fill("#name", "alice")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_selector("#start")
        page.click("#start")
        first = True
        while True:
            page.wait_for_selector("#key, #done")
            if page.query_selector("#done"):
                break
            key = page.inner_text("#key")
            assert page.inner_text("#row-label") and page.inner_text("#column-label")
            # why the machine could not decide it, in words, beside the cell
            why, detail = reason_words(server.store.cell(int(page.get_attribute(".cell", "data-cell"))).reason)
            assert page.inner_text("#reason") == why and why in REASONS.values()
            assert page.inner_text("#reason-detail") == detail and detail
            want = truth[key]
            if first:
                # a slip, taken back: the cell comes back, and the undo is on the record
                page.keyboard.type(str(want + 1))
                page.keyboard.press("Enter")
                page.wait_for_selector("#key")
                page.keyboard.press("u")
                page.wait_for_selector("#key")
                assert page.inner_text("#key") == key
                actions += ["corrected", "undo"]
                # and a skip moves on without a decision
                page.keyboard.press("s")
                page.wait_for_selector("#key, #done")
                first = False
                continue
            current = page.inner_text("#current")
            if current == str(want):
                page.keyboard.press("Enter")  # accept what was read
                actions.append("confirmed")
            else:
                page.keyboard.type(str(want))
                page.keyboard.press("Enter")
                actions.append("corrected")
            page.wait_for_load_state()
        # the skipped cell waits for a later visit
        page.goto(server.url + "/review")
        while not page.query_selector("#done"):
            key = page.inner_text("#key")
            page.keyboard.type(str(truth[key]))
            page.keyboard.press("Enter")
            actions.append("decided")
            page.wait_for_selector("#key, #done")
        corrected = {d.key for d in server.store.decisions() if d.reason == "corrected"}
        exported = page.request.get(server.url + "/api/reports/1/export?format=json")
        assert exported.ok
        doc = json.loads(exported.text())
        csv = page.request.get(server.url + "/api/reports/1/export?format=csv").text()
        browser.close()
    got = {c["key"]: c["value"] for c in doc["cells"]}
    assert got == truth
    assert not [c for c in doc["cells"] if c["status"] == "needs_review"]
    assert csv.splitlines()[0].startswith("key,") and len(csv.splitlines()) == len(truth) + 1
    # one audit entry per decision, each with who, when, old and new value, reason
    trail = doc["review"]
    assert len(trail) == len(actions)
    assert [d["reason"] for d in trail][:2] == ["corrected", "undo"] and trail[1]["undoes"] == trail[0]["id"]
    assert all(d["reviewer"] == "alice" and d["at"] > 0 and "old_value" in d for d in trail)
    assert all(d["new_value"] == truth[d["key"]] for d in trail[2:])
    # the finished review is training data: each key on the cell that prints its value
    [sample] = samples(server.store)
    held = {k: c for c, k in zip(sample.cells, sample.keys) if k}
    assert all(parse_number(c.text) == truth[k] or k not in corrected for k, c in held.items())
    assert {k for k in corrected if truth[k]} <= set(held), corrected


def test_two_reviewers_at_once_get_disjoint_cells(server):
    from playwright.async_api import async_playwright

    queue = [r.key for r in server.store.report(1).readings if r.status == "needs_review"]
    assert len(queue) >= 2, "two reviewers need a queue to share"
    # each holds a cell before either decides one: however the two are scheduled, both review,
    # and neither is handed the cell the other holds
    both_hold = asyncio.Barrier(2)

    async def review(browser, name: str, seen: list[int]) -> None:
        context = await browser.new_context()
        context.set_default_timeout(STEP_MS)
        page = await context.new_page()
        await page.goto(server.url + "/login")
        await page.fill("#name", name)
        await page.fill("#password", PASSWORD)
        await page.press("#password", "Enter")
        await page.wait_for_selector("#start")
        await page.goto(server.url + "/review")
        while True:
            await page.wait_for_selector(".cell, #done")
            if await page.query_selector("#done"):
                break
            seen.append(int(await page.get_attribute(".cell", "data-cell")))
            if len(seen) == 1:
                await both_hold.wait()
            await page.keyboard.press("Enter")
            await page.wait_for_load_state()
        await context.close()

    async def both() -> tuple[list[int], list[int]]:
        async with async_playwright() as p:
            if not CHROMIUM.exists():
                pytest.fail("Debian chromium is missing: `python3 scripts/dev.py test` installs it")
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                              timeout=STEP_MS)
            try:
                a, b = [], []
                reviews = asyncio.gather(review(browser, "alice", a), review(browser, "bob", b))
                await asyncio.wait_for(reviews, 3 * START_TIMEOUT + len(queue) * STEP_MS / 1000)
                return a, b
            finally:
                await browser.close()

    a, b = asyncio.run(both())
    assert a and b, (a, b)
    assert not set(a) & set(b)
    # each decided only cells they were shown (a decision may settle a cell the other was
    # shown), and between them the queue is done
    by = {d.cell_id: d.reviewer for d in server.store.decisions()}
    assert by and set(by) <= set(a) | set(b)
    assert all(by[c] == "alice" for c in a if c in by) and all(by[c] == "bob" for c in b if c in by)
    assert server.store.claim("carol") is None


def test_a_decision_reconciles_its_report_so_the_cells_it_settles_leave_the_queue(tmp_path):
    from test_reconcile import _first_clean_seed

    from extract.records import Document, Source
    from extract.review import decide

    # a scanned report that lost one number: its row goes to a person, not only the blank
    key = "requests.granted.commercial"
    s, model = _first_clean_seed(key)
    i = s.keys.index(key)
    cells = s.cells[:i] + s.cells[i + 1:]
    report = extract_document(Document(Source("generated.pdf", "0" * 64, 1, "pdf-scan"), "", cells), model)
    store = Store(tmp_path / "r.sqlite")
    store.add_report(report, {}, cells)
    store.add_reviewer("alice", PASSWORD)
    before = store.reports()[0]["to_review"]
    assert before > 1
    cell = store.claim("alice")
    skipped = []
    while cell.key != key:
        skipped.append(cell.id)
        cell = store.claim("alice", skip=tuple(skipped))
    decide(store, "alice", cell.id, "value", str(s.values[key]))
    after = store.report(1)
    left = [r.key for r in after.readings if r.status == "needs_review"]
    assert len(left) < before - 1, left
    assert all(r.value == s.values[r.key] for r in after.readings if r.status != "needs_review")
    assert next(r for r in after.readings if r.key == key).value == s.values[key]
