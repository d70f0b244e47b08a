"""Agency, statistics year and table layout from the report's text, as a spaCy pipeline.

A blank Chinese pipeline (character tokens) with named components, each
replaceable: ``report_title`` finds the title (even when it is broken over
lines), ``report_year`` the statistics year, ``report_agency`` the issuing
agency, ``report_layout`` which national table layout the report prints, and
``report_figures`` the figures its prose states (本年新收…申请N件, 行政复议N件),
which cross-check the tables.  Results are on ``doc._.year``, ``doc._.agency``
(None, with ``doc._.agency_reason`` saying why, when no sound candidate wins),
``doc._.layout``, ``doc._.figures``.  The agency is read against ``data/divisions.tsv``
(China's administrative divisions) and ``data/organs.txt``, loaded once.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from .normalize import normalize
from .records import Figure, Metadata
from .schema import LAYOUT_MARKERS

for _name in ("title", "year", "agency", "agency_reason", "layout", "figures"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

_HEAD_CHARS = 400  # the title sits in the first lines
_YEAR = re.compile(r"(20[0-4]\d|19[89]\d)\s*年度?")


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


# The agency.  A report names it in several places: its title, its opening sentence, the
# signature above its date, a page header.  Each place gives a candidate; each candidate is
# read against a gazetteer of China's administrative divisions and the kinds of organ an
# agency's name ends with (OCR garbles a scan's big bold title first: 平潭 read as 平平江,
# 区 as 医); the candidates then vote, the same agency from two places agreeing.


@dataclass(frozen=True, slots=True)
class Ocr:
    """What each way of misreading costs, in characters, when a known word is matched to OCR's text."""

    confusable: float = 0.25  # a look-alike in its place (区 read as 医)
    doubled: float = 0.25  # a character read twice (中中华)
    inserted: float = 0.5  # a stray character inside the word (宁波支市)
    split: float = 1.1  # one character read as two, its halves (革阝 for 鄞): a little dearer than a misread
    other: float = 1.0  # any other character in its place, or one lost


_OCR = Ocr()
# look-alike characters that OCR reads for one another, among those agencies' names are made of
_CONFUSABLE = frozenset(frozenset(p) for p in ("区医", "区匡", "局后", "政攻", "政玫", "府付", "府俯", "府守", "验检", "验险", "市巿",
                                               "市币", "县具", "州洲", "委季", "员贝", "厅斤", "人入", "会合", "潭谭"))
# the kinds of organ an agency's name ends with; the longest that a name ends with is its kind
_SUFFIXES = ("人民政府办公室", "人民政府办公厅", "人民政府", "管理委员会", "管委会", "委员会", "街道办事处", "办事处", "办公室",
             "办公厅", "局", "厅", "委", "署", "办", "中心", "院", "馆", "所", "支队", "大队", "公司", "集团", "街道", "镇", "乡")
_KIND = "(?:" + "|".join(sorted(_SUFFIXES, key=len, reverse=True)) + ")"


@dataclass(frozen=True, slots=True)
class Source:
    """A place where reports name their agency: how much it is believed, and where in the text it is."""

    name: str
    weight: float
    find: Callable[[str], list[str]]  # the report's text -> the raw spans that may name the agency


_CJK = re.compile(r"[\u3400-\u9fff]")
_STROKES = "丨亅丿"  # CJK code points that OCR gives for a table rule or a stray stroke
_SMUDGE = "口"  # what it gives for a box or a smudge: dropped from an organ's name that it alone keeps unknown
_DATE = re.compile(r"(?:\d{4}|[〇零○一二三四五六七八九]{4})[ \u3000]*年[ \u3000]*[\d一二三四五六七八九十]{1,3}[ \u3000]*月"
                   r"[ \u3000]*[\d一二三四五六七八九十]{1,3}[ \u3000]*日")
# a year, one digit of it misread or not (20前2年)
_YEARS = re.compile(r"(?:[12]\d{3}|[12]\D\d\d|[12]\d\D\d|[12]\d\d\D|[〇零○一二三四五六七八九]{4})年度?")
# what stands before a title's name: a web page's field label, an attachment's number, 关于
_PREFIX = re.compile(r"^(?:[^\u3400-\u9fff]*(?:正文|附件\d*|关于|标题|题目))+[^\u3400-\u9fff]*")
_FIELD = re.compile(r"^[\u3400-\u9fff]{2,4}:")
_TITLE_ANCHOR = re.compile(r"报告|公开|年报")  # the line that ends a title says one of these
# a line of the report's body, not of its title: a sentence, or a section's number (一、总体情况);
# a title's line may carry OCR's stray marks (: | .), so one comma is no sentence
_SECTION = r"^[一二三四五六七八九十]+、"
_BODY_LINE = re.compile(rf"。|[,;].*[,;]|{_SECTION}")
# where a title's name ends and its 政府信息公开工作年度报告 begins: read exactly, else as OCR may garble it
_TAIL = re.compile(r"政府信息公开|政务公开|信息公开|年度报告|报告")
# and the cost a garbled one may take, a stray character in it costing as much as a misread one
_TAIL_FORMS = (("政府信息公开", 1.25), ("政务公开", 0.5), ("信息公开", 0.5), ("年度报告", 0.5))
_TRAILING = re.compile(r"(?:关于|年度|年|度|工作|的)+$")
_SELF = re.compile(r"^[我本该]")  # 我局, 本机关: the agency speaking of itself names no agency
_OPENINGS = (
    # 本报告由<agency>（办公室）编制
    re.compile(rf"报告由([^，,。；、\n]{{2,40}}?{_KIND})(?:办公室)?(?:负责)?(?:编制|制作|起草)"),
    # 2020年，<agency>认真贯彻… ; 根据《条例》…，<agency>编制本报告
    re.compile(rf"(?:^|\n|[，,。])(?:\d{{4}}年度?[，,]?)?([^，,。；、\n\d《》]{{2,30}}?{_KIND})"
               r"(?:认真|坚持|严格|深入|全面|按照|根据|紧紧|始终|积极|进一步|以|围绕|聚焦|编制)"),
)
_OPENING_CHARS, _SIGNATURE_CHARS, _SIGNATURE_LINE, _LONGEST = 1200, 400, 30, 40
# A correction is taken when its cost is at most _TOLERANCE per character of the known word (plus
# _PARENT_BONUS for a division within the one printed before it: 鄞州区 after 宁波市), and when it
# beats every other reading by _CLEAR_MARGIN characters.
_TOLERANCE, _PARENT_BONUS, _CLEAR_MARGIN = 0.25, 0.35, 0.25
_TIE = 0.01  # of two readings alike dear, the one that takes more of the text
_SOUND, _CLEAN = 0.6, 0.85  # the quality a candidate with a division needs, and one without
_AGREE = 0.25  # two readings of one name differ in at most this share of characters
_WIN = 1.5  # the winning agency's votes against the next one's


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """China's administrative divisions (``data/divisions.tsv``) indexed for matching OCR's text, and the
    organs their governments' reports name (``data/organs.txt``)."""

    codes: dict[str, tuple[str, ...]]  # name -> its codes, trailing zero pairs dropped: 宁波市 3302, 北仑区 330206
    by_last: dict[str, tuple[str, ...]]  # a name's last character, its level (区, 县, 市) -> names
    by_first: dict[str, tuple[str, ...]]  # a name's first character -> names
    by_char: dict[str, frozenset[str]]  # a character before that -> names
    organs: frozenset[str]
    alphabet: frozenset[str]  # the characters names of divisions and organs are made of
    longest: int
    towns: dict[str, tuple[str, ...]]  # a division's code (province, prefecture, county) -> its towns and streets

    def within(self, name: str, parent: str) -> bool:
        return any(c != p and c.startswith(p) for c in self.codes.get(name, ()) for p in self.codes.get(parent, ()))

    def towns_under(self, parent: str) -> tuple[str, ...]:
        """The towns and streets of a division: read only under the division printed before them
        (their names repeat across China; under one county they are few and distinct)."""
        return tuple(t for p in self.codes.get(parent, ()) for t in self.towns.get(p, ()))

    def doubled(self, before: str, ch: str, after: str) -> bool:
        """Whether a character printed twice between ``before`` and ``after`` is meant twice: inside a
        name (齐齐哈尔市, 津市市), or ending one word and beginning an organ (宁波市市场监督管理局)."""
        return any(before + ch * 2 in name or ch * 2 + after in name for name in self.by_char.get(ch, ())) or \
            ch in self.by_last and any(organ.startswith(ch + after) for organ in self.organs)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    data = resources.files(__package__) / "data"
    codes: dict[str, list[str]] = {}
    for line in (data / "divisions.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        code, name, _kind = line.split("\t")
        codes.setdefault(name, []).append(re.sub(r"(00)+$", "", code))
    by_last: dict[str, list[str]] = {}
    by_first: dict[str, list[str]] = {}
    by_char: dict[str, set[str]] = {}
    for name in codes:
        by_last.setdefault(name[-1], []).append(name)
        by_first.setdefault(name[0], []).append(name)
        for ch in name[:-1]:
            by_char.setdefault(ch, set()).add(name)
    organs = frozenset(ln for ln in (data / "organs.txt").read_text(encoding="utf-8").splitlines() if ln and ln[0] != "#")
    towns: dict[str, list[str]] = {}
    for line in (data / "towns.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        county, name = line.split("\t")
        for level in {county[:2], county[:4], re.sub(r"(00)+$", "", county)}:  # as ``codes`` cuts them
            towns.setdefault(level, []).append(name)
    return Gazetteer({n: tuple(c) for n, c in codes.items()}, {c: tuple(n) for c, n in by_last.items()},
                     {c: tuple(n) for c, n in by_first.items()}, {c: frozenset(n) for c, n in by_char.items()},
                     organs, frozenset("".join([*codes, *organs, *_SUFFIXES])), max(map(len, codes)),
                     {c: tuple(n) for c, n in towns.items()})


def _alike(ch: str) -> set[str]:
    return {ch, *(o for pair in _CONFUSABLE if ch in pair for o in pair)}


def _sub(a: str, b: str) -> float:
    return 0.0 if a == b else _OCR.confusable if frozenset((a, b)) in _CONFUSABLE else _OCR.other


def _costs(word: str, text: str, inserted: float = _OCR.inserted) -> list[float]:
    """For each j, the cheapest reading of all of ``word`` as ``text[:j]`` (an edit distance with OCR's costs)."""
    prev = [j * inserted for j in range(len(text) + 1)]
    for i in range(1, len(word) + 1):
        cur = [prev[0] + _OCR.other]
        for j in range(1, len(text) + 1):
            c = min(prev[j - 1] + _sub(word[i - 1], text[j - 1]), cur[j - 1] + inserted, prev[j] + _OCR.other)
            cur.append(min(c, prev[j - 2] + _OCR.split) if j >= 2 else c)
        prev = cur
    return prev


def _read_as(word: str, text: str, rest: float = 0.0, inserted: float = _OCR.inserted) -> tuple[float, int] | None:
    """How cheaply ``word`` reads from the start of ``text``, their first characters alike: the cost and
    how many characters of ``text`` it takes (each one it leaves costing ``rest``); None when the first
    characters differ."""
    if not text or (first := _sub(word[0], text[0])) >= _OCR.other:
        return None
    row = _costs(word[1:], text[1:], inserted)
    j = min(range(len(row)), key=lambda k: (row[k] + (len(row) - 1 - k) * rest, k))
    return first + row[j], j + 1


def _differ(a: str, b: str) -> float:
    """The share of characters in which two readings of a name differ."""
    return _costs(a, b, _OCR.other)[-1] / max(len(a), len(b), 1)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One source's span read as an agency's name."""

    source: str
    raw: str
    name: str
    places: tuple[str, ...]  # the divisions it names, in order (宁波市, 北仑区)
    organ: str  # what follows the last of them (经济和信息化局), or the whole name when none
    quality: float  # 1 less what was corrected or dropped, per character
    sound: bool
    weight: float

    @property
    def votes(self) -> float:
        return self.weight * self.quality


def _clean(raw: str, gaz: Gazetteer) -> tuple[str, list[float]]:
    """The span's Chinese characters less any prefix and year, each with the cost of the junk dropped just
    before it and of a doubling collapsed on it."""
    text = _PREFIX.sub("", _YEARS.sub("", normalize(raw)))
    kept: list[tuple[str, float]] = []
    junk = 0
    for ch in text:
        if not _CJK.match(ch) or ch in _STROKES:
            junk += 1
        else:
            kept.append((ch, junk * _OCR.inserted if kept else 0.0))  # junk before the name is no part of it
            junk = 0
    chars: list[str] = []
    costs: list[float] = []
    for i, (ch, cost) in enumerate(kept):
        if chars and ch == chars[-1] and \
                not gaz.doubled(chars[-2] if len(chars) > 1 else "", ch, kept[i + 1][0] if i + 1 < len(kept) else ""):
            costs[-1] += cost + _OCR.doubled
        else:
            chars.append(ch)
            costs.append(cost)
    return "".join(chars), costs


def _tail_start(s: str) -> int:
    """Where the title's 政府信息公开…报告 begins (the length of ``s`` when it has none): printed, or
    garbled and read from either end of one of its forms."""
    starts = [m.start()] if (m := _TAIL.search(s)) else []
    for form, tolerance in _TAIL_FORMS:
        for i in range(len(s)):
            if (read := _read_as(form, s[i:i + 2 * len(form)], 0, _OCR.other)) and read[0] <= tolerance:
                starts.append(i)
            # backwards a stretch that reads as more of the form is taken whole (使府信息公开: 使 is 政)
            back = s[max(0, i - 2 * len(form)):i + 1][::-1]
            if (read := _read_as(form[::-1], back, _TIE, _OCR.other)) and read[0] <= tolerance:
                starts.append(i + 1 - read[1])
    return min(starts, default=len(s))


def _suffix(s: str) -> tuple[int, str, float]:
    """The kind of organ ``s`` ends with: how many characters it takes, the kind, and the cost of reading it."""
    for kind in sorted(_SUFFIXES, key=len, reverse=True):
        if s.endswith(kind):
            return len(kind), kind, 0.0
    reads = []
    for kind in _SUFFIXES:
        if (read := _read_as(kind[::-1], s[::-1])) and read[0] <= _TOLERANCE * len(kind):
            reads.append((read[0] / len(kind), read[1], kind, read[0]))
    reads.sort()
    # kinds one of which ends the other (委员会, 管理委员会) are the one reading, not rivals
    rivals = [r for r in reads[1:] if not (r[2].endswith(reads[0][2]) or reads[0][2].endswith(r[2]))] if reads else []
    if reads and (not rivals or reads[0][0] + _CLEAR_MARGIN / len(reads[0][2]) <= rivals[0][0]):
        return reads[0][1], reads[0][2], reads[0][3]
    return 0, "", 0.0


def _places(s: str, gaz: Gazetteer, whole: str = "") -> list[tuple[int, int, str, float]]:
    """The divisions ``s`` names, as (start, end, name, cost): those printed exactly; then, where a level
    character (区, 县, 市, or its look-alike) ends an unexplained stretch, the one name it clearly reads as;
    then, where such a stretch begins, the one name it clearly begins with (平潭综合实验王).  Of two
    readings, one within the division printed before it, or holding the one after, is the likelier."""
    spans, i = [], 0
    while i < len(s):
        end = next((i + n for n in range(min(gaz.longest, len(s) - i), 1, -1) if s[i:i + n] in gaz.codes), None)
        if end:
            spans.append((i, end, s[i:end], 0.0))
        i = end or i + 1
    # where a known organ is printed whole (住房和城乡建设局, in ``whole``: ``s`` and the kind of
    # organ it ends with), no town is read into it (和平乡)
    whole = whole or s
    organs = [(m.start(), m.start() + len(o)) for o in gaz.organs if o in whole for m in re.finditer(re.escape(o), whole)]
    for backwards in (True, False):
        for at in range(len(s) + 1):
            if span := _place_at(s, at, backwards, spans, gaz, organs):
                spans = sorted([*spans, span])
    return spans


def _place_at(s: str, at: int, backwards: bool, spans: list, gaz: Gazetteer,
              organs: list[tuple[int, int]] = ()) -> tuple[int, int, str, float] | None:
    """The one division that an unexplained stretch ending (or beginning) at ``at`` clearly reads as."""
    lo = max((b for _, b, _, _ in spans if b <= at), default=0)
    hi = min((a for a, _, _, _ in spans if a >= at), default=len(s))
    if backwards:
        if at < 2 or any(a < at <= b for a, b, _, _ in spans):
            return None
        window, edge, names = s[max(lo, at - gaz.longest - 3):at][::-1], s[at - 1], gaz.by_last
    else:
        if at != lo or at >= hi:
            return None
        window, edge, names = s[at:min(hi, at + gaz.longest + 3)], s[at], gaz.by_first
    if len(window) < 2:
        return None
    parent = next((n for _, b, n, _ in reversed(spans) if b <= lo), None)
    child = next((n for a, _, n, _ in spans if a >= hi), None)
    alike = {n for c in _alike(edge) for n in names.get(c, ())}
    shared = set().union(*(gaz.by_char.get(c, ()) for c in window[1:]))
    towns = {t for t in gaz.towns_under(parent) if (t[-1] if backwards else t[0]) in _alike(edge)} if parent else set()
    reads = []
    for name in alike & shared | towns:
        read = _read_as(name[::-1] if backwards else name, window, _OCR.inserted if backwards else _TIE)
        if read and name in towns:
            a, b = (at - read[1], at) if backwards else (at, at + read[1])
            if any(a < y and x < b for x, y in organs):
                continue
        under = name in towns or parent is not None and gaz.within(name, parent) or \
            child is not None and gaz.within(child, name)
        if read and read[0] <= _TOLERANCE * len(name) + _PARENT_BONUS * under:
            left = len(window) - read[1] if backwards else 0  # what it leaves unexplained before it
            reads.append((read[0] - _PARENT_BONUS * under + left * _OCR.inserted, read[1], name, read[0]))
    reads.sort()
    if not reads or len(reads) > 1 and reads[0][0] + _CLEAR_MARGIN > reads[1][0]:
        return None
    _, n, name, cost = reads[0]
    return (at - n, at, name, cost) if backwards else (at, at + n, name, cost)


def _candidate(source: Source, raw: str, gaz: Gazetteer) -> Candidate | None:
    """One place's span read as an agency's name: corrected where the gazetteer and the kinds of organ
    clearly say how, and judged sound or not."""
    s, costs = _clean(raw, gaz)
    s = s[:_tail_start(s)]
    s = _TRAILING.sub("", s)
    costs = costs[:len(s)]
    if not s:
        return None
    taken, kind, cost = _suffix(s)
    spans = _places(s[:len(s) - taken], gaz, s)
    if spans and spans[0][0] == 1:  # one stray character before the first division (三平潭…)
        cost += _OCR.other
        s, costs = s[1:], [0.0] + costs[2:]
        spans = [(a - 1, b - 1, n, c) for a, b, n, c in spans]
    parts, at = [], 0
    for a, b, name, c in spans:
        gap = s[at:a]
        if parts and len(gap) == 1:  # one character between two divisions is a stray one (福建省口平潭…)
            gap, cost = "", cost + _OCR.other
        parts += [_as_printed(gap, gaz), name]
        cost += c + _OCR.confusable * sum(x != y for x, y in zip(gap, parts[-2]))
        at = b
    body = s[at:len(s) - taken]
    organ = _as_printed(body, gaz) + kind
    cost += _OCR.confusable * sum(x != y for x, y in zip(body, organ))
    if organ not in gaz.organs and (known := organ.replace(_SMUDGE, "")) in gaz.organs:
        cost += _OCR.inserted * (len(organ) - len(known))
        organ = known
    name = "".join(parts) + organ
    quality = max(0.0, 1 - (cost + sum(costs[1:])) / len(name))
    named = any(len(sp[2]) >= 3 for sp in spans)
    if kind:
        sound = quality >= _SOUND if named else \
            quality >= _CLEAN and len(name) >= 3 and not _SELF.match(name) and not _unknown_division(name, gaz)
    else:  # a division named alone (平潭综合实验区), nothing else, stands for its government
        sound = named and name == "".join(parts[1::2]) and quality >= _SOUND
    return Candidate(source.name, raw, name, tuple(sp[2] for sp in spans), organ, quality,
                     sound and len(name) <= _LONGEST, source.weight)


def _as_printed(text: str, gaz: Gazetteer) -> str:
    """``text`` with each character that no agency's name is made of read as its one look-alike that is (财攻 as 财政)."""
    def printed(ch: str) -> str:
        alike = [o for o in _alike(ch) - {ch} if o in gaz.alphabet]
        return alike[0] if ch not in gaz.alphabet and len(alike) == 1 else ch
    return "".join(map(printed, text))


def _unknown_division(name: str, gaz: Gazetteer) -> bool:
    """Whether a name with no division begins as one would (求仑区经济…, 高新区管委会): a division the
    gazetteer does not know, or one garbled past reading; either way no agency to give."""
    return any(ch in gaz.by_last for ch in name[1:5])


def _title_span(text: str) -> list[str]:
    """The title's lines: the short lines up to the first that says 报告 or 公开 (a title wraps, OCR
    breaks it into pieces), past any web page's field lines before it, and from the last that begins
    with a division after lines that end in an agency's kind (a letterhead or page header above the
    title); else the first short lines."""
    pieces: list[str] = []
    for line in _lines(text[:_HEAD_CHARS * 2])[:8]:
        line = _PREFIX.sub("", normalize(line))
        if len(line) > 60 or _BODY_LINE.search(line) or _FIELD.match(line):
            if pieces or not _FIELD.match(line):
                break
            continue  # a web page's field line before the title (发布机构：…)
        if line:
            pieces.append(line)
        if _TITLE_ANCHOR.search(line):
            pieces = pieces[-4:]
            starts = [k for k, piece in enumerate(pieces) if k and _begins_with_division(piece)
                      and "".join(pieces[:k]).endswith(_SUFFIXES)]
            return ["".join(pieces[starts[-1] if starts else 0:])]
    return ["".join(pieces[:3])] if pieces else []


def _begins_with_division(line: str) -> bool:
    gaz = gazetteer()
    s = _clean(line, gaz)[0]
    return any(s[:n] in gaz.codes for n in range(2, min(gaz.longest, len(s)) + 1))


def _opening_spans(text: str) -> list[str]:
    head = normalize(text[:_OPENING_CHARS].replace("\n", "。"))
    return [m.group(1) for p in _OPENINGS if (m := p.search(head))]


def _signature_spans(text: str) -> list[str]:
    """The name signed above the report's closing date, on the date's line (…事项。平潭综合实验区财政金融局
    2021年1月27日) or on the short lines above it (a long name wraps)."""
    tail = text[-_SIGNATURE_CHARS:]
    dates = [m for m in _DATE.finditer(tail) if len(normalize(tail[m.end():])) <= 30]
    if not dates:
        return []
    lines = tail[:dates[-1].start()].split("\n")
    signed: list[str] = []
    while lines and len(signed) < 3:
        line = lines.pop().strip()
        if re.match(_SECTION, line):  # the last section's heading (六、其他需要报告的事项)
            break
        ends = re.split(r"[。；！？]", line)
        if ends[-1].strip():
            signed.insert(0, ends[-1].strip())
        if len(ends) > 1 or len(line) > _SIGNATURE_LINE:
            break
    return ["".join(signed)] if signed else []


def _header_spans(text: str) -> list[str]:
    """Short lines printed again and again: a page header."""
    counts = Counter(ln for ln in _lines(text) if "\t" not in ln and 4 <= len(ln) <= _LONGEST and not _BODY_LINE.search(ln))
    return [ln for ln, n in counts.items() if n >= 2]


SOURCES = (Source("title", 3.0, _title_span), Source("signature", 2.5, _signature_spans),
           Source("header", 1.5, _header_spans), Source("opening", 1.5, _opening_spans))


def _agree(a: Candidate, b: Candidate) -> bool:
    """Two candidates name one agency: the same name read alike, one with the levels above dropped
    (鄞州区经济和信息化局 of 宁波市鄞州区经济和信息化局), or a division named alone and its agency;
    never two that name different divisions (河东区, 河西区: one character apart)."""
    if not (set(a.places) <= set(b.places) or set(b.places) <= set(a.places)):
        return False
    short, long = sorted((a.places, b.places), key=len)
    nested = long[len(long) - len(short):] == short
    if not a.organ or not b.organ:
        return nested
    return nested and _differ(a.organ, b.organ) <= _AGREE or _differ(a.name, b.name) <= _AGREE


def _why(c: Candidate) -> str:
    """Why a candidate is not sound, in words."""
    said = f"{c.source} {c.raw[:30]!r}"
    if not c.organ.endswith(_SUFFIXES):
        return f"{said} ends in no agency kind" + ("" if c.places else " and names no division")
    if not c.places and _SELF.match(c.name):
        return f"{said} is the agency speaking of itself"
    return f"{said} is read too uncertainly (quality {c.quality:.2f})"


def vote(candidates: list[Candidate]) -> tuple[str | None, str | None]:
    """The agency the sound candidates agree on, or None and why."""
    sound = sorted((c for c in candidates if c.sound), key=lambda c: -c.votes)
    if not sound:
        if not candidates:
            return None, "not_found: no title, opening sentence, signature or page header names an agency"
        return None, "unsound: " + "; ".join(_why(c) for c in sorted(candidates, key=lambda c: -c.weight)[:2])
    clusters: list[list[Candidate]] = []
    for c in sound:
        home = next((cl for cl in clusters if all(_agree(c, o) for o in cl)), None)
        if home is None:
            clusters.append([c])
        else:
            home.append(c)
    clusters.sort(key=lambda cl: -sum(c.votes for c in cl))
    best = clusters[0]
    if len(clusters) > 1 and sum(c.votes for c in best) < _WIN * sum(c.votes for c in clusters[1]):
        rival = clusters[1]
        return None, (f"disagree: {best[0].name!r} ({', '.join(c.source for c in best)}) against "
                      f"{rival[0].name!r} ({', '.join(c.source for c in rival)})")
    # the reading with the organ named, and a known one, clean, the title's before others', with more levels
    gaz = gazetteer()
    pick = max(best, key=lambda c: (c.organ != "", c.organ in gaz.organs, c.quality >= _CLEAN, c.weight, c.quality,
                                    len(c.places)))
    return pick.name, None


@Language.component("report_agency")
def report_agency(doc: Doc) -> Doc:
    """The agency: a candidate from each of ``SOURCES``, read against the gazetteer, voted on;
    None, with ``doc._.agency_reason``, when no sound candidate wins."""
    gaz, text = gazetteer(), doc.text  # doc.text is built anew from the tokens at each call
    candidates = [c for source in SOURCES for raw in source.find(text) if (c := _candidate(source, raw, gaz))]
    doc._.agency, doc._.agency_reason = vote(candidates)
    if doc._.agency and (start := text.find(doc._.agency)) >= 0:
        span = doc.char_span(start, start + len(doc._.agency), label="ORG", alignment_mode="expand")
        if span is not None:
            doc.ents = [span]
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
    return Metadata(doc._.agency, doc._.year, doc._.layout, doc._.figures or (), doc._.agency_reason)
