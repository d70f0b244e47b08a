"""Shared test helpers: where the corpus is, how to run the real CLI, national tables as span grids."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EXTRACT_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "corpus" / "seeds"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "extract", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="session")
def seeds() -> list[Path]:
    files = sorted(SEEDS.glob("*.txt"))
    assert files, f"shared corpus not found at {SEEDS} (set EXTRACT_SHARED)"
    return files


def truth(path: Path) -> dict:
    return json.loads(path.with_name(path.stem + ".truth.json").read_text(encoding="utf-8"))


def flatten(values: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in values.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


# A span grid: rows of (text, rowspan, colspan) as the national 2021 layout prints its tables.
Grid = list[list[tuple[str, int, int]]]


def national_tables(values: dict) -> list[Grid]:
    """表二, 表三 and 表四 of the 2021 layout with the report's values, merged cells included."""
    v = flatten(values)
    c = lambda t, rs=1, cs=1: (str(t), rs, cs)  # noqa: E731
    p = "proactive"
    t2 = [[c("第二十条第（一）项", 1, 4)], [c("信息内容"), c("本年制发件数"), c("本年废止件数"), c("现行有效件数")],
          [c("规章"), *(c(v[f"{p}.regulations.{k}"]) for k in ("issued", "repealed", "in_force"))],
          [c("行政规范性文件"), *(c(v[f"{p}.normative_docs.{k}"]) for k in ("issued", "repealed", "in_force"))],
          [c("第二十条第（五）项", 1, 4)], [c("信息内容"), c("本年处理决定数量", 1, 3)],
          [c("行政许可"), c(v[f"{p}.licensing.decisions"], 1, 3)],
          [c("第二十条第（六）项", 1, 4)], [c("信息内容"), c("本年处理决定数量", 1, 3)],
          [c("行政处罚"), c(v[f"{p}.punishment.decisions"], 1, 3)],
          [c("行政强制"), c(v[f"{p}.coercion.decisions"], 1, 3)],
          [c("第二十条第（八）项", 1, 4)], [c("信息内容"), c("本年收费金额（单位：万元）", 1, 3)],
          [c("行政事业性收费"), c(v[f"{p}.fees.amount"], 1, 3)]]
    cols = ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total")
    vals = lambda row: [c(v[f"requests.{row}.{k}"]) for k in cols]  # noqa: E731
    t3 = [[c("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), c("申请人情况", 1, 7)],
          [c("自然人", 2), c("法人或其他组织", 1, 5), c("总计", 2)],
          [c("商业企业"), c("科研机构"), c("社会公益组织"), c("法律服务机构"), c("其他")],
          [c("一、本年新收政府信息公开申请数量", 1, 3), *vals("new_received")],
          [c("二、上年结转政府信息公开申请数量", 1, 3), *vals("carried_over")],
          [c("三、本年度办理结果", 22), c("（一）予以公开", 1, 2), *vals("granted")],
          [c("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", 1, 2), *vals("partial")]]
    groups = [("（三）不予公开", ["1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
                              "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"],
               ["state_secret", "law_forbidden", "three_safety", "third_party", "internal_affairs", "process_info",
                "enforcement_file", "query_item"], "denied"),
              ("（四）无法提供", ["1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"],
               ["not_held", "need_creation", "unclear"], "unavailable"),
              ("（五）不予处理", ["1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
                              "5.要求行政机关确认或重新出具已获取信息"],
               ["petition", "duplicate", "publication", "massive", "confirm"], "not_processed"),
              ("（六）其他处理", ["1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                              "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"],
               ["overdue_correction", "overdue_fee", "other"], "other")]
    for head, labels, names, group in groups:
        for i, (label, name) in enumerate(zip(labels, names)):
            t3.append(([c(head, len(labels))] if i == 0 else []) + [c(label), *vals(f"{group}.{name}")])
    t3 += [[c("（七）总计", 1, 2), *vals("total")], [c("四、结转下年度继续办理", 1, 3), *vals("carried_forward")]]
    outcomes = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    rv = flatten(values["review_litigation"])
    t4 = [[c("行政复议", 1, 5), c("行政诉讼", 1, 10)],
          [*(c(o, 2) for o in outcomes), c("未经复议直接起诉", 1, 5), c("复议后起诉", 1, 5)],
          [c(o) for o in outcomes * 2],
          [c(rv[f"{g}.{o}"]) for g in ("review", "litigation_direct", "litigation_after_review")
           for o in ("upheld", "corrected", "other", "pending", "total")]]
    return [t2, t3, t4]
