"""The shipped structure classifier on generated reports it never saw (a slice of the 1000-report evaluation)."""
from __future__ import annotations

from extract.pipeline import load_model
from training.evaluate import EVAL_SEED, evaluate
from training.generate import PERTURBATIONS, sample


def test_held_out_generated_reports():
    score = evaluate(load_model(), count=80, start=EVAL_SEED + 5000)
    assert score.silent == 0, score.errors[:5]
    assert 1 - score.wrong / score.cells >= 0.998, score.errors[:5]
    assert score.variant_wrong == 0


def test_generator_is_deterministic_and_consistent():
    a, b = sample(123), sample(123)
    assert [c.text for c in a.cells] == [c.text for c in b.cells] and a.values == b.values
    v = a.values
    for col in ("natural_person", "total"):
        assert v[f"requests.new_received.{col}"] + v[f"requests.carried_over.{col}"] == \
            v[f"requests.total.{col}"] + v[f"requests.carried_forward.{col}"]
    seen = set().union(*(sample(seed).perturbations for seed in range(300)))
    assert seen == set(PERTURBATIONS)


def test_every_cell_key_is_a_template_key():
    s = sample(7)
    keys = set(s.variant.keys)
    assert {k for k in s.keys if k} <= keys and set(s.values) == keys


def test_held_out_reports_as_a_scan_sees_them():
    # boxes under their columns and no cells for blanks: the geometric feature must place
    # the values after a blank by where they sit, not by their rank in the line
    score = evaluate(load_model(), count=40, start=EVAL_SEED + 6000, scanned=True)
    assert score.silent == 0, score.errors[:5]
    assert 1 - score.wrong / score.cells >= 0.995, score.errors[:5]


def test_letters_read_for_digits_are_numbers_only_in_short_number_cells():
    from extract.normalize import Kind, kind_of, parse_number

    assert [parse_number(t) for t in ("O", "1O", "l2", "〇")] == [0, 10, 12, 0]
    assert [kind_of(t) for t in ("OK", "Oil", "lO件数", "I类")] == [Kind.TEXT] * 4
