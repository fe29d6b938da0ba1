"""Charts as numbers: pure functions from a table's (already suppressed) values to the
geometry an inline SVG draws. No chart JavaScript, nothing fetched from elsewhere.

Every chart is drawn beside a table with the same numbers (the templates put both); the
SVG itself is `role="img"` with a label and a `<title>` per mark for screen readers.
Coordinates are in the SVG's own units (a viewBox), so the chart scales with the page.
A suppressed or missing value draws no mark of its height: a "suppressed" placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
BAR_HEIGHT = 22
BAR_GAP = 10
LABEL_WIDTH = 180  # left gutter for group names
VALUE_WIDTH = 90  # right gutter for the printed value
TOP = 8
TREND_HEIGHT = 220
TREND_LEFT = 44
TREND_BOTTOM = 28


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    css: str  # class name: the colour comes from the stylesheet (strict CSP)
    title: str  # what a screen reader and a hover say


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str  # the printed value, exactly as the table prints it
    y: float
    height: float
    segments: tuple[Segment, ...]
    suppressed: bool
    text_x: float  # where the printed value goes


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_x: float
    plot_width: float
    bars: tuple[Bar, ...]
    target_x: float | None = None  # a vertical target line
    target_label: str = ""
    ticks: tuple[tuple[float, str], ...] = ()  # (x, "50%")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the cycle, e.g. "Nov 3"
    shown: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    lines: tuple[str, ...]  # SVG polyline "points" strings, one per unbroken run
    points: tuple[Point, ...]
    gaps: tuple[tuple[float, str], ...]  # (x, label) of cycles with no number shown
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    target_y: float | None = None
    target_label: str = ""


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def _scale_max(values: list[float], kind: str) -> float:
    if kind == "share":
        return 1.0
    top = max([v for v in values if v is not None] or [1.0])
    return max(1.0, float(int(top) + 1))


def bar_chart(
    rows: list[tuple[str, float | None, str]],
    *,
    kind: str = "share",
    target: float | None = None,
    target_label: str = "",
    css: str = "bar-value",
) -> BarChart:
    """Horizontal bars, one per (label, value, shown) row; value None means suppressed."""
    values = [v for _, v, _ in rows]
    top = _scale_max([*values, target] if target is not None else values, kind)
    plot_x = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for i, (label, value, shown) in enumerate(rows):
        y = TOP + i * (BAR_HEIGHT + BAR_GAP)
        if value is None:
            segments = (Segment(plot_x, plot_width, "bar-suppressed", f"{label}: {shown}"),)
            end = plot_x + plot_width
        else:
            w = plot_width * min(max(value / top, 0.0), 1.0)
            segments = (Segment(plot_x, w, css, f"{label}: {shown}"),)
            end = plot_x + w
        bars.append(Bar(label, shown, y, BAR_HEIGHT, segments, value is None, end + 6))
    height = TOP * 2 + max(len(rows), 1) * (BAR_HEIGHT + BAR_GAP)
    target_x = None if target is None else plot_x + plot_width * min(target / top, 1.0)
    steps = (0.0, 0.25, 0.5, 0.75, 1.0)
    ticks = tuple(
        (plot_x + plot_width * s, _pct(s) if kind == "share" else f"{top * s:g}") for s in steps
    )
    return BarChart(WIDTH, height, plot_x, plot_width, tuple(bars), target_x, target_label, ticks)


def goal_setting_bars(
    rows: list[tuple[str, tuple[float | None, str], tuple[float | None, str]]],
    *,
    agreed_label: str,
    never_label: str,
    rest_label: str,
) -> BarChart:
    """One stacked bar per group: agreed goal, then "never started" in its own colour,
    then the rest (a goal, but none agreed). Each row is (label, (agreed, shown),
    (never, shown)); if either is suppressed the whole bar is drawn as suppressed, so the
    other can never be read off the remainder."""
    plot_x = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for i, (label, (agreed, agreed_shown), (never, never_shown)) in enumerate(rows):
        y = TOP + i * (BAR_HEIGHT + BAR_GAP)
        shown = f"{agreed_shown} / {never_shown}"
        if agreed is None or never is None:
            title = f"{label}: {agreed_label} {agreed_shown}, {never_label} {never_shown}"
            segments = (Segment(plot_x, plot_width, "bar-suppressed", title),)
            bars.append(Bar(label, shown, y, BAR_HEIGHT, segments, True, plot_x + plot_width + 6))
            continue
        agreed = min(max(agreed, 0.0), 1.0)
        never = min(max(never, 0.0), 1.0 - agreed)
        rest = max(1.0 - agreed - never, 0.0)
        a_w, n_w = plot_width * agreed, plot_width * never
        segments = (
            Segment(plot_x, a_w, "bar-agreed", f"{label}: {agreed_label} {agreed_shown}"),
            Segment(plot_x + a_w, n_w, "bar-never", f"{label}: {never_label} {never_shown}"),
            Segment(
                plot_x + a_w + n_w,
                plot_width * rest,
                "bar-rest",
                f"{label}: {rest_label} {_pct(rest)}",
            ),
        )
        bars.append(Bar(label, shown, y, BAR_HEIGHT, segments, False, plot_x + plot_width + 6))
    height = TOP * 2 + max(len(rows), 1) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(WIDTH, height, plot_x, plot_width, tuple(bars))


def trend_chart(
    points: list[tuple[str, float | None, str]],
    *,
    kind: str = "share",
    target: float | None = None,
    target_label: str = "",
) -> TrendChart:
    """A line over cycles, oldest first: (cycle label, value or None, shown). A cycle
    with no number shown breaks the line (and is marked) instead of being guessed."""
    values = [v for _, v, _ in points]
    top = _scale_max([*values, target] if target is not None else values, kind)
    plot_w = WIDTH - TREND_LEFT - 16
    plot_h = TREND_HEIGHT - TOP - TREND_BOTTOM
    n = len(points)

    def x_at(i: int) -> float:
        return TREND_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v / top, 0.0), 1.0))

    runs: list[list[str]] = [[]]
    marks, gaps, labels = [], [], []
    for i, (label, value, shown) in enumerate(points):
        x = round(x_at(i), 1)
        labels.append((x, label))
        if value is None:
            gaps.append((x, f"{label}: {shown}"))
            if runs[-1]:
                runs.append([])
            continue
        y = round(y_at(value), 1)
        marks.append(Point(x, y, label, shown))
        runs[-1].append(f"{x},{y}")
    lines = tuple(" ".join(run) for run in runs if len(run) > 1)
    steps = (0.0, 0.5, 1.0)
    y_ticks = tuple(
        (round(y_at(top * s), 1), _pct(s) if kind == "share" else f"{top * s:g}") for s in steps
    )
    target_y = None if target is None else round(y_at(target), 1)
    return TrendChart(
        WIDTH,
        TREND_HEIGHT,
        lines,
        tuple(marks),
        tuple(gaps),
        tuple(labels),
        y_ticks,
        target_y,
        target_label,
    )
