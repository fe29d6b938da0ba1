"""Shared set-up for the conference tests: the goal tests' world plus conferences."""

from __future__ import annotations

from datetime import timedelta

from portal.conferences import services
from portal.conferences.models import Conference
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import GoalStatus
from tests.test_goals_support import HTMX, build_world, content, fresh, make_goal

__all__ = ["HTMX", "POLL", "build_world", "content", "fresh", "make_goal", "conference_for"]

POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}


def conference_for(world, learner=None, teacher=None, days: float = 0.0, **fields) -> Conference:
    """A conference of the world's learner (or another) with their teacher, committed."""
    learner = learner or world.learner
    teacher = teacher or (world.teacher if learner.id != world.other_learner.id else None)
    teacher = teacher or world.other_teacher
    conference = services.schedule(
        learner,
        teacher,
        utcnow() + timedelta(days=days),
        class_id=world.school_class.id,
    )[0]
    for name, value in fields.items():
        setattr(conference, name, value)
    db.session.commit()
    return conference


def proposed_goal(world, **overrides):
    return make_goal(world, status=GoalStatus.PROPOSED, **overrides)


def sign_both(goal, world):
    services.sign(goal, goal.current_version_id, world.learner)
    services.sign(goal, goal.current_version_id, world.teacher)
    db.session.commit()
    return fresh(goal.id)
