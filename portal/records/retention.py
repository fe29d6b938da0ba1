"""Retention: learners deactivated longer than `RECORD_RETENTION_DAYS` are listed for deletion.

The job worker's minute sweep (`portal.core.jobs.every_minute`) keeps `retention_due` in
step with the roster: a learner whose account has been deactivated (by a roster import or
by an admin; `users.deactivated_at`) for longer than the period (default 365 days) is
listed; one reactivated since is taken off the list. Nothing is deleted here: an admin of
the learner's school opens the list and confirms each deletion (`deletion_routes.py`).

Accounts deactivated before `deactivated_at` existed were given the migration's time, so
their period counts from the upgrade, never from an unknown date in the past.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ForeignKey, delete, exists, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.models import Role, User
from portal.core import jobs, stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.policy import manageable_school_ids
from portal.records.tombstone import RecordDeletion

DEFAULT_RETENTION_DAYS = 365


class RetentionDue(db.Model):
    """A learner whose retention period has run out, waiting for an admin's decision."""

    __tablename__ = "retention_due"
    __stamp__ = stamps.NOTHING  # the list is never polled

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    listed_at: Mapped[datetime] = mapped_column(default=utcnow)


def retention_days() -> int:
    return int(current_app.config.get("RECORD_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def cutoff(now: datetime | None = None) -> datetime:
    """Learners deactivated at or before this moment are due."""
    return (now or utcnow()) - timedelta(days=retention_days())


def list_due(now: datetime | None = None) -> tuple[int, int]:
    """Bring the list up to date; (listed now, taken off). Flushes; the caller commits."""
    now = now or utcnow()
    limit = cutoff(now)
    due = (User.role == Role.LEARNER) & User.active.is_(False) & (User.deactivated_at <= limit)
    new = select(User.id, literal(now)).where(
        due, ~exists().where(RetentionDue.learner_id == User.id)
    )
    added = db.session.execute(
        insert(RetentionDue).from_select(["learner_id", "listed_at"], new)
    ).rowcount
    no_longer = select(User.id).where(
        User.id == RetentionDue.learner_id,
        or_(User.active.is_(True), User.deactivated_at.is_(None), User.deactivated_at > limit),
    )
    removed = db.session.execute(
        delete(RetentionDue).where(exists(no_longer)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return max(added, 0), max(removed, 0)


def due_for(admin: User) -> list[tuple[User, datetime]]:
    """The listed learners of the schools this admin manages, longest deactivated first."""
    return list(
        db.session.execute(
            select(User, RetentionDue.listed_at)
            .join(RetentionDue, RetentionDue.learner_id == User.id)
            .where(User.org_id.in_(manageable_school_ids(admin)))
            .order_by(User.deactivated_at, User.id)
        ).tuples()
    )


def deletions_for(admin: User, limit: int = 50) -> list[RecordDeletion]:
    """The latest deletions from the schools this admin manages, newest first."""
    return list(
        db.session.scalars(
            select(RecordDeletion)
            .where(RecordDeletion.school_id.in_(manageable_school_ids(admin)))
            .order_by(RecordDeletion.deleted_at.desc(), RecordDeletion.id.desc())
            .limit(limit)
        )
    )


@jobs.every_minute
def sweep() -> None:
    """The worker's scheduled listing: one short transaction a minute."""
    try:
        list_due()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker's sweep listed them first
    except Exception:
        db.session.rollback()
        raise
