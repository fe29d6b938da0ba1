"""The conference agenda: what changed since the learner's last conference.

Built in a fixed number of queries: the previous conference, the next steps still to
do, the entries since, the active goals' trackers, the open goals with due dates, open
profile review requests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.core.extensions import db
from portal.core.timeutil import today, utcnow
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.profiles.services import open_review_requests
from portal.progress.models import ProgressEntry
from portal.progress.tracker import learner_trackers

from . import cycles, notes, scheduling
from .models import Conference

EVIDENCE_SHOWN = 6


@dataclass
class RatingMove:
    statement: str
    before: str | None  # level label at the last conference, None if not rated then
    now: str
    direction: int  # 1 up, -1 down, 0 the same


@dataclass
class Agenda:
    since: datetime
    previous: Conference | None
    evidence: list[ProgressEntry] = field(default_factory=list)
    evidence_more: list[ProgressEntry] = field(default_factory=list)  # behind "see all"
    evidence_count: int = 0
    ratings: list[RatingMove] = field(default_factory=list)
    due: list[tuple[Goal, int]] = field(default_factory=list)  # (goal, days to due; < 0 overdue)
    strategies: list[tuple[str, int]] = field(default_factory=list)
    review_requests: list = field(default_factory=list)
    still_to_do: list = field(default_factory=list)  # open next steps of earlier conferences

    @property
    def empty(self) -> bool:
        return not (
            self.still_to_do
            or self.evidence_count
            or self.ratings
            or self.due
            or self.strategies
            or self.review_requests
        )


def build(conference: Conference) -> Agenda:
    learner = conference.learner
    previous = scheduling.previous_held(conference)
    since = (
        previous.held_at or previous.scheduled_at
        if previous
        else utcnow() - timedelta(days=cycles.cycle_days(learner.org_id))
    )
    agenda = Agenda(since=since, previous=previous)
    agenda.still_to_do = notes.open_steps(learner.id, before=conference)

    entries = list(
        db.session.scalars(
            select(ProgressEntry)
            .where(ProgressEntry.learner_id == learner.id, ProgressEntry.created_at > since)
            .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        )
    )
    agenda.evidence_count = len(entries)
    agenda.evidence, agenda.evidence_more = entries[:EVIDENCE_SHOWN], entries[EVIDENCE_SHOWN:]
    tried = Counter(e.strategy_text for e in entries if e.strategy_text)
    agenda.strategies = tried.most_common()

    for t in learner_trackers(learner):
        if not t.points or t.points[-1][0] <= since:
            continue
        earlier = [v for when, v, _ in t.points if when <= since]
        before = earlier[-1] if earlier else None
        now = t.points[-1][1]
        agenda.ratings.append(
            RatingMove(
                t.version.statement,
                _label(t.scale, before) if before is not None else None,
                _label(t.scale, now),
                0 if before is None or before == now else (1 if now > before else -1),
            )
        )

    soon = today() + timedelta(days=cycles.DUE_SOON_DAYS)
    for goal in db.session.scalars(
        select(Goal)
        .join(GoalVersion, GoalVersion.id == Goal.current_version_id)
        .where(
            Goal.learner_id == learner.id,
            Goal.status.in_([GoalStatus.ACTIVE, GoalStatus.PROPOSED, GoalStatus.DRAFT]),
            GoalVersion.due_date <= soon,
        )
        .order_by(GoalVersion.due_date)
    ):
        agenda.due.append((goal, (goal.current_version.due_date - today()).days))

    agenda.review_requests = open_review_requests([learner.id])
    return agenda


def _label(scale, value: int) -> str:
    level = scale.level(value)
    return f"{value} · {level.display_label}" if level else str(value)
