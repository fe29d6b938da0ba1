"""The conference cycle: the school's cycle length, when each goal's cycle runs out
(reflections due), the learner's end-of-cycle reflection, and who in a class is due a
conference.

Writes here only flush; the route commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import today, utcnow
from portal.goals import services as goal_services
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.goals.services import clean_text
from portal.policy import visible_learner_ids
from portal.progress.tracker import load_goals, trackers_for
from portal.roster.models import Enrollment, EnrollmentRole
from portal.roster.queries import learners_in_class

from .models import (
    DEFAULT_CYCLE_DAYS,
    Conference,
    ConferenceRequest,
    ConferenceSettings,
    ConferenceStatus,
    GoalReflection,
    GoalSignature,
    ReflectionChoice,
)

DUE_SOON_DAYS = 7


# --- The school's cycle --------------------------------------------------------------


def settings_for(school_id: int | None) -> ConferenceSettings | None:
    if school_id is None:
        return None
    return db.session.scalar(
        select(ConferenceSettings).where(ConferenceSettings.school_id == school_id)
    )


def cycle_days(school_id: int | None) -> int:
    settings = settings_for(school_id)
    return settings.cycle_days if settings else DEFAULT_CYCLE_DAYS


def save_settings(school_id: int, days: int, by: User) -> ConferenceSettings:
    settings = settings_for(school_id)
    if settings is None:
        settings = ConferenceSettings(school_id=school_id)
        db.session.add(settings)
    settings.cycle_days = days
    settings.updated_by_id = by.id
    db.session.flush()
    return settings


# --- Reflect and revise --------------------------------------------------------------------


def cycle_start():
    """When a goal's current cycle started, as a column over `Goal`: its last reflection,
    else when it was agreed (the latest signature of its agreed version), else its creation.
    Select it with the goals (as the learner home does) and pass it to `reflections_due`."""
    last_reflection = (
        select(func.max(GoalReflection.created_at))
        .where(GoalReflection.goal_id == Goal.id)
        .scalar_subquery()
    )
    agreed_at = (
        select(func.max(GoalSignature.signed_at))
        .where(GoalSignature.version_id == Goal.agreed_version_id)
        .scalar_subquery()
    )
    return func.coalesce(last_reflection, agreed_at, Goal.created_at)


def reflections_due(
    learner: User,
    active: list[Goal] | None = None,
    *,
    started: dict[int, object] | None = None,
    days: int | None = None,
) -> tuple[list[Goal], datetime | None]:
    """Active goals whose cycle has run out since they were agreed or last reflected on,
    and when the next of the others runs out (None if none will).

    `active` is the learner's active goals with their current versions when the caller
    has them loaded already (the learner home does); else they are loaded here. `started`
    (goal id -> `cycle_start()`) and `days` (the school's cycle) likewise, when the caller
    read them already.
    """
    if active is None:
        active = list(
            db.session.scalars(
                select(Goal)
                .where(Goal.learner_id == learner.id, Goal.status == GoalStatus.ACTIVE)
                .options(selectinload(Goal.current_version))
            )
        )
    if not active:
        return [], None
    if days is None:
        days = cycle_days(learner.org_id)
    if started is None:
        started = dict(
            db.session.execute(
                select(Goal.id, cycle_start()).where(
                    Goal.id.in_([g.id for g in active]), Goal.learner_id == learner.id
                )
            ).all()
        )
    rows = [(goal, started.get(goal.id)) for goal in sorted(active, key=lambda g: g.id)]
    now, cycle = utcnow(), timedelta(days=days)
    ends = [(goal, _as_datetime(at) + cycle) for goal, at in rows if at is not None]
    later = [end for _, end in ends if end > now]
    return [goal for goal, end in ends if end <= now], min(later, default=None)


def _as_datetime(value) -> datetime:
    # SQLite hands back the text of a MAX() over datetimes.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def reflect(goal: Goal, learner: User, choice: ReflectionChoice, note: str | None) -> None:
    """Record the learner's end-of-cycle choice; "met" closes the goal."""
    db.session.add(
        GoalReflection(
            goal_id=goal.id,
            learner_id=learner.id,
            choice=choice,
            note=clean_text(note) or None,
            created_at=utcnow(),
        )
    )
    if choice is ReflectionChoice.MET:
        goal_services.transition(goal, GoalStatus.MET, learner)
    db.session.flush()


# --- Who is due, per class ---------------------------------------------------------------


@dataclass
class DueRow:
    learner: User
    last_held: datetime | None = None
    next: Conference | None = None
    asked: ConferenceRequest | None = None
    goals_due: int = 0
    goals_overdue: int = 0
    stuck: bool = False
    cycle_days: int = DEFAULT_CYCLE_DAYS

    @property
    def days_since(self) -> int | None:
        return (today() - self.last_held.date()).days if self.last_held else None

    @property
    def cycle_over(self) -> bool:
        return self.last_held is None or self.days_since >= self.cycle_days

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.asked:
            out.append("asked")
        if self.cycle_over:
            out.append("cycle")
        if self.goals_overdue:
            out.append("overdue")
        if self.goals_due:
            out.append("due_soon")
        if self.stuck:
            out.append("stuck")
        return out

    @property
    def is_due(self) -> bool:
        return bool(self.reasons) and self.next is None


def due_for_class(class_id: int, school_id: int, user: User) -> list[DueRow]:
    """Each learner of the class with why a conference is due; a fixed number of queries."""
    in_class = select(Enrollment.user_id).where(
        Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.LEARNER
    )
    visible = visible_learner_ids(user)
    ids_stmt = in_class.where(Enrollment.user_id.in_(visible))
    days = cycle_days(school_id)
    rows = {learner.id: DueRow(learner, cycle_days=days) for learner in learners_in_class(class_id)}
    allowed = set(db.session.scalars(ids_stmt))
    rows = {lid: row for lid, row in rows.items() if lid in allowed}
    if not rows:
        return []
    for learner_id, held in db.session.execute(
        select(Conference.learner_id, func.max(Conference.scheduled_at))
        .where(Conference.learner_id.in_(ids_stmt), Conference.status == ConferenceStatus.DONE)
        .group_by(Conference.learner_id)
    ):
        rows[learner_id].last_held = _as_datetime(held)
    for conference in db.session.scalars(
        select(Conference)
        .where(
            Conference.learner_id.in_(ids_stmt),
            Conference.status == ConferenceStatus.SCHEDULED,
            Conference.scheduled_at >= utcnow() - timedelta(hours=12),
        )
        .order_by(Conference.scheduled_at.desc())
    ):
        rows[conference.learner_id].next = conference  # the earliest wins: ordered desc
    for request in db.session.scalars(
        select(ConferenceRequest).where(
            ConferenceRequest.learner_id.in_(ids_stmt), ConferenceRequest.resolved_at.is_(None)
        )
    ):
        rows[request.learner_id].asked = request
    soon = today() + timedelta(days=DUE_SOON_DAYS)
    for learner_id, due in db.session.execute(
        select(Goal.learner_id, GoalVersion.due_date)
        .join(GoalVersion, GoalVersion.id == Goal.current_version_id)
        .where(
            Goal.learner_id.in_(ids_stmt),
            Goal.status.in_([GoalStatus.ACTIVE, GoalStatus.PROPOSED]),
            GoalVersion.due_date <= soon,
        )
    ):
        if due < today():
            rows[learner_id].goals_overdue += 1
        else:
            rows[learner_id].goals_due += 1
    for t in trackers_for(load_goals(ids_stmt, visible_to=user)):
        if t.stuck:
            rows[t.goal.learner_id].stuck = True
    return list(rows.values())
