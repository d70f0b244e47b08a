"""A second scan renderer, independent of training.render: the report laid out as HTML/CSS and
printed by headless Chromium, the PDF rasterized with pypdfium2, the pages degraded with
``training.render.degrade``.

    python -m training.render_html --seed 7 --out /tmp/scan.pdf --level medium --png /tmp/pages

training.render draws with PIL in Noto Sans CJK, the product is tuned on its pages; these are
set by a browser in other faces (宋/明/楷/黑 from Debian's font packages), with other table
rules (three-line, horizontal only, full grid, shaded header bands), 表三 sometimes on a
landscape page, and the prose, headings and signature a printed report has, so scoring on
them measures how the product does on scans it was never tuned on.  The numbers are
training.generate's (the same seed gives render.render's values), so every identity holds.
"""
from __future__ import annotations

import argparse
import atexit
import ctypes
import html
import os
import queue
import random
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from extract.records import Number
from extract.schema import Variant
from training.generate import make_values
from training.render import LEVELS, Grid, Scan, degrade, national_tables, to_pdf

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CELL_URL = "https://cell.invalid/"  # each value is a link to its key: the PDF's link rectangles are the truth boxes

# --- agencies -------------------------------------------------------------------------------

_PROVINCES = ("河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省",
              "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省",
              "广西壮族自治区", "内蒙古自治区", "宁夏回族自治区", "新疆维吾尔自治区", "西藏自治区")
_PROVINCE_BODIES = ("人民政府", "人民政府办公厅", "教育厅", "财政厅", "公安厅", "自然资源厅", "农业农村厅", "卫生健康委员会",
                    "住房和城乡建设厅", "市场监督管理局", "生态环境厅", "交通运输厅", "民政厅", "人力资源和社会保障厅",
                    "发展和改革委员会", "司法厅", "水利厅")
_LOCALITIES = (
    "石家庄市", "太原市", "呼和浩特市", "沈阳市", "长春市", "哈尔滨市", "南京市", "苏州市", "温州市", "合肥市", "芜湖市", "厦门市",
    "赣州市", "青岛市", "潍坊市", "郑州市", "洛阳市", "武汉市", "宜昌市", "长沙市", "株洲市", "深圳市", "佛山市", "南宁市",
    "柳州市", "海口市", "成都市", "绵阳市", "遵义市", "昆明市", "西安市", "兰州市", "西宁市", "银川市", "乌鲁木齐市",
    "大理白族自治州", "黔东南苗族侗族自治州", "延边朝鲜族自治州", "恩施土家族苗族自治州",
    "北京市海淀区", "北京市朝阳区", "上海市浦东新区", "天津市滨海新区", "重庆市渝北区", "呼和浩特市赛罕区",
    "黔东南苗族侗族自治州凯里市", "成都市武侯区", "广州市天河区", "深圳市南山区", "杭州市余杭区", "宁波市鄞州区",
    "南京市江宁区", "苏州市吴江区", "武汉市江夏区", "长沙市岳麓区", "西安市雁塔区", "郑州市金水区", "济南市历下区",
    "青岛市黄岛区", "沈阳市浑南区", "哈尔滨市道里区", "昆明市五华区", "贵阳市观山湖区", "南宁市青秀区", "兰州市城关区",
    "乌鲁木齐市天山区", "拉萨市城关区", "海口市美兰区", "福州市鼓楼区", "厦门市思明区", "合肥市蜀山区", "南昌市红谷滩区",
    "石家庄市长安区", "太原市小店区", "长春市南关区", "大理市", "义乌市", "昆山市", "晋江市", "张家港市", "神木市",
    "仁怀市", "延吉市", "格尔木市", "曲阜市", "德清县", "长兴县", "安吉县", "婺源县", "凤凰县", "阳朔县", "勐海县", "兰考县",
)
_LOCAL_BODIES = ("人民政府", "人民政府办公室", "教育局", "财政局", "公安局", "自然资源和规划局", "农业农村局", "卫生健康委员会",
                 "住房和城乡建设局", "市场监督管理局", "生态环境局", "交通运输局", "民政局", "人力资源和社会保障局",
                 "文化和旅游局", "应急管理局", "水利局", "发展和改革委员会", "司法局", "退役军人事务局", "医疗保障局", "审计局")
_WHOLE = ("平潭综合实验区管理委员会", "平潭综合实验区社会事业局", "苏州工业园区管理委员会", "天津经济技术开发区管理委员会",
          "西安高新技术产业开发区管理委员会", "郑州航空港经济综合实验区管理委员会", "长沙经济技术开发区管理委员会",
          "北京市海淀区中关村街道办事处", "上海市徐汇区徐家汇街道办事处", "广州市越秀区北京街道办事处",
          "杭州市西湖区北山街道办事处", "成都市锦江区春熙路街道办事处", "昆山市周庄镇人民政府", "义乌市佛堂镇人民政府",
          "德清县莫干山镇人民政府", "婺源县江湾镇人民政府")


def agency(rng: random.Random) -> str:
    """A plausible issuing agency: a province's department, a city's or county's, or a zone, street or town."""
    r = rng.random()
    if r < 0.2:
        return rng.choice(_PROVINCES) + rng.choice(_PROVINCE_BODIES)
    if r < 0.85:
        return rng.choice(_LOCALITIES) + rng.choice(_LOCAL_BODIES)
    return rng.choice(_WHOLE)


# --- what a report is and how it is printed ----------------------------------------------------

@dataclass(frozen=True)
class Report:
    values: dict[str, Number]
    variant: Variant
    agency: str
    year: int


@dataclass(frozen=True)
class Plan:
    """A report and the style it is printed in: everything ``render`` draws from the seed."""

    report: Report
    style: dict
    rng_state: tuple  # the rng after planning, for the prose's random wording


# Families by fontconfig name; Noto Sans CJK is training.render's face and stays out.
TITLE_FONTS = ("Noto Serif CJK SC", "AR PL SungtiL GB", "WenQuanYi Zen Hei", "LXGW WenKai")  # 小标宋-, 报宋-, 黑体-, 楷体-like
BODY_FONTS = ("AR PL UMing CN", "AR PL SungtiL GB", "AR PL KaitiM GB", "AR PL UKai CN", "LXGW WenKai", "WenQuanYi Micro Hei",
              "Noto Serif CJK SC")
HEADING_FONTS = ("WenQuanYi Zen Hei", "WenQuanYi Micro Hei")  # 一、总体情况 in 黑体, or the body face in bold
DIGIT_FONTS = ("Liberation Serif", "DejaVu Sans")  # Times-like or Arial-like digits, as Word sets them beside CJK
PAGE_MARKS = ('"— " counter(page) " —"', '"-" counter(page) "-"', '"- " counter(page) " -"',
              '"第" counter(page) "页 共" counter(pages) "页"', 'counter(page)')
RULES = ("grid", "horizontal_rules", "three_line")
WIDE_SIDE_MM = 25  # the landscape page's side margins


def plan(seed: int) -> Plan:
    """The report ``seed`` and its printing style.  Layout, variant and values are drawn as
    render.render draws them, so both renderers print the same numbers for a seed."""
    rng = random.Random(seed)
    layout = "2021" if rng.random() < 0.7 else "2019"
    variant = Variant(layout, rng.random() < (0.7 if layout == "2021" else 0.15))
    values = make_values(variant, rng)
    year = rng.randint(2021, 2025) if layout == "2021" else rng.randint(2019, 2020)  # the 2021 form from 2021's reports on
    report = Report(values, variant, agency(rng), year)
    style = draw_style(rng)
    return Plan(report, style, rng.getstate())


def draw_style(rng: random.Random) -> dict:
    """The printing choices; on/off ones are booleans (evaluate_scans groups by ``style:NAME``)."""
    rules = rng.choices(RULES, [0.5, 0.25, 0.25])[0]
    band = rng.choices(("narrow", "wide", "row"), [0.45, 0.4, 0.15])[0]
    title = rng.choice(TITLE_FONTS)
    body = rng.choice([f for f in BODY_FONTS if f != title])
    grey = rng.random() < 0.25
    return {
        **{r: r == rules for r in RULES},
        "shaded_header": rng.random() < 0.35,
        "bold_header": rng.random() < 0.4,
        "grey_ink": grey,
        "ink": "#%02x%02x%02x" % ((rng.randint(0x55, 0x88),) * 3) if grey else "#000000",
        "latin_digits": rng.random() < 0.5,
        "repeat_header": rng.random() < 0.5,
        "landscape": rng.random() < 0.25,  # 表三 on an A4 landscape page
        "vertical_band": band == "narrow",  # 三、本年度办理结果 one character a line
        "band_row": band == "row",  # 三、本年度办理结果 as a row of its own, no band
        "labels_left": rng.random() < 0.5,
        "two_line_title": rng.random() < 0.6,
        "figures": rng.random() < 0.6,  # the prose states 新收申请N件, 行政复议N件
        "zero": rng.choice(["0", "0", "0", "", "—", "/"]),
        "font_pt": rng.choice([9, 9.5, 10, 10.5]),
        "body_pt": rng.choice([12, 14, 15, 16]),
        "title_pt": rng.choice([18, 20, 22]),
        "title_font": title,
        "body_font": body,
        "heading_font": rng.choice([*HEADING_FONTS, body]),
        "table_font": body if rng.random() < 0.5 else rng.choice(BODY_FONTS),
        "digit_font": rng.choice(DIGIT_FONTS),
        "page_mark": rng.randrange(len(PAGE_MARKS)),
        "rule_pt": rng.choice([0.5, 0.75, 1.0]),
        "pad_pt": round(rng.uniform(1.0, 4.0), 1),
        "margins_mm": (rng.randint(22, 37), rng.randint(20, 28), rng.randint(22, 35), rng.randint(22, 30)),  # top right bottom left
        "jitter": rng.randrange(2**31),  # column widths
    }


# --- fonts ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def installed_families() -> frozenset[str]:
    out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=True).stdout
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(","))


def check_fonts(style: dict) -> None:
    """Chromium silently substitutes a missing family; a scan in the wrong face would measure nothing."""
    used = {style[k] for k in ("title_font", "body_font", "heading_font", "table_font")}
    if style["latin_digits"]:
        used.add(style["digit_font"])
    missing = sorted(used - installed_families())
    if missing:
        raise RuntimeError(f"font families missing: {', '.join(missing)}: `python3 scripts/dev.py test` installs "
                           "Debian's font packages (see SYSTEM there)")


# --- HTML -----------------------------------------------------------------------------------

def _families(*names: str) -> str:
    return ", ".join(f'"{n}"' for n in names)


def css(style: dict) -> str:
    top, right, bottom, left = style["margins_mm"]
    w = style["rule_pt"]
    rules = {
        "grid": f"td {{ border: {w}pt solid; }}",
        "horizontal_rules": f"td {{ border-top: {w}pt solid; border-bottom: {w}pt solid; }}",
        "three_line": f"table {{ border-top: 1.5pt solid; border-bottom: 1.5pt solid; }} .head {{ border-bottom: {w}pt solid; }}",
    }[next(r for r in RULES if style[r])]
    digits = _families(style["digit_font"], style["table_font"]) if style["latin_digits"] else _families(style["table_font"])
    return f"""
@page {{ size: A4; margin: {top}mm {right}mm {bottom}mm {left}mm;
  @bottom-center {{ content: {PAGE_MARKS[style['page_mark']]}; font-family: {_families(style['body_font'])};
    font-size: 11pt; color: {style['ink']}; }} }}
@page wide {{ size: A4 landscape; margin: 20mm {WIDE_SIDE_MM}mm 22mm; }}
.wide {{ page: wide; }}
html {{ color: {style['ink']}; }}
body {{ margin: 0; font-family: {_families(style['body_font'])}; font-size: {style['body_pt']}pt; line-height: 1.65; }}
h1 {{ font-family: {_families(style['title_font'])}; font-size: {style['title_pt']}pt; font-weight: bold; text-align: center;
  line-height: 1.45; margin: 0.4em 0 1em; }}
h2, h3 {{ font-size: {style['body_pt']}pt; margin: 0.5em 0 0.2em; text-indent: 2em; break-after: avoid; }}
h2 {{ font-family: {_families(style['heading_font'])}; font-weight: {'normal' if style['heading_font'] in HEADING_FONTS else 'bold'}; }}
h3 {{ font-weight: bold; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
.sign {{ text-align: right; text-indent: 0; margin: 2.5em 2em 0 0; }}
table {{ border-collapse: collapse; table-layout: fixed; margin: 0.4em auto 1em; font-family: {_families(style['table_font'])};
  font-size: {style['font_pt']}pt; line-height: 1.3; }}
td > * {{ break-inside: avoid; }}  /* a row may break between cells' lines, never inside a cell's text */
td {{ padding: {style['pad_pt']}pt 2pt; text-align: center; vertical-align: middle; word-break: break-all; }}
td.l {{ text-align: {'left' if style['labels_left'] else 'center'}; }}
td.band {{ line-break: anywhere; }}  /* a one-character band breaks before 、 too, or 三、 overflows into the labels */
td.v {{ padding: 0; font-family: {digits}; }}
td.v a {{ display: block; color: inherit; text-decoration: none; padding: {style['pad_pt']}pt 2pt; min-height: 1.3em; }}
{rules}
{'.head td { background: #e3e3e3; }' if style['shaded_header'] else ''}
{'.head td { font-weight: bold; }' if style['bold_header'] else ''}
"""


def _cell(text: str, rs: int, cs: int, key: str | None, head: bool) -> str:
    span = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
    if key:
        return f'<td class="v"{span}><a href="{CELL_URL}{key}">{html.escape(text)}</a></td>'
    cls = "" if head else ' class="l band"' if rs > 1 else ' class="l"'
    return f'<td{cls}{span}><div>{html.escape(text)}</div></td>'


def table(grid: Grid, widths_mm: list[float], head: set[int], repeat_head: bool, whole: bool = False) -> str:
    """The grid as an HTML table; runs of header rows are row groups of their own (so a
    three-line table can rule under them), the first one a repeating <thead> if asked; a
    ``whole`` table is kept on one page."""
    cols = "".join(f'<col style="width:{w:.1f}mm">' for w in widths_mm)
    groups: list[tuple[bool, list[str]]] = []
    for r, row in enumerate(grid):
        is_head = r in head
        tr = "<tr>" + "".join(_cell(*c, is_head) for c in row) + "</tr>"
        if groups and groups[-1][0] == is_head:
            groups[-1][1].append(tr)
        else:
            groups.append((is_head, [tr]))
    body = []
    for i, (is_head, rows) in enumerate(groups):
        tag = "thead" if is_head and i == 0 and repeat_head else "tbody"
        body.append(f'<{tag}{" class=head" if is_head else ""}>{"".join(rows)}</{tag}>')
    keep = "break-inside:avoid;" if whole else ""
    return f'<table style="{keep}width:{sum(widths_mm):.1f}mm"><colgroup>{cols}</colgroup>{"".join(body)}</table>'


def band_as_row(grid: Grid) -> Grid:
    """表三 with 三、本年度办理结果 printed as a row of its own above the results instead of a
    band beside them: the labels of the band's rows take the band's column."""
    start = next(i for i, row in enumerate(grid) if row[0][0] == "三、本年度办理结果")
    size = grid[start][0][1]
    out = [*grid[:start], [("三、本年度办理结果", 1, 3, None), *[("", 1, 1, None)] * 7]]
    for i, row in enumerate(grid[start:start + size]):
        row = row[1:] if i == 0 else row
        text, rs, cs, key = row[0]
        widen = cs == 2 or rs > 1  # a whole-width label or a group heading; a sub-item keeps its column
        out.append([(text, rs, cs + 1, key), *row[1:]] if widen else row)
    return out + grid[start + size:]


def _widths(weights: list[float], total_mm: float, rng: random.Random, fixed: dict[int, float] | None = None) -> list[float]:
    """Column widths in mm: ``fixed`` columns as given, the rest shared by jittered weights."""
    fixed = fixed or {}
    jittered = {i: w * rng.uniform(0.85, 1.15) for i, w in enumerate(weights) if i not in fixed}
    rest = total_mm - sum(fixed.values())
    share = sum(jittered.values())
    return [fixed[i] if i in fixed else rest * jittered[i] / share for i in range(len(weights))]


def tables_html(report: Report, style: dict) -> list[str]:
    """表二, 表三, 表四 as HTML, column widths varied per report."""
    rng = random.Random(style["jitter"])
    _, right, _, left = style["margins_mm"]
    portrait = 210 - left - right
    t2, t3, t4 = national_tables(report.values, report.variant, style["zero"])
    band_mm = style["font_pt"] * 0.3528 * 1.2 + 1.6  # one character a line, and its padding
    t3_width = 297 - 2 * WIDE_SIDE_MM if style["landscape"] else portrait
    t3_weights = [1.2, 1.3, 3.2 * (1.3 if style["landscape"] else 1), *[1] * 7]
    fixed = {0: band_mm} if style["vertical_band"] else None
    if style["band_row"]:
        t3 = band_as_row(t3)
        fixed = {0: band_mm * 0.6}
    head2 = {r for r, row in enumerate(t2) if not any(key for *_, key in row)}
    return [
        table(t2, _widths([rng.uniform(1.4, 2.4), 1, 1, 1], portrait * rng.uniform(0.92, 1), rng), head2, False),
        table(t3, _widths(t3_weights, t3_width, rng, fixed), {0, 1, 2}, style["repeat_header"]),
        table(t4, _widths([1] * 15, portrait, rng), {0, 1, 2}, False, whole=True),  # 4 rows: a header alone at a page's foot is no layout
    ]


# --- prose ----------------------------------------------------------------------------------

TITLE_TAILS = ("{y}年政府信息公开工作年度报告", "{y}年度政府信息公开工作年度报告", "{y}年度政府信息公开工作报告",
               "政府信息公开工作{y}年度报告")


def title_html(report: Report, style: dict, rng: random.Random) -> str:
    tail = rng.choice(TITLE_TAILS).format(y=report.year)
    sep = "<br>" if style["two_line_title"] else ""
    return f"<h1>{html.escape(report.agency)}{sep}{tail}</h1>"


def _phone(rng: random.Random) -> str:
    return f"0{rng.randint(10, 999)}-{rng.randint(10_000_000, 89_999_999)}"


def opening(report: Report, rng: random.Random) -> list[str]:
    a, y = report.agency, report.year
    ref = "国办公开办函〔2021〕30号" if report.variant.layout == "2021" else "国办公开办函〔2019〕60号"
    compiled = (f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开工作年度报告格式》"
                f"（{ref}）要求，由{a}编制。本报告所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。本报告电子版可在{a}"
                f"门户网站查阅或下载。如对本报告有疑问，请与{a}办公室联系（电话：{_phone(rng)}）。")
    adopted = (f"{y}年，{a}认真贯彻落实《中华人民共和国政府信息公开条例》和上级关于政务公开工作的决策部署，"
               "坚持以公开为常态、不公开为例外，扎实推进决策、执行、管理、服务、结果公开，现将本年度政府信息公开工作情况报告如下。")
    return rng.choice([[compiled], [adopted], [compiled, adopted]])


def overview(report: Report, style: dict, rng: random.Random) -> list[tuple[str, str]]:
    """一、总体情况 as (sub-heading, paragraph); figures stated, when they are, are the tables' own."""
    v, y = report.values, report.year
    if report.variant.layout == "2021":
        docs = (f"本年制发行政规范性文件{v['proactive.normative_docs.issued']}件，废止{v['proactive.normative_docs.repealed']}件，"
                f"现行有效{v['proactive.normative_docs.in_force']}件。")
    else:
        docs = (f"本年新制作规范性文件{v['proactive.normative_docs.new_made']}件，"
                f"新公开{v['proactive.normative_docs.new_published']}件。")
    proactive = (f"{y}年，通过门户网站、政务新媒体等渠道主动公开政府信息{rng.randint(40, 4000)}条，"
                 f"发布政策解读{rng.randint(2, 90)}篇。" + (docs if style["figures"] else ""))
    return [("（一）主动公开", proactive), ("（二）依申请公开", requests_prose(report, style)),
            ("（三）政府信息管理", "严格落实政府信息公开属性源头认定和保密审查制度，动态更新政府信息公开指南和目录，"
                           "及时清理过期失效信息。"),
            ("（四）政府信息公开平台建设", "持续优化政府门户网站政府信息公开专栏，规范政务新媒体运维管理，"
                               "提升政务公开平台集约化水平。"),
            ("（五）监督保障", review_prose(report, style))]


def requests_prose(report: Report, style: dict) -> str:
    v = report.values
    if not style["figures"]:
        return "严格按照《条例》规定的程序和时限办理政府信息公开申请，做到依法、及时、规范答复。"
    new = v["requests.new_received.total"]
    if new == 0:
        return "本年度未收到政府信息公开申请。"
    person = v["requests.new_received.natural_person"]
    return (f"本年新收政府信息公开申请{new}件，其中自然人申请{person}件、法人或其他组织申请{new - person}件；"
            f"上年结转{v['requests.carried_over.total']}件。本年度办结{v['requests.total.total']}件，其中予以公开"
            f"{v['requests.granted.total']}件、部分公开{v['requests.partial.total']}件；结转下年度继续办理"
            f"{v['requests.carried_forward.total']}件。")


def review_prose(report: Report, style: dict) -> str:
    v = report.values
    duty = "将政府信息公开工作纳入年度绩效考核，加强业务培训，接受社会监督。"
    if not style["figures"]:
        return duty
    review = v["review_litigation.review.total"]
    suits = v["review_litigation.litigation_direct.total"] + v["review_litigation.litigation_after_review.total"]
    if review == suits == 0:
        return duty + "全年未发生因政府信息公开引起的行政复议、行政诉讼案件。"
    return duty + f"全年因政府信息公开工作被申请行政复议{review}件，被提起行政诉讼{suits}件。"


PROBLEMS = ("一是主动公开的深度和广度有待拓展，部分领域信息更新不够及时；", "二是政策解读形式较为单一，图解、视频等解读占比不高；",
            "三是依申请公开答复的规范化水平仍需提升。", "下一步，将进一步完善政府信息公开工作机制，加强工作人员业务培训，",
            "提高政府信息公开质量和实效，更好地满足人民群众的信息需求。")


def closing(report: Report, style: dict, rng: random.Random) -> str:
    fee = "本年度未收取政府信息公开信息处理费。" if report.variant.layout == "2021" else "无。"
    date = f"{report.year + 1}年{rng.choice([1, 1, 2])}月{rng.randint(5, 28)}日"
    return (f"<h2>五、存在的主要问题及改进情况</h2><p>{''.join(PROBLEMS)}</p>"
            f"<h2>六、其他需要报告的事项</h2><p>{fee}</p>"
            f'<p class="sign">{html.escape(report.agency)}<br>{date}</p>')


def document(p: Plan) -> str:
    """The whole report as one HTML document."""
    report, style = p.report, p.style
    rng = random.Random()
    rng.setstate(p.rng_state)
    t2, t3, t4 = tables_html(report, style)
    parts = [title_html(report, style, rng), *(f"<p>{html.escape(t)}</p>" for t in opening(report, rng)), "<h2>一、总体情况</h2>"]
    parts += [f"<h3>{h}</h3><p>{html.escape(t)}</p>" for h, t in overview(report, style, rng)]
    parts += ["<h2>二、主动公开政府信息情况</h2>", t2]
    t3_block = f"<h2>三、收到和处理政府信息公开申请情况</h2>{t3}"
    parts.append(f'<div class="wide">{t3_block}</div>' if style["landscape"] else t3_block)
    parts += ["<h2>四、政府信息公开行政复议、行政诉讼情况</h2>", t4, closing(report, style, rng)]
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>{css(style)}</style></head>'
            f'<body>{"".join(parts)}</body></html>')


# --- printing and rasterizing ---------------------------------------------------------------

class Printer:
    """One headless Chromium per process, started on first use (about a second) and reused.

    Playwright's sync API runs an event loop in the thread that starts it, and refuses to start
    in a thread that already runs one: the browser lives in a thread of its own, so that a
    caller's later sync Playwright (the review tests' browser) starts as if this one were not there."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._jobs: queue.Queue = queue.Queue()

    def pdf(self, document_html: str) -> bytes:
        if self._pid != os.getpid():  # first use, or a forked child: the parent's browser is not ours
            self._jobs = queue.Queue()
            threading.Thread(target=self._serve, name="chromium", daemon=True).start()
            self._pid = os.getpid()
        return self._ask(document_html)

    def close(self) -> None:
        if self._pid == os.getpid():
            self._ask(None)
        self._pid = None

    def _ask(self, document_html: str | None) -> bytes:
        done: queue.Queue = queue.Queue()
        self._jobs.put((document_html, done))
        ok, result = done.get()
        if not ok:
            raise result
        return result

    def _serve(self) -> None:
        """The browser's thread: start it, print what is asked, stop when asked (``None``)."""
        from playwright.sync_api import sync_playwright

        document_html, done = self._jobs.get()
        try:
            if not CHROMIUM.exists():
                raise RuntimeError(f"{CHROMIUM} is missing: `python3 scripts/dev.py test` installs Debian's chromium")
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
        except Exception as e:  # the asker gets the error, and a later ask starts afresh
            self._pid = None
            done.put((False, e))
            return
        while document_html is not None:
            try:
                page.set_content(document_html, wait_until="load")
                done.put((True, page.pdf(prefer_css_page_size=True, print_background=True)))
            except Exception as e:
                done.put((False, e))
            document_html, done = self._jobs.get()
        browser.close()
        playwright.stop()
        done.put((True, b""))


PRINTER = Printer()
atexit.register(PRINTER.close)


def _links(doc: pdfium.PdfDocument, page: pdfium.PdfPage) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The page's link annotations: (URI, rectangle in PDF points, origin bottom left)."""
    out = []
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) != pdfium_c.FPDF_ANNOT_LINK:
                continue
            action = pdfium_c.FPDFLink_GetAction(pdfium_c.FPDFAnnot_GetLink(annot))
            size = pdfium_c.FPDFAction_GetURIPath(doc.raw, action, None, 0) if action else 0
            if not size:
                continue
            buf = ctypes.create_string_buffer(size)
            pdfium_c.FPDFAction_GetURIPath(doc.raw, action, buf, size)
            rect = pdfium_c.FS_RECTF()
            pdfium_c.FPDFAnnot_GetRect(annot, rect)
            out.append((buf.value.decode("ascii"), (rect.left, rect.bottom, rect.right, rect.top)))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return out


def rasterize(pdf: bytes, dpi: int) -> tuple[list[np.ndarray], dict]:
    """Page images and, from the value links, each key's (page, box in page pixels)."""
    doc = pdfium.PdfDocument(pdf)
    k = dpi / 72
    pages, truth = [], {}
    for n in range(len(doc)):
        page = doc[n]
        height = page.get_height()
        pages.append(np.asarray(page.render(scale=k, grayscale=True).to_pil().convert("L")))
        for uri, (x0, y0, x1, y1) in _links(doc, page):
            if uri.startswith(CELL_URL):
                truth[uri[len(CELL_URL):]] = (n + 1, (x0 * k, (height - y1) * k, x1 * k, (height - y0) * k))
    doc.close()
    return pages, truth


def render(seed: int, dpi: int = 200) -> Scan:
    """The generated report ``seed`` printed by Chromium: clean page images with their truth."""
    p = plan(seed)
    check_fonts(p.style)
    pages, truth = rasterize(PRINTER.pdf(document(p)), dpi)
    r = p.report
    return Scan(pages=pages, truth=truth, values=r.values, variant=r.variant, agency=r.agency, year=r.year,
                style=p.style, level="clean", dpi=dpi, drawn=[])


def scan(seed: int, level: str = "medium", dpi: int = 200) -> Scan:
    s = render(seed, dpi)
    rng = random.Random(seed * 7 + 1)
    s.pages = [degrade(p, level, rng) for p in s.pages]
    s.level = level
    return s


def text_pdf(seed: int) -> bytes:
    """The PDF Chromium prints for ``seed``, before it is rasterized (the document ``render``
    draws): its text layer is the pages' true text, to score OCR against."""
    return PRINTER.pdf(document(plan(seed)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--level", choices=LEVELS, default="medium")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True, help="the scan as an image PDF")
    ap.add_argument("--png", type=Path, help="also write each page as DIR/page-N.png")
    args = ap.parse_args(argv)
    s = scan(args.seed, args.level, args.dpi)
    args.out.write_bytes(to_pdf(s.pages, args.dpi))
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(s.pages, 1):
            Image.fromarray(page).save(args.png / f"page-{n}.png")
    print(f"{args.out}: {len(s.pages)} pages, layout {s.variant.layout}, {s.agency} {s.year}, style {s.style}")


if __name__ == "__main__":
    main()
