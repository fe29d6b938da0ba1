"""Level calculations: the current level, the pace, and what to suggest next. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.core.i18n import gettext as _
from portal.core.i18n import ngettext
from portal.progress.models import LevelMethod

DEFAULT_METHOD = LevelMethod.DECAYING
DEFAULT_N = 3
DEFAULT_DECAY_PERCENT = 65
STUCK_AFTER = 3  # entries in a row without a rise


@dataclass(frozen=True)
class Method:
    """A school's method with its parameters."""

    kind: LevelMethod = DEFAULT_METHOD
    n: int = DEFAULT_N
    decay_percent: int = DEFAULT_DECAY_PERCENT

    @classmethod
    def of(cls, settings) -> Method:
        if settings is None:
            return cls()
        return cls(settings.method, settings.n, settings.decay_percent)

    def describe(self) -> str:
        """How the current level was computed, in plain words."""
        lead = _("Teacher ratings count when there is one; otherwise your own rating counts.")
        match self.kind:
            case LevelMethod.MOST_RECENT:
                how = _("Current level is the most recent rating.")
            case LevelMethod.HIGHEST:
                how = _("Current level is the highest rating so far.")
            case LevelMethod.MEAN_LAST_N:
                how = ngettext(
                    "Current level is the average of the last %(num)d rating.",
                    "Current level is the average of the last %(num)d ratings.",
                    self.n,
                )
            case _:
                how = _(
                    "Current level is a decaying average: each new rating counts "
                    "%(new)d%%, everything before it %(old)d%%.",
                    new=self.decay_percent,
                    old=100 - self.decay_percent,
                )
        return f"{how} {lead}"


def current_level(values: list[int], method: Method, highest: int | None = None) -> float | None:
    """The current level from ratings oldest first; `highest` covers ratings no longer kept."""
    if not values:
        return None
    match method.kind:
        case LevelMethod.MOST_RECENT:
            return float(values[-1])
        case LevelMethod.HIGHEST:
            return float(max(values + ([highest] if highest is not None else [])))
        case LevelMethod.MEAN_LAST_N:
            last = values[-max(1, method.n) :]
            return sum(last) / len(last)
        case _:
            weight = method.decay_percent / 100
            level = float(values[0])
            for value in values[1:]:
                level = level * (1 - weight) + value * weight
            return level


def is_stuck(values: list[int], target_level: int) -> bool:
    """The last three entries show no rise (flat or falling), still below the target."""
    if len(values) < STUCK_AFTER or values[-1] >= target_level:
        return False
    window = values[-STUCK_AFTER:]
    return not any(later > earlier for earlier, later in zip(window, window[1:], strict=False))


@dataclass(frozen=True)
class Projection:
    enough: bool
    on: date | None = None  # when the fitted line reaches the target
    rising: bool = False


def project(points: list[tuple[datetime, float]], target_level: int) -> Projection:
    """Fit a straight line to (day, rating) and say when it reaches the target level."""
    if len(points) < 2:
        return Projection(enough=False)
    start = points[0][0]
    xs = [(t - start).total_seconds() / 86400 for t, _ in points]
    ys = [float(v) for _, v in points]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return Projection(enough=False)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    if slope <= 0:
        return Projection(enough=True, rising=False)
    intercept = mean_y - slope * mean_x
    days = (target_level - intercept) / slope
    days = max(days, xs[-1])
    if days > 3650:
        return Projection(enough=True, rising=False)
    return Projection(enough=True, rising=True, on=(start + timedelta(days=days)).date())


def least_used(strategies: list[tuple[int, str]], counts: dict[str, int]) -> tuple[int, str] | None:
    """The goal's strategy used least so far (the first in goal order on a tie)."""
    if not strategies:
        return None
    return min(strategies, key=lambda s: counts.get(str(s[0]), 0))
