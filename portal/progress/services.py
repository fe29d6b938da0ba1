"""Changing progress: entries, feedback, the per-goal summary and school settings.

Everything here only flushes; the route commits once. Every write rebuilds the
goal's summary and bumps its version in the same transaction, so open trackers
see the change on their next poll.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import Goal
from portal.progress.models import (
    POINTS_KEPT,
    Feedback,
    GoalProgress,
    LevelMethod,
    ProgressEntry,
    ProgressSettings,
)
from portal.progress.uploads import StoredFile

OTHER = "other"


def entry_by_token(token: str) -> ProgressEntry | None:
    return db.session.scalar(select(ProgressEntry).where(ProgressEntry.token == token))


def feedback_by_token(token: str) -> Feedback | None:
    return db.session.scalar(select(Feedback).where(Feedback.token == token))


def log_entry(
    goal: Goal,
    *,
    token: str,
    strategy: str,
    other_strategy: str | None,
    self_rating: int,
    reflection: str,
    link_url: str | None,
    stored: StoredFile | None,
    shared_with_family: bool = False,
) -> ProgressEntry:
    """Add a learner's entry to an active goal and refresh the goal's summary."""
    chosen = None
    if strategy != OTHER:
        chosen = next(
            (s for s in goal.current_version.strategies if str(s.id) == strategy),
            None,
        )
    entry = ProgressEntry(
        goal_id=goal.id,
        learner_id=goal.learner_id,
        token=token,
        strategy_id=chosen.id if chosen else None,
        strategy_text=chosen.text if chosen else (other_strategy or "").strip()[:200],
        self_rating=self_rating,
        reflection=reflection.strip(),
        link_url=link_url or None,
        file_key=stored.key if stored else None,
        file_name=stored.name if stored else None,
        file_type=stored.mime if stored else None,
        file_size=stored.size if stored else None,
        shared_with_family=shared_with_family,
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    refresh_summary(goal)
    return entry


def add_feedback(
    goal: Goal,
    author: User,
    *,
    token: str,
    body: str,
    rating: int | None,
    for_families: bool,
    entry: ProgressEntry | None = None,
) -> Feedback:
    """Add a teacher's feedback (and rating) to an entry or to the goal as a whole."""
    feedback = Feedback(
        goal_id=goal.id,
        entry_id=entry.id if entry else None,
        learner_id=goal.learner_id,
        author_id=author.id,
        token=token,
        body=body.strip(),
        rating=rating,
        for_families=for_families,
        created_at=utcnow(),
    )
    db.session.add(feedback)
    db.session.flush()
    refresh_summary(goal)
    return feedback


def set_shared(goal: Goal, entry: ProgressEntry, shared: bool) -> bool:
    """Show an entry to the learner's family, or stop; open trackers and pages refresh.

    Returns whether anything changed.
    """
    if bool(entry.shared_with_family) == shared:
        return False
    entry.shared_with_family = shared
    db.session.flush()
    refresh_summary(goal)  # bumps the goal's version
    return True


def _latest_teacher_rating(entry_id_column):
    return (
        select(Feedback.rating)
        .where(Feedback.entry_id == entry_id_column, Feedback.rating.is_not(None))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def refresh_summary(goal: Goal) -> GoalProgress:
    """Rebuild the goal's tracker summary from its entries and feedback; bump its version.

    The goal's row is locked first (FOR NO KEY UPDATE, which the foreign-key checks of
    the entry just inserted do not wait for; SQLite's writers queue anyway): two entries
    logged at the same moment then rebuild one after the other, the second seeing the
    first's entry and summary row instead of missing the one and clashing on the other.
    """
    db.session.execute(select(Goal.id).where(Goal.id == goal.id).with_for_update(key_share=True))
    teacher = _latest_teacher_rating(ProgressEntry.id)
    entries = db.session.execute(
        select(ProgressEntry.created_at, ProgressEntry.self_rating, teacher)
        .where(ProgressEntry.goal_id == goal.id)
        .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        .limit(POINTS_KEPT)
    ).all()
    goal_ratings = db.session.execute(
        select(Feedback.created_at, Feedback.rating)
        .where(
            Feedback.goal_id == goal.id,
            Feedback.entry_id.is_(None),
            Feedback.rating.is_not(None),
        )
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(POINTS_KEPT)
    ).all()
    count, last_at, max_entry = db.session.execute(
        select(
            func.count(ProgressEntry.id),
            func.max(ProgressEntry.created_at),
            func.max(func.coalesce(teacher, ProgressEntry.self_rating)),
        ).where(ProgressEntry.goal_id == goal.id)
    ).one()
    strategy_counts = {
        (str(sid) if sid is not None else OTHER): n
        for sid, n in db.session.execute(
            select(ProgressEntry.strategy_id, func.count())
            .where(ProgressEntry.goal_id == goal.id)
            .group_by(ProgressEntry.strategy_id)
        )
    }
    points = [
        (at, rated if rated is not None else own, "teacher" if rated is not None else "self")
        for at, own, rated in entries
    ] + [(at, rating, "teacher") for at, rating in goal_ratings]
    points.sort(key=lambda p: p[0])
    points = points[-POINTS_KEPT:]
    highest = max([v for v in (max_entry, *(r for _, r in goal_ratings)) if v is not None] or [0])

    summary = db.session.get(GoalProgress, goal.id)
    if summary is None:
        summary = GoalProgress(goal_id=goal.id, learner_id=goal.learner_id, version=0)
        db.session.add(summary)
    summary.version = (summary.version or 0) + 1
    summary.entry_count = count
    summary.last_entry_at = last_at
    summary.max_value = highest or None
    summary.points_json = json.dumps([[t.isoformat(), v, s] for t, v, s in points])
    summary.strategy_counts_json = json.dumps(strategy_counts)
    summary.latest_self_rating = entries[0][1] if entries else None
    summary.latest_entry_rated = bool(entries and entries[0][2] is not None)
    db.session.flush()
    return summary


# --- School settings ---------------------------------------------------------------


def settings_for(school_id: int | None) -> ProgressSettings | None:
    if school_id is None:
        return None
    return db.session.scalar(
        select(ProgressSettings).where(ProgressSettings.school_id == school_id)
    )


def save_settings(
    school_id: int, *, method: LevelMethod, n: int, decay_percent: int, by: User
) -> ProgressSettings:
    """Store the school's level method; open trackers of the school re-render on next poll."""
    settings = settings_for(school_id)
    if settings is None:
        settings = ProgressSettings(school_id=school_id, revision=0)
        db.session.add(settings)
    settings.method = method
    settings.n = n
    settings.decay_percent = decay_percent
    settings.revision = (settings.revision or 0) + 1
    settings.updated_by_id = by.id
    db.session.flush()
    return settings
