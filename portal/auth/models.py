"""People who sign in, their sign-in sessions, and the bookkeeping that throttles guessing."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.timeutil import utcnow


class Role(enum.StrEnum):
    LEARNER = "learner"
    TEACHER = "teacher"
    GUARDIAN = "guardian"
    SCHOOL_ADMIN = "school_admin"
    DISTRICT_ADMIN = "district_admin"
    # Sees the insights (aggregates) of the schools assigned to them, and no child's record.
    PL_SPECIALIST = "pl_specialist"

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES

    @property
    def label(self) -> str:
        """The role's name in the reader's language."""
        return {
            Role.LEARNER: _("Learner"),
            Role.TEACHER: _("Teacher"),
            Role.GUARDIAN: _("Guardian"),
            Role.SCHOOL_ADMIN: _("School admin"),
            Role.DISTRICT_ADMIN: _("District admin"),
            Role.PL_SPECIALIST: _("PL specialist"),
        }[self]


def display_name_of(given_name: str, preferred_name: str | None, family_name: str) -> str:
    """How a page names a person: the name they go by, then the family name."""
    return f"{preferred_name or given_name} {family_name}"


STAFF_ROLES = frozenset({Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN})
ADMIN_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN})
# Roles whose org is the district, not a school.
DISTRICT_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.PL_SPECIALIST})


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __stamp__ = stamps.SITE
    # Secrets and a person's own language show on no cached page.
    __stamp_ignore__ = frozenset({"password_hash", "pin_hash", "locale"})

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=20), index=True)
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80))
    preferred_name: Mapped[str | None] = mapped_column(String(80))
    grade: Mapped[int | None]
    # The school for learners, teachers and school admins; the district for district admins
    # and PL specialists (whose schools are their SpecialistSchool rows).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    # When the roster or an admin last deactivated the account (None while active): what
    # the retention period counts from (portal/records/retention.py).
    deactivated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Org | None] = relationship(lazy="joined")  # noqa: F821

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def display_name(self) -> str:
        return display_name_of(self.given_name, self.preferred_name, self.family_name)

    @property
    def short_name(self) -> str:
        return f"{self.preferred_name or self.given_name} {self.family_name[:1]}."

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def school_id(self) -> int | None:
        return self.org_id if self.role not in DISTRICT_ROLES else None

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class SpecialistSchool(db.Model):
    """A school a PL specialist is assigned to: they see its insights, never its children."""

    __tablename__ = "specialist_schools"
    __stamp__ = stamps.SITE

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    school_id: Mapped[int] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LoginSession(db.Model):
    """A signed-in browser: deleting the row signs that browser out everywhere it matters."""

    __tablename__ = "login_sessions"
    __stamp__ = stamps.NOTHING

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(db.Model):
    """One wrong password or PIN, kept an hour: the throttles count these rows over windows.

    `account_key` is `u<id>` for an account, or a keyed hash of the typed login when no
    account has it, so an unknown name is throttled exactly like a known one.
    `device_hash` is set when the try came with a valid device cookie for the account
    (counted against that device only); `client_hash` names the browser (its pre-sign-in
    session); `class_id` is set on the class code + PIN path. `lock_seconds` is the lock
    this failure put on the account for strangers, so the hourly lock budget can be summed.
    """

    __tablename__ = "login_failures"
    __stamp__ = stamps.NOTHING
    __table_args__ = (
        Index("ix_login_failures_account_key_at", "account_key", "at"),
        Index("ix_login_failures_client_hash_at", "client_hash", "at"),
        Index("ix_login_failures_class_id_at", "class_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    lock_seconds: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TrustedDevice(db.Model):
    """A device cookie: this browser signed in to this account before (OWASP "device cookies").

    The cookie holds a random token; only its hash is stored, so deleting the row revokes it.
    """

    __tablename__ = "trusted_devices"
    __stamp__ = stamps.NOTHING

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class PendingWrite(db.Model):
    """A form sent after its sender's session had ended, kept so signing in again loses nothing.

    With JavaScript on, app.js keeps drafts in the tab itself; without it the server is
    the only place the words can wait. Kept for the person the ended session belonged to,
    offered back once after they sign in again, deleted when used, discarded, at sign-out
    or after `PENDING_WRITE_HOURS`; nothing of it is stored on the device.
    """

    __tablename__ = "pending_writes"
    __stamp__ = stamps.NOTHING

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(1000))
    fields: Mapped[str] = mapped_column(Text)  # JSON: [[name, value], ...] in form order
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
