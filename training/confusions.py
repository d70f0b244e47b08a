"""The recogniser's own digit confusions, measured: number strings rendered in the fonts of this
machine, degraded the ways poor scans degrade them, cropped as the detector boxes them and read
by the real recogniser (``RapidOcr.recognize_crops``).  What it got wrong, and the candidates it
gave when it did, are the table that ``training.generate.misread_measured`` plants misreads from,
so that the misread benchmark does not test ``reconcile`` against its own ``CONFUSABLE``.

    python -m training.confusions --samples 10000     # rebuild training/confusions.json (seeded)

The table (``confusions.json``): ``digits`` (per true digit: what it was read as, by alignment of
the true and the read string; ``""`` a deletion; ``insertions``: characters read where none was
printed), ``examples`` (every string whose value was misread, with the recogniser's candidates),
rates by length, font, size and degradation, and the metadata that rebuilds it.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from extract.normalize import normalize, parse_number

TABLE = Path(__file__).with_name("confusions.json")

# (family, file, face index): CJK report faces and the Latin faces Word sets digits in
FONTS = (
    ("Noto Sans CJK SC", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("Noto Serif CJK SC", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("AR PL UMing CN", "/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("AR PL SungtiL GB", "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    ("AR PL KaitiM GB", "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
    ("WenQuanYi Zen Hei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("WenQuanYi Micro Hei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("LXGW WenKai", "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
    ("Liberation Serif", "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", 0),
    ("Liberation Sans", "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf", 0),
    ("DejaVu Sans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
)
SIZES_PT = (8, 9, 10, 10.5, 12, 14)
DPIS = (150, 200, 240, 300)
LENGTHS, LENGTH_WEIGHTS = (1, 2, 3, 4, 5), (3, 3, 2, 1, 1)  # report cells are mostly short numbers


def available_fonts() -> list[tuple[str, str, int]]:
    return [f for f in FONTS if Path(f[1]).exists()]


@lru_cache(maxsize=128)
def _face(path: str, index: int, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px, index=index)


def number(rng: random.Random) -> str:
    n = rng.choices(LENGTHS, LENGTH_WEIGHTS)[0]
    if n == 1:
        return str(rng.randint(0, 9))
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def conditions(rng: random.Random, fonts: list[tuple[str, str, int]]) -> dict:
    """How one number is printed and scanned: face, size, resolution and the degradations drawn.
    Each degradation is drawn on its own, so crops range from clean to very poor."""
    c = {"font": rng.choice(fonts)[0], "pt": rng.choice(SIZES_PT), "dpi": rng.choice(DPIS)}
    c["ink"] = rng.randint(0, 70)  # the printed ink's grey level
    c["fade"] = round(rng.uniform(0.4, 0.8), 3) if rng.random() < 0.35 else None  # faint toner
    c["weight"] = rng.choice(("bold", "thin")) if rng.random() < 0.3 else None  # over- or under-inked
    c["rescan"] = round(rng.uniform(0.35, 0.85), 3) if rng.random() < 0.6 else None  # scanned coarser
    c["blur"] = round(rng.uniform(0.3, 1.4), 3)
    c["binarize"] = round(rng.uniform(0.2, 0.8), 3) if rng.random() < 0.25 else None  # a fax-like threshold
    # (that far from the darkest ink to the paper): broken or fat strokes
    c["noise"] = round(rng.uniform(0, 12), 2)
    c["jpeg"] = rng.randint(20, 85) if rng.random() < 0.6 else None
    c["pad"] = round(rng.uniform(-0.05, 0.35), 3)  # the detector's box beyond the ink, in text heights
    c["seed"] = rng.randrange(2**32)
    return c


def render(text: str, c: dict, fonts: dict[str, tuple[str, int]]) -> np.ndarray:
    """The number printed, scanned and cut out as the detector boxes it (BGR crop)."""
    path, index = fonts[c["font"]]
    px = max(6, round(c["pt"] / 72 * c["dpi"]))
    face = _face(path, index, px)
    x0, y0, x1, y1 = face.getbbox(text)
    margin = px
    img = Image.new("L", (x1 - x0 + 2 * margin, y1 - y0 + 2 * margin), 255)
    ImageDraw.Draw(img).text((margin - x0, margin - y0), text, font=face, fill=c["ink"])
    a = np.asarray(img, dtype=np.float32)
    nrng = np.random.default_rng(c["seed"])
    if c["weight"] == "bold":
        a = cv2.erode(a, np.ones((2, 2), np.uint8))
    elif c["weight"] == "thin":
        a = cv2.dilate(a, np.ones((2, 2), np.uint8))
    if c["fade"]:
        a = 255 - (255 - a) * c["fade"]
    a = cv2.GaussianBlur(a, (0, 0), c["blur"])
    h, w = a.shape
    if c["rescan"]:
        small = cv2.resize(a, (max(1, round(w * c["rescan"])), max(1, round(h * c["rescan"]))), interpolation=cv2.INTER_AREA)
        a = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if c["binarize"]:
        dark = float(np.percentile(a, 1))
        a = np.where(a < dark + c["binarize"] * (255 - dark), float(c["ink"]), 255.0).astype(np.float32)
    a = np.clip(a + nrng.normal(0, c["noise"], a.shape), 0, 255).astype(np.uint8)
    if c["jpeg"]:
        _, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, c["jpeg"]])
        a = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    # the box: the printed text's extent, grown by the detector's margin and the 2 px
    # ``RapidOcr.recognize`` adds (a negative margin clips the ink, as a tight box can)
    grow = round(c["pad"] * (y1 - y0)) + 2
    top, bottom = max(0, margin - grow), min(h, margin + (y1 - y0) + grow)
    left, right = max(0, margin - grow), min(w, margin + (x1 - x0) + grow)
    crop = a[top:bottom, left:right]
    return cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_GRAY2BGR)


def align(true: str, read: str) -> list[tuple[str, str]]:
    """Levenshtein alignment as (printed, read) pairs: ``(d, d)`` a match, ``(d, x)`` a
    substitution, ``(d, "")`` a deletion, ``("", x)`` an insertion."""
    n, m = len(true), len(read)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(cost[i - 1][j - 1] + (true[i - 1] != read[j - 1]), cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    pairs, i, j = [], n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (true[i - 1] != read[j - 1]):
            pairs.append((true[i - 1], read[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((true[i - 1], ""))
            i -= 1
        else:
            pairs.append(("", read[j - 1]))
            j -= 1
    return pairs[::-1]


def edit_site(true: str, read: str) -> dict | None:
    """The one edit that turns ``true`` into ``read``, where that is all that differs: ``op``
    (sub, del, ins), ``true`` and ``read`` (the characters at the site, ``""`` for none) and
    ``at`` (its index in ``read``: the read character's, or where the deleted one would be)."""
    pairs = align(true, read)
    edits = [k for k, (a, b) in enumerate(pairs) if a != b]
    if len(edits) != 1:
        return None
    k = edits[0]
    a, b = pairs[k]
    at = sum(1 for x, y in pairs[:k] if y)
    return {"op": "sub" if a and b else "del" if a else "ins", "true": a, "read": b, "at": at}


def site_alternatives(read: str, site: dict, candidates) -> list[tuple[str, float]]:
    """The recogniser's candidates that differ from its reading at the edit site alone, as what
    each puts there (``""`` nothing), with their probability; the others are dropped."""
    at, out = site["at"], []
    for text, p in candidates:
        if site["op"] == "del":  # something printed where the reading has nothing
            if len(text) == len(read) + 1 and text[:at] == read[:at] and text[at + 1:] == read[at:]:
                out.append((text[at], p))
            elif text == read:
                out.append(("", p))
        else:  # the reading's character at ``at`` replaced, or dropped
            if len(text) == len(read) and text[:at] == read[:at] and text[at + 1:] == read[at + 1:]:
                out.append((text[at], p))
            elif len(text) == len(read) - 1 and text[:at] == read[:at] and text[at:] == read[at + 1:]:
                out.append(("", p))
    return out


KINDS = ("single", "multi")


def _kind(text: str) -> str:
    """A lone digit's crop is square, like a CJK character's, and is misread unlike a digit of
    a longer number: a measured misread is planted only in a number of its own kind."""
    return "single" if len(text) == 1 else "multi"


def value_misread(true: str, read: str) -> bool:
    """Whether the reading gives another number than was printed (``l`` for ``1`` does not)."""
    return bool(normalize(read)) and parse_number(read) != int(true)


def measure(samples: int = 10000, seed: int = 0, batch: int = 16, engine=None, log=None) -> dict:
    """Render ``samples`` numbers, read them with the real recogniser, and tabulate what it read."""
    from extract.ocr import RapidOcr

    fonts = available_fonts()
    if not fonts:
        raise RuntimeError("no fonts of training.confusions.FONTS on this machine")
    engine = engine or RapidOcr(batch=batch)
    rng = random.Random(seed)
    cases = []
    for _ in range(samples):
        text = number(rng)
        cases.append((text, conditions(rng, fonts)))
    paths = {name: (path, index) for name, path, index in fonts}
    reads, t0 = [], time.perf_counter()
    chunk = 256  # crops rendered and read a chunk at a time (the recogniser batches within it)
    for start in range(0, len(cases), chunk):
        part = cases[start:start + chunk]
        reads += engine.recognize_crops([render(t, c, paths) for t, c in part])
        if log:
            log(f"{start + len(part)}/{len(cases)} read, {time.perf_counter() - t0:.0f} s")
    return tabulate(cases, reads, {
        "samples": samples, "seed": seed, "batch": batch, "fonts": [f[0] for f in fonts],
        "sizes_pt": list(SIZES_PT), "dpi": list(DPIS), "lengths": dict(zip(map(str, LENGTHS), LENGTH_WEIGHTS)),
        "rapidocr": _version("rapidocr"), "onnxruntime": _version("onnxruntime"),
        "recogniser": _model_name(engine),
    })


def tabulate(cases: list[tuple[str, dict]], reads: list, meta: dict) -> dict:
    digits: dict[str, Counter] = {d: Counter() for d in "0123456789"}
    insertions: Counter = Counter()
    by: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    examples, text_wrong, lost = [], 0, 0
    for (true, c), (read, score, cands) in zip(cases, reads):
        read = normalize(read)
        for a, b in align(true, read):
            if a:
                digits[a][b] += 1
            else:
                insertions[b] += 1
        wrong = value_misread(true, read)
        text_wrong += read != true
        lost += not read
        for axis, v in (("length", len(true)), ("font", c["font"]), ("pt", c["pt"]), ("dpi", c["dpi"]),
                        ("rescan", c["rescan"] is not None), ("fade", c["fade"] is not None),
                        ("binarize", c["binarize"] is not None), ("weight", c["weight"]),
                        ("blur", "<0.8" if c["blur"] < 0.8 else "<1.2" if c["blur"] < 1.2 else ">=1.2")):
            by[axis][str(v)][0] += 1
            by[axis][str(v)][1] += wrong
        if wrong:
            examples.append({"true": true, "read": read, "score": round(score, 4),
                             "candidates": [[t, p] for t, p in cands], "site": edit_site(true, read),
                             "true_in_candidates": any(t == true for t, _ in cands), "conditions": c})
    n = len(cases)
    return {
        "meta": meta,
        "summary": {
            "crops": n,
            # per kind of crop (a lone digit, or a longer number): each digit printed, and the gaps
            "printed": {k: dict(sorted(Counter(d for t, _ in cases if _kind(t) == k for d in t).items())) for k in KINDS},
            "gaps": {k: sum(len(t) + 1 for t, _ in cases if _kind(t) == k) for k in KINDS},
            "value_misread": len(examples), "value_misread_rate": round(len(examples) / n, 4),
            "text_misread_rate": round(text_wrong / n, 4), "read_empty": lost,
            "one_edit": sum(e["site"] is not None for e in examples),
            "true_in_candidates": sum(e["true_in_candidates"] for e in examples),
            "digit_error_rate": round(sum(sum(v for k, v in cnt.items() if k != d) for d, cnt in digits.items())
                                      / max(1, sum(sum(cnt.values()) for cnt in digits.values())), 5),
        },
        "digits": {d: dict(cnt.most_common()) for d, cnt in digits.items()},
        "insertions": dict(insertions.most_common()),
        "rates": {axis: {k: {"crops": v[0], "misread": v[1], "rate": round(v[1] / v[0], 4)} for k, v in sorted(vals.items())}
                  for axis, vals in by.items()},
        "examples": examples,
    }


def top_confusions(table: dict, count: int = 12) -> list[tuple[str, str, int]]:
    """The most frequent substitutions, deletions (``""``) and insertions (printed ``""``)."""
    pairs = [(d, r, n) for d, reads in table["digits"].items() for r, n in reads.items() if r != d]
    pairs += [("", r, n) for r, n in table["insertions"].items()]
    return sorted(pairs, key=lambda p: -p[2])[:count]


def plantable(table: dict) -> list[dict]:
    """The measured misreads a planted one can copy: one edit (sub, del or ins) away from the
    printed number and read as something.  Each keeps the candidates the recogniser gave that
    differ from its reading at the edit's site alone, as ``[what they put there, probability,
    whether that candidate is the printed number's value]``, and its weight: one over how often
    the printed character (a gap, for an insertion) was printed in the measurement, so that
    drawing a (misread, place) pair by weight draws edits as often as the recogniser makes them."""
    s = table["summary"]
    out = []
    for e in table["examples"]:
        site = e["site"]
        if site is None or not e["read"]:
            continue
        alts = [[x, p, _value(_put(e["read"], site, x)) == int(e["true"])]
                for x, p in site_alternatives(e["read"], site, e["candidates"])]
        kind = _kind(e["true"])
        weight = 1 / (s["gaps"][kind] if site["op"] == "ins" else s["printed"][kind][site["true"]])
        out.append({**site, "alternatives": alts, "weight": weight, "kind": kind, "example": [e["true"], e["read"]]})
    return out


def _put(read: str, site: dict, x: str) -> str:
    """The reading with ``x`` at the edit's site instead of what the reading has there."""
    at = site["at"]
    return read[:at] + x + read[at:] if site["op"] == "del" else read[:at] + x + read[at + 1:]


def _value(text: str):
    return parse_number(text) if text else None


def placements(text: str, misreads: list[dict]) -> list[tuple[float, dict, int]]:
    """Every (weight, measured misread, place in ``text``) that misreads ``text``'s value: a
    substituted or deleted digit where ``text`` prints that digit, an insertion at any gap, of a
    misread measured on a number of ``text``'s kind (``_kind``); never one whose reading is
    empty or reads the same number."""
    out = []
    for m in misreads:
        if m["kind"] != _kind(text):
            continue
        places = range(len(text) + 1) if m["op"] == "ins" else [i for i, ch in enumerate(text) if ch == m["true"]]
        for i in places:
            wrong = text[:i] + m["read"] + text[i + (m["op"] != "ins"):]
            if normalize(wrong) and parse_number(wrong) != parse_number(text):
                out.append((m["weight"], m, i))
    return out


def plant(text: str, m: dict, i: int) -> tuple[str, tuple[tuple[str, float], ...]]:
    """``text`` misread as ``m`` was, at place ``i``: the wrong reading and the candidates
    the recogniser gave (its probabilities as measured, not renormalised).  The printed value is
    among them only through a measured candidate that was the printed value; a number reading
    gets candidates, any other none (as ``RapidOcr.recognize_crops`` gives them)."""
    tail = text[i + (m["op"] != "ins"):]
    wrong = text[:i] + m["read"] + tail
    if not (wrong.isascii() and wrong.isdigit()):
        return wrong, ()
    truth, prob = parse_number(text), {}
    for x, p, was_true in m["alternatives"]:
        cand = text[:i] + x + tail
        if cand and (parse_number(cand) != truth or was_true):
            prob[cand] = prob.get(cand, 0.0) + p
    return wrong, tuple(sorted(prob.items(), key=lambda kv: -kv[1]))


@lru_cache(maxsize=4)
def load(path: str = str(TABLE)) -> dict:
    return json.loads(Path(path).read_text())


@lru_cache(maxsize=4)
def measured_misreads(path: str = str(TABLE)) -> tuple[dict, ...]:
    """``plantable`` of the stored table."""
    return tuple(plantable(load(path)))


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _model_name(engine) -> str | None:
    """The recogniser the crops were read with: its version, language and size (rapidocr's config)."""
    try:
        cfg = engine.engine._load_rec_model().cfg
        return " ".join(str(getattr(cfg[k], "value", cfg[k])) for k in ("ocr_version", "lang_type", "model_type"))
    except Exception:  # noqa: BLE001 - metadata only
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=TABLE)
    args = ap.parse_args()
    table = measure(args.samples, args.seed, log=lambda m: print(m, flush=True))
    args.out.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n")
    s = table["summary"]
    print(f"{s['crops']} crops: value misread {s['value_misread']} ({100 * s['value_misread_rate']:.1f}%), "
          f"text misread {100 * s['text_misread_rate']:.1f}%, read empty {s['read_empty']}, "
          f"one edit {s['one_edit']}, true value among the candidates {s['true_in_candidates']}")
    print("top confusions (printed -> read):", ", ".join(f"{a or '∅'}→{b or '∅'} {n}" for a, b, n in top_confusions(table)))
    print("misread rate by", {axis: {k: v["rate"] for k, v in vals.items()} for axis, vals in table["rates"].items()})


if __name__ == "__main__":
    main()
