"""Mastery goals and their full version history.

A goal's content (wording, targets, level, strategies, due date, supports) lives
only in versions: every change makes a new GoalVersion and nothing is ever
overwritten, so "the version both signed" always still exists.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import in_locale
from portal.core.timeutil import utcnow
from portal.targets.models import Target


class GoalStatus(enum.StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    ACTIVE = "active"  # agreed: co-signed by learner and teacher
    MET = "met"
    NOT_MET = "not_met"
    REVISED = "revised"
    ARCHIVED = "archived"


OPEN_STATUSES = frozenset({GoalStatus.DRAFT, GoalStatus.PROPOSED, GoalStatus.ACTIVE})


class Horizon(enum.StrEnum):
    SHORT = "short"  # days to about six weeks
    LONG = "long"  # a term or a year


class Voice(enum.StrEnum):
    """Whose words a version is."""

    LEARNER = "learner"
    TEACHER = "teacher"


class Goal(db.Model):
    __tablename__ = "goals"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[GoalStatus] = mapped_column(
        db.Enum(GoalStatus, native_enum=False, length=20), default=GoalStatus.DRAFT, index=True
    )
    horizon: Mapped[Horizon] = mapped_column(
        db.Enum(Horizon, native_enum=False, length=10), default=Horizon.SHORT
    )
    # A short-term goal can ladder up to a long-term one.
    parent_goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("goal_templates.id"))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal_versions.id", use_alter=True, name="fk_goals_current_version_id")
    )
    # The version the learner and a teacher both signed (see portal/conferences). A later
    # edit makes a newer current version while the goal stays agreed on this one.
    agreed_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal_versions.id", use_alter=True, name="fk_goals_agreed_version_id")
    )
    # Optimistic locking: a save that read an older row fails instead of overwriting.
    lock_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": lock_version}

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    parent_goal: Mapped[Goal | None] = relationship(remote_side=[id])
    current_version: Mapped[GoalVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    agreed_version: Mapped[GoalVersion | None] = relationship(
        foreign_keys=[agreed_version_id], post_update=True
    )
    versions: Mapped[list[GoalVersion]] = relationship(
        back_populates="goal",
        foreign_keys="GoalVersion.goal_id",
        order_by="GoalVersion.number",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def changed_since_signed(self) -> bool:
        """Agreed on an older version: the newer wording needs both signatures again."""
        return (
            self.agreed_version_id is not None
            and self.current_version_id != self.agreed_version_id
            and self.status is GoalStatus.ACTIVE
        )


class GoalVersion(db.Model):
    __tablename__ = "goal_versions"
    __stamp__ = stamps.Via("goal_id", "Goal")
    __table_args__ = (UniqueConstraint("goal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, 3 ... within the goal
    statement: Mapped[str] = mapped_column(Text)
    target_level: Mapped[int]  # a value on the school's mastery scale
    due_date: Mapped[date | None]
    supports: Mapped[str | None] = mapped_column(Text)  # help the learner wants from the teacher
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    voice: Mapped[Voice] = mapped_column(db.Enum(Voice, native_enum=False, length=10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # sha256 of the canonical content: what a signature is bound to.
    content_hash: Mapped[str] = mapped_column(String(64))

    goal: Mapped[Goal] = relationship(back_populates="versions", foreign_keys=[goal_id])
    author: Mapped[User] = relationship()
    targets: Mapped[list[GoalVersionTarget]] = relationship(
        cascade="all, delete-orphan", order_by="GoalVersionTarget.position"
    )
    strategies: Mapped[list[GoalVersionStrategy]] = relationship(
        cascade="all, delete-orphan", order_by="GoalVersionStrategy.position"
    )


class GoalVersionTarget(db.Model):
    __tablename__ = "goal_version_targets"
    __stamp__ = stamps.Via("version_id", "GoalVersion")
    __table_args__ = (UniqueConstraint("version_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("goal_versions.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    target: Mapped[Target] = relationship(lazy="joined")


class GoalVersionStrategy(db.Model):
    """A strategy or action step the learner chose: from the school's bank or their own."""

    __tablename__ = "goal_version_strategies"
    __stamp__ = stamps.Via("version_id", "GoalVersion")

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("goal_versions.id", ondelete="CASCADE"), index=True
    )
    strategy_id: Mapped[int | None] = mapped_column(ForeignKey("strategies.id"))
    text: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    strategy: Mapped[Strategy | None] = relationship(lazy="joined")

    @property
    def display_text(self) -> str:
        """The chosen strategy in the reader's language: the bank's Spanish name when the
        learner took it unchanged from the bank, else the words they signed."""
        bank = self.strategy
        if bank is not None and bank.text == self.text:
            return bank.display_text
        return self.text


class Strategy(db.Model):
    """A school's strategy bank entry, e.g. "practice 20 minutes 3 times a week"."""

    __tablename__ = "strategies"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    text: Mapped[str] = mapped_column(String(200))
    text_es: Mapped[str | None] = mapped_column(String(200))  # the same strategy in Spanish
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def display_text(self) -> str:
        """The strategy's name in the reader's language."""
        return in_locale(self.text, self.text_es)


class GoalTemplate(db.Model):
    """A teacher's goal idea offered to a class; a learner adapts it into their own goal."""

    __tablename__ = "goal_templates"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(160))
    statement: Mapped[str] = mapped_column(Text)
    horizon: Mapped[Horizon] = mapped_column(
        db.Enum(Horizon, native_enum=False, length=10), default=Horizon.SHORT
    )
    target_level: Mapped[int] = mapped_column(default=3)
    # Newline-separated suggested strategies; target ids in the association below.
    strategies_text: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    targets: Mapped[list[GoalTemplateTarget]] = relationship(cascade="all, delete-orphan")


class GoalTemplateTarget(db.Model):
    __tablename__ = "goal_template_targets"
    __stamp__ = stamps.SITE
    __table_args__ = (UniqueConstraint("template_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("goal_templates.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))

    target: Mapped[Target] = relationship(lazy="joined")
