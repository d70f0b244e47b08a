"""Agency, statistics year and table layout from the report's text, as a spaCy pipeline.

A blank Chinese pipeline (character tokens) with named components, each
replaceable: ``report_title`` finds the title (even when it is broken over
lines), ``report_year`` the statistics year, ``report_agency`` the issuing
agency, ``report_layout`` which national table layout the report prints, and
``report_figures`` the figures its prose states (本年新收…申请N件, 行政复议N件),
which cross-check the tables.  Results are on ``doc._.year``, ``doc._.agency``,
``doc._.layout``, ``doc._.figures``.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .records import Figure, Metadata
from .schema import LAYOUT_MARKERS

for _name in ("title", "year", "agency", "layout", "figures"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

_HEAD_CHARS = 400  # the title sits in the first lines
_TITLE_TAIL = re.compile(r"(政府信息公开|政务公开|信息公开)?(工作)?(\d{4}\s*年度?)?(政府信息公开)?(工作)?年?度?报告")
_YEAR = re.compile(r"(20[0-4]\d|19[89]\d)\s*年度?")
_AGENCY_KIND = (r"(人民政府办公室|人民政府办公厅|人民政府|办公室|办公厅|委员会|管理委员会|局|厅|委|署|办|中心"
                r"|院|馆|所|街道办事处|街道|镇|乡|分局|支队|大队|公司|集团)")
_AGENCY_END = re.compile(_AGENCY_KIND + "$")
# the subject of a report's opening sentence: 2020年，<agency>认真贯彻…
_OPENING = re.compile(r"(?:^|\n|[，,。])(?:\d{4}年度?[，,]?)?([^，,。；、\n\d]{2,30}?" + _AGENCY_KIND + ")"
                      r"(?:认真|坚持|严格|深入|全面|按照|根据|紧紧|始终|积极|进一步|以)")
_NOISE = re.compile(r"^(关于|附件\d*[:：]?)|[《》\"“”]")


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


@Language.component("report_title")
def report_title(doc: Doc) -> Doc:
    """The title: the first short lines up to the one that says 报告, joined (titles wrap)."""
    head, start = [], 0
    for line in _lines(doc.text[:_HEAD_CHARS * 2])[:6]:
        if len(line) > 60:
            break
        head.append(line)
        if "报告" in line:
            break
    title = "".join(head)
    if "报告" not in title:
        return doc
    pos = doc.text.find(head[0]) if head else -1
    start = max(pos, 0)
    doc._.title = title
    span = doc.char_span(start, start + len(head[0]), label="TITLE", alignment_mode="expand")
    if span is not None:
        doc.spans["title"] = [span]
    return doc


@Language.factory("report_year")
def make_year(nlp: Language, name: str):
    matcher = Matcher(nlp.vocab)
    digit = {"IS_DIGIT": True, "LENGTH": 1}
    matcher.add("YEAR", [[digit, digit, digit, digit, {"IS_SPACE": True, "OP": "*"}, {"ORTH": "年"}]])
    matcher.add("PERIOD", [[{"ORTH": "统"}, {"ORTH": "计"}, {"ORTH": "期"}, {"ORTH": "限"}]])

    def report_year(doc: Doc) -> Doc:
        years = []
        for match_id, start, _end in matcher(doc):
            if nlp.vocab.strings[match_id] == "YEAR":
                y = int("".join(t.text for t in doc[start:start + 4]))
                if 1990 <= y <= 2049:
                    years.append((doc[start].idx, y))
        if doc._.title and (m := _YEAR.search(doc._.title)):
            doc._.year = int(m.group(1))
            return doc
        # "统计期限自2022年1月1日起": the period's own year
        for m in re.finditer(r"统计期限[^。]{0,10}?(20\d\d)\s*年", doc.text):
            doc._.year = int(m.group(1))
            return doc
        if years:
            doc._.year = Counter(y for _, y in years).most_common(1)[0][0]
        return doc

    return report_year


@Language.component("report_agency")
def report_agency(doc: Doc) -> Doc:
    """The agency: the title less its year and its 政府信息公开…年度报告 tail; when no title
    could be read (a scan's big bold title is the first thing to smudge), the subject of
    the report's opening sentence (2020年，宁波市鄞州区经济和信息化局认真贯彻…)."""
    title = doc._.title or ""
    opening = _OPENING.search(doc.text[:_HEAD_CHARS * 2].replace(" ", ""))
    name = _TITLE_TAIL.sub("", _YEAR.sub("", title.replace(" ", "").replace("\u3000", "")))
    name = _NOISE.sub("", name).strip("：:，,、 ")
    name = re.sub(r"\d{4}年?度?$", "", name)
    if 2 <= len(name) <= 40 and _AGENCY_END.search(name):
        doc._.agency = name
        start = doc.text.find(name[:4])
        if start >= 0:
            span = doc.char_span(start, start + len(name), label="ORG", alignment_mode="expand")
            if span is not None:
                doc.ents = [Span(doc, span.start, span.end, label="ORG")]
    elif opening:
        doc._.agency = opening.group(1)
    elif 2 <= len(name) <= 40:
        doc._.agency = name
    return doc


@Language.factory("report_layout")
def make_layout(nlp: Language, name: str):
    matcher = PhraseMatcher(nlp.vocab)
    for layout, phrases in LAYOUT_MARKERS.items():
        matcher.add(layout, [nlp.make_doc(p) for p in phrases])

    def report_layout(doc: Doc) -> Doc:
        votes = Counter(nlp.vocab.strings[m] for m, _, _ in matcher(doc))
        if votes:
            doc._.layout = votes.most_common(1)[0][0]
        return doc

    return report_layout


# What the prose of a report states, and the table cells whose sum it states.  Only phrasings
# that name one figure of the tables unambiguously; one clause each (no 。；，between).
_LITIGATION = ("review_litigation.litigation_direct.total", "review_litigation.litigation_after_review.total")
_FIGURES = (
    ("new_received", re.compile(r"(?<!结转)(?:新收|收到|受理)[^。；，,\d]{0,14}?申请[^。；，,\d]{0,6}?(\d+)件"),
     ("requests.new_received.total",)),
    ("new_received_natural_person", re.compile(r"其中[^。；，,\d]{0,4}?自然人[^。；，,\d]{0,4}?(\d+)件"),
     ("requests.new_received.natural_person",)),
    ("review_and_litigation", re.compile(r"行政复议和行政诉讼[^。；，,\d]{0,4}?(\d+)件"),
     ("review_litigation.review.total", *_LITIGATION)),
    ("review", re.compile(r"行政复议(?!和)[^。；，,\d]{0,4}?(\d+)件"), ("review_litigation.review.total",)),
    ("litigation", re.compile(r"(?<!和)行政诉讼[^。；，,\d]{0,4}?(\d+)件"), _LITIGATION),
)


@Language.component("report_figures")
def report_figures(doc: Doc) -> Doc:
    """Figures the prose states, each with the cells it sums; the first statement of each kind.
    Sentences run over line breaks (PDF lines wrap mid-sentence); table rows, tab-separated, are no prose."""
    found: dict[str, Figure] = {}
    prose = "".join(line for line in doc.text.splitlines() if "\t" not in line)
    for sentence in re.split(r"[。；]", prose):
        for name, pattern, keys in _FIGURES:
            m = pattern.search(sentence)
            if m and name not in found:
                found[name] = Figure(name, keys, int(m.group(1)))
    doc._.figures = tuple(found.values())
    return doc


@lru_cache(maxsize=1)
def pipeline() -> Language:
    nlp = spacy.blank("zh")
    for name in ("report_title", "report_year", "report_agency", "report_layout", "report_figures"):
        nlp.add_pipe(name)
    return nlp


def read(text: str) -> Metadata:
    # whitespace inside table headings ("本年增/ 减") would hide them from the phrase matcher
    doc = pipeline()(re.sub(r"[ \t\u3000\xa0]+", lambda m: "" if "\t" not in m.group() else "\t", text))
    return Metadata(doc._.agency, doc._.year, doc._.layout, doc._.figures or ())
