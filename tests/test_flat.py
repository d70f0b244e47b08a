"""Crawler flat text: a row's cells ran together, split by the tables' own sums (``extract.flat``)."""
from __future__ import annotations

import random

from conftest import every_key_is_there

from extract.ingest import parse_text
from extract.pipeline import extract_document
from extract.records import Document, Source
from extract.schema import Variant
from training.generate import CRAWL_STYLES, print_rows, sample, to_crawl


def _read(text: str):
    return extract_document(Document(Source("page.txt", "", 1, "text"), text, parse_text(text)))


def _page(proactive: str, requests: dict[str, str], review: str) -> str:
    """A 2021-layout page's flat text: 表二 as given, 表三's rows (the rest all zeros), 表四."""
    rows = [r for r in Variant("2021", True).rows if r.table == "requests"]
    body = "".join(r.label + ("" if not r.keys else requests.get(r.name.split(".", 1)[1], "0" * 7)) for r in rows)
    return ("标题: 某区某局2023年政府信息公开工作年度报告\n==== 正文 ====\n某区某局2023年政府信息公开工作年度报告"
            "二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数" + proactive +
            "三、收到和处理政府信息公开申请情况申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他"
            + body + "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计"
            "未经复议直接起诉复议后起诉结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计" + review +
            "五、存在的主要问题及改进情况无。")


def test_a_row_of_run_together_digits_is_split_the_one_way_its_sums_allow():
    # 21710000218 is 217 1 0 0 0 0 218 and nothing else: the row total says so, and the columns
    text = _page("规章000行政规范性文件000第二十条第（五）项行政许可0第二十条第（六）项行政处罚0行政强制0"
                 "第二十条第（八）项行政事业性收费0",
                 {"new_received": "21710000218", "granted": "21710000218", "total": "21710000218"},
                 "000000000000000")
    report = _read(text)
    got = {r.key: r for r in report.readings}
    for column, want in zip(("natural_person", "commercial", "research", "social_org", "legal_service", "other_org",
                             "total"), (217, 1, 0, 0, 0, 0, 218)):
        for row in ("new_received", "granted", "total"):
            r = got[f"requests.{row}.{column}"]
            assert (r.value, r.status) == (want, "read"), r
    assert all(r.status == "read" for r in report.readings), [r for r in report.readings if r.status != "read"]
    every_key_is_there(report)


def test_digits_no_sum_checks_go_to_a_person_with_every_split_as_candidates():
    # 规章000 is three zeros (00 is no number); 行政规范性文件6233440 may be 62|33|440, 6|23|3440, …:
    # 表二 prints no sum, so a person picks, with the true split among the candidates
    text = _page("规章000行政规范性文件6233440第二十条第（五）项行政许可0第二十条第（六）项行政处罚0行政强制0"
                 "第二十条第（八）项行政事业性收费0", {}, "000000000000000")
    got = {r.key: r for r in _read(text).readings}
    assert all((got[f"proactive.regulations.{c}"].value, got[f"proactive.regulations.{c}"].status) == (0, "read")
               for c in ("issued", "repealed", "in_force"))
    for column, want in (("issued", 62), ("repealed", 33), ("in_force", 440)):
        r = got[f"proactive.normative_docs.{column}"]
        assert r.status == "needs_review" and r.reason.startswith("split_ambiguous"), r
        assert want in dict(r.candidates), r


def test_a_bare_numeral_of_the_next_label_is_not_taken_for_a_digit():
    # "10000011.属于国家秘密" cannot tell a numeral printed bare ("…00001" + "1属于…") from a
    # digit: both readings are weighed, and the sums choose
    rows = {"new_received": "1000001", "granted": "1000001", "total": "1000001"}
    text = _page("规章000行政规范性文件000第二十条第（五）项行政许可0第二十条第（六）项行政处罚0行政强制0"
                 "第二十条第（八）项行政事业性收费0", rows, "000000000000000")
    text = text.replace("1.属于国家秘密", "1属于国家秘密").replace("2.其他法律", "2其他法律")
    got = {r.key: r for r in _read(text).readings}
    assert (got["requests.granted.natural_person"].value, got["requests.granted.total"].value) == (1, 1)
    assert got["requests.partial.total"].value == 0 and got["requests.partial.total"].status == "read"


def test_generated_crawler_pages_of_every_style_are_never_silently_wrong():
    # the whole pipeline on generated pages as crawlers store them, every style of stripping
    silent, cells, zeros_printed = [], 0, 0
    for seed in range(2_100_000, 2_100_025):
        style = CRAWL_STYLES[seed % len(CRAWL_STYLES)]
        s = sample(seed)
        report = _read(to_crawl(s, random.Random(seed), style))
        got = {r.key: r for r in report.readings}
        for key, want in s.values.items():
            cells += 1
            r = got[key]
            if abs(r.value - want) > 1e-6 and r.status != "needs_review":
                silent.append((seed, style, key, r.value, want))
        if print_rows(s.values, s.variant, random.Random(seed))[1]["zero"] != "":  # zeros printed: mostly read
            assert sum(r.status == "needs_review" for r in report.readings) < 0.25 * len(report.readings), seed
            zeros_printed += 1
    assert cells > 4000 and not silent, silent
    assert zeros_printed >= 5, f"only {zeros_printed} of 25 pages print their zeros"


def test_a_sum_no_split_makes_hold_is_the_pages_own_error():
    # （七）总计 printed 191000019 (19 1 0 0 0 0 19: 20 requests in a total of 19): several splits,
    # every one breaking the row's sum, so the page breaks it, whichever is right
    rows = {"new_received": "190000019", "granted": "8100008", "partial": "1100001", "total": "191000019"}
    report = _read(_page("规章000行政规范性文件000第二十条第（五）项行政许可0第二十条第（六）项行政处罚0行政强制0"
                         "第二十条第（八）项行政事业性收费0", rows, "000000000000000"))
    verdicts = {c.rule: c.verdict for c in report.checks}
    assert verdicts["requests.row_total.total"] == "source_inconsistent"
    assert verdicts["requests.row_total.granted"] == "source_inconsistent"
    assert any(r.status == "needs_review" for r in report.readings if r.key.startswith("requests.total."))
