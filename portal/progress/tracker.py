"""Tracker data for one goal or many, chart geometry, and the cheap change tokens polls compare.

Building trackers for any number of goals costs a fixed number of queries: the
goals with their current versions, their summaries, the schools' scales and
settings. Nothing here loads individual entries.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import SimpleNamespace

from flask import session
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import joinedload

from portal.auth.models import LoginSession, Role, User
from portal.auth.services import LIVE_SESSION, current_session_token_hash, live_session_params
from portal.core import read_session, stamps
from portal.core.extensions import db
from portal.core.i18n import date_text, in_locale
from portal.core.timeutil import today, utcnow
from portal.goals.models import Goal, GoalStatus, GoalVersion, GoalVersionTarget
from portal.policy import (
    TEACHER_CLASS_ACCESS,
    class_access_sql,
    family_goal_condition,
    visible_learner_ids,
)
from portal.progress.mastery import (
    Method,
    Projection,
    current_level,
    is_stuck,
    least_used,
    project,
)
from portal.progress.models import GoalProgress, ProgressSettings
from portal.roster.models import Enrollment, EnrollmentRole, SchoolClass
from portal.targets.models import DEFAULT_LEVELS, DEFAULT_LEVELS_ES, MASTERY_VALUE, MasteryScale

QUIET_DAYS = 7
CHART_W, CHART_H, CHART_PAD = 300, 90, 12


# --- Scales ------------------------------------------------------------------------


def _default_scale():
    """The default levels, used (never written) when a school has no scale yet."""
    levels = [
        SimpleNamespace(
            value=v,
            label=label,
            description=d,
            is_mastery=v == MASTERY_VALUE,
            display_label=in_locale(label, DEFAULT_LEVELS_ES[v][0]),
            display_description=in_locale(d, DEFAULT_LEVELS_ES[v][1]),
        )
        for v, label, d in DEFAULT_LEVELS
    ]
    return SimpleNamespace(
        levels=levels, level=lambda value: next((x for x in levels if x.value == value), None)
    )


def scales_for(school_ids: set[int]) -> dict[int, object]:
    found = {}
    if school_ids:
        found = {
            s.school_id: s
            for s in db.session.scalars(
                select(MasteryScale)
                .where(MasteryScale.school_id.in_(school_ids))
                .options(joinedload(MasteryScale.levels))
            ).unique()
        }
    return {sid: found.get(sid) or _default_scale() for sid in school_ids}


def scale_for(school_id: int | None):
    return scales_for({school_id}).get(school_id) if school_id else _default_scale()


def settings_for(school_ids: set[int]) -> dict[int, ProgressSettings]:
    if not school_ids:
        return {}
    return {
        s.school_id: s
        for s in db.session.scalars(
            select(ProgressSettings).where(ProgressSettings.school_id.in_(school_ids))
        )
    }


# --- Change tokens -----------------------------------------------------------------


def _token(*parts) -> str:
    return ".".join(str(p or 0) for p in (*parts, today().toordinal()))


def goal_token(goal: Goal, summary: GoalProgress | None, settings: ProgressSettings | None) -> str:
    return _token(
        goal.current_version_id,
        goal.lock_version,
        summary.version if summary else 0,
        settings.revision if settings else 0,
    )


def _goal_poll_select():
    return (
        select(
            Goal.status,
            Goal.current_version_id,
            Goal.lock_version,
            GoalProgress.version,
            ProgressSettings.revision,
        )
        .join(User, User.id == Goal.learner_id)
        .outerjoin(GoalProgress, GoalProgress.goal_id == Goal.id)
        .outerjoin(ProgressSettings, ProgressSettings.school_id == User.org_id)
        .where(Goal.id == bindparam("goal_id"))
    )


# Built once: a learner's poll is the hot path, and it only ever reads their own goal.
_LEARNER_POLL = _goal_poll_select().where(Goal.learner_id == bindparam("user_id"))


def goal_poll_state(goal_id: int, user: User) -> tuple[GoalStatus, str] | None:
    """One indexed query: the goal's status and change token, if this user may see it."""
    if user.role is Role.LEARNER:
        statement = _LEARNER_POLL
    else:
        statement = _goal_poll_select().where(Goal.learner_id.in_(visible_learner_ids(user)))
        if user.role is Role.GUARDIAN:  # a family polls only the goals they see
            statement = statement.where(family_goal_condition())
    row = db.session.execute(statement, {"goal_id": goal_id, "user_id": user.id}).first()
    if row is None:
        return None
    status, *parts = row
    return status, _token(*parts)


# A learner's idle poll, the most frequent request of all, in ONE query that also
# authenticates: the session token's row, its user, and that user's own goal. Anything
# unusual (no row, another role, a session that is not live, a closed goal) falls
# through to the normal path, which signs in, checks the policy and answers properly.
# "Live" is the sign-in's own condition (auth.services.LIVE_SESSION): an active account,
# not idle; the poll never keeps a second copy of that rule.
_LEARNER_FAST_POLL = (
    select(
        LoginSession.user_id,
        Goal.status,
        Goal.current_version_id,
        Goal.lock_version,
        GoalProgress.version,
        ProgressSettings.revision,
    )
    .select_from(LoginSession)
    .join(User, User.id == LoginSession.user_id)
    .join(Goal, and_(Goal.learner_id == User.id, Goal.id == bindparam("goal_id")))
    .outerjoin(GoalProgress, GoalProgress.goal_id == Goal.id)
    .outerjoin(ProgressSettings, ProgressSettings.school_id == User.org_id)
    .where(
        LoginSession.token_hash == bindparam("token_hash"),
        User.role == Role.LEARNER,
        LIVE_SESSION,  # the sign-in's own definition of a live session (auth.services)
    )
)


def learner_poll_unchanged(goal_id: int, seen: str) -> bool:
    """True only when this browser's signed-in learner polls their own active, unchanged goal."""
    token_hash, user_id = current_session_token_hash(), session.get("_user_id")
    if not token_hash or not user_id:
        return False
    row = _fast_poll_row(goal_id, token_hash)
    if row is None:  # no such session, not live, not a learner's, or not their goal
        return False
    owner, status, *parts = row
    return (
        str(owner) == str(user_id)
        and status in (GoalStatus.ACTIVE, GoalStatus.ACTIVE.name)
        and _token(*parts) == seen
    )


def _fast_poll_row(goal_id: int, token_hash: str):
    """The idle poll's one row, on a connection of its own (the ORM session is not needed).

    On SQLite the statement goes straight to the driver: for this one indexed SELECT,
    SQLAlchemy's execution (cache key, bind and result processing) costs several times
    the query, and the idle poll is the most frequent request there is. The SQL is still
    SQLAlchemy's, compiled once. On PostgreSQL the round trip dominates; the statement
    runs through SQLAlchemy on the reading engine (autocommit: no BEGIN, no ROLLBACK).
    """
    params = {"goal_id": goal_id, "token_hash": token_hash, **live_session_params()}
    engine = db.engine
    if engine.dialect.name != "sqlite":
        with read_session.for_request(engine).connect() as connection:
            return connection.execute(_LEARNER_FAST_POLL, params).first()
    sql, names, constants, processors = _sqlite_fast_poll(engine.dialect)
    values = {**constants, **{k: processors[k](v) for k, v in params.items()}}
    raw = engine.raw_connection()  # pysqlite in autocommit: the SELECT is its own snapshot
    try:
        cursor = raw.cursor()
        cursor.execute(sql, [values[name] for name in names])
        return cursor.fetchone()
    finally:
        raw.close()


@functools.cache
def _sqlite_fast_poll(dialect):
    """The poll's SQL for SQLite, its parameter order, its constants as stored, and how
    each per-request value is stored (the live-session times as SQLite's text)."""
    compiled = _LEARNER_FAST_POLL.compile(dialect=dialect)
    per_request = {"goal_id": 0, "token_hash": "", **live_session_params(utcnow())}
    constants, processors = {}, {}
    for name, value in compiled.construct_params(per_request).items():
        process = compiled.binds[name].type.bind_processor(dialect) or _same
        if name in per_request:
            processors[name] = process
        else:  # the role, as the column stores it
            constants[name] = process(value)
    return str(compiled), compiled.positiontup, constants, processors


def _same(value):
    return value


def _class_token_select(access):
    """One row over the class's learners' change stamps, if `access` lets the viewer in.

    A learner's stamp moves with every change to their goals and progress; the site
    stamp with names, the roster, scales and settings: all the view shows.
    """
    learner_stamp = and_(
        stamps.ChangeStamp.scope == stamps.LEARNER_SCOPE,
        stamps.ChangeStamp.subject_id == Enrollment.user_id,
    )
    return (
        select(
            stamps.site_stamp_column(),
            func.count(Enrollment.user_id),
            func.sum(stamps.ChangeStamp.version),
        )
        .select_from(SchoolClass)
        .outerjoin(
            Enrollment,
            and_(Enrollment.class_id == SchoolClass.id, Enrollment.role == EnrollmentRole.LEARNER),
        )
        .outerjoin(stamps.ChangeStamp, learner_stamp)
        .where(SchoolClass.id == bindparam("class_id"), access)
        .group_by(SchoolClass.id)
    )


# Built once: teachers' class polls are the hot path, and their access condition is one
# fixed expression in the policy (its parameters are bound per call).
_TEACHER_CLASS_TOKEN = _class_token_select(TEACHER_CLASS_ACCESS)


def class_token(class_id: int, user: User) -> str | None:
    """The class view's change token in one query; None if the user may not see the class.

    The site stamp is in it too: the view also shows names, the roster and the scale.
    """
    access, params = class_access_sql(user)
    statement = _TEACHER_CLASS_TOKEN if user.role is Role.TEACHER else _class_token_select(access)
    row = db.session.execute(statement, {**params, "class_id": class_id}).first()
    return None if row is None else _token(*row)


# --- Trackers ----------------------------------------------------------------------


@dataclass
class ChartPoint:
    x: float
    y: float
    value: int
    label: str
    when: datetime
    source: str


@dataclass
class Tracker:
    goal: Goal
    version: GoalVersion
    scale: object
    method: Method
    summary: GoalProgress | None
    token: str
    raw_points: list = field(default_factory=list)  # [[iso, value, source], ...]
    values: list[int] = field(default_factory=list)
    current: float | None = None

    @cached_property
    def points(self) -> list[tuple[datetime, int, str]]:
        return [(datetime.fromisoformat(t), v, s) for t, v, s in self.raw_points]

    @cached_property
    def projection(self) -> Projection:
        return project([(t, v) for t, v, _ in self.points], self.target_value)

    @property
    def active(self) -> bool:
        return self.goal.status is GoalStatus.ACTIVE

    @property
    def target_value(self) -> int:
        return self.version.target_level

    @property
    def target_label(self) -> str:
        return self.labels.get(self.target_value, str(self.target_value))

    @property
    def current_label(self) -> str | None:
        if self.current is None:
            return None
        return self.labels.get(int(self.current + 0.5), f"{self.current:.1f}")

    @property
    def reached(self) -> bool:
        return self.current is not None and int(self.current + 0.5) >= self.target_value

    @property
    def top_value(self) -> int:
        return max([*self.labels, self.target_value, 1])

    @cached_property
    def labels(self) -> dict[int, str]:
        return {lv.value: lv.display_label for lv in self.scale.levels}

    def label_of(self, value: int | None) -> str | None:
        return None if value is None else self.labels.get(value, str(value))

    @property
    def entry_count(self) -> int:
        return self.summary.entry_count if self.summary else 0

    @cached_property
    def days_since_last(self) -> int | None:
        if not self.summary or not self.summary.last_entry_at:
            return None
        return (today() - self.summary.last_entry_at.date()).days

    @property
    def days_to_due(self) -> int | None:
        due = self.version.due_date
        return (due - today()).days if due else None

    @cached_property
    def stuck(self) -> bool:
        return is_stuck(self.values, self.target_value)

    @property
    def ready_to_verify(self) -> bool:
        s = self.summary
        return bool(
            s
            and s.latest_self_rating is not None
            and s.latest_self_rating >= self.target_value
            and not s.latest_entry_rated
        )

    @property
    def quiet(self) -> bool:
        days = self.days_since_last
        return days is None or days >= QUIET_DAYS

    @property
    def next_strategy(self) -> str | None:
        strategies = [(s.id, s.text) for s in self.version.strategies]
        counts = self.summary.strategy_counts if self.summary else {}
        chosen = least_used(strategies, counts)
        return chosen[1] if chosen else None

    # --- words ---

    def last_entry_words(self) -> str:
        days = self.days_since_last
        if days is None:
            return _("No entries yet.")
        if days == 0:
            return _("Last entry: today.")
        return ngettext("Last entry: %(num)d day ago.", "Last entry: %(num)d days ago.", days)

    def due_words(self) -> str | None:
        days = self.days_to_due
        if days is None:
            return None
        when = date_text(self.version.due_date)
        if days < 0:
            return _("Due date passed (%(date)s).", date=when)
        if days == 0:
            return _("Due today.")
        return ngettext(
            "%(num)d day to the due date (%(date)s).",
            "%(num)d days to the due date (%(date)s).",
            days,
            date=when,
        )

    def projection_words(self) -> str:
        p = self.projection
        if self.reached:
            return _("Reached %(level)s.", level=self.target_label)
        if not p.enough:
            return _("Not enough entries yet to see a pace.")
        if not p.rising or p.on is None:
            return _("No rise yet: a conference could help find what to try next.")
        return _(
            "At this pace you reach %(level)s around %(date)s.",
            level=self.target_label,
            date=date_text(p.on),
        )

    @cached_property
    def chart(self) -> list[ChartPoint]:
        """Chart coordinates: time left to right, levels bottom to top."""
        if not self.points:
            return []
        first, last = self.points[0][0], self.points[-1][0]
        span = (last - first).total_seconds() or 1.0
        out = []
        for when, value, source in self.points:
            x = (
                CHART_W / 2
                if len(self.points) == 1
                else CHART_PAD + (CHART_W - 2 * CHART_PAD) * (when - first).total_seconds() / span
            )
            out.append(
                ChartPoint(
                    round(x, 1),
                    self.y_of(value),
                    value,
                    self.labels.get(value, str(value)),
                    when,
                    source,
                )
            )
        return out

    def y_of(self, value: float) -> float:
        top = self.top_value
        usable = CHART_H - 2 * CHART_PAD
        return round(CHART_H - CHART_PAD - usable * (value - 1) / max(top - 1, 1), 1)

    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.chart)

    def chart_description(self) -> str:
        """The chart's text alternative: how many ratings, first, latest, highest, target."""
        points = self.chart
        if not points:
            return ""
        first, last = points[0], points[-1]
        best = max(points, key=lambda p: p.value)
        parts = [
            ngettext("%(num)d rating.", "%(num)d ratings.", len(points)),
            _(
                "First %(date)s: %(level)s.",
                date=date_text(first.when),
                level=first.label,
            ),
        ]
        if len(points) > 1:
            parts.append(
                _(
                    "Latest %(date)s: %(level)s.",
                    date=date_text(last.when),
                    level=last.label,
                )
            )
            parts.append(_("Highest: %(level)s.", level=best.label))
        parts.append(_("Target: %(level)s.", level=self.target_label))
        return " ".join(parts)

    def announcement(self) -> str:
        """What a screen reader hears when the tracker changes."""
        parts = []
        if self.current_label:
            parts.append(_("Current level: %(level)s.", level=self.current_label))
        parts.append(self.last_entry_words())
        return " ".join(parts)


def _build(goal, summary, scale, settings, version=None) -> Tracker:
    method = Method.of(settings)
    raw = json.loads(summary.points_json) if summary else []
    values = [v for _, v, _ in raw]
    return Tracker(
        goal=goal,
        version=version or goal.current_version,
        scale=scale,
        method=method,
        summary=summary,
        token=goal_token(goal, summary, settings),
        raw_points=raw,
        values=values,
        current=current_level(values, method, summary.max_value if summary else None),
    )


def load_goals(
    learner_ids,
    visible_to: User | None = None,
    status=GoalStatus.ACTIVE,
    targets: bool = False,
    strategies: bool = True,
    family: bool = False,
):
    """Goals with their current versions, strategies and targets, in a fixed number of queries.

    `learner_ids` is a list or a SELECT; with `visible_to`, only learners that user may see.
    With `family`, only the goals a family sees, with their agreed versions loaded too.
    """
    query = (
        select(Goal)
        .where(Goal.current_version_id.is_not(None))
        .options(joinedload(Goal.current_version))
        .order_by(Goal.learner_id, Goal.created_at, Goal.id)
    )
    query = query.where(Goal.learner_id.in_(learner_ids))
    if visible_to is not None:
        query = query.where(Goal.learner_id.in_(visible_learner_ids(visible_to)))
    if strategies:
        query = query.options(joinedload(Goal.current_version).selectinload(GoalVersion.strategies))
    if targets:
        query = query.options(joinedload(Goal.current_version).selectinload(GoalVersion.targets))
    if status is not None:
        query = query.where(Goal.status == status)
    if family:
        agreed = joinedload(Goal.agreed_version)
        query = query.where(family_goal_condition()).options(agreed)
        if strategies:
            query = query.options(agreed.selectinload(GoalVersion.strategies))
        if targets:
            query = query.options(agreed.selectinload(GoalVersion.targets))
    return list(db.session.scalars(query))


def trackers_for(
    goals: list[Goal], school_of: dict[int, int | None] | None = None, versions=None
) -> list[Tracker]:
    """Trackers for these goals (each must have a current version).

    `school_of` maps learner id to school id when the caller has the learners already;
    `versions` maps goal id to the version to show when it is not the current one (the
    agreed wording a family reads: `portal.policy.shown_version`).
    """
    versions = versions or {}
    goals = [g for g in goals if g.current_version is not None]
    if school_of is None:
        school_of = {g.learner_id: g.learner.org_id for g in goals}
    if not goals:
        return []
    summaries = {
        s.goal_id: s
        for s in db.session.scalars(
            select(GoalProgress).where(GoalProgress.goal_id.in_([g.id for g in goals]))
        )
    }
    school_ids = {sid for sid in school_of.values() if sid}
    scales = scales_for(school_ids)
    settings = settings_for(school_ids)
    return [
        _build(
            g,
            summaries.get(g.id),
            scales.get(school_of.get(g.learner_id)) or _default_scale(),
            settings.get(school_of.get(g.learner_id)),
            versions.get(g.id),
        )
        for g in goals
    ]


def tracker_for(goal: Goal, version: GoalVersion | None = None) -> Tracker:
    return trackers_for([goal], versions={goal.id: version} if version else None)[0]


def learner_trackers(learner: User) -> list[Tracker]:
    """Trackers of a learner's active goals (for the learner home and the family view)."""
    return trackers_for(load_goals(learner_ids=[learner.id]), {learner.id: learner.org_id})


def target_levels(t: Tracker) -> list[tuple[object, float | None, str | None]]:
    """Each target of the goal with its current level over all the learner's goals aiming at it.

    One query: the summaries of the learner's goals whose current version has the target.
    """
    targets = [vt.target for vt in t.version.targets]
    if not targets:
        return []
    rows = db.session.execute(
        select(GoalVersionTarget.target_id, GoalProgress.points_json, GoalProgress.max_value)
        .join(Goal, Goal.current_version_id == GoalVersionTarget.version_id)
        .join(GoalProgress, GoalProgress.goal_id == Goal.id)
        .where(
            Goal.learner_id == t.goal.learner_id,
            GoalVersionTarget.target_id.in_([x.id for x in targets]),
        )
    ).all()
    merged: dict[int, list] = {}
    highest: dict[int, int] = {}
    for target_id, points_json, max_value in rows:
        merged.setdefault(target_id, []).extend(
            (datetime.fromisoformat(when), value) for when, value, _ in json.loads(points_json)
        )
        if max_value is not None:
            highest[target_id] = max(highest.get(target_id, 0), max_value)
    out = []
    for target in targets:
        points = sorted(merged.get(target.id, []), key=lambda p: p[0])
        level = current_level([v for _, v in points], t.method, highest.get(target.id))
        label = t.label_of(int(level + 0.5)) if level is not None else None
        out.append((target, level, label))
    return out


@dataclass
class LearnerRow:
    """One learner in the class view, with the trackers of their active goals."""

    learner: User
    trackers: list[Tracker]

    @cached_property
    def days_since_last(self) -> int | None:
        days = [t.days_since_last for t in self.trackers if t.days_since_last is not None]
        return min(days) if days else None

    @property
    def quiet(self) -> bool:
        days = self.days_since_last
        return days is None or days >= QUIET_DAYS

    @property
    def stuck(self) -> bool:
        return any(t.stuck for t in self.trackers)

    @property
    def ready(self) -> bool:
        return any(t.ready_to_verify for t in self.trackers)

    @property
    def progress(self) -> float:
        """The least advanced goal: current level as a share of its target (0 if no rating)."""
        shares = [(t.current or 0) / max(t.target_value, 1) for t in self.trackers]
        return min(shares) if shares else 0.0

    def matches(self, show: str) -> bool:
        return {
            "quiet": self.quiet,
            "stuck": self.stuck,
            "ready": self.ready,
        }.get(show, True)


def sort_rows(rows: list[LearnerRow], sort: str) -> list[LearnerRow]:
    def by_name(r):
        return (r.learner.family_name.lower(), r.learner.given_name.lower())

    if sort == "last":
        # Quietest first: never logged, then the longest ago.
        days = {id(r): r.days_since_last for r in rows}
        return sorted(
            rows, key=lambda r: (-(10**6 if days[id(r)] is None else days[id(r)]), *by_name(r))
        )
    if sort == "level":
        return sorted(rows, key=lambda r: (r.progress, *by_name(r)))
    return sorted(rows, key=by_name)
