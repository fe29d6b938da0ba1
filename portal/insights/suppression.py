"""Small groups are protected everywhere a number is shown or exported.

The rules, applied by `protect` to every table before anyone sees it:

1. A group of fewer than `min_cell` learners (INSIGHTS_MIN_CELL, default 10, never
   below 5) shows "fewer than 10" for its learner count and every measure.
2. A goal share counted over fewer than `min_cell` goals is hidden the same way.
3. In a group of fewer than 100, a share under 5% or over 95% shows "under 5%" /
   "over 95%": its numerator is hidden, since a handful of learners could be named.
4. Complementary suppression: a hidden number could be worked out from the total and its
   sibling cells. So wherever exactly one group is hidden, the next smallest group is
   hidden too (its whole row); and in each measure's column, wherever exactly one cell
   hides its numerator (rules 2-3), the cell with the next smallest denominator is hidden
   as well. Then the total minus the shown cells gives only a sum of two or more.

A hidden cell carries no number at all (numerator, denominator and value are None), so
no caller, template or CSV can print what it must not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from portal.core.i18n import gettext as _

from .measures import MEASURES, SHARE

DEFAULT_MIN_CELL = 10
LOWEST_MIN_CELL = 5
BAND_BELOW = 100  # groups under this size get "under 5%" / "over 95%"
BAND_LOW, BAND_HIGH = 0.05, 0.95


class MinCellError(ValueError):
    """INSIGHTS_MIN_CELL is set below the lowest size that protects a group."""


def configured_min_cell() -> int:
    """The configured smallest group shown; refuses a value below LOWEST_MIN_CELL."""
    value = current_app.config.get("INSIGHTS_MIN_CELL", DEFAULT_MIN_CELL)
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise MinCellError(f"INSIGHTS_MIN_CELL must be a whole number, not {value!r}") from None
    if value < LOWEST_MIN_CELL:
        raise MinCellError(
            f"INSIGHTS_MIN_CELL is {value}: it may not be below {LOWEST_MIN_CELL}, "
            "or small groups could be recognised"
        )
    return value


@dataclass(frozen=True)
class Cell:
    numerator: int | None  # None when suppressed (never leaks a hidden number)
    denominator: int | None  # None when suppressed
    value: float | None  # share 0..1 or the median; None when suppressed
    shown: str  # what a page or CSV prints
    suppressed: bool
    # "under" / "over" when rule 3 banded it (numerator and value then None, not suppressed).
    band: str | None = None


@dataclass
class RawRow:
    """A group's true counts: never leaves this package unprotected."""

    key: str
    label: str
    learners: int
    shares: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (num, den)
    medians: dict[str, float | None] = field(default_factory=dict)


class Words:
    """The shown words, translated once per table (gettext per cell is most of a page)."""

    def __init__(self, min_cell: int) -> None:
        self.percent_pattern = _("%(n)d%%")  # no arguments: the pattern, not yet formatted
        self.few = _("fewer than %(n)d", n=min_cell)
        self.hidden = _("hidden")
        self.under = _("under 5%")
        self.over = _("over 95%")

    def percent(self, value: float) -> str:
        return self.percent_pattern % {"n": int(value * 100 + 0.5)}


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


NO_DATA = "—"


def _hidden(shown: str) -> Cell:
    return Cell(None, None, None, shown, True)


def _share(num: int, den: int, min_cell: int, group: int, words: Words) -> Cell:
    if den == 0:
        return Cell(0, 0, None, NO_DATA, False)
    if den < min_cell:
        return _hidden(words.few)
    value = num / den
    if group < BAND_BELOW and value < BAND_LOW:
        return Cell(None, den, None, words.under, False, "under")
    if group < BAND_BELOW and value > BAND_HIGH:
        return Cell(None, den, None, words.over, False, "over")
    return Cell(num, den, value, words.percent(value), False)


def _median(value: float | None) -> Cell:
    if value is None:
        return Cell(None, None, None, NO_DATA, False)
    return Cell(None, None, value, number(value), False)


def _protects(cell: Cell) -> bool:
    return cell.numerator is None and cell.shown != NO_DATA or cell.suppressed


def protect_row(raw: RawRow, min_cell: int, words: Words, *, hide: str | None = None) -> tuple:
    """(learners cell, {measure key: cell}) for one group; `hide` hides it whole."""
    if hide is None and raw.learners < min_cell:
        hide = words.few
    if hide is not None:
        cells = {m.key: _hidden(hide) for m in MEASURES}
        return _hidden(hide), cells
    learners = Cell(raw.learners, None, float(raw.learners), str(raw.learners), False)
    cells = {}
    for m in MEASURES:
        if m.kind == SHARE:
            num, den = raw.shares.get(m.key, (0, 0))
            cells[m.key] = _share(num, den, min_cell, raw.learners, words)
        else:
            cells[m.key] = _median(raw.medians.get(m.key))
    return learners, cells


def protect(rows: list[RawRow], total: RawRow, min_cell: int):
    """Protected (learners, cells) for each row and for the total, rules 1-4 applied."""
    words = Words(min_cell)
    total_out = protect_row(total, min_cell, words)
    small = {i for i, r in enumerate(rows) if r.learners < min_cell}
    if len(small) == 1 and len(rows) > 1:
        rest = [i for i in range(len(rows)) if i not in small]
        small.add(min(rest, key=lambda i: (rows[i].learners, i)))
    out = [
        protect_row(
            r,
            min_cell,
            words,
            hide=None if i not in small or r.learners < min_cell else words.hidden,
        )
        for i, r in enumerate(rows)
    ]
    for m in MEASURES:
        if m.kind != SHARE or len(out) < 2:
            continue
        protected = [i for i, (_l, cells) in enumerate(out) if _protects(cells[m.key])]
        if len(protected) != 1:
            continue
        candidates = [
            i
            for i, (_l, cells) in enumerate(out)
            if i not in protected and cells[m.key].denominator
        ]
        if not candidates:
            continue
        pick = min(candidates, key=lambda i: (out[i][1][m.key].denominator, i))
        out[pick][1][m.key] = _hidden(words.hidden)
    return out, total_out
