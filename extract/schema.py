"""The canonical tables of the annual report, as ordered row templates.

Keys and names follow ``shared/spec/schema.json``.  A template is the ordered
list of rows the structure classifier aligns a cell sequence onto; each row has
a label (what the report prints before its values) and the canonical keys of
its value cells, left to right.
"""
from __future__ import annotations

from dataclasses import dataclass

LAYOUTS = ("2021", "2019")

# Table headings only one of the two national layouts prints.
LAYOUT_MARKERS = {
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减", "其他对外管理服务事项",
             "政府集中采购", "采购项目数量", "采购总金额"),
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额"),
}

# The report's sections after its tables, as both layouts number and title them: the tables end at the
# first (the prose after them prints words like 无 that read as values).
SECTIONS_AFTER_TABLES = (("五", "存在的主要问题"), ("六", "其他需要报告"))

APPLICANTS = ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total")
APPLICANT_LABELS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
OUTCOMES = ("upheld", "corrected", "other", "pending", "total")
OUTCOME_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
REVIEW_GROUPS = ("review", "litigation_direct", "litigation_after_review")


@dataclass(frozen=True)
class RowSpec:
    """One printed row of a canonical table.

    ``name`` is also the class the label classifier predicts for the row's
    label cell.  A row with no ``keys`` is a group heading that only anchors
    position (（六）其他处理 when the report prints its three sub-items).
    """

    name: str
    label: str
    keys: tuple[str, ...]
    headers: tuple[str, ...] = ()
    below: bool = False  # its values print under its label (a heading over its columns), not beside it

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[0]


def _row(table: str, row: str, label: str, columns: tuple[str, ...], headers: tuple[str, ...]) -> RowSpec:
    return RowSpec(f"{table}.{row}", label, tuple(f"{table}.{row}.{c}" for c in columns), headers)


_P21 = ("本年制发件数", "本年废止件数", "现行有效件数")
_P21_DECISIONS = ("本年处理决定数量",)
_P19_DOCS = ("本年新制作数量", "本年新公开数量", "对外公开总数量")
_P19_ITEMS = ("上一年项目数量", "本年增/减", "处理决定数量")

PROACTIVE = {
    "2021": (
        _row("proactive", "regulations", "规章", ("issued", "repealed", "in_force"), _P21),
        _row("proactive", "normative_docs", "行政规范性文件", ("issued", "repealed", "in_force"), _P21),
        _row("proactive", "licensing", "行政许可", ("decisions",), _P21_DECISIONS),
        _row("proactive", "punishment", "行政处罚", ("decisions",), _P21_DECISIONS),
        _row("proactive", "coercion", "行政强制", ("decisions",), _P21_DECISIONS),
        _row("proactive", "fees", "行政事业性收费", ("amount",), ("本年收费金额（单位：万元）",)),
    ),
    "2019": (
        _row("proactive", "regulations", "规章", ("new_made", "new_published", "total_published"), _P19_DOCS),
        _row("proactive", "normative_docs", "规范性文件", ("new_made", "new_published", "total_published"), _P19_DOCS),
        _row("proactive", "licensing", "行政许可", ("prev_items", "change", "decisions"), _P19_ITEMS),
        _row("proactive", "other_services", "其他对外管理服务事项", ("prev_items", "change", "decisions"), _P19_ITEMS),
        _row("proactive", "punishment", "行政处罚", ("prev_items", "change", "decisions"), _P19_ITEMS),
        _row("proactive", "coercion", "行政强制", ("prev_items", "change", "decisions"), _P19_ITEMS),
        _row("proactive", "fees", "行政事业性收费", ("prev_items", "change"), _P19_ITEMS[:2]),
        _row("proactive", "procurement", "政府集中采购", ("items", "amount"), ("采购项目数量", "采购总金额")),
    ),
}

# 表二 sub-headings printed between its row groups, and where each group starts.
PROACTIVE_SECTIONS = {
    "2021": {"regulations": "第二十条第（一）项", "licensing": "第二十条第（五）项",
             "punishment": "第二十条第（六）项", "fees": "第二十条第（八）项"},
    "2019": {"regulations": "第二十条第（一）项", "licensing": "第二十条第（五）项",
             "punishment": "第二十条第（六）项", "fees": "第二十条第（八）项",
             "procurement": "第二十条第（九）项"},
}

# (row, label, group heading printed before it or None)
_REQUEST_ROWS = (
    ("new_received", "一、本年新收政府信息公开申请数量", None),
    ("carried_over", "二、上年结转政府信息公开申请数量", None),
    ("granted", "（一）予以公开", "三、本年度办理结果"),
    ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None),
    ("denied.state_secret", "1.属于国家秘密", "（三）不予公开"),
    ("denied.law_forbidden", "2.其他法律行政法规禁止公开", None),
    ("denied.three_safety", "3.危及“三安全一稳定”", None),
    ("denied.third_party", "4.保护第三方合法权益", None),
    ("denied.internal_affairs", "5.属于三类内部事务信息", None),
    ("denied.process_info", "6.属于四类过程性信息", None),
    ("denied.enforcement_file", "7.属于行政执法案卷", None),
    ("denied.query_item", "8.属于行政查询事项", None),
    ("unavailable.not_held", "1.本机关不掌握相关政府信息", "（四）无法提供"),
    ("unavailable.need_creation", "2.没有现成信息需要另行制作", None),
    ("unavailable.unclear", "3.补正后申请内容仍不明确", None),
    ("not_processed.petition", "1.信访举报投诉类申请", "（五）不予处理"),
    ("not_processed.duplicate", "2.重复申请", None),
    ("not_processed.publication", "3.要求提供公开出版物", None),
    ("not_processed.massive", "4.无正当理由大量反复申请", None),
    ("not_processed.confirm", "5.要求行政机关确认或重新出具已获取信息", None),
)
_OTHER_LABEL = "（六）其他处理"
_OTHER_SUBROWS = (
    ("other.overdue_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other.overdue_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other.other", "3.其他"),
)
_REQUEST_TAIL = (("total", "（七）总计"), ("carried_forward", "四、结转下年度继续办理"))

GROUP_HEADINGS = {row: group for row, _, group in _REQUEST_ROWS if group}
GROUP_HEADINGS["other.overdue_correction"] = _OTHER_LABEL


def _requests(other_split: bool) -> tuple[RowSpec, ...]:
    rows = [_row("requests", r, label, APPLICANTS, APPLICANT_LABELS) for r, label, _ in _REQUEST_ROWS]
    if other_split:
        rows.append(RowSpec("requests.other", _OTHER_LABEL, ()))
        rows += [_row("requests", r, label, APPLICANTS, APPLICANT_LABELS) for r, label in _OTHER_SUBROWS]
    else:
        rows.append(_row("requests", "other", _OTHER_LABEL, APPLICANTS, APPLICANT_LABELS))
    rows += [_row("requests", r, label, APPLICANTS, APPLICANT_LABELS) for r, label in _REQUEST_TAIL]
    return tuple(rows)


# 表四 prints its 15 values as one row under a two-level header; it is one
# template row anchored on its first heading, 行政复议.
REVIEW = RowSpec(
    "review_litigation", "行政复议",
    tuple(f"review_litigation.{g}.{o}" for g in REVIEW_GROUPS for o in OUTCOMES),
    OUTCOME_LABELS,
    below=True,
)


@dataclass(frozen=True)
class Variant:
    """Which of the printed forms a report uses."""

    layout: str = "2021"
    other_split: bool = True

    @property
    def rows(self) -> tuple[RowSpec, ...]:
        return PROACTIVE[self.layout] + _requests(self.other_split) + (REVIEW,)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for r in self.rows for k in r.keys)


VARIANTS = tuple(Variant(layout, split) for layout in LAYOUTS for split in (True, False))

# Money cells may be decimal; everything else is an integer count.
DECIMAL_KEYS = frozenset({"proactive.fees.amount", "proactive.procurement.amount"})
# Cells that may be negative (本年增/减).
SIGNED_KEYS = frozenset(f"proactive.{r}.change" for r in ("licensing", "other_services", "punishment", "coercion", "fees"))


def split_key(key: str) -> tuple[str, str, str]:
    """``requests.denied.state_secret.total`` -> (table, row, column)."""
    table, rest = key.split(".", 1)
    row, column = rest.rsplit(".", 1)
    return table, row, column


# --- the sums the tables print ------------------------------------------------------------

@dataclass(frozen=True)
class Sum:
    """A family of sums the tables print, as data: for each member of ``each`` (a domain of
    ``DOMAINS``), the keys ``parts`` add up to the keys ``total``.  In a key pattern ``{each}``
    is that member; another ``{domain}`` in a part ranges over its domain (one key each)."""

    rule: str
    each: str
    parts: tuple[str, ...]
    total: tuple[str, ...]


SUMS = (
    # 表三: a row's applicants add up to its 总计
    Sum("requests.row_total.{row}", "row", ("requests.{row}.{applicant}",), ("requests.{row}.total",)),
    # a column's results (三's rows) add up to （七）总计; 一 + 二 = （七）总计 + 四
    Sum("requests.column_total.{column}", "column", ("requests.{outcome}.{column}",), ("requests.total.{column}",)),
    Sum("requests.balance.{column}", "column", ("requests.new_received.{column}", "requests.carried_over.{column}"),
        ("requests.total.{column}", "requests.carried_forward.{column}")),
    # 表四: a group's results add up to its 总计
    Sum("review_litigation.total.{group}", "group", ("review_litigation.{group}.{result}",),
        ("review_litigation.{group}.total",)),
)


def _domains(variant: Variant) -> dict[str, tuple[str, ...]]:
    rows = tuple(r.name.split(".", 1)[1] for r in variant.rows if r.table == "requests" and r.keys)
    return {
        "row": rows, "column": APPLICANTS, "applicant": APPLICANTS[:-1], "group": REVIEW_GROUPS, "result": OUTCOMES[:-1],
        "outcome": tuple(r for r in rows if r not in ("new_received", "carried_over", "total", "carried_forward")),
    }


def sums(variant: Variant) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Every sum of ``SUMS`` over the variant's rows and columns: (rule, parts, total).  Sums
    over the same domain come member by member (a column's total, then its balance)."""
    domains = _domains(variant)
    out = []
    for each in dict.fromkeys(s.each for s in SUMS):
        for member in domains[each]:
            for s in (s for s in SUMS if s.each == each):
                bound = {each: member}
                out.append((_fill(s.rule, bound), _fill_all(s.parts, bound, domains),
                            _fill_all(s.total, bound, domains)))
    return out


def _fill(pattern: str, bound: dict[str, str]) -> str:
    for name, value in bound.items():
        pattern = pattern.replace("{" + name + "}", value)
    return pattern


def _fill_all(patterns: tuple[str, ...], bound: dict[str, str], domains: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The keys of the patterns: a domain left free in one gives a key per member."""
    out: list[str] = []
    for p in patterns:
        p = _fill(p, bound)
        free = next((d for d in domains if "{" + d + "}" in p), None)
        out += [_fill(p, {free: v}) for v in domains[free]] if free else [p]
    return tuple(out)
