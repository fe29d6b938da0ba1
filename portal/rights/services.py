"""The record rights: the access log in plain words, and correction requests (flush only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.audit.models import AccessLogEntry
from portal.auth.models import User
from portal.core.extensions import db
from portal.core.i18n import date_text
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import utcnow
from portal.goals.models import Goal, GoalVersion
from portal.policy import (
    entry_condition,
    family_version_id,
    family_view,
    feedback_condition,
    goal_condition,
    own_correction_condition,
    section_condition,
    visible_learner_ids,
)
from portal.profiles.models import ProfileEntry, ProfileEntryRevision, ProfileSection
from portal.progress.models import Feedback, ProgressEntry
from portal.rights.models import PART_TEXT_MAX, CorrectionRequest, CorrectionStatus, PartKind

PER_PAGE = 25
# Who a request names, loaded with it: the pages show them and templates never query.
PEOPLE = (
    selectinload(CorrectionRequest.learner),
    selectinload(CorrectionRequest.requester),
    selectinload(CorrectionRequest.answered_by),
)

# The access log's kinds of record ("what part"), in plain words for families.
RECORD_WORDS = {
    "profile": _l("the learner profile"),
    "goals": _l("goals"),
    "overview": _l("the overview of goals and progress"),
    "progress": _l("the progress log"),
    "evidence": _l("a piece of evidence (an uploaded file)"),
    "conference": _l("a goal conference"),
    "conferences": _l("goal conferences"),
    "cheers": _l("family cheers"),
    "report": _l("a printed report"),
}
OTHER_RECORD = _l("another part of the record")

STATUS_WORDS = {
    CorrectionStatus.OPEN: _l("Sent, not read yet"),
    CorrectionStatus.IN_REVIEW: _l("Being looked at"),
    CorrectionStatus.CORRECTED: _l("Corrected"),
    CorrectionStatus.DECLINED: _l("Not changed"),
}

KIND_WORDS = {
    PartKind.PROFILE_ENTRY: _l("Profile entry"),
    PartKind.GOAL_VERSION: _l("Goal"),
    PartKind.PROGRESS_ENTRY: _l("Progress entry"),
    PartKind.FEEDBACK: _l("Teacher feedback"),
    PartKind.OTHER: _l("Something else"),
}

# How many of the newest progress entries and feedback the form offers to pick from.
RECENT_PARTS = 40


# --- Who has looked ---------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """One staff read, as a family reads it: name, role, when, what part."""

    at: datetime
    name: str
    role: str
    part: str


def record_words(record: str) -> str:
    return str(RECORD_WORDS.get(record, OTHER_RECORD))


def who_has_looked(learner: User, page: int) -> tuple[list[Look], int, int]:
    """One page of staff reads of this learner's record, newest first: (looks, page, pages).

    Only the reader's name and role are shown: what FERPA's record of access keeps (who,
    when, and what they read), never their e-mail, username or the page's address."""
    total = db.session.scalar(
        select(func.count(AccessLogEntry.id)).where(AccessLogEntry.learner_id == learner.id)
    )
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(AccessLogEntry.at, AccessLogEntry.record, User)
        .join(User, User.id == AccessLogEntry.actor_id)
        .where(AccessLogEntry.learner_id == learner.id)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    looks = [
        Look(at, actor.display_name, actor.role.label, record_words(record))
        for at, record, actor in rows
    ]
    return looks, page, pages


# --- Corrections ------------------------------------------------------------------------


def _short(text: str | None, limit: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def part_choices(learner: User) -> list[tuple[str, str]]:
    """The parts of the record the signed-in user reads and may name, as (value, label):
    value is "kind:id". Profile entries, goal versions, recent progress entries and
    feedback; "Something else" last. The same conditions as every page (portal.policy)."""
    choices: list[tuple[str, str]] = []
    latest = (
        select(ProfileEntryRevision.entry_id, func.max(ProfileEntryRevision.id).label("rid"))
        .group_by(ProfileEntryRevision.entry_id)
        .subquery()
    )
    for entry_id, text, key in db.session.execute(
        select(ProfileEntry.id, ProfileEntryRevision.text, ProfileSection.key)
        .join(ProfileSection, ProfileSection.id == ProfileEntry.section_id)
        .join(latest, latest.c.entry_id == ProfileEntry.id)
        .join(ProfileEntryRevision, ProfileEntryRevision.id == latest.c.rid)
        .where(ProfileSection.learner_id == learner.id, section_condition(learner))
        .order_by(ProfileEntry.id)
    ):
        label = _("Profile entry: %(text)s", text=_short(text) or key)
        choices.append((f"{PartKind.PROFILE_ENTRY}:{entry_id}", label))
    for version_id, statement in db.session.execute(
        select(GoalVersion.id, GoalVersion.statement)
        .join(Goal, Goal.id == GoalVersion.goal_id)
        .where(
            Goal.learner_id == learner.id,
            goal_condition(learner),
            GoalVersion.id
            == (family_version_id() if family_view(learner) else Goal.current_version_id),
        )
        .order_by(Goal.id)
    ):
        label = _("Goal: %(text)s", text=_short(statement))
        choices.append((f"{PartKind.GOAL_VERSION}:{version_id}", label))
    for entry_id, reflection, created in db.session.execute(
        select(ProgressEntry.id, ProgressEntry.reflection, ProgressEntry.created_at)
        .join(Goal, Goal.id == ProgressEntry.goal_id)
        .where(
            ProgressEntry.learner_id == learner.id,
            goal_condition(learner),
            entry_condition(learner),
        )
        .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
        .limit(RECENT_PARTS)
    ):
        label = _(
            "Progress entry of %(date)s: %(text)s", date=date_text(created), text=_short(reflection)
        )
        choices.append((f"{PartKind.PROGRESS_ENTRY}:{entry_id}", label))
    for feedback_id, body in db.session.execute(
        select(Feedback.id, Feedback.body)
        .join(Goal, Goal.id == Feedback.goal_id)
        .outerjoin(ProgressEntry, ProgressEntry.id == Feedback.entry_id)
        .where(
            Feedback.learner_id == learner.id,
            goal_condition(learner),
            feedback_condition(learner),
            (Feedback.entry_id.is_(None)) | entry_condition(learner),
        )
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(RECENT_PARTS)
    ):
        label = _("Teacher feedback: %(text)s", text=_short(body))
        choices.append((f"{PartKind.FEEDBACK}:{feedback_id}", label))
    choices.append((f"{PartKind.OTHER}:", str(KIND_WORDS[PartKind.OTHER])))
    return choices


def parse_part(value: str | None) -> tuple[PartKind, int | None] | None:
    """'kind:id' as (PartKind, id), or None when it is not one."""
    kind, _sep, raw = (value or "").partition(":")
    try:
        part_kind = PartKind(kind)
    except ValueError:
        return None
    if part_kind is PartKind.OTHER:
        return part_kind, None
    return (part_kind, int(raw)) if raw.isdigit() and len(raw) < 10 else None


def ask_correction(
    learner: User,
    requester: User,
    part: tuple[PartKind, int | None],
    part_text: str,
    message: str,
) -> CorrectionRequest:
    """Record a request for the school admins' queue."""
    kind, part_id = part
    correction = CorrectionRequest(
        learner_id=learner.id,
        requester_id=requester.id,
        part_kind=kind,
        part_id=part_id,
        part_text=(part_text or "")[:PART_TEXT_MAX],
        message=message.strip(),
        status=CorrectionStatus.OPEN,
    )
    db.session.add(correction)
    db.session.flush()
    return correction


def own_corrections(learner: User) -> list[CorrectionRequest]:
    """The requests the signed-in user made about this learner, newest first."""
    return list(
        db.session.scalars(
            select(CorrectionRequest)
            .where(own_correction_condition(learner))
            .options(*PEOPLE)
            .order_by(CorrectionRequest.created_at.desc(), CorrectionRequest.id.desc())
        )
    )


def queue(admin: User, status: CorrectionStatus | None, page: int):
    """The requests about learners this admin manages, oldest open first, as a pagination."""
    statement = (
        select(CorrectionRequest)
        .where(CorrectionRequest.learner_id.in_(visible_learner_ids(admin)))
        .options(*PEOPLE)
        .order_by(CorrectionRequest.created_at, CorrectionRequest.id)
    )
    if status is not None:
        statement = statement.where(CorrectionRequest.status == status)
    return db.paginate(statement, page=page, per_page=PER_PAGE, error_out=False)


def answer_correction(
    correction: CorrectionRequest, admin: User, status: CorrectionStatus, answer: str
) -> None:
    """Set the request's status and keep the answer, who gave it and when."""
    correction.status = status
    correction.answer = answer.strip() or None
    correction.answered_by_id = admin.id
    correction.answered_at = utcnow()
    db.session.flush()
