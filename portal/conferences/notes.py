"""What a conference workspace records: the learner's prep answers, notes, next steps, and
who may mark a step done.

Writes here only flush; the route commits once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.services import clean_text
from portal.policy import Action, can

from .models import Conference, ConferenceNote, ConferenceStatus, NextStep, StepOwner


def save_prep(conference: Conference, working: str, hard: str, help_wanted: str) -> None:
    """The learner's answers: what is working, what is hard, what help I need."""
    conference.prep_working = clean_text(working) or None
    conference.prep_hard = clean_text(hard) or None
    conference.prep_help = clean_text(help_wanted) or None
    conference.prep_at = utcnow()
    conference.touch()
    db.session.flush()


def add_note(conference: Conference, author: User, body: str, private: bool) -> ConferenceNote:
    note = ConferenceNote(
        conference_id=conference.id,
        learner_id=conference.learner_id,
        author_id=author.id,
        body=clean_text(body),
        private=private,
        created_at=utcnow(),
    )
    db.session.add(note)
    if not private:
        # A private note must not even make the learner's panel refresh.
        conference.touch()
    db.session.flush()
    return note


def add_step(
    conference: Conference, author: User, text: str, owner: StepOwner, due_date: date | None
) -> NextStep:
    step = NextStep(
        conference_id=conference.id,
        learner_id=conference.learner_id,
        text=clean_text(text),
        owner=owner,
        due_date=due_date,
        created_by_id=author.id,
        created_at=utcnow(),
    )
    db.session.add(step)
    conference.touch()
    db.session.flush()
    return step


def set_step_done(step: NextStep, by: User, done: bool) -> None:
    """Mark a next step done (now, by whom) or not done again; the workspace refreshes."""
    if done and step.done_at is None:
        step.done_at = utcnow()
        step.done_by_id = by.id
    elif not done:
        step.done_at = None
        step.done_by_id = None
    step.conference.touch()
    db.session.flush()


def open_steps(learner_id: int, before: Conference | None = None) -> list[NextStep]:
    """A learner's next steps not done yet, soonest due first; with `before`, only earlier ones.

    Steps of cancelled conferences do not count.
    """
    stmt = (
        select(NextStep)
        .join(Conference, Conference.id == NextStep.conference_id)
        .where(
            NextStep.learner_id == learner_id,
            NextStep.done_at.is_(None),
            Conference.status != ConferenceStatus.CANCELLED,
        )
    )
    if before is not None:
        stmt = stmt.where(Conference.id != before.id, Conference.scheduled_at < before.scheduled_at)
    return list(
        db.session.scalars(
            stmt.order_by(NextStep.due_date.is_(None), NextStep.due_date, NextStep.id)
        )
    )


def notes_for(conference_ids: list[int], include_private: bool) -> dict[int, list[ConferenceNote]]:
    """Notes per conference; private ones only when asked for (filtered in SQL)."""
    found: dict[int, list[ConferenceNote]] = {cid: [] for cid in conference_ids}
    if not conference_ids:
        return found
    stmt = select(ConferenceNote).where(ConferenceNote.conference_id.in_(conference_ids))
    if not include_private:
        stmt = stmt.where(ConferenceNote.private.is_(False))
    for note in db.session.scalars(stmt.order_by(ConferenceNote.id)):
        found[note.conference_id].append(note)
    return found


def steps_for(conference_ids: list[int]) -> dict[int, list[NextStep]]:
    found: dict[int, list[NextStep]] = {cid: [] for cid in conference_ids}
    if conference_ids:
        for step in db.session.scalars(
            select(NextStep).where(NextStep.conference_id.in_(conference_ids)).order_by(NextStep.id)
        ):
            found[step.conference_id].append(step)
    return found


# --- Who marks a next step done ----------------------------------------------------------

# The learner marks their own steps; a teacher of the learner marks any step (portal.policy
# decides who holds each action). Routes turn this into `may_mark` for the templates.
STEP_ACTION = {
    StepOwner.LEARNER: Action.RUN_CONFERENCE,
    StepOwner.TEACHER: Action.SCHEDULE_CONFERENCE,
}


def may_mark(learner: User) -> dict[StepOwner, bool]:
    """Which owners' next steps the current user may mark done (`_step.html` reads it)."""
    return {owner: can(action, learner) for owner, action in STEP_ACTION.items()}
