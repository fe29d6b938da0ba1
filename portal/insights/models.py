"""Precomputed insight facts: one row per learner per snapshot, refreshed in the background.

A snapshot is a district's facts at one moment (`as_of`) for one cycle length: the
current one (refreshed after each roster import and nightly, `snapshots.py`) or the end
of a past cycle (kept for the trend and the time machine). Pages aggregate these rows
with a handful of statements instead of reading every entry of every learner.
Facts are aggregates' inputs only: no page shows a row, and nothing is polled on them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow


class InsightSnapshot(db.Model):
    __tablename__ = "insight_snapshots"
    __stamp__ = stamps.NOTHING
    __table_args__ = (Index("ix_insight_snapshots_lookup", "district_id", "cycle_days", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    cycle_days: Mapped[int]
    as_of: Mapped[datetime]  # when the facts were true
    cycle_start: Mapped[datetime]
    cycle_end: Mapped[datetime]
    current: Mapped[bool] = mapped_column(default=False)  # else the end of a past cycle
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightFact(db.Model):
    __tablename__ = "insight_facts"
    __stamp__ = stamps.NOTHING
    __table_args__ = (Index("ix_insight_facts_snapshot_school", "snapshot_id", "school_id"),)

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("insight_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    school_id: Mapped[int | None]
    grade: Mapped[int | None]
    sex: Mapped[str] = mapped_column(String(40))
    race: Mapped[str] = mapped_column(String(60))
    ethnicity: Mapped[str] = mapped_column(String(40))
    programs: Mapped[str] = mapped_column(String(60), default="")  # "ell iep": flags carried
    agreed: Mapped[bool]
    own_words: Mapped[bool]
    strategy: Mapped[bool]
    started: Mapped[bool]
    logged: Mapped[bool]
    feedback: Mapped[bool]
    conference: Mapped[bool]
    profile_complete: Mapped[bool]
    profile_updated: Mapped[bool]
    profile_shared: Mapped[bool]
    guardian_linked: Mapped[bool]
    family_active: Mapped[bool]
    entries: Mapped[int]  # progress entries in the cycle
    rose: Mapped[int]  # goals whose level rose ...
    rose_of: Mapped[int]  # ... of goals rated before the cycle
    met: Mapped[int]  # goals met by their due date ...
    met_of: Mapped[int]  # ... of goals due in the cycle


class InsightCell(db.Model):
    """A snapshot's facts already summed per school, breakdown group and entries count.

    The district and school pages read these (a few hundred rows) instead of summing
    50,000 facts per request; the entries count is kept so the median can still be found.
    """

    __tablename__ = "insight_cells"
    __stamp__ = stamps.NOTHING
    __table_args__ = (Index("ix_insight_cells_lookup", "snapshot_id", "breakdown", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("insight_snapshots.id", ondelete="CASCADE"))
    school_id: Mapped[int | None]
    breakdown: Mapped[str] = mapped_column(String(40))  # "school", "grade", "program:ell"...
    value: Mapped[str] = mapped_column(String(60))  # the group: "12", "6", "female", "yes"
    entries: Mapped[int]
    learners: Mapped[int]
    agreed: Mapped[int]
    own_words: Mapped[int]
    strategy: Mapped[int]
    started: Mapped[int]
    logged: Mapped[int]
    feedback: Mapped[int]
    conference: Mapped[int]
    profile_complete: Mapped[int]
    profile_updated: Mapped[int]
    profile_shared: Mapped[int]
    guardian_linked: Mapped[int]
    family_active: Mapped[int]
    rose: Mapped[int]
    rose_of: Mapped[int]
    met: Mapped[int]
    met_of: Mapped[int]
