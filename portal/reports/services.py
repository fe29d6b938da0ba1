"""Printable reports: what each one shows, rendered to PDF, and where the file is kept.

Each report is a whole HTML document (templates/reports/) laid out by `core.pdf`. It is
built in a background job for the user who asked (portal/reports/jobs.py), who reads
it as they read the pages: the learner and their teacher everything, a family what the
family page shows (portal.policy's family conditions). The file waits under
UPLOAD_FOLDER/reports by a random name for its owner alone, and is deleted after
REPORTS_KEEP_HOURS (default 24) by the worker's minute sweep.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.conferences.models import GoalSignature, SignerRole
from portal.core import jobs
from portal.core.extensions import db
from portal.core.pdf import html_to_pdf
from portal.core.timeutil import utcnow
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.policy import family_entry_condition, family_feedback_condition, family_goal_condition
from portal.profiles import services as profiles
from portal.progress import tracker
from portal.progress.models import Feedback, ProgressEntry

PROFILE, GOAL, FAMILY = "profile", "goal", "family"
KINDS = (PROFILE, GOAL, FAMILY)
RECENT_ENTRIES = 8  # on a goal report
FAMILY_ENTRIES = 3  # per goal on a family report
_KEY = re.compile(r"^[0-9a-f]{32}$")


# --- What each report shows -------------------------------------------------------------


@dataclass
class EntryView:
    entry: ProgressEntry
    rating_label: str
    feedback: list[Feedback] = field(default_factory=list)


@dataclass
class GoalReport:
    goal: Goal
    version: GoalVersion  # the agreed version when there is one
    tracker: tracker.Tracker
    signatures: list[GoalSignature]
    entries: list[EntryView]
    feedback: list[Feedback]  # on the goal as a whole (not on one entry), newest first

    @property
    def changed_since_signed(self) -> bool:
        return self.goal.current_version_id != self.version.id


def _entries(goal: Goal, t: tracker.Tracker, limit: int, family: bool) -> list[EntryView]:
    statement = (
        select(ProgressEntry)
        .where(ProgressEntry.goal_id == goal.id)
        .options(selectinload(ProgressEntry.feedback))
        .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        .limit(limit)
    )
    if family:
        statement = statement.where(family_entry_condition())
    out = []
    for entry in db.session.scalars(statement):
        feedback = [f for f in entry.feedback if f.for_families or not family]
        rating = t.labels.get(entry.self_rating, str(entry.self_rating))
        out.append(EntryView(entry, rating, feedback))
    return out


def _signatures(version: GoalVersion) -> list[GoalSignature]:
    return list(
        db.session.scalars(
            select(GoalSignature)
            .where(GoalSignature.version_id == version.id)
            .order_by(GoalSignature.signed_at)
        )
    )


def goal_report(goal: Goal, *, family: bool = False, limit: int = RECENT_ENTRIES) -> GoalReport:
    """A goal's agreed version, its signatures, tracker and recent entries."""
    version = goal.agreed_version or goal.current_version
    t = tracker.trackers_for([goal], versions={goal.id: version})[0]
    statement = (
        select(Feedback)
        .where(Feedback.goal_id == goal.id, Feedback.entry_id.is_(None))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(limit)
    )
    if family:
        statement = statement.where(family_feedback_condition())
    return GoalReport(
        goal,
        version,
        t,
        _signatures(version),
        _entries(goal, t, limit, family),
        list(db.session.scalars(statement)),
    )


def profile_context(learner: User) -> dict:
    return {"learner": learner, "sections": profiles.profile_sections(learner)}


def goal_context(goal: Goal) -> dict:
    return {"learner": goal.learner, "report": goal_report(goal)}


def family_context(learner: User) -> dict:
    """What the family page shows of a child: agreed goals, shared work, shared profile."""
    goals = list(
        db.session.scalars(
            select(Goal)
            .where(
                Goal.learner_id == learner.id,
                family_goal_condition(),
                Goal.current_version_id.is_not(None),
            )
            .order_by(Goal.status, Goal.created_at, Goal.id)
        )
    )
    reports = [goal_report(g, family=True, limit=FAMILY_ENTRIES) for g in goals]
    return {
        "learner": learner,
        "active": [r for r in reports if r.goal.status is GoalStatus.ACTIVE],
        "reached": [r for r in reports if r.goal.status is GoalStatus.MET],
        "sections": profiles.family_sections(learner),
    }


TEMPLATES = {
    PROFILE: "reports/profile.html",
    GOAL: "reports/goal.html",
    FAMILY: "reports/family.html",
}


def render_html(kind: str, context: dict) -> str:
    return render_template(
        TEMPLATES[kind], report_kind=kind, printed_at=utcnow(), SignerRole=SignerRole, **context
    )


def render_pdf(kind: str, context: dict) -> bytes:
    return html_to_pdf(render_html(kind, context))


# --- The file, for its owner, for a while --------------------------------------------------


def reports_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "reports"


def save(data: bytes) -> str:
    """Keep a rendered report under a random name; return the name (its key)."""
    folder = reports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    (folder / f"{key}.pdf").write_bytes(data)
    return key


def path_of(key: str | None) -> Path | None:
    """The kept file of this key, or None if the key is not one or the file is gone."""
    if not key or not _KEY.match(key):
        return None
    path = reports_folder() / f"{key}.pdf"
    return path if path.is_file() else None


def keep_hours() -> float:
    return float(current_app.config.get("REPORTS_KEEP_HOURS", 24))


@jobs.every_minute
def remove_old_reports(now: float | None = None) -> int:
    """Delete reports kept longer than REPORTS_KEEP_HOURS; how many."""
    folder = reports_folder()
    if not folder.is_dir():
        return 0
    cutoff = (now or time.time()) - keep_hours() * 3600
    old = [f for f in folder.glob("*.pdf") if f.stat().st_mtime < cutoff]
    for file in old:
        file.unlink(missing_ok=True)
    return len(old)
