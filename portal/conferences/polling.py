"""The conference workspace's change token: one indexed query a poll compares."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Select, and_, func, literal, select

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.goals.models import Goal
from portal.policy import visible_learner_ids
from portal.progress.models import GoalProgress

from .models import Conference, ConferenceNote, GoalSignature

# --- Polling -------------------------------------------------------------------------------


def _poll_select(user: User, private: bool) -> Select:
    learner = Conference.learner_id
    goals = (
        select(func.coalesce(func.sum(Goal.lock_version), 0) + func.count(Goal.id))
        .where(Goal.learner_id == learner)
        .scalar_subquery()
    )
    signatures = (
        select(func.coalesce(func.max(GoalSignature.id), 0))
        .where(GoalSignature.learner_id == learner)
        .scalar_subquery()
    )
    progress = (
        select(func.coalesce(func.sum(GoalProgress.version), 0))
        .where(GoalProgress.learner_id == learner)
        .scalar_subquery()
    )
    hidden = (
        select(func.coalesce(func.max(ConferenceNote.id), 0))
        .where(ConferenceNote.conference_id == Conference.id, ConferenceNote.private.is_(True))
        .scalar_subquery()
        if private
        else literal(0)
    )
    if user.role is Role.LEARNER:
        mine = Conference.learner_id == user.id
    else:
        mine = Conference.learner_id.in_(visible_learner_ids(user))
    return select(
        Conference.change_count, Conference.status, goals, signatures, progress, hidden
    ).where(and_(mine))


def poll_token(conference_id: int, user: User) -> str | None:
    """One indexed query: the workspace's change token, if this user may see it."""
    private = user.role is Role.TEACHER
    row = db.session.execute(
        _poll_select(user, private).where(Conference.id == conference_id)
    ).first()
    if row is None:
        return None
    return ".".join(str(part) for part in row)


def token_for(conference: Conference) -> str:
    return poll_token(conference.id, current_user) or "0"
