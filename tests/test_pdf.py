"""PDF and image input: the born-digital corpus PDF through its text layer, scans through real OCR, bad files."""
from __future__ import annotations

import io
import json
import re
import sys

import numpy as np
import pypdfium2 as pdfium
import pytest
from conftest import SHARED, every_key_is_there, run, run_cli
from PIL import Image, ImageDraw

from extract import extract, ingest
from extract.ocr import RapidOcr, rotate, skew_angle
from extract.schema import REVIEW
from training.render import degrade, render, scan, to_pdf, to_text_pdf

HONGZE = SHARED / "corpus" / "pdf" / "hongze-2023.pdf"


def test_born_digital_pdf_is_exact_through_its_text_layer(tmp_path, monkeypatch):
    # Any OCR call would fail this test: a usable text layer is never OCR'd.
    monkeypatch.setattr("extract.ocr.default_engine", lambda *a: pytest.fail("OCR ran on a text-layer PDF"))
    out = tmp_path / "hongze-2023.json"
    report = extract(HONGZE)
    assert report.source.kind == "pdf-text" and report.source.pages == 5
    from extract.output import to_json

    out.write_text(to_json(report), encoding="utf-8")
    score = run([sys.executable, str(SHARED / "tools" / "score.py"), str(HONGZE.with_suffix(".truth.json")), str(out)])
    figures = dict(re.findall(r"(\w+)=(\S+)", score.stdout.strip().splitlines()[-1]))
    assert figures["accuracy"] == "1.0000" and figures["silent_errors"] == "0", score.stdout
    assert figures["inconsistency_flagged"] == "2/2", score.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert all("bbox" in c and "page" in c for c in doc["cells"])


@pytest.mark.parametrize("seed", [0, 4, 7, 11])
def test_generated_born_digital_pdf_in_a_standard_cjk_font(seed, tmp_path, monkeypatch):
    """Office exports print in STSong-Light without embedding it: the text layer gives the
    characters but no glyph outlines.  Seeds: dashes for zeros; blank zeros with 表四's headings
    run together; blank zeros with a row of two values at the top of a page (not a page
    number); blank zeros in a vertical-band 表三."""
    monkeypatch.setattr("extract.ocr.default_engine", lambda *a: pytest.fail("OCR ran on a text-layer PDF"))
    s = render(seed)
    path = tmp_path / f"{seed}.pdf"
    path.write_bytes(to_text_pdf(s))
    report = extract(path)
    assert report.source.kind == "pdf-text"
    assert (report.metadata.agency, report.metadata.year, report.layout) == (s.agency, s.year, s.variant.layout)
    got = {r.key: r for r in report.readings}
    assert set(got) == set(s.values)
    wrong = [k for k, v in s.values.items() if got[k].value != v]
    assert not [k for k in wrong if got[k].status != "needs_review"], "silent errors"
    # blank zeros leave 表四's columns to its headings' positions: some lines go to review whole
    assert sum(r.status == "needs_review" for r in report.readings) <= 0.2 * len(got)


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
    printed = [v for v in want if v or s.style["zero"] == "0"]  # zeros may print as blanks or marks
    numbers = [t for t in texts if re.fullmatch(r"\d+", t)]
    assert [int(n) for n in numbers[-len(printed):]] == printed


def test_page_orientation_and_skew_are_found(ocr):
    page = render(12).pages[1]  # all table: ruling lines everywhere, which must not fool it
    for turn in (0, 90, 180, 270):
        image = rotate(page, turn)
        assert ocr.orientation(image, ocr.detect(image)) == (360 - turn) % 360  # the turn that sets it upright
    assert abs(skew_angle(rotate(page, 1.5)) + 1.5) < 0.4  # the angle that turns it back


def test_a_page_of_stacked_headers_stays_upright(ocr):
    # 表四 alone on a page: its headers stand (结/果/维/持 in narrow columns) and only two
    # lines lie; a page like this was once turned sideways and its numbers swapped silently
    s = render(12)
    page = s.pages[-1]
    assert ocr.orientation(page, ocr.detect(page)) == 0
    # a page printing nothing but 表四's stacked headings and its numbers: no line to turn it by
    lone = scan(2_000_000, "medium").pages[2]
    assert ocr.orientation(lone, ocr.detect(lone)) == 0
    numbers = [b.text for b in ocr.read(page, 3) if b.text.isdigit()]
    assert [int(n) for n in numbers] == [s.values[k] for k in REVIEW.keys]


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
    every_key_is_there(report)


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


def test_spaced_numbers_in_one_box_become_one_cell_each():
    from extract.cells import Box
    from extract.ocr import split_numbers

    parts = split_numbers(Box("37 42 57", (100.0, 0.0, 180.0, 20.0), 1, 0.9))
    assert [p.text for p in parts] == ["37", "42", "57"]
    assert parts[0].bbox[2] < parts[1].bbox[0] and parts[1].bbox[2] < parts[2].bbox[0]
    assert split_numbers(Box("3742", (0.0, 0.0, 40.0, 20.0), 1)) == [Box("3742", (0.0, 0.0, 40.0, 20.0), 1)]


def test_zeros_printed_as_slashes_are_told_from_ones():
    # on poor scans the recogniser reads a bold "/" as "1"; a page printing its zeros as
    # slashes leans them all one way, and a real 1 stands upright among them
    from extract.cells import Box
    from extract.ocr import read_slashes
    from training.render import font

    page = Image.new("L", (900, 120), 255)
    draw = ImageDraw.Draw(page)
    f = font(True, 48)
    glyphs = "//1///1/"
    boxes = []
    for i, g in enumerate(glyphs):
        x = 40 + i * 100
        draw.text((x, 30), g, font=f, fill=0)
        x0, y0, x1, y1 = draw.textbbox((x, 30), g, font=f)
        boxes.append(Box("1", (x0 - 3, y0 - 3, x1 + 3, y1 + 3), 1, 0.95))
    out = read_slashes(np.asarray(page), boxes)
    assert "".join(b.text for b in out) == glyphs
    assert all(b.candidates[0][1] > 0.9 for b in out)
    assert read_slashes(np.asarray(page), boxes[2:3] + boxes[6:7]) == boxes[2:3] + boxes[6:7]  # no slashes: untouched


def test_a_faded_page_is_not_blank():
    page = render(12).pages[1]
    faded = (255 - (255 - page.astype(np.int32)) * 0.25).astype(np.uint8)  # ink at about grey 191
    assert not ingest.is_blank(faded)
    assert ingest.is_blank(np.full_like(page, 250))


@pytest.mark.parametrize("point", [
    (".", lambda x, y: (x + 1, y + 9, x + 3, y + 12)),  # a box of its own, on the line
    (".", lambda x, y: (x, y + 12, x, y + 12)),  # zero-size, at the baseline
    (".", lambda x, y: (x + 1, y + 30, x + 3, y + 32)),  # off the line
    ("．", lambda x, y: (0.0, 0.0, 0.0, 0.0)),  # a full-width point at the page's corner
])
def test_a_decimal_point_whatever_box_pdfium_gives_it_stays_in_its_number(point):
    from extract.cells import CHAR_GAP, Box, PageBoxes, build_cells
    from extract.pdf import _decimal_points

    glyph, box_of = point

    def chars(text: str, x: float, y: float, size: float) -> list[Box]:
        out = []
        for ch in text:
            out.append(Box(ch, box_of(x, y) if ch == "." else (x, y, x + size, y + size * 1.4), 1))
            x += 4 if ch == "." else size + 1
        return out

    boxes = chars("行政事业性收费", 100, 500, 14) + [Box(glyph if b.text == "." else b.text, b.bbox, 1)
                                                for b in chars("96171.6", 700, 501, 8)]
    cells, _ = build_cells([PageBoxes(_decimal_points(boxes), 1000, CHAR_GAP)])
    assert [c.text for c in cells] == ["行政事业性收费", "96171.6"]


def test_money_keeps_its_decimals_through_a_born_digital_pdf(tmp_path):
    from training import render_html

    seed = next((s for s in range(3_000_000, 3_000_100)
                 if isinstance(render_html.plan(s).report.values.get("proactive.fees.amount"), float)), None)
    assert seed is not None, "none of 100 held-out plans has fees with decimals"
    want = render_html.plan(seed).report.values["proactive.fees.amount"]
    path = tmp_path / "report.pdf"
    path.write_bytes(render_html.text_pdf(seed))
    report = extract(str(path))
    assert report.source.kind == "pdf-text"
    fee = next(r for r in report.readings if r.key == "proactive.fees.amount")
    assert fee.value == want and fee.status == "read", fee
