"""Roster entities, shaped after 1EdTech OneRoster so an import can upsert by sourcedId."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow


class OrgType(enum.StrEnum):
    DISTRICT = "district"
    SCHOOL = "school"


class Org(db.Model):
    __tablename__ = "orgs"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    type: Mapped[OrgType] = mapped_column(db.Enum(OrgType, native_enum=False, length=20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), index=True)

    parent: Mapped[Org | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Org {self.name}>"


class Term(db.Model):
    """A OneRoster academicSession of type term."""

    __tablename__ = "terms"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date]
    end_date: Mapped[date]

    def is_current(self, on: date) -> bool:
        return self.start_date <= on <= self.end_date

    def has_ended(self, on: date) -> bool:
        """Over: its classes are history (read-only) from the day after its end date."""
        return self.end_date < on


class Course(db.Model):
    __tablename__ = "courses"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    subject: Mapped[str | None] = mapped_column(String(80))


class SchoolClass(db.Model):
    """A section: a course taught to a group of learners in one term."""

    __tablename__ = "classes"
    __stamp__ = stamps.SITE

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    period: Mapped[str | None] = mapped_column(String(40))
    # Young learners sign in with this code and a personal PIN.
    class_code: Mapped[str] = mapped_column(String(12), unique=True)

    school: Mapped[Org] = relationship()
    course: Mapped[Course | None] = relationship()
    term: Mapped[Term] = relationship(lazy="joined")
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="school_class", cascade="all, delete-orphan"
    )


class EnrollmentRole(enum.StrEnum):
    LEARNER = "learner"
    TEACHER = "teacher"


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __stamp__ = stamps.SITE
    __table_args__ = (UniqueConstraint("class_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[EnrollmentRole] = mapped_column(
        db.Enum(EnrollmentRole, native_enum=False, length=20)
    )

    school_class: Mapped[SchoolClass] = relationship(back_populates="enrollments")
    user: Mapped[User] = relationship()


class GuardianLink(db.Model):
    """A guardian's right to follow one learner; deactivating it takes effect at once."""

    __tablename__ = "guardian_links"
    __stamp__ = stamps.SITE
    __table_args__ = (UniqueConstraint("guardian_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relationship_label: Mapped[str] = mapped_column(String(40), default="guardian")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
