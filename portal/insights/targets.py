"""District success indicators: a district's or school's own targets for a measure.

A target reads "80% of learners with a co-signed goal by May 1". It is set for an org
(the district: every school is held to it; a school: that school only) and a share
measure. "On track" is defined plainly: progress is expected to run in a straight line
from the value at the end of the cycle in which the target was set (the baseline) to
the target on its due date; a school is on track when its value today is at or above
that line (or the target is already met).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import today, utcnow


class SuccessIndicator(db.Model):
    """One target: `target_percent` of learners meeting `measure_key` by `due_on`."""

    __tablename__ = "success_indicators"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    measure_key: Mapped[str] = mapped_column(String(40))
    target_percent: Mapped[int]
    due_on: Mapped[date] = mapped_column(Date)
    set_on: Mapped[date] = mapped_column(Date, default=today)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def indicators_for(org_ids: list[int]) -> list[SuccessIndicator]:
    """The targets set by these orgs, soonest due first."""
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            select(SuccessIndicator)
            .where(SuccessIndicator.org_id.in_(org_ids))
            .order_by(SuccessIndicator.due_on, SuccessIndicator.id)
        )
    )


def add_indicator(org_id: int, measure_key: str, percent: int, due_on: date, by_id: int):
    indicator = SuccessIndicator(
        org_id=org_id,
        measure_key=measure_key,
        target_percent=percent,
        due_on=due_on,
        set_on=today(),
        created_by_id=by_id,
    )
    db.session.add(indicator)
    db.session.flush()
    return indicator


def update_indicator(
    indicator: SuccessIndicator, org_id: int, measure_key: str, percent: int, due_on: date
):
    indicator.org_id = org_id
    indicator.measure_key = measure_key
    indicator.target_percent = percent
    indicator.due_on = due_on
    db.session.flush()


def remove_indicator(indicator: SuccessIndicator) -> None:
    db.session.delete(indicator)
    db.session.flush()


# --- Progress toward a target: pure arithmetic on numbers already suppressed -------

ON_TRACK = "on_track"
OFF_TRACK = "off_track"
MET = "met"
UNKNOWN = "unknown"

STATUS_LABELS = {
    ON_TRACK: _l("On track"),
    OFF_TRACK: _l("Not on track"),
    MET: _l("Target met"),
    UNKNOWN: _l("Not enough data"),
}


@dataclass(frozen=True)
class Progress:
    status: str
    expected: float | None  # where the straight line says the value should be today
    current: float | None
    baseline: float | None


def progress_toward(
    target: float,
    set_on: date,
    due_on: date,
    baseline: float | None,
    current: float | None,
    on: date | None = None,
) -> Progress:
    """Is `current` (a share 0..1) on the straight line from `baseline` at `set_on` to
    `target` at `due_on`? None values are suppressed or missing numbers: then unknown."""
    on = on or today()
    if current is None:
        return Progress(UNKNOWN, None, None, baseline)
    if current >= target:
        return Progress(MET, target, current, baseline)
    if baseline is None:
        baseline = 0.0
    span = (due_on - set_on).days
    elapsed = (on - set_on).days
    fraction = 1.0 if span <= 0 else min(max(elapsed / span, 0.0), 1.0)
    expected = baseline + (target - baseline) * fraction
    status = ON_TRACK if current + 1e-9 >= expected else OFF_TRACK
    return Progress(status, expected, current, baseline)
