"""The learner profile: co-authored sections whose entries keep every revision.

Built-in sections are defined in code (`prompts.py`); a school adds its own with
`ProfileSectionDef`. A `ProfileSection` row holds one learner's settings for one
section (audience, lock) and is created the first time something happens to it,
so a section without a row is empty, private to learner and staff, and unlocked.
An entry's words live only in its revisions: an edit adds a revision, nothing is
overwritten.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow


class Audience(enum.StrEnum):
    """Who besides the learner and school staff may read a section."""

    STAFF = "staff"  # the learner, their teachers, school and district admins
    FAMILY = "family"  # ... and the learner's guardians


class ProfileSectionDef(db.Model):
    """An extra section a school adds to every profile of its learners."""

    __tablename__ = "profile_section_defs"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    prompt: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    # Retired sections disappear from profiles; their entries are kept.
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def key(self) -> str:
        return f"school-{self.id}"


class ProfileSection(db.Model):
    """One learner's settings for one section, and when its words last changed."""

    __tablename__ = "profile_sections"
    __stamp__ = stamps.Learner()
    __table_args__ = (UniqueConstraint("learner_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A built-in key ("about", "barriers", ...) or "school-<definition id>".
    key: Mapped[str] = mapped_column(String(40))
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("profile_section_defs.id"))
    audience: Mapped[Audience] = mapped_column(
        db.Enum(Audience, native_enum=False, length=10), default=Audience.STAFF
    )
    audience_changed_at: Mapped[datetime | None]
    # Locked by a school admin: staff and learner only, the learner cannot share it.
    locked: Mapped[bool] = mapped_column(default=False)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    locked_at: Mapped[datetime | None]
    # When an entry of this section was last written or revised; None while empty.
    updated_at: Mapped[datetime | None]

    @property
    def shared_with_family(self) -> bool:
        return self.audience is Audience.FAMILY and not self.locked


class ProfileEntry(db.Model):
    """Something one person wrote in a section, or a comment on such an entry."""

    __tablename__ = "profile_entries"
    __stamp__ = stamps.Via("section_id", "ProfileSection")

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("profile_sections.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # A comment points at the entry it answers; comments do not nest further.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("profile_entries.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    section: Mapped[ProfileSection] = relationship()
    author: Mapped[User] = relationship(lazy="joined")
    parent: Mapped[ProfileEntry | None] = relationship(remote_side=[id])
    revisions: Mapped[list[ProfileEntryRevision]] = relationship(
        back_populates="entry",
        order_by="ProfileEntryRevision.id",
        cascade="all, delete-orphan",
    )


class ProfileEntryRevision(db.Model):
    """One version of an entry's words; the newest is what the entry says now."""

    __tablename__ = "profile_entry_revisions"
    __stamp__ = stamps.Via("entry_id", "ProfileEntry")

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("profile_entries.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    # Chosen chips, as space-separated keys from prompts.CHIPS.
    chips: Mapped[str] = mapped_column(String(500), default="")
    edited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[ProfileEntry] = relationship(back_populates="revisions")
    edited_by: Mapped[User] = relationship(lazy="joined")

    @property
    def chip_keys(self) -> list[str]:
        return self.chips.split()


class ProfileReviewRequest(db.Model):
    """A learner asking their teachers to review the profile with them."""

    __tablename__ = "profile_review_requests"
    __stamp__ = stamps.Learner()

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    learner: Mapped[User] = relationship(foreign_keys=[learner_id], lazy="joined")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
