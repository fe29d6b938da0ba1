"""People who sign in, and their sign-in sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import stamps
from portal.extensions import db
from portal.timeutil import utcnow


class Role(enum.StrEnum):
    LEARNER = "learner"
    TEACHER = "teacher"
    GUARDIAN = "guardian"
    SCHOOL_ADMIN = "school_admin"
    DISTRICT_ADMIN = "district_admin"

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES

    @property
    def label(self) -> str:
        """The role's name in the reader's language."""
        from flask_babel import gettext as _

        return {
            Role.LEARNER: _("Learner"),
            Role.TEACHER: _("Teacher"),
            Role.GUARDIAN: _("Guardian"),
            Role.SCHOOL_ADMIN: _("School admin"),
            Role.DISTRICT_ADMIN: _("District admin"),
        }[self]


STAFF_ROLES = frozenset({Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN})
ADMIN_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN})


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __stamp__ = stamps.SITE
    # Sign-in bookkeeping and a person's own language show on no cached page.
    __stamp_ignore__ = frozenset(
        {"password_hash", "pin_hash", "failed_logins", "throttled_until", "locale"}
    )

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
    # The school for learners, teachers and school admins; the district for district admins.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    throttled_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Org | None] = relationship(lazy="joined")  # noqa: F821

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.given_name} {self.family_name}"

    @property
    def short_name(self) -> str:
        return f"{self.preferred_name or self.given_name} {self.family_name[:1]}."

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def school_id(self) -> int | None:
        return self.org_id if self.role is not Role.DISTRICT_ADMIN else None

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


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
