"""PDF and image input: the born-digital corpus PDF through its text layer, scans through real OCR, bad files."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import numpy as np
import pypdfium2 as pdfium
import pytest
from conftest import SHARED, run_cli
from PIL import Image

from extract import extract, ingest
from extract.ocr import RapidOcr, is_sideways, rotate, skew_angle
from training.render import degrade, render, to_pdf

HONGZE = SHARED / "corpus" / "pdf" / "hongze-2023.pdf"


def test_born_digital_pdf_is_exact_through_its_text_layer(tmp_path, monkeypatch):
    # Any OCR call would fail this test: a usable text layer is never OCR'd.
    monkeypatch.setattr("extract.ocr.default_engine", lambda *a: pytest.fail("OCR ran on a text-layer PDF"))
    out = tmp_path / "hongze-2023.json"
    report = extract(HONGZE)
    assert report.source.kind == "pdf-text" and report.source.pages == 5
    from extract.output import to_json

    out.write_text(to_json(report), encoding="utf-8")
    score = subprocess.run([sys.executable, str(SHARED / "tools" / "score.py"), str(HONGZE.with_suffix(".truth.json")), str(out)],
                           capture_output=True, text=True)
    figures = dict(re.findall(r"(\w+)=(\S+)", score.stdout.strip().splitlines()[-1]))
    assert figures["accuracy"] == "1.0000" and figures["silent_errors"] == "0", score.stdout
    assert figures["inconsistency_flagged"] == "2/2", score.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert all("bbox" in c and "page" in c for c in doc["cells"])


@pytest.fixture(scope="module")
def ocr():
    return RapidOcr()


def test_ocr_reads_a_degraded_table_page(ocr):
    s = render(11)
    page_no = max(p for p, _ in s.truth.values())  # the last page: the end of 表三 and 表四
    image = degrade(s.pages[page_no - 1], "medium", __import__("random").Random(1))
    boxes = ocr.read(image, page_no)
    texts = [b.text for b in boxes]
    want = [s.values[k] for k, (p, _) in s.truth.items() if p == page_no and k.startswith("review_litigation")]
    assert "行政复议" in "".join(texts)
    numbers = [t for t in texts if re.fullmatch(r"\d+", t)]
    assert [int(n) for n in numbers[-15:]] == want


def test_page_orientation_and_skew_are_found():
    page = render(12).pages[1]
    assert not is_sideways(page)
    assert is_sideways(rotate(page, 90))
    assert abs(skew_angle(rotate(page, 1.5)) + 1.5) < 0.4  # the angle that turns it back


def test_scanned_pdf_end_to_end(tmp_path):
    s = render(13)
    f = tmp_path / "scan.pdf"
    f.write_bytes(to_pdf(s.pages, 200))
    report = extract(f)
    assert report.source.kind == "pdf-scan"
    got = {r.key: (r.value, r.status) for r in report.readings}
    wrong = {k: (got[k], v) for k, v in s.values.items() if got[k][0] != v and got[k][1] != "needs_review"}
    assert not wrong  # no silent error
    assert sum(got[k][0] == v for k, v in s.values.items()) >= 0.97 * len(s.values)
    assert all(r.page and r.bbox for r in report.readings if r.text)


def _pdf_bytes(pages: int) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _empty_pdf(pikepdf) -> bytes:
    buf = io.BytesIO()
    pikepdf.new().save(buf)
    return buf.getvalue()


def test_bad_pdfs_and_images(tmp_path):
    pikepdf = pytest.importorskip("pikepdf")
    cases = {
        "corrupt.pdf": (HONGZE.read_bytes()[:20000], "not a readable PDF"),
        "empty.pdf": (_empty_pdf(pikepdf), "no pages"),
        "blank-300.pdf": (_pdf_bytes(300), "not a government information disclosure annual report"),
        "photo.png": (None, "not a government information disclosure annual report"),
        "broken.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a readable image"),
    }
    rng = np.random.default_rng(0)
    photo = (rng.random((400, 600)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="PNG")
    cases["photo.png"] = (buf.getvalue(), cases["photo.png"][1])
    enc = tmp_path / "encrypted.pdf"
    with pikepdf.open(HONGZE) as pdf:
        pdf.save(enc, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    paths = [enc]
    for name, (data, _) in cases.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    result = run_cli(*paths, "-o", tmp_path / "out")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(lines) == len(paths), result.stderr
    assert "encrypted" in lines[0]
    for line, (_, message) in zip(lines[1:], cases.values()):
        assert message in line, line


def test_blank_pages_are_not_ocrd():
    doc_pages = list(__import__("extract.pdf", fromlist=["pages"]).pages(_pdf_bytes(3), "x.pdf"))
    assert len(doc_pages) == 3 and all(p.image is not None for p in doc_pages)
    assert ingest.is_blank(doc_pages[0].image)
