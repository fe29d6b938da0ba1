"""A learner's past conferences with their notes, next steps and goals signed, and what a
family sees of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.core.extensions import db
from portal.goals.models import Goal, GoalStatus
from portal.policy import family_goal_condition

from .models import Conference, ConferenceNote, ConferenceStatus, GoalSignature, NextStep
from .notes import notes_for, steps_for
from .signing import Agreement, agreements


@dataclass
class HistoryItem:
    conference: Conference
    notes: list[ConferenceNote]
    steps: list[NextStep]
    signed: list[tuple[Goal, GoalSignature]]


def history(
    learner_id: int, include_private: bool, held_only: bool = False, goals=None
) -> list[HistoryItem]:
    """A learner's conferences, newest first, with notes, next steps and goals signed
    (those `goals`, a policy condition on Goal, lets the viewer see)."""
    stmt = select(Conference).where(Conference.learner_id == learner_id)
    if held_only:
        stmt = stmt.where(Conference.status == ConferenceStatus.DONE)
    else:
        stmt = stmt.where(Conference.status != ConferenceStatus.CANCELLED)
    conferences = list(
        db.session.scalars(
            stmt.options(selectinload(Conference.teacher)).order_by(Conference.scheduled_at.desc())
        )
    )
    ids = [c.id for c in conferences]
    notes = notes_for(ids, include_private)
    steps = steps_for(ids)
    signed: dict[int, list[tuple[Goal, GoalSignature]]] = {cid: [] for cid in ids}
    if ids:
        for goal, sig in db.session.execute(
            select(Goal, GoalSignature)
            .join(GoalSignature, GoalSignature.goal_id == Goal.id)
            .where(GoalSignature.conference_id.in_(ids), true() if goals is None else goals)
            .options(selectinload(GoalSignature.version))
            .order_by(GoalSignature.signed_at)
        ).tuples():
            signed[sig.conference_id].append((goal, sig))
    return [HistoryItem(c, notes[c.id], steps[c.id], signed[c.id]) for c in conferences]


@dataclass
class FamilyNotes:
    """What a family sees of conferences: agreed goals and shared notes, never private ones."""

    agreed: list[Agreement]
    conferences: list[HistoryItem]


def family_notes(learner: User, limit: int = 3) -> FamilyNotes:
    """The family view: signed goals (agreed versions) and the shared notes of held conferences."""
    goals = list(
        db.session.scalars(
            select(Goal)
            .where(
                Goal.learner_id == learner.id,
                Goal.status == GoalStatus.ACTIVE,
                Goal.agreed_version_id.is_not(None),
            )
            .options(selectinload(Goal.current_version))
            .order_by(Goal.id)
        )
    )
    found = agreements(goals)
    return FamilyNotes(
        [found[g.id] for g in goals if g.id in found],
        history(learner.id, include_private=False, held_only=True, goals=family_goal_condition())[
            :limit
        ],
    )
