"""Conferences and co-signing: scheduling, notes, next steps, signatures, reflection.

Everything here only flushes; the route commits once.

Co-signing rule: a goal is agreed on a version when the learner and a teacher of
that learner have both signed *that* version, and each signature's stored hash
still equals the version's stored hash and the hash recomputed from its content.
A later edit makes a newer version with no signatures; the goal stays ACTIVE on
its agreed version (`Goal.agreed_version`) and shows "changed since signed" until
both sign the new one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, func, literal, select, true
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal.auth.models import Role, User
from portal.auth.services import check_password, check_pin
from portal.core.extensions import db
from portal.core.timeutil import today, utcnow
from portal.goals import services as goal_services
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.goals.services import clean_text, is_co_signed, signatures_for, version_is_intact
from portal.goals.services import signature_is_valid as signature_is_valid  # re-exported
from portal.policy import Action, can, family_goal_condition, visible_learner_ids
from portal.progress.models import GoalProgress
from portal.progress.tracker import load_goals, trackers_for
from portal.roster.models import Enrollment, EnrollmentRole
from portal.roster.queries import learners_in_class

from .models import (
    DEFAULT_CYCLE_DAYS,
    Conference,
    ConferenceNote,
    ConferenceRequest,
    ConferenceSettings,
    ConferenceStatus,
    GoalAcknowledgement,
    GoalReflection,
    GoalSignature,
    NextStep,
    ReflectionChoice,
    SignerRole,
    SignMethod,
    StepOwner,
)

DUE_SOON_DAYS = 7
MAX_OCCURRENCES = 10


class SignError(Exception):
    """A signature the rules do not allow (stale version, tampered content)."""


# --- The school's cycle --------------------------------------------------------------


def settings_for(school_id: int | None) -> ConferenceSettings | None:
    if school_id is None:
        return None
    return db.session.scalar(
        select(ConferenceSettings).where(ConferenceSettings.school_id == school_id)
    )


def cycle_days(school_id: int | None) -> int:
    settings = settings_for(school_id)
    return settings.cycle_days if settings else DEFAULT_CYCLE_DAYS


def save_settings(school_id: int, days: int, by: User) -> ConferenceSettings:
    settings = settings_for(school_id)
    if settings is None:
        settings = ConferenceSettings(school_id=school_id)
        db.session.add(settings)
    settings.cycle_days = days
    settings.updated_by_id = by.id
    db.session.flush()
    return settings


# --- Scheduling and asking -------------------------------------------------------------


def schedule(
    learner: User,
    teacher: User,
    first_at: datetime,
    *,
    class_id: int | None = None,
    duration_minutes: int = 15,
    every_weeks: int = 0,
    occurrences: int = 1,
) -> list[Conference]:
    """Schedule one conference, or a series every N weeks; resolves the learner's request."""
    occurrences = max(1, min(occurrences if every_weeks else 1, MAX_OCCURRENCES))
    key = secrets.token_hex(8) if occurrences > 1 else None
    made = [
        Conference(
            learner_id=learner.id,
            teacher_id=teacher.id,
            class_id=class_id,
            scheduled_at=first_at + timedelta(weeks=every_weeks * i),
            duration_minutes=duration_minutes,
            series_key=key,
            created_by_id=teacher.id,
        )
        for i in range(occurrences)
    ]
    db.session.add_all(made)
    if (request := open_request(learner.id)) is not None:
        request.resolved_at = utcnow()
    db.session.flush()
    return made


def _open_request_query(learner_id) -> Select:
    return (
        select(ConferenceRequest)
        .where(ConferenceRequest.learner_id == learner_id, ConferenceRequest.resolved_at.is_(None))
        .order_by(ConferenceRequest.id)
        .limit(1)
    )


def open_request(learner_id: int) -> ConferenceRequest | None:
    return db.session.scalar(_open_request_query(learner_id))


def request_conference(learner: User, note: str | None) -> ConferenceRequest:
    """Ask for a conference; asking again while one is open updates its note."""
    request = open_request(learner.id)
    note = clean_text(note) or None
    if request is None:
        request = ConferenceRequest(learner_id=learner.id, note=note)
        db.session.add(request)
    elif note:
        request.note = note
    db.session.flush()
    return request


def set_status(conference: Conference, status: ConferenceStatus) -> None:
    conference.status = status
    conference.held_at = utcnow() if status is ConferenceStatus.DONE else None
    conference.touch()
    db.session.flush()


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


# --- Signatures ------------------------------------------------------------------------
# When signatures agree a goal (is_co_signed and the rest) is the goal's rule, kept in
# portal.goals.services next to activate(); here signatures are made and shown.


def sign(
    goal: Goal,
    version_id: int,
    signer: User,
    *,
    method: SignMethod = SignMethod.SESSION,
    witness: User | None = None,
    conference: Conference | None = None,
) -> tuple[GoalSignature, bool]:
    """Sign the goal's current version; returns the signature and whether the goal became agreed.

    The caller has checked that `signer` may sign (Action.SIGN_GOAL). Signing twice
    returns the first signature.

    The goal's row is locked first (FOR NO KEY UPDATE, which foreign-key checks do not
    wait for; SQLite's write transactions queue anyway), so signatures of one goal land
    one at a time: a second click finds the first signature, and when learner and
    teacher sign at the same moment the later one sees the earlier and the goal becomes
    agreed.
    """
    db.session.refresh(goal, with_for_update={"key_share": True})
    version = goal.current_version
    if version is None or version.id != version_id:
        raise SignError("stale")
    if not version_is_intact(version):
        raise SignError("tampered")
    role = SignerRole.LEARNER if signer.id == goal.learner_id else SignerRole.TEACHER
    existing = db.session.scalar(
        select(GoalSignature).where(
            GoalSignature.version_id == version.id, GoalSignature.signer_id == signer.id
        )
    )
    signature = existing or GoalSignature(
        goal_id=goal.id,
        version_id=version.id,
        learner_id=goal.learner_id,
        signer_id=signer.id,
        role=role,
        content_hash=version.content_hash,
        method=method,
        witness_id=witness.id if witness else None,
        conference_id=conference.id if conference else None,
        signed_at=utcnow(),
    )
    if existing is None:
        db.session.add(signature)
        db.session.flush()
    activated = False
    if goal.agreed_version_id != version.id and goal.is_open and is_co_signed(goal, version):
        goal_services.activate(goal, signer)
        activated = True
    if conference is not None:
        conference.touch()
    db.session.flush()
    return signature, activated


def verify_learner(learner: User, secret: str):
    """Check the learner's own PIN (or password) typed on a teacher's screen, throttled.

    The same failure counting and lock as signing in (portal.auth.services).
    """
    if learner.pin_hash:
        return check_pin(learner, secret)
    return check_password(learner.username, secret)


def acknowledge(goal: Goal, guardian: User) -> GoalAcknowledgement | None:
    """Record "seen by family" for the goal's agreed version; None if nothing is agreed."""
    version_id = goal.agreed_version_id
    if version_id is None:
        return None
    found = db.session.scalar(
        select(GoalAcknowledgement).where(
            GoalAcknowledgement.version_id == version_id,
            GoalAcknowledgement.guardian_id == guardian.id,
        )
    )
    if found is None:
        found = GoalAcknowledgement(goal_id=goal.id, version_id=version_id, guardian_id=guardian.id)
        db.session.add(found)
        db.session.flush()
    return found


@dataclass
class VersionSigning:
    """One version with its signatures, for display."""

    version: GoalVersion
    signatures: list[GoalSignature]
    intact: bool

    def valid(self, sig: GoalSignature) -> bool:
        return self.intact and sig.content_hash == self.version.content_hash

    @property
    def learner_signed(self) -> bool:
        return any(s.role is SignerRole.LEARNER and self.valid(s) for s in self.signatures)

    @property
    def teacher_signed(self) -> bool:
        return any(s.role is SignerRole.TEACHER and self.valid(s) for s in self.signatures)

    @property
    def invalid(self) -> list[GoalSignature]:
        return [s for s in self.signatures if not self.valid(s)]

    def signed_by(self, user_id: int) -> bool:
        return any(s.signer_id == user_id and self.valid(s) for s in self.signatures)


@dataclass
class Agreement:
    """What a goal page shows about co-signing: the current and the agreed version."""

    goal: Goal
    current: VersionSigning | None
    agreed: VersionSigning | None
    acknowledgements: list[GoalAcknowledgement] = field(default_factory=list)

    @property
    def changed_since_signed(self) -> bool:
        return self.goal.changed_since_signed

    def acknowledged_by(self, user_id: int) -> bool:
        return any(a.guardian_id == user_id for a in self.acknowledgements)


def agreements(goals: list[Goal]) -> dict[int, Agreement]:
    """Signing state for several goals in a fixed number of queries."""
    goals = [g for g in goals if g.current_version is not None]
    ids: set[int] = set()
    for g in goals:
        ids.add(g.current_version_id)
        if g.agreed_version_id:
            ids.add(g.agreed_version_id)
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(GoalVersion)
            .where(GoalVersion.id.in_(ids or [0]))
            .options(selectinload(GoalVersion.targets), selectinload(GoalVersion.strategies))
        )
    }
    sigs = signatures_for(list(ids))
    acks: dict[int, list[GoalAcknowledgement]] = {}
    agreed_ids = [g.agreed_version_id for g in goals if g.agreed_version_id]
    if agreed_ids:
        for ack in db.session.scalars(
            select(GoalAcknowledgement)
            .where(GoalAcknowledgement.version_id.in_(agreed_ids))
            .order_by(GoalAcknowledgement.acknowledged_at)
        ):
            acks.setdefault(ack.version_id, []).append(ack)

    def signing(vid):
        if vid is None or vid not in versions:
            return None
        v = versions[vid]
        return VersionSigning(v, sigs.get(vid, []), version_is_intact(v))

    return {
        g.id: Agreement(
            g,
            signing(g.current_version_id),
            signing(g.agreed_version_id),
            acks.get(g.agreed_version_id, []),
        )
        for g in goals
    }


def agreement(goal: Goal) -> Agreement | None:
    return agreements([goal]).get(goal.id)


# --- Reflect and revise --------------------------------------------------------------------


def cycle_start():
    """When a goal's current cycle started, as a column over `Goal`: its last reflection,
    else when it was agreed (the latest signature of its agreed version), else its creation.
    Select it with the goals (as the learner home does) and pass it to `reflections_due`."""
    last_reflection = (
        select(func.max(GoalReflection.created_at))
        .where(GoalReflection.goal_id == Goal.id)
        .scalar_subquery()
    )
    agreed_at = (
        select(func.max(GoalSignature.signed_at))
        .where(GoalSignature.version_id == Goal.agreed_version_id)
        .scalar_subquery()
    )
    return func.coalesce(last_reflection, agreed_at, Goal.created_at)


def reflections_due(
    learner: User,
    active: list[Goal] | None = None,
    *,
    started: dict[int, object] | None = None,
    days: int | None = None,
) -> tuple[list[Goal], datetime | None]:
    """Active goals whose cycle has run out since they were agreed or last reflected on,
    and when the next of the others runs out (None if none will).

    `active` is the learner's active goals with their current versions when the caller
    has them loaded already (the learner home does); else they are loaded here. `started`
    (goal id -> `cycle_start()`) and `days` (the school's cycle) likewise, when the caller
    read them already.
    """
    if active is None:
        active = list(
            db.session.scalars(
                select(Goal)
                .where(Goal.learner_id == learner.id, Goal.status == GoalStatus.ACTIVE)
                .options(selectinload(Goal.current_version))
            )
        )
    if not active:
        return [], None
    if days is None:
        days = cycle_days(learner.org_id)
    if started is None:
        started = dict(
            db.session.execute(
                select(Goal.id, cycle_start()).where(
                    Goal.id.in_([g.id for g in active]), Goal.learner_id == learner.id
                )
            ).all()
        )
    rows = [(goal, started.get(goal.id)) for goal in sorted(active, key=lambda g: g.id)]
    now, cycle = utcnow(), timedelta(days=days)
    ends = [(goal, _as_datetime(at) + cycle) for goal, at in rows if at is not None]
    later = [end for _, end in ends if end > now]
    return [goal for goal, end in ends if end <= now], min(later, default=None)


def _as_datetime(value) -> datetime:
    # SQLite hands back the text of a MAX() over datetimes.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def reflect(goal: Goal, learner: User, choice: ReflectionChoice, note: str | None) -> None:
    """Record the learner's end-of-cycle choice; "met" closes the goal."""
    db.session.add(
        GoalReflection(
            goal_id=goal.id,
            learner_id=learner.id,
            choice=choice,
            note=clean_text(note) or None,
            created_at=utcnow(),
        )
    )
    if choice is ReflectionChoice.MET:
        goal_services.transition(goal, GoalStatus.MET, learner)
    db.session.flush()


# --- Who is due, per class ---------------------------------------------------------------


@dataclass
class DueRow:
    learner: User
    last_held: datetime | None = None
    next: Conference | None = None
    asked: ConferenceRequest | None = None
    goals_due: int = 0
    goals_overdue: int = 0
    stuck: bool = False
    cycle_days: int = DEFAULT_CYCLE_DAYS

    @property
    def days_since(self) -> int | None:
        return (today() - self.last_held.date()).days if self.last_held else None

    @property
    def cycle_over(self) -> bool:
        return self.last_held is None or self.days_since >= self.cycle_days

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.asked:
            out.append("asked")
        if self.cycle_over:
            out.append("cycle")
        if self.goals_overdue:
            out.append("overdue")
        if self.goals_due:
            out.append("due_soon")
        if self.stuck:
            out.append("stuck")
        return out

    @property
    def is_due(self) -> bool:
        return bool(self.reasons) and self.next is None


def due_for_class(class_id: int, school_id: int, user: User) -> list[DueRow]:
    """Each learner of the class with why a conference is due; a fixed number of queries."""
    in_class = select(Enrollment.user_id).where(
        Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.LEARNER
    )
    visible = visible_learner_ids(user)
    ids_stmt = in_class.where(Enrollment.user_id.in_(visible))
    days = cycle_days(school_id)
    rows = {learner.id: DueRow(learner, cycle_days=days) for learner in learners_in_class(class_id)}
    allowed = set(db.session.scalars(ids_stmt))
    rows = {lid: row for lid, row in rows.items() if lid in allowed}
    if not rows:
        return []
    for learner_id, held in db.session.execute(
        select(Conference.learner_id, func.max(Conference.scheduled_at))
        .where(Conference.learner_id.in_(ids_stmt), Conference.status == ConferenceStatus.DONE)
        .group_by(Conference.learner_id)
    ):
        rows[learner_id].last_held = _as_datetime(held)
    for conference in db.session.scalars(
        select(Conference)
        .where(
            Conference.learner_id.in_(ids_stmt),
            Conference.status == ConferenceStatus.SCHEDULED,
            Conference.scheduled_at >= utcnow() - timedelta(hours=12),
        )
        .order_by(Conference.scheduled_at.desc())
    ):
        rows[conference.learner_id].next = conference  # the earliest wins: ordered desc
    for request in db.session.scalars(
        select(ConferenceRequest).where(
            ConferenceRequest.learner_id.in_(ids_stmt), ConferenceRequest.resolved_at.is_(None)
        )
    ):
        rows[request.learner_id].asked = request
    soon = today() + timedelta(days=DUE_SOON_DAYS)
    for learner_id, due in db.session.execute(
        select(Goal.learner_id, GoalVersion.due_date)
        .join(GoalVersion, GoalVersion.id == Goal.current_version_id)
        .where(
            Goal.learner_id.in_(ids_stmt),
            Goal.status.in_([GoalStatus.ACTIVE, GoalStatus.PROPOSED]),
            GoalVersion.due_date <= soon,
        )
    ):
        if due < today():
            rows[learner_id].goals_overdue += 1
        else:
            rows[learner_id].goals_due += 1
    for t in trackers_for(load_goals(ids_stmt, visible_to=user)):
        if t.stuck:
            rows[t.goal.learner_id].stuck = True
    return list(rows.values())


# --- Reading: the learner's conferences ----------------------------------------------------


# A conference stays "next" until this long after its start, so it can still be opened.
NEXT_GRACE = timedelta(hours=12)


def _next_conference_query(learner_id, since=None) -> Select:
    """`learner_id` and `since` (default: now less the grace) may be bind parameters."""
    return (
        select(Conference)
        .where(
            Conference.learner_id == learner_id,
            Conference.status == ConferenceStatus.SCHEDULED,
            Conference.scheduled_at >= (utcnow() - NEXT_GRACE if since is None else since),
        )
        .order_by(Conference.scheduled_at)
        .limit(1)
    )


def next_conference(learner_id: int) -> Conference | None:
    return db.session.scalar(
        _next_conference_query(learner_id).options(joinedload(Conference.teacher))
    )


@dataclass
class LearnerCardState:
    """The learner's next conference (with its teacher) and open request, read together."""

    next: Conference | None
    teacher: User | None
    request: ConferenceRequest | None
    extra: tuple  # the values of the caller's `columns`


_CARD_TEACHER = aliased(User)  # made once: an alias is costly to build and adapt to


def learner_card_query(*columns) -> Select:
    """The statement of `learner_card_state` with `columns`, for the parameters
    `learner_id` and `since` (`learner_card_state` gives both): build it once per process
    and pass it as `query` (building and keying it costs more than running it)."""
    learner_id, since = bindparam("learner_id"), bindparam("since")
    next_id = _next_conference_query(learner_id, since).with_only_columns(Conference.id)
    request_id = _open_request_query(learner_id).with_only_columns(ConferenceRequest.id)
    teacher = _CARD_TEACHER
    return (
        select(Conference, teacher, ConferenceRequest, *columns)
        .select_from(User)
        .outerjoin(Conference, Conference.id == next_id.correlate(None).scalar_subquery())
        .outerjoin(teacher, teacher.id == Conference.teacher_id)
        .outerjoin(
            ConferenceRequest,
            ConferenceRequest.id == request_id.correlate(None).scalar_subquery(),
        )
        .where(User.id == learner_id)
    )


def learner_card_state(learner_id: int, *columns, query: Select | None = None) -> LearnerCardState:
    """`next_conference` and `open_request` in one statement, one row whatever the learner
    has (anchored on the learner), with the values of `columns`, extra scalar expressions
    the caller reads in the same statement (the learner home: the site change stamp).
    `query`: `learner_card_query(*columns)`, built once by the caller."""
    stmt = learner_card_query(*columns) if query is None else query
    params = {"learner_id": learner_id, "since": utcnow() - NEXT_GRACE}
    row = db.session.execute(stmt, params).one()
    return LearnerCardState(row[0], row[1], row[2], tuple(row[3:]))


def upcoming_for_teacher(teacher: User, limit: int = 20) -> list[Conference]:
    return list(
        db.session.scalars(
            select(Conference)
            .where(
                Conference.teacher_id == teacher.id,
                Conference.status == ConferenceStatus.SCHEDULED,
                Conference.scheduled_at >= utcnow() - timedelta(hours=12),
                Conference.learner_id.in_(visible_learner_ids(teacher)),
            )
            .options(selectinload(Conference.learner))
            .order_by(Conference.scheduled_at)
            .limit(limit)
        )
    )


def previous_held(conference: Conference) -> Conference | None:
    """The learner's last conference held before this one."""
    return db.session.scalar(
        select(Conference)
        .where(
            Conference.learner_id == conference.learner_id,
            Conference.status == ConferenceStatus.DONE,
            Conference.id != conference.id,
            Conference.scheduled_at < conference.scheduled_at,
        )
        .order_by(Conference.scheduled_at.desc())
        .limit(1)
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
