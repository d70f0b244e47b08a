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
