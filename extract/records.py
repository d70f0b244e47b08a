"""Small typed records passed between the pipeline's stages."""
from __future__ import annotations

from dataclasses import dataclass, field

from .schema import Variant

Number = int | float
BBox = tuple[float, float, float, float]


class ExtractError(Exception):
    """A file that cannot be turned into a report; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell in reading order.

    ``row``/``col`` index the cell in its source table (a line and its tab
    fields, an HTML ``<tr>``/grid column, a DOCX row, a geometric grid); cells of
    later tables continue the row count so rows never repeat across tables.
    """

    text: str
    row: int
    col: int
    page: int | None = None
    bbox: BBox | None = None
    candidates: tuple[tuple[str, float], ...] = ()  # OCR's n-best readings (text, probability)


@dataclass(frozen=True, slots=True)
class Source:
    path: str
    sha256: str
    pages: int
    kind: str  # pdf-text | pdf-scan | image | text | html | docx


@dataclass(slots=True)
class Document:
    """What ingest produces: the report's running text and its table cells."""

    source: Source
    text: str
    cells: list[Cell]
    images: dict = field(default_factory=dict)  # page number -> image its boxes lie on (when kept)


@dataclass(frozen=True, slots=True)
class Reading:
    """The decided value of one canonical cell."""

    key: str
    value: Number
    text: str
    confidence: float
    status: str  # read | corrected | needs_review
    page: int | None = None
    bbox: BBox | None = None
    candidates: tuple[tuple[Number, float], ...] = ()  # other readings of an OCR'd cell, with probabilities
    placement: float | None = None  # how sure the structure stage is of the cell's place (None: as confidence)
    doubt: str | None = None  # why the structure stage sent the cell to a person whatever its confidence
    # why a needs_review cell must be seen (``code: detail``, codes in ``reconcile.REASONS``); None otherwise
    reason: str | None = None
    inspected: bool = False  # a blank whose region the second look found to hold no number: seen, not assumed

    @property
    def unknown(self) -> bool:
        """No cell was found for the key and no sum derives it: its value is not known (null in
        the output; ``value`` holds 0 for the arithmetic)."""
        return (self.status == "needs_review" and not self.text and self.bbox is None and self.confidence == 0.0
                and not (self.reason or "").startswith("derived"))

    @property
    def placed(self) -> float:
        """How sure the cell's place is, whatever its reading."""
        return self.confidence if self.placement is None else self.placement


@dataclass(frozen=True, slots=True)
class Recognized:
    """What the recogniser made of one crop: its text, its score, and for a number its n-best digit strings."""

    text: str
    score: float
    nbest: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """How a scan's second look (``verify``) reads a page (sizes in text heights of the page's numbers)."""

    ink: bool = True  # look for ink in blank cells
    second_reading: bool = True  # read every number again
    min_ink: float = 0.3  # a mark at least this tall or wide counts as ink (specks of noise do not)
    reach_left: float = 0.8  # the second crop reaches this far left of the box: a minus sign the box left out
    scale: float = 1.6  # and is this much larger than the first


@dataclass(frozen=True, slots=True)
class SecondLook:
    """What a scan's page showed at a key's cell when looked at again (``verify``).

    ``ink``: the cell read as a blank holds ink, ``first`` its close crop read and ``again``
    a wider, larger one.  ``again``: a number read a second time from its cell's region,
    ``dash`` when a short level stroke stands left of its digits (a minus sign).  ``clear``:
    the blank cell's region holds no ink, or only a dash (a zero printed so).  ``band``: the
    cell's row had no column found on its page, and its line holds marks no box read, ``first``
    their readings.  ``off_print``: the columns found for its row reach past all the page prints.
    ``crowded``: the columns found for its row crowd each other (no page prints so).
    ``off_column``: a number of its row stands in another column's region than its own, the
    column of a blank (``other``: the key of the other of the two cells)."""

    key: str
    kind: str  # ink | again | clear | band | off_print | crowded | off_column
    box: BBox
    again: Recognized | None = None
    first: Recognized | None = None
    dash: bool = False
    page: int | None = None  # the page ``box`` lies on
    other: str | None = None  # off_column: the other cell's key


@dataclass(frozen=True, slots=True)
class Check:
    rule: str
    holds: bool
    verdict: str  # ok | corrected | source_inconsistent | unresolved
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure the report's prose states: ``value`` should be the sum of the cells ``keys``."""

    name: str
    keys: tuple[str, ...]
    value: int


@dataclass(frozen=True, slots=True)
class Metadata:
    agency: str | None
    year: int | None
    layout: str | None
    figures: tuple[Figure, ...] = ()
    agency_reason: str | None = None  # why ``agency`` is None: a code (not_found, unsound, disagree), ": ", the detail


@dataclass(frozen=True, slots=True)
class Basis:
    """What reconciliation started from (the structure stage's readings, before any identity
    was applied), kept so that a reviewer's decisions can be reconciled with the rest again."""

    readings: tuple[Reading, ...]
    missing: frozenset[str]
    variant: Variant
    strong: float
    exact: bool
    unread: int = 0  # number cells among the tables that no key took
    inconsistent: frozenset[str] = frozenset()  # identities the source breaks whichever way its doubtful cells read


@dataclass(frozen=True, slots=True)
class Template:
    """The table variant the structure stage took, how sure it was against the runner-up."""

    variant: Variant
    p: float = 1.0
    rival: Variant | None = None


@dataclass(slots=True)
class Report:
    source: Source
    metadata: Metadata
    layout: str
    readings: list[Reading]
    checks: list[Check] = field(default_factory=list)
    basis: Basis | None = None
    template: Template | None = None
