"""The measured confusion table: the real recogniser's reading of rendered digits, and misreads
planted from it that use only what was measured (never ``reconcile.CONFUSABLE``)."""
from __future__ import annotations

import random

import pytest

from extract.normalize import parse_number
from extract.records import Cell
from training import confusions
from training.generate import misread_measured

pytest.importorskip("rapidocr")
if not confusions.available_fonts():
    pytest.skip("no fonts of training.confusions.FONTS on this machine", allow_module_level=True)


@pytest.fixture(scope="module")
def engine():
    from extract.ocr import RapidOcr

    return RapidOcr()


@pytest.fixture(scope="module")
def small_table(engine):
    # a few dozen crops, degraded as the full measurement degrades them
    return confusions.measure(samples=48, seed=5, engine=engine)


def test_the_real_recogniser_on_rendered_digits_gives_a_table_of_the_expected_shape(small_table):
    t = small_table
    assert t["meta"]["samples"] == 48 and t["meta"]["seed"] == 5 and t["meta"]["rapidocr"]
    assert t["meta"]["fonts"] and t["summary"]["crops"] == 48
    assert set(t["digits"]) == set("0123456789")
    aligned = sum(n for reads in t["digits"].values() for n in reads.values())
    assert aligned == sum(n for kind in t["summary"]["printed"].values() for n in kind.values())
    # most of what was printed was read as printed: the table is the recogniser's, not noise
    assert sum(t["digits"][d].get(d, 0) for d in t["digits"]) > 0.8 * aligned
    for e in t["examples"]:
        assert parse_number(e["read"]) != int(e["true"])
        assert e["true_in_candidates"] == any(c == e["true"] for c, _ in e["candidates"])
        for _, p in e["candidates"]:
            assert 0 <= p <= 1


def test_the_measurement_is_reproducible(small_table, engine):
    again = confusions.measure(samples=48, seed=5, engine=engine)
    assert {k: v for k, v in again.items() if k != "meta"} == {k: v for k, v in small_table.items() if k != "meta"}


def test_alignment_names_substitutions_deletions_and_insertions():
    assert confusions.align("4889", "1889") == [("4", "1"), ("8", "8"), ("8", "8"), ("9", "9")]
    assert confusions.edit_site("373", "33")["op"] == "del"
    assert confusions.edit_site("7", "71") == {"op": "ins", "true": "", "read": "1", "at": 1}
    assert confusions.edit_site("12", "77") is None  # two edits: not plantable


def test_planted_misreads_use_only_measured_confusions_and_candidates():
    table = confusions.load()
    measured = {(m["op"], m["true"], m["read"], m["kind"]) for m in confusions.plantable(table)}
    pairs = {(d, r) for d, reads in table["digits"].items() for r in reads if r != d}
    pairs |= {("", r) for r in table["insertions"]}
    rng = random.Random(0)
    seen_true_kept = seen_true_absent = 0
    for _ in range(300):
        text = str(rng.choice([rng.randint(0, 9), rng.randint(10, 99), rng.randint(100, 9999)]))
        options = confusions.placements(text, list(confusions.measured_misreads()))
        if not options:
            continue
        _, m, i = rng.choice(options)
        wrong, candidates = confusions.plant(text, m, i)
        assert (m["op"], m["true"], m["read"], m["kind"]) in measured
        site = confusions.edit_site(text, wrong)
        assert site is not None and (site["true"], site["read"]) in pairs  # a confusion the table holds
        assert parse_number(wrong) != parse_number(text)
        tail = text[i + (m["op"] != "ins"):]
        source = {c: [(p, was_true) for x, p, was_true in m["alternatives"] if text[:i] + x + tail == c] for c, _ in candidates}
        for c, p in candidates:
            # each candidate one the recogniser gave at that site, at the probability it gave
            assert source[c] and p == pytest.approx(sum(q for q, _ in source[c]))
            if parse_number(c) == parse_number(text):  # the true value only where the recogniser gave it
                assert any(was_true for _, was_true in source[c])
        if any(parse_number(c) == parse_number(text) for c, _ in candidates):
            seen_true_kept += 1
        else:
            seen_true_absent += 1
        if not (wrong.isascii() and wrong.isdigit()):
            assert candidates == ()  # the recogniser gives no digit readings for a reading that is no number
    assert seen_true_kept and seen_true_absent


def test_the_honest_mode_never_adds_the_true_value_the_measurement_lacked():
    # one measured misread: 7 read as 1, the recogniser's candidates 1 and 3, not 7
    table = {"summary": {"printed": {"single": dict.fromkeys("0123456789", 10), "multi": dict.fromkeys("0123456789", 10)},
                         "gaps": {"single": 20, "multi": 30}},
             "examples": [{"true": "74", "read": "14", "candidates": [["14", 0.9], ["34", 0.05], ["18", 0.05]],
                           "site": {"op": "sub", "true": "7", "read": "1", "at": 0}, "true_in_candidates": False}]}
    cell = misread_measured(Cell("57", 0, 0), random.Random(1), table)
    assert cell.text == "51" and dict(cell.candidates) == {"51": 0.9, "53": 0.05}  # 58 differs elsewhere: dropped
    assert misread_measured(Cell("5", 0, 0), random.Random(1), table) is None  # a lone digit: no measured misread of one
    table["examples"][0]["candidates"].append(["74", 0.02])
    cell = misread_measured(Cell("57", 0, 0), random.Random(1), table)
    assert dict(cell.candidates)["57"] == 0.02  # where it was measured, at its measured probability
