"""`extract export --format xlsx`: a sheet per canonical table and one of cells, every value as the
JSON exports and the contract's JSON give it, the cells to review (and only they) filled with their
reasons as comments; text stays text; no workbook without -o."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SEEDS, SHARED, flatten, run_cli
from openpyxl import load_workbook

from extract import export, output
from extract.store import Store

CRAWL = SHARED / "corpus" / "crawl"
TABLES = ["proactive", "requests", "review_litigation"]
HEAD = ["report_id", "path", "sha256", "kind", "agency", "year", "layout"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """The real pipeline's reports of the crawled corpus (2019 and 2021 layouts, cells to review)
    and two seeds (2021, none to review), in one SQLite store."""
    d = tmp_path_factory.mktemp("xlsx")
    inputs = d / "in"
    inputs.mkdir()
    files = sorted(CRAWL.glob("*.txt")) + sorted(SEEDS.glob("*.txt"))[:2]
    assert len(files) >= 4, f"shared corpus not found at {SHARED} (set EXTRACT_SHARED)"
    for f in files:
        shutil.copy(f, inputs / f.name)
    db = d / "results.sqlite"
    result = run_cli("batch", inputs, "--db", db, "--workers", "1")
    assert result.returncode == 0, result.stderr
    store = Store(db)
    assert len(store.reports()) == len(files), result.stderr
    # the run ends saying what sent its cells to a person, as many as the store holds
    queued = sum(r["to_review"] for r in store.reports())
    assert queued and f"extract batch: {queued} cells to review: split_ambiguous" in result.stderr, result.stderr
    return db


def _jsonl(db: Path, shape: str) -> list[dict]:
    result = run_cli("export", "--db", db, "--format", "jsonl", "--shape", shape)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _workbook(db: Path, out: Path):
    result = run_cli("export", "--db", db, "--format", "xlsx", "-o", out)
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert not out.with_name(out.name + ".part").exists()
    return load_workbook(out)


def _cells(long: list[dict]) -> list[list]:
    """The long export's rows as a sheet holds them: an empty text (a cell not found) is an empty
    cell, which a workbook cannot tell from no value."""
    return [[None if v == "" else v for v in c.values()] for c in long]


def _sheet(ws) -> tuple[list[str], list[list]]:
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    return rows[0], rows[1:]


def test_the_workbook_holds_every_value_and_marks_exactly_the_cells_to_review(store, tmp_path):
    wb = _workbook(store, tmp_path / "reports.xlsx")
    assert wb.sheetnames == [*TABLES, "cells"]
    wide, long = _jsonl(store, "wide"), _jsonl(store, "long")
    # the contract's JSON of the same reports: values, statuses and reasons
    s = Store(store)
    contract = {r["id"]: output.to_dict(s.report(r["id"])) for r in s.reports()}
    to_review = {(c["report_id"], c["key"]): c["review_reason"] for c in long if c["status"] == "needs_review"}
    assert to_review and len({rid for rid, _ in to_review}) >= 2  # the crawled reports have cells to review
    assert len({r["layout"] for r in wide}) == 2

    keys_seen = []
    fill = None
    for table in TABLES:
        ws = wb[table]
        assert ws.freeze_panes == "B2" and ws.auto_filter.ref
        header, body = _sheet(ws)
        keys = [k for k in wide[0] if k.startswith(table + ".")]  # the wide export's keys of this table, in order
        assert header == HEAD + keys and len(keys) > 10
        keys_seen += keys
        assert [row[0] for row in body] == [r["report_id"] for r in wide]  # a row per report, in the export's order
        for row, (excel, js) in enumerate(zip(ws.iter_rows(min_row=2), wide), 2):
            values = flatten(contract[js["report_id"]]["values"])
            cells = {c["key"]: c for c in contract[js["report_id"]]["cells"]}
            for field, c in zip(header, excel):
                assert c.value == js[field], (table, row, field, c.value, js[field])
                if field in keys:
                    # a key the report's layout lacks is empty, as in the JSON export
                    assert c.value == values.get(field) and (field in values) == (field in cells), (field, c.value)
                reason = to_review.get((js["report_id"], field))
                if reason is None:
                    assert c.fill.fill_type is None and c.comment is None, (table, c.coordinate)
                else:
                    assert cells[field]["status"] == "needs_review" and cells[field]["review_reason"] == reason
                    assert c.fill.fill_type == "solid" and c.comment is not None and c.comment.text == reason, c.coordinate
                    fill = fill or c.fill.fgColor.rgb
                    assert c.fill.fgColor.rgb == fill
        assert ws.column_dimensions["B"].width >= 30  # the path is readable
    # every key of the wide export is on exactly one table's sheet
    assert sorted(keys_seen) == sorted(k for k in wide[0] if "." in k) and len(set(keys_seen)) == len(keys_seen)
    marked = {(ws.cell(row=c.row, column=1).value, ws.cell(row=1, column=c.column).value)
              for ws in (wb[t] for t in TABLES) for row in ws.iter_rows() for c in row if c.comment is not None}
    assert marked == set(to_review)

    # the long sheet: the long export, row for row; a value to review is filled (its reason has a column)
    ws = wb["cells"]
    assert ws.freeze_panes == "B2"
    header, body = _sheet(ws)
    assert header == list(long[0]) and body == _cells(long)
    assert len(body) == sum(len(c["cells"]) for c in contract.values())
    value = header.index("value") + 1
    for excel, js in zip(ws.iter_rows(min_row=2), long):
        for c in excel:
            assert c.comment is None
            filled = c.column == value and js["status"] == "needs_review"
            assert (c.fill.fill_type == "solid") == filled, (c.coordinate, js)
    # and the long sheet agrees with the table sheets cell by cell
    by_cell = {(r[0], r[header.index("key")]): r[value - 1] for r in body}
    for table in TABLES:
        head, rows = _sheet(wb[table])
        for row in rows:
            for field, v in zip(head, row):
                if (row[0], field) in by_cell:
                    assert by_cell[row[0], field] == v


def test_text_stays_text_in_the_workbook(store, tmp_path):
    """An agency, a path or a read text that starts with = is no formula; control characters
    (which openpyxl refuses) are dropped, not a failed export."""
    s = Store(store)
    report = s.report(s.reports()[0]["id"])
    readings = list(report.readings)
    readings[0] = replace(readings[0], text="=1+1\x01")
    odd = replace(report, source=replace(report.source, path="=HYPERLINK(\"x\")", sha256="f" * 64),
                  metadata=replace(report.metadata, agency="=SUM(1,2)\x07局"), readings=readings)
    db = tmp_path / "odd.sqlite"
    Store(db).add_report(odd, {}, s.sequence(s.reports()[0]["id"]))
    wb = _workbook(db, tmp_path / "odd.xlsx")
    header, _ = _sheet(wb["proactive"])
    row = wb["proactive"][2]
    for field, want in (("path", '=HYPERLINK("x")'), ("agency", "=SUM(1,2)局")):
        c = row[header.index(field)]
        assert c.value == want and c.data_type == "s", (field, c.value, c.data_type)
    header, _ = _sheet(wb["cells"])
    c = wb["cells"][2][header.index("text")]
    assert c.value == "=1+1" and c.data_type == "s"


def test_a_sheet_past_the_row_limit_goes_on_in_another(store, tmp_path):
    """Excel opens at most 1,048,576 rows a sheet: the cells of a large store go on in ``cells 2``, ``cells 3``, ..."""
    out = tmp_path / "small.xlsx"
    export._xlsx(Store(store), out, limit=400)  # 399 rows a sheet, under the header
    wb = load_workbook(out)
    long = _jsonl(store, "long")
    names = [n for n in wb.sheetnames if n.split(" ")[0] == "cells"]
    assert names == ["cells"] + [f"cells {i}" for i in range(2, len(names) + 1)] and len(names) == -(-len(long) // 399)
    rows = []
    for n in names:
        header, body = _sheet(wb[n])
        assert header == list(long[0]) and 0 < len(body) <= 399
        rows += body
    assert rows == _cells(long)


def test_xlsx_without_an_output_file_is_refused(store, tmp_path):
    result = run_cli("export", "--db", store, "--format", "xlsx", cwd=tmp_path)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip() == "extract: xlsx is binary: give an output file with -o"
    assert list(tmp_path.iterdir()) == []
    bad = run_cli("export", "--db", store, "--format", "xlsx", "--shape", "tall", "-o", tmp_path / "x.xlsx")
    assert bad.returncode != 0 and "unknown shape" in bad.stderr and not (tmp_path / "x.xlsx").exists()
