"""Progress entries, teacher feedback, a per-goal summary for trackers, and school settings.

`GoalProgress` is a small denormalised row per goal, rewritten in the same
transaction as every entry or feedback: trackers and the class view read it
instead of every entry, and its `version` is what an idle poll compares.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import reading_spanish
from portal.core.timeutil import utcnow

if TYPE_CHECKING:
    from portal.goals.models import GoalVersionStrategy

# How many of the most recent rating points a summary keeps (enough for every method:
# a decaying average of 30 points differs from one of all points by < 0.001).
POINTS_KEPT = 30


def is_image_type(file_type: str | None) -> bool:
    """Is evidence of this (sniffed) type a photo, shown as one?"""
    return bool(file_type and file_type.startswith("image/"))


class LevelMethod(enum.StrEnum):
    MOST_RECENT = "most_recent"
    HIGHEST = "highest"
    MEAN_LAST_N = "mean_last_n"
    DECAYING = "decaying"


class ProgressSettings(db.Model):
    """A school's choice of how the current level is computed from the ratings."""

    __tablename__ = "progress_settings"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), unique=True)
    method: Mapped[LevelMethod] = mapped_column(
        db.Enum(LevelMethod, native_enum=False, length=20), default=LevelMethod.DECAYING
    )
    n: Mapped[int] = mapped_column(default=3)  # for MEAN_LAST_N
    decay_percent: Mapped[int] = mapped_column(default=65)  # weight of the newest rating
    # Bumped on every change so open trackers re-render with the new wording.
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProgressEntry(db.Model):
    """One time a learner logged progress on an active goal."""

    __tablename__ = "progress_entries"
    __stamp__ = stamps.Learner()
    __table_args__ = (Index("ix_progress_entries_goal_created", "goal_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # One per rendered form: a double click or a retried POST finds the first entry.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    strategy_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal_version_strategies.id", ondelete="SET NULL")
    )
    strategy_text: Mapped[str] = mapped_column(String(200))  # a snapshot, or "something else"
    self_rating: Mapped[int]
    reflection: Mapped[str] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(2000))
    # Uploaded evidence: stored under UPLOAD_FOLDER by a random key, never by its name.
    file_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_type: Mapped[str | None] = mapped_column(String(120))
    file_size: Mapped[int | None]
    # The learner chose to show this entry (and its file) to their family.
    shared_with_family: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[User] = relationship()
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="entry", order_by="Feedback.created_at"
    )
    # The goal's strategy this entry names; usually already loaded with the goal's version.
    version_strategy: Mapped[GoalVersionStrategy | None] = relationship(viewonly=True)

    @property
    def display_strategy(self) -> str:
        """What the learner did, with the bank's Spanish name on a Spanish page when the
        entry names a bank strategy unchanged; asks nothing on other pages."""
        if self.strategy_id is None or not reading_spanish():
            return self.strategy_text
        chosen = self.version_strategy
        if chosen is None or chosen.text != self.strategy_text:
            return self.strategy_text
        return chosen.display_text

    @property
    def file_is_image(self) -> bool:
        return is_image_type(self.file_type)

    @property
    def teacher_rating(self) -> int | None:
        rated = [f.rating for f in self.feedback if f.rating is not None]
        return rated[-1] if rated else None


class Feedback(db.Model):
    """A teacher's comment and optional rating, on one entry or on the goal as a whole."""

    __tablename__ = "progress_feedback"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_entries.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    rating: Mapped[int | None]
    body: Mapped[str] = mapped_column(Text)
    for_families: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])
    entry: Mapped[ProgressEntry | None] = relationship(back_populates="feedback")


class GoalProgress(db.Model):
    """The tracker's summary of one goal, rebuilt with every entry or feedback."""

    __tablename__ = "goal_progress"
    __stamp__ = stamps.Learner()

    goal_id: Mapped[int] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=0)  # the poll's change counter
    entry_count: Mapped[int] = mapped_column(default=0)
    last_entry_at: Mapped[datetime | None]
    max_value: Mapped[int | None]
    # JSON [[iso datetime, value, source], ...] oldest first, at most POINTS_KEPT.
    points_json: Mapped[str] = mapped_column(Text, default="[]")
    # Strategy id -> times used, JSON; "other" for something else.
    strategy_counts_json: Mapped[str] = mapped_column(Text, default="{}")
    latest_self_rating: Mapped[int | None]
    latest_entry_rated: Mapped[bool] = mapped_column(default=False)  # by a teacher

    @property
    def points(self) -> list[tuple[datetime, int, str]]:
        return [(datetime.fromisoformat(t), v, s) for t, v, s in json.loads(self.points_json)]

    @property
    def strategy_counts(self) -> dict[str, int]:
        return json.loads(self.strategy_counts_json)
