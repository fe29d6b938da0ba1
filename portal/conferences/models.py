"""Goal conferences, their notes and next steps, and the signatures that make a goal agreed.

A signature is bound to one goal version *and* to the sha256 of that version's
content: if the version's words were ever changed in place, the stored hash no
longer matches and the signature stops counting (see services.signature_is_valid).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import GoalVersion

DEFAULT_CYCLE_DAYS = 30


class ConferenceSettings(db.Model):
    """A school's conference cycle: learn and practise this many days, then reflect and revise."""

    __tablename__ = "conference_settings"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), unique=True)
    cycle_days: Mapped[int] = mapped_column(default=DEFAULT_CYCLE_DAYS)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ConferenceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


class Conference(db.Model):
    """One short one-to-one meeting of a teacher and a learner."""

    __tablename__ = "conferences"
    __stamp__ = stamps.Learner()
    __table_args__ = (Index("ix_conferences_learner_when", "learner_id", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="SET NULL"))
    scheduled_at: Mapped[datetime]  # naive UTC, like every datetime we store
    duration_minutes: Mapped[int] = mapped_column(default=15)
    status: Mapped[ConferenceStatus] = mapped_column(
        db.Enum(ConferenceStatus, native_enum=False, length=12), default=ConferenceStatus.SCHEDULED
    )
    # Conferences scheduled together as "every N weeks" share a key.
    series_key: Mapped[str | None] = mapped_column(String(32))
    # The learner's own preparation, answered before the meeting.
    prep_working: Mapped[str | None] = mapped_column(Text)
    prep_hard: Mapped[str | None] = mapped_column(Text)
    prep_help: Mapped[str | None] = mapped_column(Text)
    prep_at: Mapped[datetime | None]
    # Bumped by every change shown in the workspace: what a poll compares.
    change_count: Mapped[int] = mapped_column(default=1)
    held_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    notes: Mapped[list[ConferenceNote]] = relationship(
        back_populates="conference", order_by="ConferenceNote.id", cascade="all, delete-orphan"
    )
    next_steps: Mapped[list[NextStep]] = relationship(
        back_populates="conference", order_by="NextStep.id", cascade="all, delete-orphan"
    )

    @property
    def has_prep(self) -> bool:
        return bool(self.prep_working or self.prep_hard or self.prep_help)

    @property
    def is_open(self) -> bool:
        return self.status is ConferenceStatus.SCHEDULED

    def touch(self) -> None:
        self.change_count = (self.change_count or 0) + 1


class ConferenceNote(db.Model):
    """A note from a conference: shared (learner and family read it) or private to teachers."""

    __tablename__ = "conference_notes"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="notes")
    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])


class StepOwner(enum.StrEnum):
    LEARNER = "learner"
    TEACHER = "teacher"


class NextStep(db.Model):
    """An agreed next step: who does it, by when."""

    __tablename__ = "conference_next_steps"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    owner: Mapped[StepOwner] = mapped_column(db.Enum(StepOwner, native_enum=False, length=10))
    due_date: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Marked done by its owner (or a teacher); cleared again when marked not done.
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    conference: Mapped[Conference] = relationship(back_populates="next_steps")

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class ConferenceRequest(db.Model):
    """A learner asking for a conference; resolved when one is scheduled."""

    __tablename__ = "conference_requests"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class SignerRole(enum.StrEnum):
    LEARNER = "learner"
    TEACHER = "teacher"


class SignMethod(enum.StrEnum):
    SESSION = "session"  # signed on their own signed-in device
    PIN = "pin"  # the learner confirmed with their PIN on the teacher's screen
    PASSWORD = "password"  # noqa: S105  (a method's name, not a secret)


class GoalSignature(db.Model):
    """Someone agreeing to one version of a goal, bound to the hash of its content."""

    __tablename__ = "goal_signatures"
    __stamp__ = stamps.Learner()
    __table_args__ = (UniqueConstraint("version_id", "signer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("goal_versions.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[SignerRole] = mapped_column(db.Enum(SignerRole, native_enum=False, length=10))
    content_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[SignMethod] = mapped_column(db.Enum(SignMethod, native_enum=False, length=10))
    witness_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    conference_id: Mapped[int | None] = mapped_column(
        ForeignKey("conferences.id", ondelete="SET NULL"), index=True
    )
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    signer: Mapped[User] = relationship(lazy="joined", foreign_keys=[signer_id])
    # The version signed, which may no longer be the goal's current one.
    version: Mapped[GoalVersion] = relationship("GoalVersion", viewonly=True)


class GoalAcknowledgement(db.Model):
    """A guardian saying "we have seen this agreed goal": not a signature."""

    __tablename__ = "goal_acknowledgements"
    __stamp__ = stamps.Via("goal_id", "Goal")
    __table_args__ = (UniqueConstraint("version_id", "guardian_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("goal_versions.id", ondelete="CASCADE"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)

    guardian: Mapped[User] = relationship(lazy="joined", foreign_keys=[guardian_id])


class ReflectionChoice(enum.StrEnum):
    MET = "met"
    KEEP_GOING = "keep_going"
    REVISE = "revise"


class GoalReflection(db.Model):
    """The learner's end-of-cycle answer for one active goal."""

    __tablename__ = "goal_reflections"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    choice: Mapped[ReflectionChoice] = mapped_column(
        db.Enum(ReflectionChoice, native_enum=False, length=12)
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
