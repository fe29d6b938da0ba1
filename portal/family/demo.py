"""Demo rows for the family view: Ana Garcia's cheers, entries Maya shared, an open invite."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select

from portal.auth.models import Role, User
from portal.core.timeutil import utcnow
from portal.family.models import Cheer
from portal.family.services import create_invite
from portal.goals.models import Goal, GoalStatus
from portal.progress.models import ProgressEntry
from portal.roster.models import GuardianLink

GOAL_CHEERS = [
    "¡Qué orgullosa estoy de ti, Maya! Sigue así.",
    "We talked about this at dinner. You explained it so well!",
]
ENTRY_CHEERS = [
    "I love that you tried it again after the hard day.",
    "¡Muy bien! Practicar cada día sí funciona.",
    "The pancake ratio table was brilliant. Make it again this weekend?",
]


def seed(demo) -> None:
    """Cheers from Ana on Maya's goals and shared entries, and one unused invite code."""
    session = demo.session
    maya, ana = demo.named.get("learner"), demo.named.get("guardian")
    if maya is not None and ana is not None:
        _maya(session, maya, ana)
    # A learner nobody follows yet: their teacher made an invite code for the family.
    teacher = demo.named.get("teacher")
    lone = session.scalar(
        select(User)
        .where(
            User.role == Role.LEARNER,
            ~exists().where(GuardianLink.learner_id == User.id),
        )
        .order_by(User.id)
        .limit(1)
    )
    if lone is not None and teacher is not None:
        create_invite(lone, teacher)
    session.flush()


def _maya(session, maya: User, ana: User) -> None:
    now = utcnow().replace(second=0, microsecond=0)
    goals = list(
        session.scalars(
            select(Goal)
            .where(Goal.learner_id == maya.id, Goal.status == GoalStatus.ACTIVE)
            .order_by(Goal.id)
        )
    )
    for i, (goal, body) in enumerate(zip(goals, GOAL_CHEERS, strict=False)):
        session.add(
            Cheer(
                learner_id=maya.id,
                goal_id=goal.id,
                author_id=ana.id,
                body=body,
                created_at=now - timedelta(days=6 - 3 * i, hours=2),
            )
        )
    entries = list(
        session.scalars(
            select(ProgressEntry)
            .where(ProgressEntry.learner_id == maya.id)
            .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
            .limit(4)
        )
    )
    # Maya shows her family her last few entries; Ana cheers most of them.
    for entry in entries:
        entry.shared_with_family = True
    for entry, body in zip(entries, ENTRY_CHEERS, strict=False):
        session.add(
            Cheer(
                learner_id=maya.id,
                goal_id=entry.goal_id,
                entry_id=entry.id,
                author_id=ana.id,
                body=body,
                created_at=min(now, entry.created_at + timedelta(hours=5)),
            )
        )
