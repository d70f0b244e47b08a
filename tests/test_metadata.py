"""Agency, statistics year and layout from the report text (spaCy pipeline)."""
from __future__ import annotations

import pytest
from conftest import SHARED, truth
from spacy.language import Language

from extract import output
from extract.metadata import pipeline, read
from extract.records import Report, Source


def test_title_broken_over_lines():
    m = read("北仑区经济和信息化局2023年度\n\n政府信息公开工作年度报告\n\n一、总体情况\n2024年1月发布。\n本年制发件数\n")
    assert (m.agency, m.year, m.layout) == ("北仑区经济和信息化局", 2023, "2021")


def test_year_in_title_beats_publication_year():
    m = read("宁波市鄞州区经济和信息化局\n\n政府信息公开2020年度报告\n\n本报告于2021年1月公布。\n本年新制作数量\t上一年项目数量\n")
    assert (m.agency, m.year, m.layout) == ("宁波市鄞州区经济和信息化局", 2020, "2019")


def test_statistics_period_when_title_has_no_year():
    m = read("政府信息公开工作年度报告\n本报告所列数据的统计期限自2022年1月1日起至2022年12月31日止。2023年3月发布。\n")
    assert m.year == 2022


def test_unknown_fields_are_none():
    m = read("一份没有标题的文件\n")
    assert m.agency is None and m.layout is None


@Language.component("test_agency_as_printed")
def _agency_as_printed(doc):
    """A stand-in for ``report_agency``: the title up to its year, as printed (no gazetteer)."""
    doc._.agency, doc._.agency_reason = (doc._.title or "").split("20", 1)[0] or None, None
    return doc


def test_pipeline_components_are_named_and_replaceable():
    nlp = pipeline()
    names = ["report_title", "report_year", "report_agency", "report_layout", "report_figures"]
    assert nlp.pipe_names == names
    doc = nlp("洪泽区人民政府2023年政府信息公开工作年度报告")
    assert [(e.text, e.label_) for e in doc.ents] == [("洪泽区人民政府", "ORG")]
    # one component replaced by name: ``read`` (the same pipeline) gives the stand-in's agency,
    # the other components' results as before; put back, the gazetteer reads it again
    text = "北仑医人民攻府2023年度政府信息公开工作年度报告\n一、总体情况\n本年新收政府信息公开申请\t3\n本年制发件数\n"
    before = read(text)
    assert (before.agency, before.year, before.layout) == ("北仑区人民政府", 2023, "2021")
    original = nlp.get_pipe("report_agency")
    nlp.replace_pipe("report_agency", "test_agency_as_printed")
    try:
        assert nlp.pipe_names == names and nlp.get_pipe("report_agency") is _agency_as_printed
        replaced = read(text)
        assert replaced.agency == "北仑医人民攻府"
        assert (replaced.year, replaced.layout, replaced.figures) == (before.year, before.layout, before.figures)
    finally:
        nlp.replace_pipe("report_agency", "report_agency")
    assert nlp.pipe_names == names and nlp.get_pipe("report_agency") is original
    assert read(text) == before


def test_figures_the_prose_states_over_wrapped_lines_and_not_in_tables():
    m = read("一、总体情况\n2023 年全区受理政府信息公开申请 21\n件，其中自然人申请 15 件。上年结转申请3件；"
             "政府信息公开的行政复议1件。\n（一）予以公开\t2\t件\n")
    assert {(f.name, f.value) for f in m.figures} == {("new_received", 21), ("new_received_natural_person", 15), ("review", 1)}
    assert read("行政复议和行政诉讼 0 件。").figures[0].keys == (
        "review_litigation.review.total", "review_litigation.litigation_direct.total",
        "review_litigation.litigation_after_review.total")


def test_agency_from_the_opening_sentence_when_the_title_is_smudged():
    m = read("宁波支市方 州1区经济和信息1七局2020年\n政文府信息公开工 年年度复 皮告\n"
             "2020年，宁波市鄞州区经济和信息化局认真贯彻落实《条例》，现将本年度工作情况报告如下。\n")
    assert (m.agency, m.year) == ("宁波市鄞州区经济和信息化局", 2020)


# OCR'd titles: the agency is read against the gazetteer of divisions and the kinds of organ, or not given

def test_garbled_title_is_corrected_against_the_gazetteer():
    # a real reading of 2024年平潭综合实验区政府信息公开工作年度报告: the year lost, 平 doubled, 潭 as 江,
    # 验 as 检, the tail in pieces
    m = read("三平平江综合实检区政R守信人息公开]口三年丰度王\n根据《中华人民共和国政府信息公开条例》规定，现将本年度工作情况报告如下。\n")
    assert (m.agency, m.agency_reason) == ("平潭综合实验区", None)


@pytest.mark.parametrize("title, agency", [
    # 渝北区 and names since changed (无为县), which older reports print, are in the gazetteer: a
    # name it lacked was read as the nearest one it had (渝中区), a wrong agency from a clean page
    ("重庆市渝北区医疗保障局2023年", "重庆市渝北区医疗保障局"),
    ("无为县人民政府2019年", "无为县人民政府"),
    # a town is read against the towns of the county printed before it (干 read as 千: 莫干山镇
    # is one of 德清县's), never into an organ printed whole (沈阳市's 和平乡 is not
    # 住房和城乡建设局's 和城乡), nor one a county lacks into one it has
    ("德清县莫千山镇人民政府2023年", "德清县莫干山镇人民政府"),
    ("沈阳市住房和城乡建设局2023年", "沈阳市住房和城乡建设局"),
    ("德清县新镇人民政府2023年", "德清县新镇人民政府"),
])
def test_divisions_and_towns_are_read_as_the_gazetteer_has_them(title, agency):
    assert read(f"{title}政府信息公开工作年度报告\n").agency == agency


def test_confusable_characters_are_read_as_the_gazetteer_and_the_kinds_print_them():
    assert read("北仑医人民攻府2023年度政府信息公开工作年度报告\n一、总体情况\n").agency == "北仑区人民政府"
    assert read("平潭综合实验区公安后2023年政府信息公开工作年度报告\n").agency == "平潭综合实验区公安局"
    assert read("平潭综合实验区财攻金融局2023年政府信息公开工作年度报告\n").agency == "平潭综合实验区财政金融局"


def test_doubled_and_halved_characters():
    assert read("宁宁波市北北仑区人民政府\n2022年度政府信息公开工作年度报告\n").agency == "宁波市北仑区人民政府"
    # 鄞 cut into its halves; 州区 under 宁波市 settles which division it is
    assert read("宁波市革阝州区经济和信息化局2020年政府信息公开工作年度报告\n").agency == "宁波市鄞州区经济和信息化局"
    # a level ending a division and beginning an organ is printed twice on purpose
    assert read("宁波市市场监督管理局2023年政府信息公开工作年度报告\n").agency == "宁波市市场监督管理局"


def test_title_in_pieces_with_junk_between():
    m = read("平潭综合 | 实验区财政金融后\n丨 2023年政府信息公开工作年度报告\n一、总体情况\n")
    assert (m.agency, m.year) == ("平潭综合实验区财政金融局", 2023)


def test_prefixes_and_marks_are_dropped_and_levels_kept():
    assert read("附件1：\n《关于平潭综合实验区公安局2022年政府信息公开工作年度报告》\n").agency == "平潭综合实验区公安局"
    assert read("正文\n福建省平潭综合实验区财政金融局2022年政府信息公开工作年度报告\n").agency == "福建省平潭综合实验区财政金融局"
    assert read("标题: 宁波市北仑区人民政府2022年政府信息公开工作年度报告\n发布时间: 2023-01-09\n").agency == "宁波市北仑区人民政府"


def test_letterhead_above_the_title_is_no_part_of_it():
    m = read("宁波市北仑区人民政府\n北仑区发展和改革局2023年政府信息公开工作年度报告\n一、总体情况\n")
    assert m.agency == "北仑区发展和改革局"
    assert read("杭州市\n临平区经济信息化和科学技术局2023年政府信息公开工作年度报告\n").agency == "杭州市临平区经济信息化和科学技术局"


def test_agency_only_in_the_signature_block():
    body = "政府信息公开工作年度报告\n一、总体情况\n本机关认真贯彻落实《条例》。\n六、其他需要报告的事项\n无。\n"
    assert read(body + "宁波市北仑区人民政府\n2024年 1 月 20 日\n").agency == "宁波市北仑区人民政府"
    assert read(body + "平潭综合实验区\n自然资源与生态环境局\n二〇二四年一月五日\n").agency == "平潭综合实验区自然资源与生态环境局"
    # a web page's text: the signature and its date run on after the last sentence
    assert read(body + "无其他需要报告事项。 平潭综合实验区财政金融局 2021年1月27日 附件下载").agency == "平潭综合实验区财政金融局"


def test_a_division_alone_in_the_title_agrees_with_its_agency_in_the_signature():
    m = read("2024年平潭综合实验区政府信息公开工作年度报告\n一、总体情况\n无。\n平潭综合实验区管理委员会\n2025年1月20日\n")
    assert m.agency == "平潭综合实验区管理委员会"


def test_the_opening_sentence_agrees_with_the_title_without_the_levels_above():
    m = read("宁波市鄞州区经济和信息化局\n政府信息公开2020年度报告\n本年度报告由鄞州区经济和信息化局办公室编制。\n")
    assert m.agency == "宁波市鄞州区经济和信息化局"


def test_no_sound_candidate_gives_no_agency_and_says_why():
    m = read("口三丰王日十\n政府信息公开工作年度报告\n一、总体情况\n本机关认真贯彻落实《条例》。\n")
    assert m.agency is None and m.agency_reason.startswith("unsound: title")
    # one character apart, yet two divisions: title and signature disagree, and neither wins
    m = read("河东区人民政府2023年政府信息公开工作年度报告\n一、总体情况\n无。\n河西区人民政府\n2024年1月20日\n")
    assert m.agency is None and m.agency_reason.startswith("disagree: '河东区人民政府' (title)")
    # a division the gazetteer does not know (or one garbled past reading) is no agency's name
    assert read("求仑区经济和信息化局2023年政府信息公开工作年度报告\n").agency is None
    assert read("政府信息公开工作年度报告\n").agency_reason.startswith("not_found")


def test_crawled_reports_agency_from_their_text():
    crawled = sorted((SHARED / "corpus" / "crawl").glob("*.txt"))
    assert crawled
    for path in crawled:
        text = path.read_text(encoding="utf-8")
        assert read(text).agency == truth(path)["agency"], path.name
        # the same report with its title lost: its signature, or failing that nothing, never junk
        body = text[text.index("正文"):].split("\n", 1)[1]
        assert read(body[body.index("根据"):]).agency in (truth(path)["agency"], None), path.name


def test_the_reason_is_written_beside_the_agency():
    report = Report(Source("x.txt", "0" * 64, 1, "text"), read("口三丰王日十\n政府信息公开工作年度报告\n"), "2021", [])
    out = output.to_dict(report)
    assert out["agency"] is None and out["agency_reason"].startswith("unsound")
