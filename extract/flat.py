"""Flat text: tables whose cells ran together, as web crawlers keep a page's text with its tags
stripped (``一、本年新收政府信息公开申请数量21710000218`` is 217 1 0 0 0 0 218).

Each row label of the template is found in order; what follows it up to the first character
no number is made of is the row's *run*.  A run of n characters standing for k cells has many
splits into k numbers (no leading zeros but ``0`` itself, a sign only where 本年增/减 may be
negative, a decimal point only in money cells).  The tables' own sums choose between them,
jointly over the rows they bind, and so do the figures the prose states.  Spaces a page kept
and units (``2笔``, ``984361元``) are evidence: a unit ends a number, and a split that puts its
boundaries at the spaces is preferred, never required (a space may fall inside a number).

A cell is read only when every split that fits best gives it the same value, and fitting best
means breaking no identity; otherwise its row goes to a person with the splits' values as
candidates (``split_ambiguous``).
"""
from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from .reconcile import Identity, identities, stated, why
from .records import Figure, Number, Reading
from .schema import DECIMAL_KEYS, SIGNED_KEYS, RowSpec, Variant

# markup a crawler left in the text (conditional comments, stray tags, entities)
_MARKUP = re.compile(r"<!--.*?-->|<!\[[^\]]{0,80}\]-*>|</?[a-zA-Z][^<>]{0,200}>|&nbsp;|&#160;", re.S)
_FULLWIDTH = str.maketrans("０１２３４５６７８９．－\u3000\xa0", "0123456789.-  ")
_UNITS = ("万元", "元", "笔", "件", "个", "项", "次", "条")
_ZERO_MARKS = "—–/无"  # a cell printed as a dash, a slash or 无: zero (a hyphen before no digit too)
# what a run is made of: digits, a point, a sign, spaces (not line breaks or tabs: a line or a
# tab-separated field is a table the cell reader parses), units, zero marks
_RUN = re.compile(r"(?:[\d.\- —–/无]|(?<=\d)[,，](?=\d{3})|万元|[元笔件个项次条])*")
_NUMBERING = re.compile(r"^(?:([一二三四五六七八九十]+)、|（([一二三四五六七八九十]+)）|(\d+)[.．、])")
_ALIKE = {"“": "[“”\"「」『』]", "”": "[“”\"「」『』]", "（": "[（(]", "）": "[）)]", "．": "[.．、]", ".": "[.．、]",
          "、": "[、.．，,]", "/": "[/／]", "，": "[，,]"}
_OTHER_SUBROW = next(r.label for r in Variant("2021", True).rows if r.name == "requests.other.overdue_correction")
ZERO, DASH = "z", "m"  # among a run's characters: a zero mark; a hyphen (a zero mark, or a minus sign)
MAX_SPLITS = 4000  # splits of one row enumerated at most: beyond, the row goes to a person
MAX_STEPS = 1_000_000  # steps of one row's enumeration at most: a safety net against a pathological page (the same)
_DIGITS = 9  # the longest count a cell holds (money may be longer)


@dataclass(frozen=True, slots=True)
class Run:
    """The characters after one row's label: ``chars`` without spaces and units, the cut
    points a unit forces (``hard``) and the ones a space suggests (``soft``)."""

    row: RowSpec
    chars: str
    hard: frozenset[int]
    soft: frozenset[int]
    glue: frozenset[int]  # where a thousands separator stood: inside a number
    text: str  # as the page has it
    tail: str = ""  # its last digits, which may be the next label's bare numbering (``1属于…``)
    stray: str = ""  # what stands between the run and the next label, when it holds digits


@dataclass(frozen=True, slots=True)
class Split:
    values: tuple[Number, ...]
    tokens: tuple[str, ...]
    cost: int  # boundaries off the page's spaces and units, and spaces inside a number


def clean(text: str) -> str:
    return _MARKUP.sub(" ", text).translate(_FULLWIDTH)


def _char(c: str) -> str:
    return _ALIKE.get(c, re.escape(c))


def label_pattern(label: str) -> re.Pattern:
    """A row label as the page may print it: spaces anywhere, its numbering in any style or
    none (group ``num``), a parenthesised tail (（区分处理的，…）) optional, quotes and brackets
    of either width."""
    m = _NUMBERING.match(label)
    core = label[m.end():] if m else label
    tail = re.search(r"（[^（）]+）$", core) if len(core) > 12 else None
    body, tail = (core[:tail.start()], core[tail.start():]) if tail else (core, "")
    join = lambda s: r"\s*".join(_char(c) for c in s)  # noqa: E731
    pattern = join(body) + (f"(?:\\s*{join(tail)})?" if tail else "")
    if not m:
        return re.compile(pattern)
    chinese, n = m.group(1) or m.group(2), _numeral(label)
    # a bare Arabic numeral is no numbering: it may be the last digit of the row before
    number = f"{n}\\s*(?:[）)]|[.．、])"
    if chinese:
        number = f"(?:{chinese}\\s*(?:[）)]|[.．、])?|{number})"
    return re.compile(f"(?P<num>(?:[（(]\\s*)?{number}\\s*)?{pattern}")


_CN = "一二三四五六七八九十"


def _numeral(label: str) -> str | None:
    """The Arabic numeral of a label's numbering (``3.其他`` -> 3, ``（七）总计`` -> 7)."""
    m = _NUMBERING.match(label)
    if not m:
        return None
    chinese = m.group(1) or m.group(2)
    return str(_CN.index(chinese) + 1) if chinese else m.group(3)


def _runs(text: str, variant: Variant) -> tuple[list[Run | None], list[tuple[int, int] | None]]:
    """Each row's run, in the template's order (None: its label was not found), and the span
    of each label found.  A run ends where the next label found begins (its numbering, ``2.``,
    is no digit of this row's)."""
    # 表二's first heading (the title is also named in the prose that outlines the report)
    start = next((m.start() for m in (re.search(p, text) for p in ("第二十条第", "主动公开政府信息情况")) if m), 0)
    pos, found = start, []
    for row in variant.rows:
        m = label_pattern(row.label).search(text, pos)
        if m is None or m.start() - pos > 1500:  # not this page's label: the next row's search starts here still
            found.append(None)
            continue
        end = m.end()
        if row.table == "review_litigation":  # its run follows the two-level header
            digit = re.compile(r"[^\d。\n]{0,300}?(?=\d)").match(text, end)
            end = digit.end() if digit else end
        bare = "num" in m.re.groupindex and m.group("num") is None and _numeral(row.label)
        found.append((m.start(), end, bare or ""))
        pos = end
    out: list[Run | None] = []
    for n, (row, span) in enumerate(zip(variant.rows, found)):
        if span is None or not row.keys:
            out.append(None)
            continue
        after = next((s for s in found[n + 1:] if s is not None), None)
        stop = after[0] if after else len(text)
        run = _RUN.match(text[:stop], span[1]).group()
        # the next label's numeral printed bare, right after this row's digits, may be either's
        tail = after[2] if after and after[2] and span[1] + len(run) == stop and run.endswith(after[2]) else ""
        rest = text[span[1] + len(run):stop] if after else ""
        rest = rest[:len(rest) - len(after[2])] if after and after[2] and rest.endswith(after[2]) else rest
        out.append(replace(_parse_run(row, run.rstrip(" ."), tail), stray=rest if re.search(r"\d", rest) else ""))
    return out, [s[:2] if s else None for s in found]


def _parse_run(row: RowSpec, run: str, tail: str = "") -> Run:
    chars, hard, soft, glue = [], set(), set(), set()
    i = 0
    while i < len(run):
        unit = next((u for u in _UNITS if run.startswith(u, i)), None)
        if unit:
            hard.add(len(chars))
            i += len(unit)
            continue
        c = run[i]
        if c == " ":
            soft.add(len(chars))
        elif c in ",，":
            glue.add(len(chars))
        elif c in _ZERO_MARKS:
            hard |= {len(chars), len(chars) + 1}
            chars.append(ZERO)
        elif c == "-":  # a minus sign, or a zero printed as a hyphen: which, the cell it falls in says
            hard.add(len(chars))
            chars.append(DASH)
        else:
            chars.append(c)
        i += 1
    n = len(chars)
    return Run(row, "".join(chars), frozenset(hard - {0, n}), frozenset(soft - {0, n}), frozenset(glue), run, tail)


def _number(token: str, key: str) -> Number | None:
    return _value(token, key in SIGNED_KEYS, key in DECIMAL_KEYS)


_NUMBER = re.compile(f"({DASH}?)(0|[1-9]\\d*)(?:\\.(\\d+))?")


@lru_cache(maxsize=1 << 16)
def _value(token: str, signed: bool, decimal: bool) -> Number | None:
    if token in (ZERO, DASH):
        return 0
    m = _NUMBER.fullmatch(token)
    if not m or m.group(1) and not signed or m.group(3) is not None and not decimal:
        return None
    if len(m.group(2)) > (_DIGITS + 4 if decimal else _DIGITS):
        return None
    value = float(m.group(2) + "." + m.group(3)) if m.group(3) is not None else int(m.group(2))
    value = -value if m.group(1) else value
    return value if value != 0 else 0


def splits(run: Run, blanks: bool = False, sums: list[Identity] = (), limit: int = MAX_SPLITS) -> tuple[list[Split], bool]:
    """Every split of the run into numbers for its row's cells, and whether the enumeration was
    complete; with its ``tail`` and without it.  ``blanks``: a cell may be left blank (0);
    ``sums``: only the splits that make these identities of the row hold."""
    keys = run.row.keys
    checks = [([keys.index(k) for k in i.parts], [keys.index(k) for k in i.total]) for i in sums]
    out, complete = _splits(run, run.chars, blanks, checks, limit)
    if run.tail:
        more, whole = _splits(run, run.chars[:len(run.chars) - len(run.tail)], blanks, checks, limit)
        out, complete = out + more, complete and whole
    return list({s.values: s for s in out}.values()), complete


def _splits(run: Run, chars: str, blanks: bool, checks: list[tuple[list[int], list[int]]],
            limit: int) -> tuple[list[Split], bool]:
    keys, n = run.row.keys, len(chars)
    due: dict[int, list] = {}  # cell index -> the sums complete once it is set
    for parts, total in checks:
        due.setdefault(max(parts + total), []).append((parts, total))
    hard = sorted(h for h in run.hard if h <= n)
    stop = [next((h for h in hard if h > pos), n) for pos in range(n + 1)]  # a number ends at a hard boundary
    soft = [0] * (n + 2)  # soft[i]: soft boundaries before i
    for i in range(1, n + 2):
        soft[i] = soft[i - 1] + (i - 1 in run.soft)
    # the numbers cell i may take from pos, as (end, value, token); and whether the chars from pos
    # can be split into cells i.. at all (sums aside): the walk never enters a dead end
    step = [[[] for _ in range(n + 1)] for _ in keys]
    alive = [[False] * (n + 1) for _ in range(len(keys) + 1)]
    alive[len(keys)][n] = True
    for i in range(len(keys) - 1, -1, -1):
        for pos in range(n, -1, -1):
            for end in range(pos + 1, stop[pos] + 1):
                value = _number(chars[pos:end], keys[i])
                if value is not None and end not in run.glue and alive[i + 1][end]:
                    step[i][pos].append((end, value, chars[pos:end].replace(ZERO, "0").replace(DASH, "-")))
            alive[i][pos] = bool(step[i][pos]) or blanks and alive[i + 1][pos]
    out: list[Split] = []
    complete, budget = True, MAX_STEPS
    pending = [[(parts, total) for parts, total in checks if max(parts + total) >= i] for i in range(len(keys) + 1)]
    # a state that gave no split (the cell and place the walk is at, and the running balance of each
    # sum not yet complete: the rest of the walk depends on nothing else) gives none however reached
    dead: set[tuple] = set()

    def walk(i: int, pos: int, values: list, tokens: list, cost: int) -> None:
        nonlocal complete, budget
        budget -= 1
        if len(out) >= limit or budget < 0:
            complete = False
            return
        if any(sum(values[p] for p in parts) != sum(values[t] for t in total) for parts, total in due.get(i - 1, ())):
            return
        if i == len(keys):
            out.append(Split(tuple(values), tuple(tokens), cost))
            return
        state = (i, pos, *(sum(values[p] for p in parts if p < i) - sum(values[t] for t in total if t < i)
                           for parts, total in pending[i]))
        if state in dead:
            return
        found = len(out)
        if blanks and alive[i + 1][pos]:
            walk(i + 1, pos, values + [0], tokens + [""], cost)
        for end, value, token in step[i][pos]:
            gap = soft[end] - soft[pos + 1] + (end < n and end not in run.soft and end not in run.hard)
            walk(i + 1, end, values + [value], tokens + [token], cost + gap)
        if len(out) == found and complete:
            dead.add(state)

    if alive[0][0]:
        walk(0, 0, [], [], 0)
    return out, complete


def _violations(idents: list[Identity], values: dict[str, Number]) -> int:
    return sum(1 for i in idents if abs(sum(values[k] for k in i.parts) - sum(values[k] for k in i.total)) > 1e-6)


@dataclass(frozen=True, slots=True)
class FlatTables:
    """What the flat reader found: the variant, its readings, the keys no label was found for,
    and the identities the characters break however they are split (the report's own error)."""

    variant: Variant
    readings: list[Reading]
    missing: set[str]
    inconsistent: frozenset[str]


def read(text: str, layout: str, figures: tuple[Figure, ...] = ()) -> FlatTables | None:
    """The tables of a flat text (of ``layout``: its （六） in sub-items when the page prints
    their labels); None when the text is not flat (its table rows stand on lines of their own)."""
    text = clean(text)
    variant = Variant(layout, label_pattern(_OTHER_SUBROW).search(text) is not None)
    runs, spans = _runs(text, variant)
    if not is_flat(text, runs, spans):
        return None
    found = {r.row.name: r for r in runs if r is not None}
    row_of = {k: r.row.name for r in found.values() for k in r.row.keys}
    idents = [i for i in identities(variant) if all(k in row_of for k in i.keys)]
    prose, constants = stated(tuple(f for f in figures if all(k in row_of for k in f.keys)))
    options: dict[str, list[Split]] = {}
    reasons: dict[str, str] = {}
    own = {name: [i for i in idents if all(row_of[k] == name for k in i.keys)] for name in found}
    fitting = {name: splits(run, sums=own[name]) for name, run in found.items()}
    for name, run in found.items():
        if run.stray:  # digits the run does not hold: what the row printed is not all understood
            reasons[name] = f"characters after it the reader could not place ({run.stray.strip()[:20]!r})"
        fit, complete = fitting[name]
        # digits that split one way only, into a split its sums vouch for, are the row's; where
        # they split several ways, or no sum checks them, a blank may hide among them (``48`` may
        # be 4 | 8, or 48 beside a blank cell; 3 90 1 2 96 adds up, and so does 39 0 12 9 60 _)
        if not fit or not own[name] or len(splits(run, limit=2)[0]) > 1:
            more, whole = splits(run, True, own[name])
            fit, complete = list({s.values: s for s in fit + more}.values()), complete and whole
        # a row of one digit a cell that does not add up is the report's own error, as printed
        # (unless a blank in it would make it add up: then either may be so)
        rows, whole = splits(run)
        printed = len(rows) == 1 and len(run.chars) == len(run.row.keys) and run.chars.isdigit() and not run.tail
        if fit and complete:
            options[name] = fit if fitting[name][0] or not printed else rows + fit
            continue
        if not printed:
            more, done = splits(run, True)
            rows, whole = list({s.values: s for s in rows + more}.values()), whole and done
        options[name] = (fit or rows)[:MAX_SPLITS] or [Split((0,) * len(run.row.keys), ("",) * len(run.row.keys), 0)]
        if not (complete and whole):
            reasons[name] = "its digits split too many ways to try"
        elif not fit and not rows:
            reasons[name] = "its characters split into no numbers"
        elif not printed and len(options[name]) == 1:
            reasons[name] = "its one split does not add up"
    # a page whose spaces fall between every two cells and nowhere else (as far as the rows the
    # sums decide show, but for a few): there, a boundary off the spaces is evidence against a split
    # (boundaries at a unit or a zero mark say nothing of it)
    decided = [(found[n], o[0]) for n, o in options.items() if len(o) == 1 and n not in reasons and not found[n].tail]
    gaps = [b for run, split in decided for b in _boundaries(split) if b not in run.hard]
    spaced = len(gaps) >= 10 and sum(split.cost for _, split in decided) <= 0.05 * len(gaps)
    if spaced:  # a row whose splits all depart from its spaces may hide a blank (``12 16  702``)
        for name, opts in options.items():
            if name not in reasons and min(s.cost for s in opts) > 0:
                more, whole = splits(found[name], True, own[name])
                options[name] = list({s.values: s for s in opts + more}.values())
                if not whole:
                    reasons[name] = "its digits split too many ways to try"
    chosen, broken = _decide(options, found, row_of, idents + prose, constants, spaced)
    # a sum the choices break: its rows' own sums may have held by chance (13 24 0 0 0 _ 37 read
    # as 1 32 4 0 0 0 37), so every split of them, blanks too, is weighed again with it
    failing = _failing(idents, chosen, found)
    again = {row_of[k] for i in failing for k in i.keys} - set(reasons)
    if again:
        for name in again:
            more, whole = splits(found[name], True, own[name])
            options[name] = list({s.values: s for s in options[name] + more}.values())
            if not whole:
                reasons[name] = "its digits split too many ways to try"
        chosen, broken = _decide(options, found, row_of, idents + prose, constants, spaced)
        for i in _failing(idents, chosen, found):  # still broken: a row split more than one way may be why
            for name in {row_of[k] for k in i.keys}:
                if len(options[name]) > 1:
                    reasons.setdefault(name, f"{i.rule} does not add up, and its characters split more than one way")
    for name in broken:
        reasons.setdefault(name, "no split of it makes every sum hold")
    readings = []
    for name, run in found.items():
        for n, key in enumerate(run.row.keys):
            best, token = chosen[name][0].values[n], chosen[name][0].tokens[n]
            if len({s.values[n] for s in chosen[name]}) == 1 and name not in reasons:
                readings.append(Reading(key, best, token, 1.0, "read", placement=1.0))
                continue
            weights = [math.exp(_prior((s,), [name], found)) for s in chosen[name]]
            values: Counter = Counter()
            for s, w in zip(chosen[name], weights):
                values[s.values[n]] += w / sum(weights)
            candidates = tuple((v, round(p, 4)) for v, p in values.most_common())
            detail = reasons.get(name) or f"{len(chosen[name])} splits fit the sums equally well"
            readings.append(Reading(key, best, token, round(values[best], 4), "needs_review",
                                    candidates=candidates, placement=1.0, doubt="split",
                                    reason=why("split_ambiguous", f"{run.row.label} {run.text.strip()!r}: {detail}")))
    missing = {k for r in variant.rows if r.keys and r.name not in found for k in r.keys}
    return FlatTables(variant, readings, missing, _unsatisfiable(_failing(idents, chosen, found), found, row_of))


def _unsatisfiable(failing: list[Identity], found: dict[str, Run], row_of: dict[str, str]) -> frozenset[str]:
    """The failing identities that no split of their rows' characters (blanks too) makes hold:
    whichever split is right, the report's printed numbers do not add up.  Only where every
    split was enumerated and no row has characters left unplaced."""
    out = set()
    every: dict[str, tuple[list[Split], bool]] = {}  # a row's splits, enumerated once for every identity it is in
    for ident in failing:
        reachable = {0}
        for name in sorted({row_of[k] for k in ident.keys}):
            run = found[name]
            if run.stray:
                break
            if name not in every:
                every[name] = splits(run, True)
            options, complete = every[name]
            if not complete:
                break
            keys = run.row.keys
            part = [n for n, k in enumerate(keys) if k in ident.parts]
            total = [n for n, k in enumerate(keys) if k in ident.total]
            deltas = {round(sum(s.values[n] for n in part) - sum(s.values[n] for n in total), 6) for s in options}
            reachable = {round(a + b, 6) for a in reachable for b in deltas}
            if len(reachable) > MAX_STATES:
                break
        else:
            if all(abs(x) > 1e-6 for x in reachable):
                out.add(ident.rule)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Printed:
    """A row as printed, its cells' places lost: its numbers in order, and how many empty
    cells stood before, between and after them (``len(numbers) + 1`` counts)."""

    row: RowSpec
    numbers: tuple[Number, ...]
    empties: tuple[int, ...]


def place(rows: dict[str, Printed], values: dict[str, Number],
          variant: Variant) -> tuple[dict[str, list[Split]], set[str]]:
    """Rows whose cells lost their places (a markdown converter drops empty cells, or adds
    some): every way of putting a row's numbers, in order, into its cells, the rest blank (0),
    decided as a flat text's splits are, jointly with the rows the sums bind, the keys of
    ``values`` held at them (a sum with a key neither placed nor given is no evidence).  For
    each row the placements some best choice takes, and the rows whose best still breaks a
    sum.  A placement's cost is how far its blanks stand from the printed empty cells: a hint
    for which to show first, never grounds to take it."""
    found = {name: Run(p.row, "", frozenset(), frozenset(), frozenset(), "") for name, p in rows.items()}
    options = {}
    for name, p in rows.items():
        options[name] = []
        for at in itertools.combinations(range(len(p.row.keys)), len(p.numbers)):
            cells = dict(zip(at, p.numbers))
            gaps = [b - a - 1 for a, b in zip((-1, *at), (*at, len(p.row.keys)))]
            options[name].append(Split(tuple(cells.get(n, 0) for n in range(len(p.row.keys))),
                                       tuple(str(cells[n]) if n in cells else "" for n in range(len(p.row.keys))),
                                       sum(abs(g - e) for g, e in zip(gaps, p.empties))))
        # placements giving the same values are one reading (0 0 0 printed as 0 is 0 0 0 wherever it stood)
        options[name] = list({o.values: o for o in sorted(options[name], key=lambda o: -o.cost)}.values())
    row_of = {k: name for name, p in rows.items() for k in p.row.keys}
    fixed = {k: v for k, v in values.items() if k not in row_of}
    idents = [i for i in identities(variant) if all(k in row_of or k in fixed for k in i.keys)]
    return _decide(options, found, row_of, idents, fixed, False)


def _failing(idents: list[Identity], chosen: dict[str, list[Split]], found: dict[str, Run]) -> list[Identity]:
    values = {k: v for name, opts in chosen.items() for k, v in zip(found[name].row.keys, opts[0].values)}
    return [i for i in idents if _violations([i], values)]


def _boundaries(split: Split) -> list[int]:
    """Where the split cuts its run's characters (between two numbers)."""
    ends = list(itertools.accumulate(len(t) for t in split.tokens if t))
    return ends[:-1]


def is_flat(text: str, runs: list[Run | None], spans: list[tuple[int, int] | None]) -> bool:
    """表三's rows run on in one line (a row of blanks leaves its label alone)."""
    rows = [(r, s) for r, s in zip(runs, spans) if r is not None and r.row.table == "requests"]
    if len(rows) < 10:
        return False
    return text.count("\n", rows[0][1][0], rows[-1][1][1]) < 0.5 * len(rows)


def _decide(options: dict[str, list[Split]], found: dict[str, Run], row_of: dict[str, str], idents: list[Identity],
            constants: dict[str, int], spaced: bool) -> tuple[dict[str, list[Split]], set[str]]:
    """For each row, the splits that fit best, and the rows whose best still breaks a sum.
    A row with one split takes it; the others are decided jointly with every row their sums
    bind: the fewest broken identities, then (``spaced``) the fewest departures from the page's spaces."""
    chosen = {name: opts for name, opts in options.items() if len(opts) == 1}
    fixed: dict[str, Number] = dict(constants)
    for name, opts in chosen.items():
        fixed.update(zip(found[name].row.keys, opts[0].values))
    broken: set[str] = set()
    for group in _bound([n for n in options if n not in chosen], idents, row_of):
        rows = sorted(group)
        near = [i for i in idents if any(row_of.get(k) in group for k in i.keys)]
        usable = _joint(rows, options, found, near, fixed, spaced)
        if usable is None:  # too many ways together to weigh: every row to a person
            broken |= set(rows)
            usable = ({r: options[r] for r in rows}, 1)
        best, violations = usable
        if violations:
            broken |= set(rows)
        for r in rows:  # the likeliest first, for the value a person is shown
            chosen[r] = sorted(best[r], key=lambda s: -_prior((s,), [r], found))
    return chosen, broken


MAX_STATES = 200_000  # partial sums the joint search keeps at most


def _joint(rows: list[str], options: dict[str, list[Split]], found: dict[str, Run], idents: list[Identity],
           fixed: dict[str, Number], spaced: bool) -> tuple[dict[str, list[Split]], int] | None:
    """Every row's splits that some best joint choice takes, and how many identities the best
    breaks: fewest broken first, then (``spaced``) fewest departures from the spaces.  A dynamic
    programme over the rows whose state is each identity's running balance (parts less
    totals), forward and backward, so that it is exact without trying every combination."""
    def balance(values: dict[str, Number]) -> tuple:
        return tuple(sum(values.get(k, 0) for k in i.parts) - sum(values.get(k, 0) for k in i.total) for i in idents)

    step = {r: [(balance(dict(zip(found[r].row.keys, s.values))), s.cost if spaced else 0, s) for s in options[r]]
            for r in rows}
    forward = [{balance(fixed): 0}]
    for r in rows:
        nxt: dict[tuple, int] = {}
        for state, cost in forward[-1].items():
            for delta, c, _ in step[r]:
                key = tuple(round(a + b, 6) for a, b in zip(state, delta))
                if cost + c < nxt.get(key, math.inf):
                    nxt[key] = cost + c
        if len(nxt) > MAX_STATES:
            return None
        forward.append(nxt)
    score = lambda state: (sum(1 for x in state if abs(x) > 1e-6), forward[-1][state])  # noqa: E731
    best = min(score(s) for s in forward[-1])
    backward = {s: 0 for s in forward[-1] if score(s) == best}
    usable: dict[str, list[Split]] = {}
    for n in range(len(rows) - 1, -1, -1):
        here: dict[tuple, int] = {}
        mine: list[Split] = []
        for state, cost in forward[n].items():
            for delta, c, split in step[rows[n]]:
                key = tuple(round(a + b, 6) for a, b in zip(state, delta))
                if key in backward and cost + c + backward[key] == best[1]:
                    here[state] = min(here.get(state, math.inf), c + backward[key])
                    mine.append(split)
        usable[rows[n]] = list(dict.fromkeys(mine))
        backward = here
    return usable, best[0]


def _prior(combo: tuple[Split, ...], rows: list[str], found: dict[str, Run]) -> float:
    """How likely the counts are a priori: small ones are common (log-uniform); money has no prior."""
    return -sum(math.log1p(abs(v)) for r, s in zip(rows, combo) for k, v in zip(found[r].row.keys, s.values)
                if k not in DECIMAL_KEYS)


def _bound(rows: list[str], idents: list[Identity], row_of: dict[str, str]) -> list[set[str]]:
    """The open rows in groups: rows one identity reads together are decided together."""
    groups: list[set[str]] = []
    for r in rows:
        mine = {r}
        for i in idents:
            names = {row_of[k] for k in i.keys if k in row_of}
            if r in names:
                mine |= names & set(rows)
        for g in [g for g in groups if g & mine]:
            groups.remove(g)
            mine |= g
        groups.append(mine)
    return groups
