"""Agency, statistics year and layout from the report text (spaCy pipeline)."""
from __future__ import annotations

from extract.metadata import pipeline, read


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


def test_pipeline_components_are_named_and_replaceable():
    nlp = pipeline()
    assert nlp.pipe_names == ["report_title", "report_year", "report_agency", "report_layout", "report_figures"]
    doc = nlp("洪泽区人民政府2023年政府信息公开工作年度报告")
    assert [(e.text, e.label_) for e in doc.ents] == [("洪泽区人民政府", "ORG")]


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
