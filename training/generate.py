"""Generator of labelled cell sequences: random, arithmetically consistent reports,
printed the ways real reports print them and broken the ways real reports break.

Every cell carries the canonical key it holds (or None for labels, headers and
junk), so the structure classifier can be trained and scored exactly.

    python -m training.generate --seed 7 --count 3 --format text   # print a few as text reports
"""
from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field, replace

from extract.normalize import Kind, kind_of, normalize
from extract.reconcile import CONFUSABLE
from extract.records import Cell, Number
from extract.schema import (
    APPLICANT_LABELS,
    APPLICANTS,
    DECIMAL_KEYS,
    GROUP_HEADINGS,
    OUTCOME_LABELS,
    OUTCOMES,
    PROACTIVE_SECTIONS,
    REVIEW,
    REVIEW_GROUPS,
    SIGNED_KEYS,
    Variant,
)

PERTURBATIONS = (
    "shifted_cells", "extra_blank", "dropped_blank", "split_label", "junk_glued", "broken_row",
    "zero_marks", "missing_row", "multiline_header", "trailing_blank", "page_marks", "merged_group_label",
    "missing_label", "wrapped_label", "padded_numbers", "thousands",
)


@dataclass
class Sample:
    """A generated report as a cell sequence, with the key each cell holds."""

    cells: list[Cell]
    keys: list[str | None]  # the canonical key a value cell holds
    labels: list[str]  # the row a label cell names, or "none"
    values: dict[str, Number]
    variant: Variant
    agency: str
    year: int
    perturbations: set[str] = field(default_factory=set)
    rows: list[list[tuple[str, str | None]]] = field(default_factory=list)


# --- numbers ------------------------------------------------------------------------------

def _count(rng: random.Random, scale: float, p_zero: float) -> int:
    if rng.random() < p_zero:
        return 0
    return max(0, int(rng.lognormvariate(0, 1.2) * scale))


def make_values(variant: Variant, rng: random.Random) -> dict[str, Number]:
    """Random values that satisfy every identity of the tables."""
    v: dict[str, Number] = {}
    scale = rng.choice([0.0, 1.0, 3.0, 10.0, 40.0, 200.0])
    big = rng.choice([10, 1000, 50000, 400000])
    for row in variant.rows:
        if row.table != "proactive":
            continue
        for key in row.keys:
            col = key.rsplit(".", 1)[1]
            if col in ("decisions", "items"):
                v[key] = _count(rng, big / 10, 0.3)
            elif col == "amount":
                v[key] = round(rng.uniform(0, big / 50), rng.choice([0, 2])) if rng.random() > 0.4 else 0
                v[key] = int(v[key]) if float(v[key]).is_integer() else v[key]
            elif key in SIGNED_KEYS:
                v[key] = rng.choice([0, 0, 0, rng.randint(-20, 20)])
            else:
                v[key] = _count(rng, scale + 2, 0.4)
    req = [r for r in variant.rows if r.table == "requests" and r.keys]
    outcome_rows = [r.name.split(".", 1)[1] for r in req if r.name not in
                    ("requests.new_received", "requests.carried_over", "requests.total", "requests.carried_forward")]
    weights = {o: (8 if o in ("granted", "unavailable.not_held") else 3 if o in ("partial", "other.other", "other") else 1)
               for o in outcome_rows}
    for col in APPLICANTS[:-1]:
        colscale = scale * (1 if col == "natural_person" else 0.2)
        n = _count(rng, colscale, 0.2 if col == "natural_person" else 0.75)
        counts = dict.fromkeys(outcome_rows, 0)
        for _ in range(min(n, 400)):
            counts[rng.choices(outcome_rows, [weights[o] for o in outcome_rows])[0]] += 1
        if n > 400:  # large counts: scale the sampled shape up
            counts = {o: c * n // 400 for o, c in counts.items()}
        total = sum(counts.values())
        forward = _count(rng, colscale / 4, 0.7)
        carried = min(_count(rng, colscale / 4, 0.7), total + forward)
        for o, c in counts.items():
            v[f"requests.{o}.{col}"] = c
        v[f"requests.total.{col}"] = total
        v[f"requests.carried_forward.{col}"] = forward
        v[f"requests.carried_over.{col}"] = carried
        v[f"requests.new_received.{col}"] = total + forward - carried
    for r in req:
        v[f"{r.name}.total"] = sum(v[f"{r.name}.{c}"] for c in APPLICANTS[:-1])
    for g in REVIEW_GROUPS:
        parts = [_count(rng, max(scale, 1) / 3, 0.6) for _ in OUTCOMES[:-1]]
        for o, x in zip(OUTCOMES, [*parts, sum(parts)]):
            v[f"review_litigation.{g}.{o}"] = x
    return v


# --- printing -----------------------------------------------------------------------------

_CN = "一二三四五六七八九十"


def _relabel(label: str, rng: random.Random) -> str:
    """The same label with another numbering style, bracket width or quote style."""
    import re

    m = re.match(r"^([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+\.)(.*)$", label)
    if m:
        num, rest = m.groups()
        digit = num.strip("（）、.")
        n = _CN.index(digit) + 1 if digit in _CN else int(digit)
        style = rng.random()
        if num.startswith("（"):
            num = rng.choice([num, f"({digit})", f"( {digit} )", f"({digit}) "]) if style < 0.5 else num
        elif num.endswith("、"):
            num = rng.choice([num, f"{digit}．", f"{digit}.", f"{digit} 、"]) if style < 0.3 else num
        else:
            num = rng.choice([num, f"{n}、", f"{n}．", f"（{n}）", f"{n}. ", f"{n}"]) if style < 0.5 else num
        if rng.random() < 0.05:
            num = ""
        label = num + rest
    if rng.random() < 0.3:
        label = label.replace("“", '"').replace("”", '"')
    if rng.random() < 0.2:
        label = label.replace("（", "(").replace("）", ")").replace("，", ",")
    return label


def _zero(rng: random.Random, doc_style: str) -> str:
    if rng.random() < 0.85:
        return doc_style
    return rng.choice(["0", "", "—", "/", "00", "无", "-", "０"])


def _number(x: Number, rng: random.Random, thousands: bool, pad: bool) -> str:
    s = f"{x:,}" if thousands and abs(x) >= 1000 else str(x)
    if pad and rng.random() < 0.3:
        s = rng.choice(["\u3000", "\xa0", " ", "\u3000\u3000"]) + s if rng.random() < 0.5 else s + rng.choice(["\u3000", "\xa0", " "])
    return s


def _value_cell(key: str, values: dict[str, Number], rng: random.Random, style: dict) -> tuple[str, str]:
    x = values[key]
    if x == 0:
        return _zero(rng, style["zero"]), key
    return _number(x, rng, style["thousands"], style["pad"]), key


Row = list[tuple[str, str | None]]


def print_rows(values: dict[str, Number], variant: Variant, rng: random.Random) -> tuple[list[Row], dict]:
    """The report's three tables as source rows of (text, key) cells, before any breakage."""
    style = {
        "zero": rng.choices(["0", "", "—", "/", "00"], [0.7, 0.1, 0.08, 0.06, 0.06])[0],
        "thousands": rng.random() < 0.3,
        "pad": rng.random() < 0.3,
        "grid": rng.random() < 0.7,  # rowspan columns printed as blank cells
        "repeat_group": rng.random() < 0.15,  # group label repeated in every row of the group
    }
    rows: list[Row] = []
    sections = PROACTIVE_SECTIONS[variant.layout]
    header = None
    for spec in (r for r in variant.rows if r.table == "proactive"):
        short = spec.name.split(".", 1)[1]
        if short in sections:
            rows.append([(sections[short], None)])
        if spec.headers != header:
            header = spec.headers
            rows.append([("信息内容", None), *((h, None) for h in header)])
        rows.append([(_relabel(spec.label, rng), "@" + spec.name), *(_value_cell(k, values, rng, style) for k in spec.keys)])
    rows.append([("三、收到和处理政府信息公开申请情况", None)])
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    pre = [("", None)] * (2 if style["grid"] else 0)
    rows.append([(note, None), *pre[:1], ("申请人情况", None)])
    rows.append([*pre, ("自然人", None), ("法人或其他组织", None), ("总计", None)])
    rows.append([*pre, ("", None), *((h, None) for h in APPLICANT_LABELS[1:6]), ("", None)])
    seen_group = set()
    for spec in (r for r in variant.rows if r.table == "requests"):
        short = spec.name.split(".", 1)[1]
        if not spec.keys:
            continue
        group = GROUP_HEADINGS.get(short)
        if short == "granted":
            group = None
        lead: Row = []
        top = "三、本年度办理结果" if short not in ("new_received", "carried_over", "total", "carried_forward") else None
        if style["grid"]:
            if top:
                lead.append(("三、本年度办理结果", None) if short == "granted" or style["repeat_group"] else ("", None))
            sub = _group_of(short)
            if sub:
                lead.append((sub, _group_key(sub, variant)) if sub not in seen_group or style["repeat_group"] else ("", None))
        elif short == "granted":
            lead.append(("三、本年度办理结果", None))
        if not style["grid"] and group and group not in seen_group:
            lead.append((group, _group_key(group, variant)))
        seen_group.add(_group_of(short))
        label = _relabel(spec.label, rng)
        rows.append([*lead, (label, "@" + spec.name), *(_value_cell(k, values, rng, style) for k in spec.keys)])
    rows.append([("四、政府信息公开行政复议、行政诉讼情况", None)])
    rows.append([("行政复议", "@" + REVIEW.name), *[("", None)] * (4 if style["grid"] else 0), ("行政诉讼", None)])
    rows.append([*((h, None) for h in OUTCOME_LABELS), ("未经复议直接起诉", None), ("复议后起诉", None)])
    rows.append([*[("", None)] * (5 if style["grid"] else 0), *((h, None) for h in OUTCOME_LABELS * 2)])
    rows.append([_value_cell(k, values, rng, style) for k in REVIEW.keys])
    return rows, style


def _group_key(heading: str, variant: Variant) -> str | None:
    """（六）其他处理 anchors its own template row when the sub-items are printed."""
    return "@requests.other" if heading.startswith("（六）") and variant.other_split else None


def _group_of(short: str) -> str | None:
    prefix = short.split(".", 1)[0]
    return {"denied": "（三）不予公开", "unavailable": "（四）无法提供", "not_processed": "（五）不予处理",
            "other": "（六）其他处理" if "." in short else None}.get(prefix)


# --- breakage -----------------------------------------------------------------------------

def _is_label(key: str | None) -> bool:
    return key is not None and key.startswith("@")


def _is_label_row(row: Row) -> bool:
    return any(k and not _is_label(k) for _, k in row) and any(_is_label(k) for _, k in row)


def perturb(rows: list[Row], rng: random.Random, rate: float) -> tuple[list[Row], set[str]]:
    """Break the printed rows the ways real extractions break them."""
    used: set[str] = set()
    out: list[Row] = []

    def maybe(name: str, p: float) -> bool:
        if rng.random() < p * rate:
            used.add(name)
            return True
        return False

    page = rng.randint(1, 9)
    for row in rows:
        row = list(row)
        if _is_label_row(row):
            li = _last_label(row)
            if maybe("missing_row", 0.002):
                continue
            if maybe("dropped_blank", 0.08) and row and row[0] == ("", None):
                row.pop(0)
                li -= 1
            if maybe("merged_group_label", 0.03) and li > 0 and row[li - 1][0]:
                row[li - 1: li + 1] = [(row[li - 1][0] + rng.choice(["", " ", "\n"]) + row[li][0], row[li][1])]
                li -= 1
            if maybe("junk_glued", 0.02):
                row[li] = (rng.choice(["00", "0", "1", "〇", ".", "、"]) + row[li][0], row[li][1])
            if maybe("wrapped_label", 0.05) and len(row[li][0]) > 4:
                cut = rng.randint(2, len(row[li][0]) - 2)
                row[li] = (row[li][0][:cut] + "\n" + row[li][0][cut:], row[li][1])
            if maybe("missing_label", 0.01):
                row[li] = ("", None)
            elif maybe("split_label", 0.04) and len(row[li][0]) > 3:
                cut = rng.randint(2, len(row[li][0]) - 1)
                head, tail = row[li][0][:cut], row[li][0][cut:]
                # the fragment with more of the label keeps its name; the other is junk
                named = (head, row[li][1]), (tail, None)
                if len(tail) > len(head):
                    named = (head, None), (tail, row[li][1])
                row[li: li + 1] = list(named)
        if maybe("shifted_cells", 0.03):
            row.insert(rng.randint(0, len(row)), ("", None))
            used.add("extra_blank")
        if maybe("trailing_blank", 0.08):
            row.append(("", None))
        if maybe("broken_row", 0.04) and len(row) > 2:
            cut = rng.randint(1, len(row) - 1)
            out.append(row[:cut])
            row = row[cut:]
        elif maybe("multiline_header", 0.3) and not any(k and not _is_label(k) for _, k in row) and len(row) > 2:
            cut = rng.randint(1, len(row) - 1)
            out.append(row[:cut])
            row = row[cut:]
        out.append(row)
        if maybe("page_marks", 0.01):
            page += 1
            out.append([(rng.choice([f"- {page} -", f"第{page}页", f"—{page}—", f"{page}/12", f"第 {page} 页 共 12 页"]), None)])
    return out, used


def _last_label(row: Row) -> int:
    return max(i for i, (_, k) in enumerate(row) if _is_label(k))


_PROSE = [
    "{y}年，本机关共主动公开政府信息{n}条", "全年共受理政府信息公开申请{n}件，均在法定期限内答复",
    "本年度制发行政规范性文件{n}件，废止{m}件", "政府信息公开行政复议{n}件、行政诉讼{m}件",
    "一、总体情况", "（一）主动公开", "（二）依申请公开", "（三）政府信息管理", "（四）政府信息公开平台建设",
    "（五）监督保障", "五、存在的主要问题及改进情况", "六、其他需要报告的事项", "无。", "特此报告。",
    "本报告所列数据的统计期限自{y}年1月1日起至{y}年12月31日止", "第{n}页", "- {n} -", "单位：件",
    "予以公开{n}件，部分公开{m}件，不予公开{n}件", "结转下年度继续办理{m}件", "收费金额{n}万元",
    "编制说明", "如对本报告有疑问，请与本机关办公室联系（电话：0574-{n}）",
]


def prose_lines(rng: random.Random, count: int) -> list[str]:
    """Running-text lines that are never table labels (negatives for the label classifier)."""
    return [rng.choice(_PROSE).format(y=rng.randint(2019, 2025), n=rng.randint(0, 9999), m=rng.randint(0, 99))
            for _ in range(count)]


# --- whole samples ------------------------------------------------------------------------

_PLACES = ["北仑区", "洪泽区", "鄞州区", "临平区", "西湖区", "海曙区", "江北区", "余杭区", "萧山区", "武进区", "济源市", "宁波市", "杭州市"]
_BODIES = ["人民政府", "经济和信息化局", "发展和改革局", "教育局", "卫生健康局", "自然资源和规划局", "市场监督管理局",
           "住房和城乡建设局", "交通运输局", "司法局", "财政局", "民政局", "农业农村局", "人民政府办公室", "生态环境分局"]


def sample(seed: int, rate: float = 1.0) -> Sample:
    """One generated report; the same seed always gives the same report."""
    rng = random.Random(seed)
    layout = "2021" if rng.random() < 0.7 else "2019"
    variant = Variant(layout, rng.random() < (0.7 if layout == "2021" else 0.15))
    values = make_values(variant, rng)
    rows, style = print_rows(values, variant, rng)
    rows, used = perturb(rows, rng, rate)
    if style["zero"] != "0":
        used.add("zero_marks")
    if style["pad"]:
        used.add("padded_numbers")
    if style["thousands"]:
        used.add("thousands")
    cells, keys, labels = [], [], []
    for r, row in enumerate(rows):
        for c, (text, key) in enumerate(row):
            cells.append(Cell(text.strip(), r, c))
            keys.append(None if _is_label(key) else key)
            labels.append(key[1:] if _is_label(key) else "none")
    for key in DECIMAL_KEYS:
        if key in values and isinstance(values[key], float):
            values[key] = round(values[key], 2)
    agency = rng.choice(_PLACES) + rng.choice(_BODIES)
    year = rng.randint(2019 if layout == "2019" else 2021, 2025)
    return Sample(cells, keys, labels, values, variant, agency, year, used, rows)


def as_scanned(s: Sample, rng: random.Random) -> Sample:
    """The sample as OCR would see its printed page: every cell gets a box under its
    own column and a (certain) reading, and blank cells vanish (a scan prints no box
    for them), so that the cells after a blank shift left in the order but not on the page."""
    column = {k: (j, len(row.keys)) for row in s.variant.rows for j, k in enumerate(row.keys)}
    label_end, width = rng.uniform(250, 600), rng.uniform(600, 1100)
    cells, keys, labels = [], [], []
    outcomes = 0  # 表四's outcome headings seen: the m-th heads column m of its 15
    proactive_heads = {normalize(h): (j, len(row.headers)) for row in s.variant.rows
                       if row.table == "proactive" and len(row.headers) == len(row.keys) > 1
                       for j, h in enumerate(row.headers)}
    for r, line in enumerate(_lines(s)):
        col = 0
        for cell, key, label in line:
            if kind_of(cell.text) == Kind.BLANK:
                continue
            if key in column:
                j, n = column[key]
                pitch = width / n
                x = label_end + (j + 0.5 + rng.uniform(-0.15, 0.15)) * pitch
                half = min(pitch * 0.4, 6 + 8 * len(cell.text))
            elif normalize(cell.text) in OUTCOME_LABELS[:-1] or (outcomes and normalize(cell.text) == "总计"):
                # a 表四 outcome heading (总计 heads 表三's last column too, before 表四 begins)
                pitch = width / (3 * len(OUTCOME_LABELS))
                x, half = label_end + (min(outcomes, 14) + 0.5) * pitch, min(pitch * 0.45, 6 + 10 * len(cell.text))
                outcomes += 1
            elif normalize(cell.text) in proactive_heads:  # a 表二 sub-table's column heading
                j, n = proactive_heads[normalize(cell.text)]
                x, half = label_end + (j + 0.5) * width / n, min(width / n * 0.45, 6 + 10 * len(cell.text))
            elif (j := _heading(cell.text)) is not None:  # a 表三 column heading, above its column
                pitch = width / len(APPLICANT_LABELS)
                x, half = label_end + (j + 0.5 + rng.uniform(-0.1, 0.1)) * pitch, min(pitch * 0.45, 6 + 10 * len(cell.text))
            else:  # labels, other headers, junk: the label columns
                x, half = rng.uniform(40, label_end - 40), rng.uniform(20, 120)
            y = 40.0 * r
            cells.append(Cell(cell.text, r, col, 1, (x - half, y, x + half, y + 28), ((cell.text, 1.0),)))
            keys.append(key)
            labels.append(label)
            col += 1
    return Sample(cells, keys, labels, s.values, s.variant, s.agency, s.year, s.perturbations | {"scanned"}, s.rows)


def misread(cell: Cell, p_wrong: float = 0.97) -> Cell:
    """The cell as a poor scan's recogniser reads it: its last digit taken for its likeliest
    look-alike, the recogniser nearly sure of that, the true reading its second best.  The
    look-alikes are ``reconcile.CONFUSABLE``, the solver's own, so what this plants the solver
    is built to mend; ``misread_measured`` plants what the recogniser was measured to do."""
    text = cell.text
    wrong = text[:-1] + CONFUSABLE[text[-1]][0]
    return replace(cell, text=wrong, candidates=((wrong, p_wrong), (text, 1 - p_wrong)))


def misread_measured(cell: Cell, rng: random.Random, table: dict | None = None) -> Cell | None:
    """The cell as the recogniser was measured to misread (``training/confusions.json``, made by
    ``training.confusions``; never ``reconcile.CONFUSABLE``): one edit of a measured one-edit
    misread that fits the cell's digits, drawn as often as the recogniser makes it, with the
    candidates it gave there (the true value among them only where it was, at its measured
    probability; a reading that is no number gets none).  None when no measured misread fits."""
    from training import confusions

    misreads = confusions.plantable(table) if table is not None else confusions.measured_misreads()
    options = confusions.placements(cell.text, misreads)
    if not options:
        return None
    _, m, i = rng.choices(options, [w for w, _, _ in options])[0]
    wrong, candidates = confusions.plant(cell.text, m, i)
    return replace(cell, text=wrong, candidates=candidates)


def _heading(text: str) -> int | None:
    t = normalize(text)
    return next((j for j, label in enumerate(APPLICANT_LABELS) if len(t) >= 2 and label.startswith(t)), None)


def _lines(s: Sample) -> list[list[tuple[Cell, str | None, str]]]:
    out: dict[int, list] = {}
    for cell, key, label in zip(s.cells, s.keys, s.labels):
        out.setdefault(cell.row, []).append((cell, key, label))
    return [out[r] for r in sorted(out)]


def to_text(s: Sample, rng: random.Random | None = None, shape: str = "tabs") -> str:
    """The sample as a plain-text report, in one of the two shapes real text exports have."""
    rng = rng or random.Random(0)
    title = rng.choice([f"{s.agency}{s.year}年政府信息公开工作年度报告",
                        f"{s.agency}\n\n{s.year}年度政府信息公开工作年度报告",
                        f"{s.agency}{s.year}年度\n\n政府信息公开工作年度报告"])
    parts = [title, "", "一、总体情况", "", f"{s.year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政务公开工作。", "",
             "二、主动公开政府信息情况", ""]
    for row in s.rows:
        if shape == "tabs":
            parts.append("\t".join(t for t, _ in row) if len(row) > 1 else row[0][0])
        else:
            parts.extend("\t" + t for t, _ in row)
            parts.append("")
    parts += ["", "五、存在的主要问题及改进情况", "", "下一步，我们将进一步加强政务公开工作。", "", "六、其他需要报告的事项", "", "无。"]
    return "\n".join(parts)


# what PDF converters (docling, MinerU, marker, LLM-based ones) do to a report's tables
CONVERTER_FAULTS = ("numbered_headers", "heading_lines", "split_labels", "lost_blanks")


def to_markdown(s: Sample, rng: random.Random | None = None) -> tuple[str, set[str]]:
    """The sample as a PDF converter writes it: markdown pipe tables, and the faults converters
    make (each drawn per report): headers replaced by ``数据1 数据2``, a table's own heading
    rows written as ``###`` lines between its rows, labels split over two cells
    (``| （三）不 | 予公开 |``), blank cells lost from a row.  Returns the text and the faults used."""
    rng = rng or random.Random(0)
    faults = {f for f in CONVERTER_FAULTS if rng.random() < 0.4}
    parts = [f"# {s.agency}{s.year}年度政府信息公开工作年度报告", "", "## 一、总体情况", "",
             f"{s.year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政务公开工作。", "",
             "## 二、主动公开政府信息情况", ""]
    in_table = False
    for row in s.rows:
        texts = [t for t, _ in row]
        if len(row) == 1 and not any(ch.isdigit() for ch in texts[0]) or len(row) == 1 and "heading_lines" in faults:
            parts.append(f"### {texts[0]}" if "heading_lines" in faults or not in_table else f"| {texts[0]} |")
            continue
        if "numbered_headers" in faults and all(k is None for _, k in row) and len(row) > 2:
            texts = [texts[0]] + [f"数据{j}" for j in range(1, len(texts))]
        if "split_labels" in faults:
            cut = [j for j, (t, k) in enumerate(row) if _is_label(k) and len(t) >= 4 and rng.random() < 0.15]
            for j in reversed(cut):
                at = rng.randrange(1, len(texts[j]))
                texts[j:j + 1] = [texts[j][:at], texts[j][at:]]
        if "lost_blanks" in faults and rng.random() < 0.2:
            texts = [t for t in texts if t.strip()] or texts
        # a cell's line breaks as converters write them, and its pipes escaped
        parts.append("| " + " | ".join(t.replace("|", "\\|").replace("\n", rng.choice((" ", "<br>"))) for t in texts) + " |")
        if not in_table:
            parts.append("|" + "---|" * len(texts))
            in_table = True
    parts += ["", "## 五、存在的主要问题及改进情况", "", "下一步，我们将进一步加强政务公开工作。", "",
              "## 六、其他需要报告的事项", "", "无。"]
    return "\n".join(parts), faults


# how web crawlers flatten a report's HTML tables when they strip its tags
CRAWL_STYLES = ("glued", "spaced", "some_spaces", "markup", "units")
_JUNK = ("<!--[if !supportMisalignedColumns]-->", "<![endif]-->", "&nbsp;", "<o:p></o:p>", "<span>", "</span>")


def to_crawl(s: Sample, rng: random.Random | None = None, style: str = "glued") -> str:
    """The sample as a web crawler stores its page: a few lines of the crawler's own, then the
    page's text with the tags stripped, the tables' cells run together as ``style`` says
    (``CRAWL_STYLES``): no spaces at all, cells space-joined, spaces here and there, junk
    markup left in, units in cells (``2笔``, ``984361元``).  Blank cells leave nothing."""
    rng = rng or random.Random(0)
    rows, _ = print_rows(s.values, s.variant, rng)
    cells = []
    for row in rows:
        for text, key in row:
            text = "0" if text == "00" else text  # a print artefact no HTML cell holds
            if style == "units" and key and not _is_label(key) and text and text[-1].isdigit():
                unit = ("笔" if key.endswith(".items") else "元" if key.endswith(".amount") else
                        "件" if key.startswith("proactive.") and rng.random() < 0.5 else "")
                text += unit
            cells.append(text.strip(" "))
    gap = {"glued": 0.0, "spaced": 1.0, "some_spaces": 0.5, "markup": rng.choice((0.0, 1.0)),
           "units": rng.choice((0.0, 1.0))}[style]
    flat = cells[0]
    for c in cells[1:]:
        joint = " " if rng.random() < gap else ""
        if style == "markup" and rng.random() < 0.06:
            joint += rng.choice(_JUNK)
        flat += joint + c
    v = s.values
    prose = [f"{s.year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政务公开工作。"]
    if rng.random() < 0.5:
        prose.append(f"全年共收到政府信息公开申请{v['requests.new_received.total']}件。")
    title = f"{s.agency}{s.year}年政府信息公开工作年度报告"
    body = ("".join(["一、总体情况", *prose, "二、主动公开政府信息情况", flat,
                     "五、存在的主要问题及改进情况下一步，我们将进一步加强政务公开工作。六、其他需要报告的事项无。",
                     s.agency, f"{s.year + 1}年1月{rng.randint(1, 28)}日"]))
    return "\n".join([f"标题: {title}", f"发布时间: {s.year + 1}-01-{rng.randint(10, 28)} 09:30", "栏目: 政府信息公开年报",
                      "=" * 20 + " 正文 " + "=" * 20, body])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--shape", choices=["tabs", "lines"], default="tabs")
    args = ap.parse_args()
    for i in range(args.count):
        s = sample(args.seed + i)
        print(to_text(s, random.Random(args.seed + i), args.shape))
        print("\f")


if __name__ == "__main__":
    main()
