"""Reviewer UI latency: from a decision's key press to the next cell's page being ready.

    python scripts/bench_review.py [--seeds 1000036 1000014] [--rounds 3]

Generated scans (never trained on) are read and stored; a reviewer in real headless
Chromium then decides every flagged cell with the keyboard (Enter: accept), and each
step is timed from the key press until the next cell's page has loaded, its crop image
included.  Reports the median and 90th percentile over all cells of all rounds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_review import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server  # noqa: E402

from extract import ingest  # noqa: E402
from extract.pipeline import extract_document  # noqa: E402
from extract.store import Store  # noqa: E402
from training.evaluate_scans import LEVELS  # noqa: E402
from training.render import scan, to_pdf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1_000_030, 1_000_261, 1_000_396])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp())
    docs = []
    for seed in args.seeds:
        s = scan(seed, LEVELS[(seed - 1_000_000) % 3])
        path = tmp / f"{seed}.pdf"
        path.write_bytes(to_pdf(s.pages, 200))
        doc = ingest.read(path, keep_images=True)
        docs.append((extract_document(doc), doc))
    steps = []
    for n in range(args.rounds):
        store = Store(tmp / f"round{n}.sqlite")
        for report, doc in docs:
            store.add_report(report, doc.images, doc.cells)
        store.add_reviewer("bench", PASSWORD)
        with Server(store) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url + "/login")
            page.fill("#name", "bench")
            page.fill("#password", PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector("#start")
            page.goto(server.url + "/review")
            page.wait_for_selector(".cell, #done")
            while not page.query_selector("#done"):
                t = time.perf_counter()
                with page.expect_navigation(wait_until="load"):  # the next page, its crop image loaded
                    page.keyboard.press("Enter")
                steps.append(time.perf_counter() - t)
            browser.close()
    steps.sort()
    print(f"{len(steps)} cells over {args.rounds} rounds of {len(docs)} scans: median {statistics.median(steps) * 1000:.0f} ms, "
          f"p90 {steps[int(0.9 * (len(steps) - 1))] * 1000:.0f} ms, max {steps[-1] * 1000:.0f} ms per cell (UI latency)")


if __name__ == "__main__":
    main()
