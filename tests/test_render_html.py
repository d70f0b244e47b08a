"""The HTML renderer, with Debian's real chromium: pages, truth, identities, style variety."""
from __future__ import annotations

import re

import numpy as np
import pypdfium2 as pdfium
import pytest

from extract import metadata, ocr
from extract.reconcile import identities
from training import render_html

# 3: 表三 on a landscape page, three-line tables; 5: 三、本年度办理结果 as a row, `/` for zero;
# 6: a shaded, fully ruled grid, figures in the prose
SEEDS = (3, 5, 6)
DPI = 100


@pytest.fixture(scope="module")
def scans():
    if not render_html.CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `python3 scripts/dev.py test` installs it")
    return {seed: render_html.render(seed, DPI) for seed in SEEDS}


def test_pages_are_a4_grey_images_landscape_where_chosen(scans):
    for s in scans.values():
        assert len(s.pages) >= 1
        for page in s.pages:
            assert page.dtype == np.uint8 and page.ndim == 2
            long, short = max(page.shape), min(page.shape)
            assert abs(long / short - 297 / 210) < 0.01
        landscape = [p.shape[1] > p.shape[0] for p in s.pages]
        assert any(landscape) == s.style["landscape"]
        assert not landscape[0] and not landscape[-1]  # only 表三 turns the page
    assert scans[3].style["landscape"]


def test_values_hold_every_identity_of_their_variant(scans):
    for s in scans.values():
        assert set(s.values) == set(s.variant.keys)
        for ident in identities(s.variant):
            assert sum(s.values[k] for k in ident.parts) == sum(s.values[k] for k in ident.total), ident.name
        assert (s.variant.layout == "2021") == (s.year >= 2021)


def test_truth_boxes_lie_on_their_page_over_printed_digits(scans):
    for s in scans.values():
        assert set(s.truth) <= set(s.values)
        assert len(s.truth) >= 0.95 * len(s.values)
        inked = 0
        for key, (page, (x0, y0, x1, y1)) in s.truth.items():
            image = s.pages[page - 1]
            assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0], key
            printed = s.values[key] != 0 or s.style["zero"] != ""
            if printed:  # the value's characters are inside its box (grey ink is at most #888)
                assert image[int(y0):int(y1) + 1, int(x0):int(x1) + 1].min() < 160, key
                inked += 1
        assert inked >= 0.2 * len(s.truth), (inked, len(s.truth))  # most of a report prints something


def test_styles_vary_over_seeds(scans):
    styles = [render_html.plan(seed).style for seed in range(40)]
    for name, value in styles[0].items():
        if isinstance(value, bool):
            assert {s[name] for s in styles} == {True, False}, name
    assert len({s["zero"] for s in styles}) == 4
    assert len({s["body_font"] for s in styles}) >= 5
    assert all(s["title_font"] != s["body_font"] for s in styles)
    assert len({tuple(sorted(s.style.items())) for s in scans.values()}) == len(SEEDS)


def test_prose_states_the_tables_figures_and_the_title_reads():
    p = render_html.plan(6)
    pdf = pdfium.PdfDocument(render_html.PRINTER.pdf(render_html.document(p)))
    lines = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))).splitlines()
    text = "\n".join(line for line in lines if not re.fullmatch(r"\W*(第)?\d+\W*(页.*)?", line.strip()))  # the footers
    meta = metadata.read(text)
    assert (meta.agency, meta.year, meta.layout) == (p.report.agency, p.report.year, p.report.variant.layout)
    assert len(meta.figures) >= 3  # 新收申请, 其中自然人, 行政复议, 行政诉讼
    for f in meta.figures:
        assert f.value == sum(p.report.values[k] for k in f.keys), f.name


def test_scan_degrades_and_the_cli_writes_the_pdf(tmp_path):
    clean, worn = render_html.render(5, DPI), render_html.scan(5, "medium", DPI)
    assert worn.level == "medium" and [p.shape for p in worn.pages] == [p.shape for p in clean.pages]
    assert any((a != b).any() for a, b in zip(clean.pages, worn.pages))
    render_html.main(["--seed", "5", "--dpi", str(DPI), "--level", "mild", "--out", str(tmp_path / "s.pdf"), "--png", str(tmp_path)])
    assert len(pdfium.PdfDocument(tmp_path / "s.pdf")) == len(list(tmp_path.glob("page-*.png"))) == len(clean.pages)


def test_ocr_reads_the_title_of_a_clean_page():
    s = render_html.render(6, 150)
    top = s.pages[0][: s.pages[0].shape[0] // 4]
    text = "".join(b.text for b in ocr.default_engine().read(top, 1))
    assert s.agency in text and "政府信息公开" in text
