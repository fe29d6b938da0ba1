"""Loaders for the record rights: the part a correction is about, a correction request.

A requester (the learner, or a guardian) names a part of the record they can read; an
id outside what they read is absent (404), as everywhere else. The school admins of the
learner's school (and the district's admins) answer requests; nobody else reaches one
through the queue. A requester reads their own requests on the learner's page.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.core.extensions import db
from portal.goals.models import GoalVersion
from portal.policy.family import family_sees_entry, family_view, version_condition
from portal.policy.loaders import load_entry, load_goal, load_learner, load_profile_entry
from portal.policy.relations import Action
from portal.progress.models import Feedback
from portal.rights.models import CorrectionRequest, PartKind


def load_correction_part(learner: User, kind: PartKind, part_id: int | None) -> str:
    """The words of the part of this (loaded) learner's record a correction names, or 404
    if it is not theirs or not one the signed-in user reads. OTHER names no part: ""."""
    if kind is PartKind.OTHER:
        return ""
    if part_id is None:
        abort(404)
    if kind is PartKind.PROFILE_ENTRY:
        entry = load_profile_entry(learner, part_id)
        return entry.revisions[-1].text if entry.revisions else ""
    if kind is PartKind.GOAL_VERSION:
        version = db.session.get(GoalVersion, part_id)
        if version is None:
            abort(404)
        goal = load_goal(version.goal_id, of_learner=learner.id)
        readable = db.session.scalar(
            select(exists().where(GoalVersion.id == version.id, version_condition(goal)))
        )
        if not readable:
            abort(404)
        return version.statement
    if kind is PartKind.PROGRESS_ENTRY:
        entry, goal = load_entry(part_id)
        if goal.learner_id != learner.id:
            abort(404)
        return entry.reflection
    if kind is PartKind.FEEDBACK:
        feedback = db.session.get(Feedback, part_id)
        if feedback is None:
            abort(404)
        load_goal(feedback.goal_id, of_learner=learner.id)
        if family_view(learner) and not (
            feedback.for_families and (feedback.entry is None or family_sees_entry(feedback.entry))
        ):
            abort(404)
        return feedback.body
    abort(404)


def load_correction(correction_id: int, action: Action = Action.ANSWER_CORRECTION):
    """A correction request whose learner the signed-in user may act on, or 404/403:
    ANSWER_CORRECTION for the admins' queue. A requester who is not an admin gets 404."""
    correction = db.session.get(
        CorrectionRequest,
        correction_id,
        options=[
            selectinload(CorrectionRequest.learner),
            selectinload(CorrectionRequest.requester),
            selectinload(CorrectionRequest.answered_by),
        ],
    )
    if correction is None:
        abort(404)
    load_learner(correction.learner_id, action)
    return correction


def own_correction_condition(learner: User):
    """The requests a requester sees on the learner's page: the ones they made."""
    return (CorrectionRequest.learner_id == learner.id) & (
        CorrectionRequest.requester_id == current_user.id
    )
