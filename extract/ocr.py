"""OCR stage: a page image becomes text boxes.

The default engine runs PaddleOCR's PP-OCR detection and recognition models
as shipped in the ``rapidocr`` wheel, on onnxruntime (CPU unless ``device``
is ``cuda``).  Orientation is decided once per page, not per box: rapidocr's
per-box classifier costs about a second a page and can flip short numbers
(``10`` read as ``01``).  Any object with ``read(image, page) -> list[Box]``
can replace it.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Protocol

import cv2
import numpy as np

from .cells import Box
from .records import ExtractError


class OcrEngine(Protocol):
    def read(self, image: np.ndarray, page: int) -> list[Box]: ...


def gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return image


def is_sideways(image: np.ndarray) -> bool:
    """True when text lines run vertically (page turned by 90 or 270 degrees)."""
    g = gray(image)
    scale = 600 / max(g.shape)
    small = cv2.resize(g, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = (small < 160).astype(np.float32)
    if ink.sum() < 50:
        return False
    # horizontal text makes row sums alternate sharply between lines and gaps
    rows = ink.sum(axis=1)
    cols = ink.sum(axis=0)
    return float(np.std(np.diff(cols))) > 1.3 * float(np.std(np.diff(rows)))


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
            "EngineConfig.onnxruntime.use_cuda": device == "cuda",
        }
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self.device = device
        self.engine = RapidOCR(params=params)

    def recognize(self, image: np.ndarray) -> tuple[list[tuple[float, float, float, float]], list[str], list[float]]:
        """Detect text, cut every detected box at the table's vertical rules, recognise the pieces.

        The detector often joins the numbers of neighbouring narrow columns into one
        box (``13`` and ``73`` read as ``1373``); the rules between them say where to cut.
        """
        color = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        det = self.engine(color, use_rec=False, use_cls=False)
        quads = getattr(det, "boxes", None)
        if quads is None or not len(quads):
            return [], [], []
        rules = vertical_rules(image)
        h, w = color.shape[:2]
        rects = [r for q in quads for r in split_at_rules(_bbox(q), rules)]
        crops, kept = [], []
        for x0, y0, x1, y1 in rects:
            x0, y0, x1, y1 = max(0, int(x0) - 2), max(0, int(y0) - 2), min(w, int(x1) + 2), min(h, int(y1) + 2)
            if x1 - x0 >= 4 and y1 - y0 >= 4:
                crops.append(color[y0:y1, x0:x1])
                kept.append((float(x0), float(y0), float(x1), float(y1)))
        if not crops:
            return [], [], []
        rec = self.engine.recognize_txt(crops)
        return kept, list(rec.txts), [float(x) for x in rec.scores]

    def read(self, image: np.ndarray, page: int) -> list[Box]:
        if is_sideways(image):
            image = rotate(image, 90)
        angle = skew_angle(image)
        if 0.2 < abs(angle) < 15:
            image = rotate(image, angle)
        rects, texts, scores = self.recognize(image)
        if scores and np.mean(scores) < 0.75:  # upside down reads as low-confidence garbage: try it turned
            turned = self.recognize(rotate(image, 180))
            if turned[2] and np.mean(turned[2]) > np.mean(scores):
                rects, texts, scores = turned
        return [Box(t, r, page, s) for r, t, s in zip(rects, texts, scores) if t.strip()]


def vertical_rules(image: np.ndarray) -> np.ndarray:
    """Mask of the page's vertical ruling lines: ink in long thin vertical runs."""
    g = gray(image)
    _, ink = cv2.threshold(g, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    length = max(15, g.shape[0] // 60)
    return cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))


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
def default_engine(device: str = "cpu") -> RapidOcr:
    return RapidOcr(device)

