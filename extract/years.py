"""Cross-year checks: what one year's report carries over must be what the next year's takes up.

For the same agency in consecutive years: 结转下年度继续办理 of year N-1 equals 上年结转
of year N, per applicant column; and (2021 layout) 现行有效 of N-1 + 本年制发 − 本年废止 of N
equals 现行有效 of N, for 规章 and 行政规范性文件.  Agencies are matched by name with
the administrative units above the last one dropped and 人民政府 read as 政府
(宁波市北仑区人民政府 is 北仑区政府).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .normalize import normalize
from .records import Number
from .schema import APPLICANTS
from .store import Store

_UNIT = re.compile(r"[^省市区县旗盟]{1,7}?(?:省|自治区|自治州|地区|市|盟|区|县|旗)")
_PUNCT = re.compile(r"[()（）〔〕【】\[\]《》“”\"'·,，、.。:：;；\-—]")

CARRY = tuple((f"requests.carried_forward.{c}", f"requests.carried_over.{c}") for c in APPLICANTS)
IN_FORCE = ("regulations", "normative_docs")


@dataclass(frozen=True, slots=True)
class Break:
    agency: str
    year: int  # the later of the two years
    rule: str
    expected: Number  # from year - 1 (and this year's flows)
    got: Number  # as year prints it
    reports: tuple[int, int]  # store ids, year - 1 and year

    def as_dict(self) -> dict:
        return asdict(self)


def agency_key(name: str | None) -> str | None:
    """The name an agency goes by in every year's report, for matching."""
    if not name:
        return None
    text = _PUNCT.sub("", normalize(name)).replace("人民政府", "政府")
    units, rest = [], text
    while (m := _UNIT.match(rest)) and m.end() < len(rest):
        units.append(m.group())
        rest = rest[m.end():]
    return (units[-1] if units else "") + rest


def breaks(store: Store) -> list[Break]:
    """Every break between consecutive years of the same agency in the store."""
    by: dict[tuple[str, int], dict] = {}
    for r in store.reports():
        key = agency_key(r["agency"])
        if key and r["year"]:
            by[(key, r["year"])] = r  # of two reports of one agency and year, the later stored
    keys = [k for pair in CARRY for k in pair] + [f"proactive.{row}.{c}" for row in IN_FORCE
                                                  for c in ("issued", "repealed", "in_force")]
    values = store.values([r["id"] for r in by.values()], keys)
    out = []
    for (agency, year), now in sorted(by.items()):
        before = by.get((agency, year - 1))
        if before is None:
            continue
        a, b = values.get(before["id"], {}), values.get(now["id"], {})
        ids = (before["id"], now["id"])
        for fwd, back in CARRY:
            if fwd in a and back in b and a[fwd] != b[back]:
                out.append(Break(agency, year, f"carry_over.{back.rsplit('.', 1)[1]}", a[fwd], b[back], ids))
        if before["layout"] == now["layout"] == "2021":
            for row in IN_FORCE:
                k = f"proactive.{row}."
                if all(k + c in b for c in ("issued", "repealed", "in_force")) and k + "in_force" in a:
                    expected = a[k + "in_force"] + b[k + "issued"] - b[k + "repealed"]
                    if expected != b[k + "in_force"]:
                        out.append(Break(agency, year, f"in_force.{row}", expected, b[k + "in_force"], ids))
    return out
