"""Scheduling conferences: a conference or a series, a learner's request for one, a
conference's status, and reading a learner's next conference and a teacher's upcoming ones.

Writes here only flush; the route commits once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.services import clean_text
from portal.policy import visible_learner_ids

from .models import Conference, ConferenceRequest, ConferenceStatus

MAX_OCCURRENCES = 10


# --- Scheduling and asking -------------------------------------------------------------


def schedule(
    learner: User,
    teacher: User,
    first_at: datetime,
    *,
    class_id: int | None = None,
    duration_minutes: int = 15,
    every_weeks: int = 0,
    occurrences: int = 1,
) -> list[Conference]:
    """Schedule one conference, or a series every N weeks; resolves the learner's request."""
    occurrences = max(1, min(occurrences if every_weeks else 1, MAX_OCCURRENCES))
    key = secrets.token_hex(8) if occurrences > 1 else None
    made = [
        Conference(
            learner_id=learner.id,
            teacher_id=teacher.id,
            class_id=class_id,
            scheduled_at=first_at + timedelta(weeks=every_weeks * i),
            duration_minutes=duration_minutes,
            series_key=key,
            created_by_id=teacher.id,
        )
        for i in range(occurrences)
    ]
    db.session.add_all(made)
    if (request := open_request(learner.id)) is not None:
        request.resolved_at = utcnow()
    db.session.flush()
    return made


def _open_request_query(learner_id) -> Select:
    return (
        select(ConferenceRequest)
        .where(ConferenceRequest.learner_id == learner_id, ConferenceRequest.resolved_at.is_(None))
        .order_by(ConferenceRequest.id)
        .limit(1)
    )


def open_request(learner_id: int) -> ConferenceRequest | None:
    return db.session.scalar(_open_request_query(learner_id))


def request_conference(learner: User, note: str | None) -> ConferenceRequest:
    """Ask for a conference; asking again while one is open updates its note."""
    request = open_request(learner.id)
    note = clean_text(note) or None
    if request is None:
        request = ConferenceRequest(learner_id=learner.id, note=note)
        db.session.add(request)
    elif note:
        request.note = note
    db.session.flush()
    return request


def set_status(conference: Conference, status: ConferenceStatus) -> None:
    conference.status = status
    conference.held_at = utcnow() if status is ConferenceStatus.DONE else None
    conference.touch()
    db.session.flush()


# --- Reading: the learner's conferences ----------------------------------------------------


# A conference stays "next" until this long after its start, so it can still be opened.
NEXT_GRACE = timedelta(hours=12)


def _next_conference_query(learner_id, since=None) -> Select:
    """`learner_id` and `since` (default: now less the grace) may be bind parameters."""
    return (
        select(Conference)
        .where(
            Conference.learner_id == learner_id,
            Conference.status == ConferenceStatus.SCHEDULED,
            Conference.scheduled_at >= (utcnow() - NEXT_GRACE if since is None else since),
        )
        .order_by(Conference.scheduled_at)
        .limit(1)
    )


def next_conference(learner_id: int) -> Conference | None:
    return db.session.scalar(
        _next_conference_query(learner_id).options(joinedload(Conference.teacher))
    )


@dataclass
class LearnerCardState:
    """The learner's next conference (with its teacher) and open request, read together."""

    next: Conference | None
    teacher: User | None
    request: ConferenceRequest | None
    extra: tuple  # the values of the caller's `columns`


_CARD_TEACHER = aliased(User)  # made once: an alias is costly to build and adapt to


def learner_card_query(*columns) -> Select:
    """The statement of `learner_card_state` with `columns`, for the parameters
    `learner_id` and `since` (`learner_card_state` gives both): build it once per process
    and pass it as `query` (building and keying it costs more than running it)."""
    learner_id, since = bindparam("learner_id"), bindparam("since")
    next_id = _next_conference_query(learner_id, since).with_only_columns(Conference.id)
    request_id = _open_request_query(learner_id).with_only_columns(ConferenceRequest.id)
    teacher = _CARD_TEACHER
    return (
        select(Conference, teacher, ConferenceRequest, *columns)
        .select_from(User)
        .outerjoin(Conference, Conference.id == next_id.correlate(None).scalar_subquery())
        .outerjoin(teacher, teacher.id == Conference.teacher_id)
        .outerjoin(
            ConferenceRequest,
            ConferenceRequest.id == request_id.correlate(None).scalar_subquery(),
        )
        .where(User.id == learner_id)
    )


def learner_card_state(learner_id: int, *columns, query: Select | None = None) -> LearnerCardState:
    """`next_conference` and `open_request` in one statement, one row whatever the learner
    has (anchored on the learner), with the values of `columns`, extra scalar expressions
    the caller reads in the same statement (the learner home: the site change stamp).
    `query`: `learner_card_query(*columns)`, built once by the caller."""
    stmt = learner_card_query(*columns) if query is None else query
    params = {"learner_id": learner_id, "since": utcnow() - NEXT_GRACE}
    row = db.session.execute(stmt, params).one()
    return LearnerCardState(row[0], row[1], row[2], tuple(row[3:]))


def upcoming_for_teacher(teacher: User, limit: int = 20) -> list[Conference]:
    return list(
        db.session.scalars(
            select(Conference)
            .where(
                Conference.teacher_id == teacher.id,
                Conference.status == ConferenceStatus.SCHEDULED,
                Conference.scheduled_at >= utcnow() - timedelta(hours=12),
                Conference.learner_id.in_(visible_learner_ids(teacher)),
            )
            .options(selectinload(Conference.learner))
            .order_by(Conference.scheduled_at)
            .limit(limit)
        )
    )


def previous_held(conference: Conference) -> Conference | None:
    """The learner's last conference held before this one."""
    return db.session.scalar(
        select(Conference)
        .where(
            Conference.learner_id == conference.learner_id,
            Conference.status == ConferenceStatus.DONE,
            Conference.id != conference.id,
            Conference.scheduled_at < conference.scheduled_at,
        )
        .order_by(Conference.scheduled_at.desc())
        .limit(1)
    )
