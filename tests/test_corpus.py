"""The acceptance on the real corpus: the five seed reports, scored exactly as the product is judged."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import SEEDS, SHARED, run_cli


def test_seed_reports_are_exact(tmp_path, seeds):
    out = tmp_path / "out"
    result = run_cli(*seeds, "-o", out)
    assert result.returncode == 0, result.stderr
    score = subprocess.run([sys.executable, str(SHARED / "tools" / "score.py"), "--pairs", str(SEEDS), str(out)],
                           capture_output=True, text=True)
    assert score.returncode == 0, score.stdout
    summary = score.stdout.strip().splitlines()[-1]
    figures = dict(re.findall(r"(\w+)=(\S+)", summary))
    assert figures["docs"] == "5"
    assert figures["accuracy"] == "1.0000", score.stdout
    assert figures["silent_errors"] == "0", score.stdout
    assert figures["meta"] == "5/5", score.stdout
    assert figures["review_load"] == "0.0000", score.stdout
    # the figures the prose states agree with the tables, each as a check of its own
    narrative = [c for f in out.glob("*.json") for c in json.loads(f.read_text(encoding="utf-8"))["checks"]
                 if c["rule"].startswith("narrative.")]
    assert len(narrative) >= 5 and all(c["holds"] and c["verdict"] == "ok" for c in narrative), narrative


def test_crawler_text_is_read_never_refused_and_never_silently_wrong(tmp_path):
    # web pages as an archive's crawler stored them (tags stripped, cells run together): the
    # reports print their title and tables' headings, so they are read; what the text does not
    # anchor goes to a person, and every key the report may print is in the output
    crawl = SHARED / "corpus" / "crawl"
    files = sorted(crawl.glob("*.txt"))
    assert len(files) == 4, f"crawl corpus not found at {crawl}"
    out = tmp_path / "out"
    result = run_cli(*files, "-o", out)
    assert result.returncode == 0, result.stderr
    score = subprocess.run([sys.executable, str(SHARED / "tools" / "score.py"), "--pairs", str(crawl), str(out)],
                           capture_output=True, text=True)
    figures = dict(re.findall(r"(\w+)=(\S+)", score.stdout.strip().splitlines()[-1]))
    assert figures["docs"] == "4" and figures["silent_errors"] == "0", score.stdout
    assert figures["meta"] == "4/4", score.stdout
