"""Bad input gets one clear line on stderr and a non-zero exit; the other files' output is still written."""
from __future__ import annotations

import pytest
from conftest import SEEDS, run_cli

GOOD = SEEDS / "003_13dc86c238fc634d.txt"


def _bad_files(tmp_path):
    text = GOOD.read_text(encoding="utf-8")
    cut = text.index("四、结转下年度继续办理")  # ends inside 表三: 表四 never arrives
    files = {
        "empty": b"",
        "not-a-report": "关于召开2023年度工作会议的通知\n\n各科室：\n定于下周一召开全体会议，请准时参加。\n".encode(),
        "truncated": text[:cut].encode("utf-8"),
        "binary": bytes(range(256)) * 64,
        "unknown-encoding": "Rapport annuel: caf\xe9, \xff\xfe r\xe9sum\xe9 \xe0 \xe7a".encode("latin-1") * 20,
        "pdf-garbage.pdf": b"%PDF-1.7\n garbage",
    }
    paths = {}
    for name, data in files.items():
        p = tmp_path / (name if "." in name else name + ".txt")
        p.write_bytes(data)
        paths[name] = p
    return paths


@pytest.mark.parametrize("name,message", [
    ("empty", "is empty"),
    ("not-a-report", "not a government information disclosure annual report"),
    ("truncated", "incomplete report"),
    ("binary", "binary data"),
    ("unknown-encoding", "unknown text encoding"),
    ("pdf-garbage.pdf", "PDF"),
])
def test_bad_file_alone(tmp_path, name, message):
    path = _bad_files(tmp_path)[name]
    result = run_cli(path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_batch_goes_on_past_bad_files(tmp_path):
    bad = _bad_files(tmp_path)
    out = tmp_path / "out"
    result = run_cli(bad["empty"], GOOD, bad["binary"], "-o", out)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 2
    assert (out / (GOOD.stem + ".json")).exists()
    assert sorted(p.name for p in out.iterdir()) == [GOOD.stem + ".json"]


def test_missing_file(tmp_path):
    result = run_cli(tmp_path / "nope.txt")
    assert result.returncode != 0 and "cannot read" in result.stderr
