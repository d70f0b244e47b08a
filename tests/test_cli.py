"""The CLI's output forms: stdout JSON, -o FILE, -o DIR, CSV; keys as the shared schema names them."""
from __future__ import annotations

import csv
import io
import json

from conftest import SEEDS, SHARED, run_cli

SEED = SEEDS / "004_63545407972970c8.txt"  # the 2019 layout


def test_stdout_json_follows_the_contract():
    result = run_cli(SEED)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == "1"
    assert doc["source"]["kind"] == "text" and len(doc["source"]["sha256"]) == 64
    assert doc["layout"] == "2019"
    schema = json.loads((SHARED / "spec" / "schema.json").read_text(encoding="utf-8"))["tables"]
    rows19 = schema["proactive"]["layouts"]["2019"]
    assert doc["values"]["proactive"].keys() == rows19.keys()
    for row, spec in rows19.items():
        assert list(doc["values"]["proactive"][row]) == spec["columns"]
    for row, cols in doc["values"]["requests"].items():
        assert row in schema["requests"]["rows"] and list(cols) == list(schema["requests"]["columns"])
    assert len(doc["cells"]) == sum(len(c) for t in doc["values"].values() for c in t.values())
    assert all(c["status"] in ("read", "corrected", "needs_review") and 0 <= c["confidence"] <= 1 for c in doc["cells"])
    assert {c["verdict"] for c in doc["checks"]} <= {"ok", "corrected", "source_inconsistent", "unresolved"}
    assert any(c["rule"] == "requests.column_total.total" for c in doc["checks"])


def test_out_file_dir_and_csv(tmp_path):
    one = tmp_path / "a" / "one.json"
    assert run_cli(SEED, "-o", one).returncode == 0
    assert json.loads(one.read_text(encoding="utf-8"))["year"] == 2020
    out = tmp_path / "many"
    assert run_cli(*sorted(SEEDS.glob("*.txt"))[:2], "-o", out, "--format", "csv").returncode == 0
    files = sorted(out.iterdir())
    assert [f.suffix for f in files] == [".csv", ".csv"]
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8"))))
    assert len(rows) == 200 and rows[0]["key"] == "proactive.regulations.issued"
    assert {r["status"] for r in rows} == {"read"}


def test_version_and_verbose_stage_logs(tmp_path):
    from extract import __version__

    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"extract {__version__}"
    crawl = SHARED / "corpus" / "crawl" / "pingtan-zrz-2023.txt"  # cells in review: the result line names why
    quiet = run_cli(SEED, "-o", tmp_path / "q.json")
    loud = run_cli(SEED, crawl, "-v", "-o", tmp_path / "v")
    assert quiet.returncode == loud.returncode == 0
    assert "extract metadata:" not in quiet.stderr
    lines = loud.stderr.splitlines()
    for stage in ("metadata", "flat text", "structure", "reconcile", "result"):
        assert any(f"extract {stage}: {SEED.name}" in line for line in lines), stage
    assert any(f"extract flat text: {crawl.name}: its cells ran together" in line for line in lines)
    assert any(f"extract result: {crawl.name}" in line and "split_ambiguous" in line for line in lines)
    timed = [line for line in lines if line.startswith("20") and " extract " in line and line.rstrip().endswith(" s")]
    assert len(timed) >= 6  # each stage line ends in its time
    # the JSON is the same with or without the logs
    assert json.loads((tmp_path / "v" / f"{SEED.stem}.json").read_text()) == json.loads((tmp_path / "q.json").read_text())


def test_a_pdf_logs_a_line_per_page(tmp_path):
    pdf = SHARED / "corpus" / "pdf" / "hongze-2023.pdf"
    result = run_cli("-v", pdf, "-o", tmp_path / "h.json")
    assert result.returncode == 0, result.stderr
    pages = [line for line in result.stderr.splitlines() if f"extract ingest: {pdf.name}: page " in line]
    assert len(pages) == 5 and all("text layer" in line for line in pages)
