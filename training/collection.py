"""A generated multi-year collection: the same agencies reporting year after year, their
carry-overs and 现行有效 counts chained as real reports chain them, with known breaks planted.

    python -m training.collection --out DIR [--agencies 6] [--years 4] [--breaks 3]

Each agency's name is printed in a different form from year to year (宁波市北仑区人民政府,
北仑区人民政府, …).  A planted break changes one year's 上年结转 (keeping that report's own
sums) or its 现行有效 count, in an agency's last year, so that it breaks exactly one pair.
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

from extract.schema import APPLICANTS, Variant
from training.generate import Sample, make_values, print_rows, to_text

_CITIES = ["宁波市", "杭州市", "南京市", "淮安市", "常州市"]
_PLACES = ["北仑区", "鄞州区", "西湖区", "洪泽区", "武进区", "海曙区", "余杭区", "江北区"]
_BODIES = ["人民政府", "教育局", "民政局", "司法局", "财政局"]


@dataclass(frozen=True, slots=True)
class Planted:
    agency: str  # as the cross-year check keys it
    year: int
    rule: str


def _names(city: str, place: str, body: str) -> list[str]:
    forms = [f"{city}{place}{body}", f"{place}{body}"]
    if body == "人民政府":
        forms.append(f"{place}政府")
    return forms


def _total_column(v: dict, variant: Variant) -> None:
    for row in variant.rows:
        if row.table == "requests" and row.keys:
            v[f"{row.name}.total"] = sum(v[f"{row.name}.{c}"] for c in APPLICANTS[:-1])


def _chain(prev: dict, v: dict, variant: Variant) -> None:
    """This year takes up what last year carried forward, and its 现行有效 follows on."""
    for c in APPLICANTS[:-1]:
        co = prev[f"requests.carried_forward.{c}"]
        total, fwd = v[f"requests.total.{c}"], v[f"requests.carried_forward.{c}"]
        if co > total + fwd:  # more taken up than handled: the rest is carried on again
            fwd = v[f"requests.carried_forward.{c}"] = co - total
        v[f"requests.carried_over.{c}"] = co
        v[f"requests.new_received.{c}"] = total + fwd - co
    for row in ("regulations", "normative_docs"):
        k = f"proactive.{row}."
        v[k + "repealed"] = min(v[k + "repealed"], prev[k + "in_force"] + v[k + "issued"])
        v[k + "in_force"] = prev[k + "in_force"] + v[k + "issued"] - v[k + "repealed"]
    _total_column(v, variant)


def _plant(v: dict, variant: Variant, rng: random.Random) -> str | None:
    """Break this year's link to the last: 上年结转 one more (its own sums kept), or 现行有效 off."""
    if rng.random() < 0.5:
        cols = [c for c in APPLICANTS[:-1] if v[f"requests.new_received.{c}"] > 0]
        if not cols:
            return None
        c = rng.choice(cols)
        v[f"requests.carried_over.{c}"] += 1
        v[f"requests.new_received.{c}"] -= 1
        _total_column(v, variant)
        return f"carry_over.{c}"  # (carry_over.total breaks with it)
    row = rng.choice(("regulations", "normative_docs"))
    v[f"proactive.{row}.in_force"] += rng.randint(1, 5)
    return f"in_force.{row}"


def collection(out: Path, agencies: int = 6, years: int = 4, breaks: int = 3, seed: int = 0) -> list[Planted]:
    """Write the collection's reports (plain text) into ``out``; the breaks planted in it."""
    from extract.years import agency_key

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    planted, broken = [], set(rng.sample(range(agencies), breaks))
    for a in range(agencies):
        city, place, body = _CITIES[a % len(_CITIES)], _PLACES[a % len(_PLACES)], _BODIES[a % len(_BODIES)]
        names = _names(city, place, body)
        first = rng.randint(2021, 2022)
        prev = None
        for y in range(first, first + years):
            variant = Variant("2021", rng.random() < 0.7)
            v = make_values(variant, rng)
            if prev is not None:
                _chain(prev, v, variant)
            if a in broken and y == first + years - 1 and (rule := _plant(v, variant, rng)):
                planted.append(Planted(agency_key(names[0]), y, rule))
            prev = v
            rows, _ = print_rows(v, variant, rng)
            s = Sample([], [], [], v, variant, rng.choice(names), y, set(), rows)
            (out / f"{a:02d}-{y}.txt").write_text(to_text(s, rng), encoding="utf-8")
    return planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--agencies", type=int, default=6)
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--breaks", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for p in collection(args.out, args.agencies, args.years, args.breaks, args.seed):
        print(json.dumps({"agency": p.agency, "year": p.year, "rule": p.rule}, ensure_ascii=False))


if __name__ == "__main__":
    main()
