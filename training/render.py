"""Renderer and scan degrader: generated reports drawn as page images with cell-level truth.

    python -m training.render --seed 3 --out /tmp/scan.pdf --level medium   # one degraded scan as a PDF
    python -m training.render --seed 3 --out /tmp/doc.pdf --born-digital    # the same report, born-digital

Styles vary what real printed reports vary: ruled or partly ruled grids,
merged label cells, the vertical 三、本年度办理结果 band, wrapped labels, fonts,
column widths, tables broken across pages.  ``degrade`` then adds what
scanning adds: skew, warp, blur, noise, JPEG, faded or bold ink, low dpi.
"""
from __future__ import annotations

import argparse
import io
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from extract.records import Number
from extract.schema import (
    APPLICANT_LABELS,
    OUTCOME_LABELS,
    PROACTIVE,
    PROACTIVE_SECTIONS,
    REVIEW,
    Variant,
)
from training.generate import make_values

# (text, rowspan, colspan, key the cell holds or None)
GridCell = tuple[str, int, int, str | None]
Grid = list[list[GridCell]]

LEVELS = ("clean", "mild", "medium", "heavy")


def national_tables(values: dict[str, Number], variant: Variant, zero: str = "0") -> list[Grid]:
    """表二, 表三 and 表四 as the national layouts print them, merged cells included;
    ``zero``: how the report prints zero (``0``, a blank cell, ``—``)."""
    c = lambda t, rs=1, cs=1, key=None: (str(t), rs, cs, key)  # noqa: E731
    v = lambda key, cs=1: c(zero if values[key] == 0 else str(values[key]), 1, cs, key)  # noqa: E731
    t2: Grid = []
    sections = PROACTIVE_SECTIONS[variant.layout]
    header = None
    for spec in PROACTIVE[variant.layout]:
        short = spec.name.split(".", 1)[1]
        if short in sections:
            t2.append([c(sections[short], 1, 4)])
            header = None
        if spec.headers != header:
            header = spec.headers
            t2.append([c("信息内容"), *(c(h) for h in header[:-1]), c(header[-1], 1, 4 - len(header))])
        keys = spec.keys
        t2.append([c(spec.label), *(v(k) for k in keys[:-1]), v(keys[-1], 4 - len(keys))])
    t3: Grid = [[c("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), c("申请人情况", 1, 7)],
                [c(APPLICANT_LABELS[0], 2), c("法人或其他组织", 1, 5), c(APPLICANT_LABELS[-1], 2)],
                [c(h) for h in APPLICANT_LABELS[1:-1]]]
    rows = [r for r in variant.rows if r.table == "requests" and r.keys]
    outside = ("requests.new_received", "requests.carried_over", "requests.carried_forward")
    band = [r for r in rows if r.name not in outside]  # 三、本年度办理结果 spans the results and （七）总计
    group_size: dict[str, int] = {}
    for r in band:
        if g := _group(r.name):
            group_size[g] = group_size.get(g, 0) + 1
    seen: set[str] = set()
    for r in rows:
        vals = [v(k) for k in r.keys]
        if r not in band:
            t3.append([c(r.label, 1, 3), *vals])
            continue
        lead = [c("三、本年度办理结果", len(band))] if r is band[0] else []
        g = _group(r.name)
        if g is None:
            t3.append([*lead, c(r.label, 1, 2), *vals])
        else:
            t3.append([*lead, *([c(g, group_size[g])] if g not in seen else []), c(r.label), *vals])
            seen.add(g)
    t4: Grid = [[c("行政复议", 1, 5), c("行政诉讼", 1, 10)],
                [*(c(o, 2) for o in OUTCOME_LABELS), c("未经复议直接起诉", 1, 5), c("复议后起诉", 1, 5)],
                [c(o) for o in OUTCOME_LABELS * 2],
                [v(k) for k in REVIEW.keys]]
    return [t2, t3, t4]


_GROUPS = {"denied": "（三）不予公开", "unavailable": "（四）无法提供", "not_processed": "（五）不予处理", "other": "（六）其他处理"}


def _group(name: str) -> str | None:
    """The sub-group heading printed beside a row of 表三, if it has one."""
    short = name.split(".", 1)[1]
    return _GROUPS.get(short.split(".")[0]) if "." in short else None


# --- drawing --------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    import importlib

    for module in (("cvttf_NotoSansCJK_Bold",) if bold else ()) + ("cvttf_NotoSansCJK_Regular",):
        try:
            pkg = importlib.import_module(module)
        except ImportError:
            continue
        path = next(Path(pkg.__file__).parent.glob("*.otf"))
        return ImageFont.truetype(str(path), px)
    for path in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"):
        if Path(path).exists():
            return ImageFont.truetype(path, px)
    raise RuntimeError("no CJK font: pip install 'extract[train]' (cvttf-notosanscjk-regular)")


class Sheet:
    """A page being drawn: its image, and the same drawing as vector operations, which a
    born-digital PDF of the report repeats (``to_text_pdf``)."""

    def __init__(self, width: int, height: int):
        self.image = Image.new("L", (width, height), 255)
        self.ops: list[tuple] = []  # ("text", x, baseline, text, px) | ("line", x0, y0, x1, y1, width)
        self._draw = ImageDraw.Draw(self.image)

    def text(self, x: float, y: float, text: str, f: ImageFont.FreeTypeFont) -> None:
        self._draw.text((x, y), text, font=f, fill=0)
        self.ops.append(("text", x, y + f.getmetrics()[0], text, f.size))

    def line(self, x0: float, y0: float, x1: float, y1: float, width: int) -> None:
        self._draw.line([x0, y0, x1, y1], fill=0, width=width)
        self.ops.append(("line", x0, y0, x1, y1, width))

    def rectangle(self, x0: float, y0: float, x1: float, y1: float, width: int) -> None:
        self._draw.rectangle([x0, y0, x1, y1], outline=0, width=width)
        self.ops += [("line", a, b, c, d, width) for a, b, c, d in
                     ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0))]


@dataclass
class Scan:
    """A rendered report: page images and where each value was drawn."""

    pages: list[np.ndarray]
    truth: dict[str, tuple[int, tuple[float, float, float, float]]]  # key -> (page, bbox)
    values: dict[str, Number]
    variant: Variant
    agency: str
    year: int
    style: dict = field(default_factory=dict)
    level: str = "clean"
    dpi: int = 200
    drawn: list[list[tuple]] = field(default_factory=list)  # each page's Sheet.ops


def _wrap(text: str, f: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if line and f.getlength(line + ch) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines or [""]


def render(seed: int, dpi: int = 200) -> Scan:
    """Draw the generated report ``seed`` (numbers as training.generate makes them) onto A4 pages."""
    rng = random.Random(seed)
    layout = "2021" if rng.random() < 0.7 else "2019"
    variant = Variant(layout, rng.random() < (0.7 if layout == "2021" else 0.15))
    values = make_values(variant, rng)
    agency = rng.choice(["北仑区", "洪泽区", "鄞州区", "临平区", "海曙区"]) + rng.choice(["人民政府", "教育局", "财政局", "司法局"])
    return render_report(values, variant, agency, rng.randint(2020, 2025), rng, dpi)


def render_report(values: dict[str, Number], variant: Variant, agency: str, year: int, rng: random.Random,
                  dpi: int = 200) -> Scan:
    """Draw a report with these values in a style drawn from ``rng``."""
    style = {
        "ruled": rng.random() < 0.75,
        "vertical_band": rng.random() < 0.5,
        "wrapped": rng.random() < 0.5,
        "bold_font": rng.random() < 0.25,
        "narrow": rng.random() < 0.3,
        "font_pt": rng.choice([9.5, 10.5, 12]),
        "zero": rng.choice(["0", "0", "0", "", "—", "/"]),
    }
    style["partly_ruled"] = not style["ruled"]
    W, H = int(8.27 * dpi), int(11.69 * dpi)
    margin = int((0.7 if style["narrow"] else 0.95) * dpi)
    px = int(style["font_pt"] / 72 * dpi)
    f = font(style["bold_font"], px)
    fb = font(True, int(px * 1.3))
    pages: list[Sheet] = []
    truth: dict = {}

    def new_page() -> Sheet:
        pages.append(Sheet(W, H))
        return pages[-1]

    draw = new_page()
    y = margin
    for line in (f"{agency}{year}年", "政府信息公开工作年度报告"):
        draw.text((W - fb.getlength(line)) / 2, y, line, fb)
        y += int(fb.size * 1.6)
    prose = (f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政务公开各项工作，"
             "现将本年度政府信息公开工作情况报告如下。")
    for line in _wrap(prose, f, W - 2 * margin):
        draw.text(margin, y, line, f)
        y += int(px * 1.7)
    titles = ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况")
    weights = ([3, 2, 2, 2], [0.7 if style["vertical_band"] else 1.6, 1.5, 3.0, *[1] * 7], [1] * 15)
    for title, grid, weight in zip(titles, national_tables(values, variant, style["zero"]), weights):
        if y + 4 * px > H - margin:
            draw, y = new_page(), margin
        draw.text(margin, y + px // 2, title, f)
        y += int(px * 2.2)
        jitter = [w * rng.uniform(0.85, 1.15) for w in weight]
        total = sum(jitter)
        xs = [margin + (W - 2 * margin) * sum(jitter[:i]) / total for i in range(len(jitter) + 1)]
        draw, y = _draw_grid(grid, xs, y, f, px, style, truth, pages, new_page, H, margin)
        y += int(px * 1.5)
    images = [np.asarray(p.image) for p in pages]
    return Scan(images, truth, values, variant, agency, year, style, "clean", dpi, [p.ops for p in pages])


def _draw_grid(grid: Grid, xs, y, f, px, style, truth, pages, new_page, H, margin):
    """Lay the grid out row by row, breaking to a new page between rows when the page is full."""
    occupied: dict[tuple[int, int], bool] = {}
    placed = []  # (row, col, rowspan, colspan, text, key)
    for r, row in enumerate(grid):
        col = 0
        for text, rs, cs, key in row:
            while occupied.get((r, col)):
                col += 1
            for dr in range(rs):
                for dc in range(cs):
                    occupied[(r + dr, col + dc)] = True
            placed.append((r, col, rs, cs, text, key))
            col += cs
    pad = px * 0.35
    heights = [px * 1.9] * len(grid)
    for r, col, rs, cs, text, _ in placed:
        if rs == 1:
            lines = _wrap(text, f, xs[col + cs] - xs[col] - 2 * pad) if style["wrapped"] or len(text) > 1 else [text]
            heights[r] = max(heights[r], len(lines) * px * 1.25 + 2 * pad)
    for r, col, rs, cs, text, _ in placed:  # a tall merged label stretches the rows it spans
        if rs > 1:
            need = len(_wrap(text, f, xs[col + cs] - xs[col] - 2 * pad)) * px * 1.25 + 2 * pad
            have = sum(heights[r:r + rs])
            if need > have:
                for i in range(r, r + rs):
                    heights[i] += (need - have) / rs
    # page breaks between rows; each row gets (page, top)
    tops, page = [], len(pages) - 1
    for h in heights:
        if y + h > H - margin:
            new_page()
            y, page = margin, len(pages) - 1
        tops.append((page, y))
        y += h
    for r, col, rs, cs, text, key in placed:
        segments: dict[int, list[float]] = {}
        for i in range(r, r + rs):
            p, top = tops[i]
            seg = segments.setdefault(p, [top, top])
            seg[1] = top + heights[i]
        x0, x1 = xs[col], xs[col + cs]
        for k, (p, (top, bottom)) in enumerate(sorted(segments.items())):
            d = pages[p]
            if style["ruled"]:
                d.rectangle(x0, top, x1, bottom, max(1, px // 14))
            else:  # partly ruled: horizontal rules only
                d.line(x0, top, x1, top, max(1, px // 14))
                d.line(x0, bottom, x1, bottom, max(1, px // 14))
            if k:
                continue  # a merged cell broken over pages prints its text once
            lines = _wrap(text, f, x1 - x0 - 2 * pad)
            block = len(lines) * px * 1.25
            ty = top + (bottom - top - block) / 2
            for line in lines:
                d.text((x0 + x1 - f.getlength(line)) / 2, ty, line, f)
                ty += px * 1.25
            if key:
                truth[key] = (p + 1, (x0, top, x1, bottom))
    return pages[-1], y


# --- degradation ------------------------------------------------------------------------------

def degrade(image: np.ndarray, level: str, rng: random.Random) -> np.ndarray:
    """What a scanner and an old photocopier do to a page."""
    if level == "clean":
        return image
    k = {"mild": 0, "medium": 1, "heavy": 2}[level]
    img = image.astype(np.float32)
    h, w = img.shape
    if rng.random() < 0.5:  # faded or bold ink
        img = 255 - (255 - img) * rng.uniform(0.55, 0.8) if rng.random() < 0.5 else \
            cv2.erode(img, np.ones((2, 2), np.uint8)).astype(np.float32)
    angle = rng.uniform(-1, 1) * (0.4, 1.2, 2.5)[k]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    if k == 2:  # a little perspective warp
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = src + np.float32([[rng.uniform(-1, 1) * w * 0.01, rng.uniform(-1, 1) * h * 0.005] for _ in range(4)])
        img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=255)
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    low = (1.0, 0.75, 0.55)[k]  # scanned at a lower resolution
    if low < 1:
        img = cv2.resize(cv2.resize(img, None, fx=low, fy=low, interpolation=cv2.INTER_AREA), (w, h),
                         interpolation=cv2.INTER_LINEAR)
    img = cv2.GaussianBlur(img, (0, 0), (0.4, 0.7, 1.0)[k])
    nrng = np.random.default_rng(rng.randrange(2**32))
    img = img + nrng.normal(0, (4, 9, 16)[k], img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, (85, 60, 40)[k]])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def scan(seed: int, level: str = "medium", dpi: int = 200) -> Scan:
    s = render(seed, dpi)
    rng = random.Random(seed * 7 + 1)
    s.pages = [degrade(p, level, rng) for p in s.pages]
    s.level = level
    return s


def to_pdf(pages: list[np.ndarray], dpi: int) -> bytes:
    """Pages as an image-only PDF, as a scanner makes it."""
    images = [Image.fromarray(p) for p in pages]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()



def to_text_pdf(s: Scan) -> bytes:
    """The report as a born-digital PDF: the same drawing as vector text and rules, in the
    standard CJK font STSong-Light, not embedded, as many office exports print it (so the
    text layer gives no glyph heights for CJK characters, only advances)."""
    k = 72 / s.dpi
    height = s.pages[0].shape[0] * k
    pages = []
    for ops in s.drawn:
        out = []
        for op in ops:
            if op[0] == "text":
                _, x, baseline, text, px = op
                out.append(f"BT /F1 {px * k:.2f} Tf {x * k:.2f} {height - baseline * k:.2f} Td "
                           f"<{text.encode('utf-16-be').hex()}> Tj ET")
            else:
                _, x0, y0, x1, y1, width = op
                out.append(f"{width * k:.2f} w {x0 * k:.2f} {height - y0 * k:.2f} m {x1 * k:.2f} {height - y1 * k:.2f} l S")
        pages.append("\n".join(out).encode("ascii"))
    return _pdf(pages, s.pages[0].shape[1] * k, height)


# code = UCS-2 = Unicode for every BMP character; ranges kept within one high byte, as CMaps require
_TO_UNICODE = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /UCS2-Unicode def /CMapType 2 def\n" \
    b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n" + b"".join(
        b"%d beginbfrange\n" % len(chunk) + b"".join(b"<%02X00> <%02XFF> <%02X00>\n" % (h, h, h) for h in chunk) + b"endbfrange\n"
        for chunk in ([h for h in range(i, min(i + 100, 256)) if not 0xD8 <= h < 0xE0] for i in range(0, 256, 100))) + \
    b"endcmap CMapName currentdict /CMap defineresource pop end end"


def _pdf(contents: list[bytes], width: float, height: float) -> bytes:
    """A minimal PDF: these content streams on pages of this size, font /F1 = STSong-Light (UCS-2)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes) -> bytes:
        return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)

    catalog, tree = add(b""), add(b"")
    descriptor = add(b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
                     b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    cid = add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
              b"/Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R /DW 1000 /W [1 95 500] >>" % descriptor)
    to_unicode = add(stream(_TO_UNICODE))
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H /Encoding /UniGB-UCS2-H "
               b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid, to_unicode))
    kids = [add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 %d 0 R >> >> "
                b"/Contents %d 0 R >>" % (tree, width, height, font, add(stream(c)))) for c in contents]
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--level", choices=LEVELS, default="medium")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True, help=".pdf, or .png for the first page")
    ap.add_argument("--born-digital", action="store_true", help="a PDF with a text layer, not a scan")
    args = ap.parse_args()
    s = render(args.seed, args.dpi) if args.born_digital else scan(args.seed, args.level, args.dpi)
    if args.born_digital:
        args.out.write_bytes(to_text_pdf(s))
    elif args.out.suffix == ".pdf":
        args.out.write_bytes(to_pdf(s.pages, args.dpi))
    else:
        Image.fromarray(s.pages[0]).save(args.out)
    print(f"{args.out}: {len(s.pages)} pages, layout {s.variant.layout}, style {s.style}")


if __name__ == "__main__":
    main()
