"""The second look at a scan: a number the detector lost is seen as ink, never read as a silent 0."""
from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from extract import ingest
from extract.cells import Box
from extract.ocr import _SPREAD, _UPRIGHT, OcrPage, RapidOcr, stroke_slope
from extract.pipeline import extract_document
from extract.reconcile import looked_again, not_looked_at
from extract.records import Cell, Reading, Recognized, SecondLook
from extract.schema import DECIMAL_KEYS, SIGNED_KEYS, Variant
from extract.structure import Parse, Run
from extract.verify import (
    _LEANS,
    Region,
    VerifyOptions,
    _dash_before,
    _ink_box,
    _level_stroke,
    _print_slope,
    crowded,
    off_column,
    off_print,
)
from training.generate import make_values
from training.render import degrade, font, render_report, scan, to_pdf

SEED = 70  # 2019 layout, partly ruled: negative changes in 表二, a decimal amount, 3 pages


class LosingEngine:
    """The real engine, but the boxes over some printed numbers are lost, as a detector loses
    a faint or small number: only ink on the page is left of them."""

    def __init__(self, engine: RapidOcr, lost: dict[int, list[tuple[float, float, float, float]]]):
        self.engine, self.lost = engine, lost

    def read_page(self, image, page: int) -> OcrPage:
        read = self.engine.read_page(image, page)
        return OcrPage([b for b in read.boxes if not any(_inside(b, box) for box in self.lost.get(page, ()))], read.image)

    def recognize_crops(self, crops):
        return self.engine.recognize_crops(crops)


def _inside(b: Box, box) -> bool:
    x, y = (b.bbox[0] + b.bbox[2]) / 2, (b.bbox[1] + b.bbox[3]) / 2
    return box[0] - 4 <= x <= box[2] + 4 and box[1] - 4 <= y <= box[3] + 4


def _losing(s, lost: list[str], path):
    """The scan as an image PDF at ``path``, and the real engine that loses the boxes of ``lost``."""
    boxes: dict[int, list] = {}
    for k in lost:
        page, box = s.truth[k]
        boxes.setdefault(page, []).append(box)
    path.write_bytes(to_pdf(s.pages, s.dpi))
    return s, lost, path, LosingEngine(RapidOcr(), boxes)


@pytest.fixture(scope="module")
def lost_scan(tmp_path_factory):
    s = scan(SEED, "mild")
    printed = {k: v for k, v in s.values.items() if k in s.truth and v != 0}
    one_digit = [k for k, v in printed.items() if k.startswith("requests.") and 0 < v < 10]
    longer = [k for k, v in printed.items() if k.startswith(("requests.", "review_litigation.")) and v >= 10]
    negative = [k for k in SIGNED_KEYS if printed.get(k, 0) < 0]
    decimal = [k for k in DECIMAL_KEYS if isinstance(printed.get(k), float)]
    lost = one_digit[:2] + longer[:2] + negative[:1] + decimal[:1]
    assert len(lost) == 6 and negative and decimal, "the seed no longer prints every kind of number"
    return _losing(s, lost, tmp_path_factory.mktemp("scan") / "lost.pdf")


def _outcome(s, lost, path, engine, options=VerifyOptions()):
    doc = ingest.read(path, ocr=engine)
    report = extract_document(doc, engine=engine, options=options)
    by_key = {r.key: r for r in report.readings}
    return report, {k: by_key[k] for k in lost}


def test_a_lost_number_is_read_from_its_ink_or_sent_to_review(lost_scan):
    s, lost, path, engine = lost_scan
    report, got = _outcome(s, lost, path, engine)
    for k, r in got.items():
        assert (r.value == s.values[k] and r.status != "needs_review") or r.status == "needs_review", (k, r)
        if r.status == "needs_review":
            assert r.reason, (k, r)
    assert sum(r.value == s.values[k] and r.status == "read" for k, r in got.items()) >= 3  # most are simply read
    silent = [r.key for r in report.readings if r.value != s.values[r.key] and r.status != "needs_review"]
    assert not silent


def test_without_the_ink_check_a_lost_number_is_a_blank(lost_scan):
    # the same scan with the second look off: the lost numbers are read as blanks, 0
    s, lost, path, engine = lost_scan
    _, got = _outcome(s, lost, path, engine, VerifyOptions(ink=False, second_reading=False))
    assert any(r.value == 0 for r in got.values())


def _cell(glyph: str, ink: int, paper: int = 248, noise: float = 4.0, seed: int = 0) -> np.ndarray:
    """A ruled table cell (a 200 dpi 10.5 pt digit's size) printing ``glyph`` in grey level ``ink``."""
    img = Image.new("L", (160, 70), paper)
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, 157, 67), outline=60, width=2)  # the cell's rules, darker than its print
    if glyph:
        draw.text((70, 12), glyph, fill=ink, font=font(False, 30))
    page = np.asarray(img, dtype=np.float32) + np.random.default_rng(seed).normal(0, noise, (70, 160))
    return np.clip(page, 0, 255).astype(np.uint8)


def test_faint_ink_is_seen_and_rules_and_noise_are_not():
    region, th = (0, 0, 160, 70), 29.0
    assert _ink_box(_cell("5", 200), region, th, 0.3) is not None  # faded grey print, fainter than the rules
    assert _ink_box(_cell("", 0), region, th, 0.3) is None  # rules and paper noise alone
    assert _ink_box(_cell("", 0, noise=12.0, seed=1), region, th, 0.3) is None


def _faded(glyph: str, noise: float, seed: int) -> np.ndarray:
    """A cell of a table ruled only across, under its shaded heading row: a small digit in faded
    grey ink (the strokes break into specks on noisy paper), between two rules."""
    img = Image.new("L", (260, 58), 250)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 259, 8), fill=200)
    draw.line((0, 9, 259, 9), fill=150, width=2)
    draw.line((0, 52, 259, 52), fill=150, width=2)
    if glyph:
        draw.text((122, 20), glyph, fill=215, font=font(False, 20))
    page = np.asarray(img, dtype=np.float32) + np.random.default_rng(seed).normal(0, noise, (58, 260))
    return np.clip(page, 0, 255).astype(np.uint8)


def test_a_faded_digit_on_noisy_paper_is_seen_whole():
    # its specks grow into one mark, and the band and rules above and below it are no column rule through it
    region, th = (0, 0, 260, 58), 38.0
    assert all(_ink_box(_faded("2", 10.0, seed), region, th, 0.3) is not None for seed in range(10))
    assert not any(_ink_box(_faded("", 10.0, seed), region, th, 0.3) is not None for seed in range(10))


def _stroke(glyph: str, ink: int, seed: int) -> np.ndarray:
    """A cell between two black rules, printing a ``1`` or a zero as ``/`` in grey ink."""
    img = Image.new("L", (140, 62), 248)
    draw = ImageDraw.Draw(img)
    draw.line((0, 4, 139, 4), fill=20, width=3)
    draw.line((0, 57, 139, 57), fill=20, width=3)
    if glyph == "/":
        draw.line((76, 14, 64, 48), fill=ink, width=3)
    else:
        draw.text((62, 10), glyph, fill=ink, font=font(False, 34))
    page = np.asarray(img, dtype=np.float32) + np.random.default_rng(seed).normal(0, 5.0, (62, 140))
    return np.clip(page, 0, 255).astype(np.uint8)


def test_a_grey_slash_between_black_rules_leans_and_a_1_stands_upright():
    # the slope is measured on the print itself, rules taken out: the threshold the black rules
    # set for the whole cell takes the grey stroke for paper
    th = 34.0
    assert stroke_slope(_stroke("/", 150, 0)) is None
    for seed in range(5):
        for glyph, ink in (("/", 150), ("/", 60), ("1", 150), ("1", 60)):
            g = _stroke(glyph, ink, seed)
            box = _ink_box(g, (0, 0, 140, 62), th, 0.3)
            slope = _print_slope(g, box, 0, 140, th) if box is not None else math.nan
            if glyph == "/":
                assert slope is not None and slope < _LEANS, (ink, seed, slope)
            else:  # an upright 1, surely (or no lone stroke at all): neither a slash nor in doubt
                assert slope is None or slope >= _UPRIGHT - _SPREAD, (ink, seed, slope)


def test_a_7_is_told_from_a_slash_by_the_bar_across_its_top():
    # a 7's diagonal leans as a slash does: only a slash read as 7 is weighed as one
    th = 34.0
    for seed in range(5):
        for glyph, ink in (("/", 150), ("/", 60), ("7", 150), ("7", 60)):
            g = _stroke(glyph, ink, seed)
            box = _ink_box(g, (0, 0, 140, 62), th, 0.3)
            slope = _print_slope(g, box, 0, 140, th, barless=True) if box is not None else math.nan
            if glyph == "/":
                assert slope is not None and slope < _LEANS, (ink, seed, slope)
            else:
                assert slope is None, (ink, seed, slope)


def test_a_dash_is_a_zero_mark_and_a_digit_is_not():
    th = 40.0
    assert _level_stroke((0, 0, 24, 4), th)  # — printed for a zero
    assert not _level_stroke((0, 0, 24, 30), th)  # 18: digits are tall
    assert not _level_stroke((0, 0, 6, 4), th)  # a speck is no stroke


def test_a_blank_no_one_saw_goes_to_a_person():
    blank = Reading("proactive.licensing.decisions", 0, "", 0.9999, "read", placement=0.9999)
    unseen = not_looked_at(blank)
    assert unseen.status == "needs_review" and unseen.reason.startswith("blank_unseen") and unseen.doubt == "unseen"
    number = Reading("proactive.licensing.decisions", 39, "39", 0.99, "read", bbox=(0, 0, 20, 30))
    assert not_looked_at(number) == number  # a number read has its own box: nothing to look for


def test_what_a_second_look_makes_of_a_cell():
    blank = Reading("requests.partial.other_org", 0, "", 0.99, "read", placement=0.99)
    ink = SecondLook(blank.key, "ink", (10, 10, 30, 40), again=Recognized("5", 0.98, (("5", 1.0),)),
                     first=Recognized("5", 0.97, (("5", 1.0),)))
    read = looked_again(blank, ink, 0.9)
    assert (read.value, read.status, read.reason) == (5, "read", None)
    letter = looked_again(blank, replace(ink, first=Recognized("s", 0.97)), 0.9)  # a faint 5 read as s
    assert letter.value == 5 and letter.status == "needs_review" and letter.reason.startswith("low_confidence")
    mark = looked_again(blank, replace(ink, first=Recognized("/", 0.9), again=Recognized("/", 0.9)), 0.9)
    assert mark == replace(blank, inspected=True)  # a zero mark: the blank stands, seen
    clear = looked_again(blank, SecondLook(blank.key, "clear", (10, 10, 30, 40)), 0.9)
    assert clear == replace(blank, inspected=True) and not blank.inspected
    # a grey 0 cut short reads 6 close and 0 wide: the likelier reading, the blank's own counted,
    # is the value; a person sees it unless the sums vouch for it
    cut = looked_again(blank, replace(ink, first=Recognized("6", 0.99, (("6", 1.0),)),
                                      again=Recognized("0", 0.97, (("0", 1.0),))), 0.9)
    assert cut.value == 0 and cut.status == "needs_review" and 6 in dict(cut.candidates)
    faint = looked_again(blank, replace(ink, first=Recognized("4", 0.99, (("4", 1.0),)),
                                        again=Recognized("9", 0.5, (("9", 0.6), ("4", 0.4)))), 0.9)
    assert faint.value == 4 and faint.status == "needs_review"
    unread = looked_again(blank, replace(ink, first=Recognized("口", 0.5), again=Recognized("田", 0.5)), 0.9)
    assert unread.status == "needs_review" and unread.reason.startswith("ink_unread")
    number = Reading("proactive.fees.change", 18, "18", 0.99, "read", bbox=(0, 0, 20, 30), candidates=((18, 1.0),))
    dash = looked_again(number, SecondLook(number.key, "again", (0, 0, 20, 30), Recognized("18", 0.99), dash=True), 0.9)
    assert dash.status == "needs_review" and -18 in dict(dash.candidates)
    same = looked_again(number, SecondLook(number.key, "again", (0, 0, 20, 30), Recognized("18", 0.99)), 0.9)
    assert same == number


def _number(text: str, dash: str = "") -> np.ndarray:
    """A number at a 200 dpi 10.5 pt digit's size, with a minus sign apart from it or touching it."""
    img = Image.new("L", (120, 42), 248)
    draw = ImageDraw.Draw(img)
    draw.text((50, 2), text, fill=30, font=font(False, 30))
    if dash:  # a level stroke at mid height, ending where the digits start (touching) or before
        end = 50 + (2 if dash == "touching" else -5)
        draw.rectangle((end - 12, 19, end, 22), fill=30)
    return np.asarray(img)


def test_a_minus_sign_is_seen_apart_from_its_digits_or_touching_them():
    th = 29.0
    box = (20, 0, 120, 42)
    assert _dash_before(_number("4", "apart"), box, th)
    assert _dash_before(_number("4", "touching"), box, th)
    for digits in ("4", "7", "1", "18", "2"):
        assert not _dash_before(_number(digits), box, th), digits


@pytest.fixture(scope="module")
def blank_table(tmp_path_factory):
    """A 表三 that prints zeros as blank cells and holds four numbers, all four boxes lost:
    no number of the table is left to place its columns by, and the losses cancel in every
    sum (4 新收 + 0 = 0 + 4 结转下年, with each row's total)."""
    variant = Variant("2021", False)
    values = make_values(variant, random.Random(5))
    values.update({k: 0 for k in values if k.startswith("requests.")})
    for row in ("new_received", "carried_forward"):
        values[f"requests.{row}.other_org"] = values[f"requests.{row}.total"] = 4
    s = render_report(values, variant, "洪泽区人民政府", 2023, random.Random(23))  # zeros printed blank
    assert s.style["zero"] == "", "the drawn style no longer prints zeros blank"
    rng = random.Random(1)
    s.pages = [degrade(p, "mild", rng) for p in s.pages]
    lost = [k for k, v in values.items() if k.startswith("requests.") and v]
    return _losing(s, lost, tmp_path_factory.mktemp("scan") / "blank.pdf")


def test_a_table_of_blanks_is_looked_at_row_by_row(blank_table):
    # no column of 表三 is found on its page: each row's line is looked at whole, so the lost
    # numbers are seen (read, or sent to a person), and the rows with no ink stay read
    s, lost, path, engine = blank_table
    report, got = _outcome(s, lost, path, engine)
    assert all(r.status == "needs_review" or r.value == s.values[k] for k, r in got.items()), got
    silent = [r.key for r in report.readings if r.value != s.values[r.key] and r.status != "needs_review"]
    assert not silent
    empty = [r for r in report.readings if r.key.startswith("requests.granted.")]
    assert all(r.status == "read" and r.value == 0 for r in empty)


@pytest.fixture(scope="module")
def blank_outcomes(tmp_path_factory):
    """A 表四 that prints zeros as blank cells and one group's 4 (维持, and its 总计), both boxes
    lost: no box is left under its headings, and 4 = 4 becomes 0 = 0."""
    variant = Variant("2021", False)
    values = make_values(variant, random.Random(5))
    values.update({k: 0 for k in values if k.startswith("review_litigation.")})
    values["review_litigation.review.upheld"] = values["review_litigation.review.total"] = 4
    s = render_report(values, variant, "洪泽区人民政府", 2023, random.Random(23))  # zeros printed blank
    rng = random.Random(1)
    s.pages = [degrade(p, "mild", rng) for p in s.pages]
    return _losing(s, ["review_litigation.review.upheld", "review_litigation.review.total"],
                   tmp_path_factory.mktemp("scan") / "outcomes.pdf")


def test_a_row_under_its_headings_is_looked_at_under_them(blank_outcomes):
    # 表四's label heads its columns: with no box to place them by, all the table under its
    # headings is looked at, and the lost 4s go to a person
    s, lost, path, engine = blank_outcomes
    report, got = _outcome(s, lost, path, engine)
    assert all(r.status == "needs_review" or r.value == s.values[k] for k, r in got.items()), got
    assert not [r.key for r in report.readings if r.value != s.values[r.key] and r.status != "needs_review"]


def _outcome_line(centres: list[float], pitch: float) -> tuple[Parse, dict[str, Region], list[Cell]]:
    """表四's one line on a grid of ``centres``, on a page whose print runs from x 171 to 1460
    (its prose; the line's 15 printed right of its first column)."""
    row = next(r for r in Variant().rows if r.name == "review_litigation")
    where = {k: Region(1, (x - pitch / 2, 140, x + pitch / 2, 180), 36.0) for k, x in zip(row.keys, centres)}
    printed = [Cell("一是主动公开的深度和广度有待拓展", 0, 0, 1, (171.0, 40.0, 1460.0, 80.0)),
               Cell("15", 1, 0, 1, (198.0, 145.0, 246.0, 175.0))]
    return Parse(Variant(), [], [Run(None, 1.0, [row], [], (0, 0))]), where, printed


def test_a_grid_reaching_past_all_the_page_prints_is_not_the_pages():
    pitch = 85.0
    parse, inside, printed = _outcome_line([223 + j * pitch for j in range(15)], pitch)
    assert off_print(inside, parse, printed) == []
    # one column to the left: its first column stands where nothing at all is printed
    parse, shifted, printed = _outcome_line([138 + j * pitch for j in range(15)], pitch)
    assert off_print(shifted, parse, printed) == [(tuple(shifted), (next(iter(shifted)),))]
    moved = looked_again(Reading("review_litigation.review.upheld", 15, "15", 0.99, "read"),
                         SecondLook("review_litigation.review.upheld", "off_print", (0, 0, 1, 1)), 0.9)
    assert moved.status == "needs_review" and moved.reason.startswith("grid_off_print")


def test_a_number_standing_in_a_blank_columns_place_is_in_doubt():
    # 表三's row on a grid one column off: the 7 placed as 社会公益组织 stands where 科研机构 is
    row = next(r for r in Variant().rows if r.name == "requests.new_received")
    pitch, xs = 164.0, [1151 + j * 164.0 for j in range(len(row.keys))]
    where = {k: Region(3, (x - pitch / 2, 461, x + pitch / 2, 532), 48.0) for k, x in zip(row.keys, xs)}
    parse = Parse(Variant(), [], [Run(None, 1.0, [row], [], (0, 0))])
    research, social = row.keys[2], row.keys[3]

    def line(placed: str, x: float) -> list[Reading]:
        return [Reading(k, 7, "7", 0.99, "read", page=3, bbox=(x - 15, 473, x + 15, 517)) if k == placed
                else Reading(k, 0, "", 0.99, "read", page=3) for k in row.keys]

    assert off_column(where, parse, line(social, xs[2] + 40)) == {social: research, research: social}
    assert off_column(where, parse, line(social, xs[3] - 40)) == {}  # in its own column, off its centre
    taken = [replace(r, bbox=(xs[2] - 15, 473, xs[2] + 15, 517), value=1, text="1") if r.key == research else r
             for r in line(social, xs[2] + 40)]
    assert off_column(where, parse, taken) == {}  # the column it stands in holds a number of its own
    moved = looked_again(line(social, xs[2] + 40)[3], SecondLook(social, "off_column", where[social].box, other=research), 0.9)
    assert moved.status == "needs_review" and moved.doubt == "placement"
    assert moved.reason.startswith("placement: a number of its row placed as")


def test_a_grid_whose_columns_crowd_each_other_is_not_the_pages():
    # 表四's 15 columns at an even pitch, and the same line with ten of them packed together
    pitch = 85.0
    parse, even, _ = _outcome_line([223 + j * pitch for j in range(15)], pitch)
    assert crowded(even, parse) == []
    packed = [231, 315, 383, 423, 443, 463, 489, 516, 542, 569, 650, 733, 815, 901, 988]
    parse, squeezed, _ = _outcome_line([float(x) for x in packed], 54.0)
    assert crowded(squeezed, parse) == [tuple(squeezed)]
    moved = looked_again(Reading("review_litigation.litigation_after_review.total", 1, "1", 0.99, "read"),
                         SecondLook("review_litigation.litigation_after_review.total", "crowded", (0, 0, 1, 1)), 0.9)
    assert moved.status == "needs_review" and moved.doubt == "placement" and "crowd" in moved.reason
