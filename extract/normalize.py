"""Text normalisation shared by every stage: what a cell says, as a kind and a number."""
from __future__ import annotations

import re
import unicodedata
from enum import IntEnum

from .records import Number


class Kind(IntEnum):
    TEXT = 0
    NUMBER = 1
    ZERO = 2  # a printed stand-in for zero: — / 无
    BLANK = 3


_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:件|个|项|条|万元|元)?$")
_ZERO_MARKS = frozenset({"—", "——", "-", "--", "―", "─", "–", "/", "无", "\\"})
# Letters OCR reads for digits in a number cell (``O`` for ``0``, ``l`` for ``1``); only
# short cells made of digits and these, so that words never turn into numbers.
_LOOKALIKE = str.maketrans("Oo〇lI|丨", "0001111")
_LOOKALIKE_CELL = re.compile(r"^[\dOo〇lI|丨]{1,4}$")


def normalize(text: str) -> str:
    """NFKC (full-width digits and brackets to ASCII) with all whitespace removed."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def _digits(t: str) -> str:
    return t.translate(_LOOKALIKE) if _LOOKALIKE_CELL.match(t) else t


def kind_of(text: str) -> Kind:
    t = normalize(text)
    if not t:
        return Kind.BLANK
    if t in _ZERO_MARKS:
        return Kind.ZERO
    return Kind.NUMBER if _NUMBER.match(_digits(t)) else Kind.TEXT


def parse_number(text: str) -> Number | None:
    """The number a value cell prints; blanks and zero marks are 0, text is None."""
    t = normalize(text)
    if not t or t in _ZERO_MARKS:
        return 0
    m = _NUMBER.match(_digits(t))
    if not m:
        return None
    sign, digits, frac = m.groups()
    digits = digits.replace(",", "")
    if frac:
        return float(f"{sign}{digits}{frac}")
    return int(f"{sign}{digits}")
