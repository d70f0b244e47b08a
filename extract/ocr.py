"""OCR stage: a page image becomes text boxes.

The default engine runs PaddleOCR's PP-OCR detection and recognition models
as shipped in the ``rapidocr`` wheel, on onnxruntime (CPU unless ``device``
is ``cuda``).  Orientation is decided once per page, not per box: rapidocr's
per-box classifier costs about a second a page and can flip short numbers
(``10`` read as ``01``).  Any object with ``read_page(image, page) -> OcrPage``
can replace it.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import cv2
import numpy as np

from .cells import Box
from .records import ExtractError


@dataclass(frozen=True, slots=True)
class OcrPage:
    """A page's text boxes, and the page as they lie on it (deskewed, turned upright)."""

    boxes: list[Box]
    image: np.ndarray


class OcrEngine(Protocol):
    """What the pipeline needs of an OCR engine: a page's boxes (on the page turned upright),
    and crops recognised again for the second look (``verify``).  ``RapidOcr`` is one; any
    object with these two methods can be passed to ``Extractor(ocr=...)``."""

    def read_page(self, image: np.ndarray, page: int) -> OcrPage: ...

    def recognize_crops(self, crops: list[np.ndarray]) -> list[tuple[str, float, tuple[tuple[str, float], ...]]]:
        """Text, score and, for numbers, the n-best digit readings (string, probability) of each crop."""
        ...


def gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return image


def text_direction(quads: list, ratio: float = 2.5) -> tuple[list, list]:
    """The detector's long boxes (``ratio`` times as long as they are thick), lying and standing,
    longest first; near-square ones (single digits) say nothing about which way the text runs."""
    lying, standing = [], []
    for q in quads:
        x0, y0, x1, y1 = _bbox(q)
        w, h = x1 - x0, y1 - y0
        if w > ratio * h:
            lying.append((w, (x0, y0, x1, y1)))
        elif h > ratio * w:
            standing.append((h, (x0, y0, x1, y1)))
    return [b for _, b in sorted(lying, reverse=True)], [b for _, b in sorted(standing, reverse=True)]


def skew_angle(image: np.ndarray) -> float:
    """Skew in degrees from the long near-horizontal strokes: ruling lines, else text lines."""
    g = gray(image)
    scale = 1200 / max(g.shape)
    small = cv2.resize(g, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (30, 1)))
    angle = _median_angle(rules, min_length=200)
    if angle is None:  # no table rules: smear characters into line-long blobs
        smear = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 1)))
        angle = _median_angle(smear, min_length=80)
    return angle or 0.0


def _median_angle(mask: np.ndarray, min_length: float) -> float | None:
    """Length-weighted median angle of the long thin blobs of a mask."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    angles, weights = [], []
    for c in contours:
        corners = cv2.boxPoints(cv2.minAreaRect(c))
        edges = [corners[(i + 1) % 4] - corners[i] for i in range(2)]
        long, short = sorted(edges, key=lambda e: -float(np.hypot(*e)))
        length, width = float(np.hypot(*long)), float(np.hypot(*short))
        if length > min_length and length > 6 * width:
            a = math.degrees(math.atan2(float(long[1]), float(long[0])))
            a = (a + 90) % 180 - 90  # direction does not matter
            if abs(a) < 20:
                angles.append(a)
                weights.append(length)
    if not angles:
        return None
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    if abs(degrees) < 1e-3:
        return image
    for k, turn in ((90, cv2.ROTATE_90_COUNTERCLOCKWISE), (180, cv2.ROTATE_180), (270, cv2.ROTATE_90_CLOCKWISE)):
        if abs(degrees - k) < 1e-3:
            return cv2.rotate(image, turn)
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255 if image.ndim == 2 else (255,) * 3)


_PROBE = 4  # long lines read to decide a page's orientation
_READS_WELL = 0.9  # a probe's mean score that no page read the wrong way round reaches
# What ``read_page`` returns is this version's: bump it with any change that alters the boxes
# (evaluation caches OCR output under it), not with one that only makes them faster.
BOXES_VERSION = 2


class RapidOcr:
    """PP-OCR detection + recognition through rapidocr, one page at a time."""

    def __init__(self, device: str = "cpu", threads: int | None = None, batch: int = 16):
        try:
            from rapidocr import RapidOCR
        except ImportError:
            raise ExtractError("OCR needs the rapidocr and onnxruntime packages (pip install extract)") from None
        if device not in ("cpu", "cuda"):
            raise ExtractError(f"unknown OCR device {device!r} (cpu or cuda)")
        if device == "cuda":
            import onnxruntime

            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise ExtractError("--device cuda needs onnxruntime-gpu and a CUDA GPU: pip install 'extract[gpu]'")
        params = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Rec.rec_batch_num": batch,
            # The default 320 px minimum width pads a two-digit number to eight times its
            # size; letting each batch take its widest crop reads the same 4x faster.
            "Rec.rec_img_shape": [3, 48, 48],
            "EngineConfig.onnxruntime.use_cuda": device == "cuda",
        }
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self.device, self.batch = device, batch
        self.engine = RapidOCR(params=params)

    def detect(self, image: np.ndarray) -> list:
        det = self.engine(_bgr(image), use_rec=False, use_cls=False)
        quads = getattr(det, "boxes", None)
        return [] if quads is None else list(quads)

    def orientation(self, image: np.ndarray, quads: list) -> int:
        """How far the page must turn (counter-clockwise degrees: 0, 90, 180 or 270) for its text
        to stand upright, from the detector's boxes and a few probe crops, never from readings
        of the whole page (nor from ink profiles, which a table's ruling lines dominate).

        Which way the text runs: the way most of its long lines run (five characters or more).
        A narrow column's heading set one character a line (结/果/维/持) stands like a line of a
        sideways page, and the recogniser reads such a stack turned as well as a line, so only
        length can outvote it.  Which end is up: the longest lines read both ways round, and the
        clearly better reading wins (upright, or the first quarter turn, when neither is).
        """
        lying, standing = text_direction(quads, 5.0)
        if not lying and not standing:
            return 0
        color = _bgr(image)
        sideways = sum(y1 - y0 for _, y0, _, y1 in standing) > sum(x1 - x0 for x0, _, x1, _ in lying)
        boxes = (standing if sideways else lying)[:_PROBE]
        crops = [color[int(y0):int(y1), int(x0):int(x1)] for x0, y0, x1, y1 in boxes]
        ways = (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE) if sideways else (None, cv2.ROTATE_180)
        turns = (270, 90) if sideways else (0, 180)  # a clockwise turn is 270 counter-clockwise
        first = self._probe(crops, ways[0])
        if first >= _READS_WELL:  # text read the wrong way round never reads this well
            return turns[0]
        return turns[1] if self._probe(crops, ways[1]) > first + _CLEARLY else turns[0]

    def _probe(self, crops: list[np.ndarray], way) -> float:
        """The mean score of the crops read turned ``way`` (None: as they are)."""
        return float(np.mean([s for _, s, _ in self.recognize_crops([c if way is None else cv2.rotate(c, way) for c in crops])]))

    def recognize_crops(self, crops: list[np.ndarray]) -> list[tuple[str, float, tuple[tuple[str, float], ...]]]:
        """Text, score and, for numbers, the n-best digit readings of each crop.

        rapidocr's own recogniser keeps only the best path; the CTC output it decodes
        also says what else a digit could be (a faint ``7`` that might be a ``1``),
        which the arithmetic reconciliation needs.  Batching as rapidocr does: by width.
        """
        rec = self.engine._load_rec_model()  # the loaded PP-OCR recogniser: its session and charset
        digits = [rec.postprocess_op.dict[d] for d in "0123456789"]
        order = np.argsort([c.shape[1] / c.shape[0] for c in crops])
        out: list = [None] * len(crops)
        for start in range(0, len(order), self.batch):
            idx = order[start:start + self.batch]
            ratio = max(1.0, *(crops[i].shape[1] / crops[i].shape[0] for i in idx))
            preds = rec.session(np.stack([rec.resize_norm_img(crops[i], ratio) for i in idx]).astype(np.float32))
            for k, i in enumerate(idx):
                text, score = _greedy(preds[k], rec.postprocess_op.character)
                out[i] = (text, score, digit_readings(preds[k], digits) if text.isascii() and text.isdigit() else ())
        return out

    def recognize(self, image: np.ndarray, rects: list[tuple[float, float, float, float]]) -> tuple[list, list[tuple]]:
        """Cut every box at the table's vertical rules, recognise the pieces.

        The detector often joins the numbers of neighbouring narrow columns into one
        box (``13`` and ``73`` read as ``1373``); the rules between them say where to cut.
        Only ruling lines count (``table_rules``), so a title's or a prose line's box is read
        as the detector drew it.
        """
        if not rects:
            return [], []
        color = _bgr(image)
        rules = table_rules(image, float(np.median([y1 - y0 for _, y0, _, y1 in rects])))
        h, w = color.shape[:2]
        crops, kept = [], []
        for x0, y0, x1, y1 in (r for rect in rects for r in split_at_rules(rect, rules)):
            x0, y0, x1, y1 = max(0, int(x0) - 2), max(0, int(y0) - 2), min(w, int(x1) + 2), min(h, int(y1) + 2)
            if x1 - x0 >= 4 and y1 - y0 >= 4:
                crops.append(color[y0:y1, x0:x1])
                kept.append((float(x0), float(y0), float(x1), float(y1)))
        if not crops:
            return [], []
        # a tall box is a stack of characters set one a line (表四's narrow headings) or one
        # narrow glyph (a 1): read it as it stands and turned, as rapidocr turns it, and keep the
        # surer (never for a number: a 1 turned is a 一)
        lines = self.recognize_crops(crops)
        tall = [i for i, c in enumerate(crops) if c.shape[0] >= 1.5 * c.shape[1]
                and lines[i][1] < _READS_WELL and not any(ch.isdigit() for ch in lines[i][0])]
        if tall:
            for i, turned in zip(tall, self.recognize_crops([np.ascontiguousarray(np.rot90(crops[i])) for i in tall])):
                if turned[1] > lines[i][1] and len(turned[0]) > 1:
                    lines[i] = turned
        return kept, lines

    def read(self, image: np.ndarray, page: int) -> list[Box]:
        return self.read_page(image, page).boxes

    def read_page(self, image: np.ndarray, page: int) -> OcrPage:
        """The page's boxes on the page turned upright and deskewed.

        The detector runs once, on the page as scanned: detecting again on a deskewed copy
        can lose boxes the page had.  Its boxes are carried onto the upright page by the same
        turn and rotation, and recognised there, where their text lies level.
        """
        quads = self.detect(image)
        turn = self.orientation(image, quads)
        angle = skew_angle(image)  # a sideways page's rules are still near horizontal or vertical
        angle = angle if 0.2 < abs(angle) < 15 else 0.0
        upright, move = _upright(image, angle, turn)
        rects, lines = self.recognize(upright, [_bbox(move(np.asarray(q, dtype=float))) for q in quads])
        # a dash alone in a box is a zero mark the recogniser took for the character 一
        lines = [("—", s, ()) if t.strip() == "一" else (t, s, alt) for t, s, alt in lines]
        boxes = [b for r, (t, s, alt) in zip(rects, lines) if t.strip() for b in split_numbers(Box(t, r, page, s, alt))]
        return OcrPage(read_slashes(upright, boxes), upright)


# a probe reading this much better (mean score) than another way round decides the page's turn
_CLEARLY = 0.1


def _upright(image: np.ndarray, angle: float, turn: int):
    """The page deskewed by ``angle`` then turned ``turn`` degrees counter-clockwise, and the
    map that carries points (n x 2, x y) of the page as scanned onto it."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0) if angle else np.float64([[1, 0, 0], [0, 1, 0]])
    level = rotate(image, angle)
    upright = rotate(level, turn) if turn else level

    def move(points: np.ndarray) -> np.ndarray:
        x, y = (points @ m[:, :2].T + m[:, 2]).T
        if turn == 90:  # counter-clockwise: the top right corner comes to the top left
            x, y = y, (w - 1) - x
        elif turn == 180:
            x, y = (w - 1) - x, (h - 1) - y
        elif turn == 270:
            x, y = (h - 1) - y, x
        return np.stack([x, y], axis=1)

    return upright, move


def _greedy(probs: np.ndarray, charset: list[str]) -> tuple[str, float]:
    """Best-path CTC decoding, as rapidocr does it: repeats collapsed, blanks (index 0) dropped,
    the score the mean probability of the characters kept."""
    best = probs.argmax(axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    keep &= best != 0
    if not keep.any():
        return "", 0.0
    return "".join(charset[i] for i in best[keep]), float(probs.max(axis=1)[keep].mean())


def digit_readings(probs: np.ndarray, digits: list[int], beam: int = 8, keep: int = 4) -> tuple[tuple[str, float], ...]:
    """The most probable digit strings of one CTC output (frames x classes), each string's
    probability summed over all its paths (prefix beam search), normalised over those kept."""
    beams: dict[str, list[float]] = {"": [1.0, 0.0]}  # prefix -> [ends in blank, ends in a digit]
    for frame in probs:
        blank = float(frame[0])
        likely = [(str(d), float(frame[c])) for d, c in enumerate(digits) if frame[c] > 1e-4]
        nxt: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for prefix, (pb, pd) in beams.items():
            nxt[prefix][0] += (pb + pd) * blank
            for ch, p in likely:
                if prefix.endswith(ch):
                    nxt[prefix][1] += pd * p  # the same digit held over frames
                    nxt[prefix + ch][1] += pb * p  # a doubled digit, split by a blank
                else:
                    nxt[prefix + ch][1] += (pb + pd) * p
        beams = dict(sorted(nxt.items(), key=lambda kv: -sum(kv[1]))[:beam])
    best = [(text, sum(p)) for text, p in beams.items() if text][:keep]
    total = sum(p for _, p in best) or 1.0
    return tuple((text, round(p / total, 6)) for text, p in best)


_STROKES = frozenset("1lI|丨/")
# stroke slopes (x per row, y down): an upright 1, a typical CJK-font slash, and their spread
_UPRIGHT, _SLASH, _SPREAD = 0.03, -0.3, 0.08


def stroke_slope(crop: np.ndarray) -> float | None:
    """How far the ink of a one-stroke glyph moves right per row down: about 0 for a ``1``'s
    upright stem, about -0.2 to -0.4 for a ``/``.  Middle rows of the tallest ink blob only
    (a ``1``'s flag and foot, specks and ruling lines say nothing)."""
    _, ink = cv2.threshold(gray(crop), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink_slope(ink)


def ink_slope(ink: np.ndarray) -> float | None:
    """``stroke_slope`` of an ink mask (nonzero where printed), however it was thresholded."""
    blob = _glyph(ink)
    if blob is None:
        return None
    h = blob.shape[0]
    rows = [(r, float(np.nonzero(blob[r])[0].mean())) for r in range(int(h * 0.2), int(h * 0.8)) if blob[r].any()]
    if len(rows) < 4:
        return None
    r, c = np.asarray(rows).T
    return float(np.polyfit(r, c, 1)[0])


def top_bar(ink: np.ndarray) -> bool:
    """Whether the glyph of an ink mask is barred across its top, as a ``7`` is: its top fifth
    spans most of its width, where a slash's top is one stroke's end (both lean alike)."""
    blob = _glyph(ink)
    if blob is None:
        return False
    h, w = blob.shape
    cols = np.nonzero(blob[:max(1, round(0.2 * h))].any(axis=0))[0]
    return cols.size > 0 and cols[-1] - cols[0] + 1 >= 0.7 * w


def _glyph(ink: np.ndarray) -> np.ndarray | None:
    """The tallest blob of an ink mask that is no ruling line running across it, cut to its
    box; None when none stands at least 0.4 of the mask's height."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink)
    glyphs = [k for k in range(1, n) if stats[k, cv2.CC_STAT_WIDTH] < 0.8 * ink.shape[1]
              and stats[k, cv2.CC_STAT_HEIGHT] < 0.95 * ink.shape[0] + 4]
    if not glyphs:
        return None
    k = max(glyphs, key=lambda k: stats[k, cv2.CC_STAT_HEIGHT])
    x, y, w, h = stats[k, :4]
    if h < 0.4 * ink.shape[0]:
        return None
    return labels[y:y + h, x:x + w] == k


def read_slashes(image: np.ndarray, boxes: list[Box]) -> list[Box]:
    """Zeros printed as ``/``, which the recogniser reads as ``1`` on poor scans.

    Every one-stroke glyph is weighed between a slash and an upright ``1`` by the slope of
    its stroke, and carries both readings with those odds for the arithmetic to check.  A
    page prints its zeros one way: when most of its strokes lean, slashes are as likely as
    ones a priori and the page's own slope is the slash's; otherwise a slash is the
    exception (prior 1 in 10) with a typical font's slope.
    """
    slopes = {}
    for i, b in enumerate(boxes):
        if b.text.strip() in _STROKES:
            x0, y0, x1, y1 = (int(v) for v in b.bbox)
            slope = stroke_slope(image[y0:y1, x0:x1])
            if slope is not None and abs(slope) < 1.0:
                slopes[i] = slope
    leaning = [v for v in slopes.values() if v < (_SLASH + _UPRIGHT) / 2]
    page_of_slashes = len(leaning) >= 4 and len(leaning) >= len(slopes) / 2
    slash, prior = (float(np.median(leaning)), 0.5) if page_of_slashes else (_SLASH, 0.1)
    out = list(boxes)
    for i, v in slopes.items():
        like_slash = prior * math.exp(-((v - slash) ** 2) / (2 * _SPREAD ** 2))
        like_one = (1 - prior) * math.exp(-((v - _UPRIGHT) ** 2) / (2 * _SPREAD ** 2))
        p = like_slash / (like_slash + like_one) if like_slash + like_one > 0 else prior
        if p < 1e-4:
            continue  # an upright 1: its own readings stand
        text = "/" if p > 0.5 else "1"
        readings = tuple(sorted((("/", round(p, 6)), ("1", round(1 - p, 6))), key=lambda kv: -kv[1]))
        out[i] = Box(text, boxes[i].bbox, boxes[i].page, boxes[i].score, readings)
    return out


_NUMBERS = re.compile(r"^\d+(?:\s+\d+)+$")


def split_numbers(box: Box) -> list[Box]:
    """A box the recogniser read as several spaced numbers (``37 42 57``, neighbouring
    cells the detector joined across a faint rule) becomes one box per number, each
    given its share of the width by character count (no n-best of its own: the split is a guess)."""
    text = box.text.strip()
    if not _NUMBERS.match(text):
        return [box]
    x0, y0, x1, y1 = box.bbox
    per = (x1 - x0) / len(text)
    out = []
    for m in re.finditer(r"\d+", text):
        out.append(Box(m.group(), (x0 + m.start() * per, y0, x0 + m.end() * per, y1), box.page, box.score,
                       ((m.group(), 1.0),)))
    return out


def _bgr(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)


def table_rules(image: np.ndarray, text_height: float) -> np.ndarray:
    """Mask of the page's vertical table rules.

    A rule is a long straight vertical run of ink that reaches a horizontal rule at its top
    or bottom end and spans at least a row (one and a half text heights).  A glyph's stroke,
    however long in a large bold title, meets no horizontal rule, so text outside the tables
    is never cut.
    """
    g = gray(image)
    _, ink = cv2.threshold(g, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    h, w = g.shape
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(15, h // 60))))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, w // 12), 1)))
    horizontal = cv2.dilate(horizontal, np.ones((7, 7), np.uint8))  # a rule's end may stop short of the crossing one
    n, labels, stats, _ = cv2.connectedComponentsWithStats(vertical)
    rules = np.zeros_like(vertical)
    for k in range(1, n):
        x, y, bw, bh = stats[k, :4]
        if bh < 1.5 * text_height or bw > max(6, bh / 8):
            continue
        if horizontal[y:y + 3, x:x + bw].any() or horizontal[y + bh - 3:y + bh, x:x + bw].any():
            rules[labels == k] = 1
    return rules


def split_at_rules(bbox: tuple[float, float, float, float], rules: np.ndarray) -> list[tuple[float, float, float, float]]:
    """The box cut wherever a vertical rule runs through most of its height."""
    x0, y0, x1, y1 = (int(round(v)) for v in bbox)
    x0, y0 = max(x0, 0), max(y0, 0)
    window = rules[y0:y1, x0:x1]
    if window.size == 0:
        return [bbox]
    covered = window.mean(axis=0) > 0.6
    covered[:4] = covered[-4:] = False  # a rule at the box's own edge cuts nothing
    pieces, start = [], x0
    for x in range(len(covered) + 1):
        if x < len(covered) and covered[x]:
            if x0 + x - start >= 4:
                pieces.append((float(start), bbox[1], float(x0 + x), bbox[3]))
            start = x0 + x + 1
    if x0 + len(covered) - start >= 4:
        pieces.append((float(start), bbox[1], float(x0 + len(covered)), bbox[3]))
    return pieces or [bbox]


def _bbox(quad) -> tuple[float, float, float, float]:
    q = np.asarray(quad, dtype=float)
    return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


@lru_cache(maxsize=2)
def default_engine(device: str = "cpu", threads: int | None = None) -> RapidOcr:
    return RapidOcr(device, threads)

