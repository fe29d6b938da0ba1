"""The live path: the change tokens that polls compare, and the polls themselves.

A tracker or class view carries a token of everything it shows; a poll recomputes the
token in one indexed query and answers 204 when it is unchanged. A learner's idle poll,
the most frequent request of all, is answered before the sign-in machinery runs: one
query that finds the session and the goal together, judged by auth's one session rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import current_app, session
from sqlalchemy import and_, bindparam, func, select, text

from portal.auth.models import Role, User
from portal.auth.services import (
    SessionState,
    current_session_token_hash,
    session_select,
    session_state,
)
from portal.core import read_session, stamps
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals.models import Goal, GoalStatus
from portal.policy import (
    TEACHER_CLASS_ACCESS,
    class_access_sql,
    family_goal_condition,
    visible_learner_ids,
)
from portal.progress.models import GoalProgress, ProgressSettings
from portal.roster.models import Enrollment, EnrollmentRole, SchoolClass


def token(*parts) -> str:
    """A change token: the parts, and today (words like "3 days ago" change at midnight)."""
    return ".".join(str(p or 0) for p in (*parts, today().toordinal()))


def goal_token(goal: Goal, summary: GoalProgress | None, settings: ProgressSettings | None) -> str:
    return token(
        goal.current_version_id,
        goal.lock_version,
        summary.version if summary else 0,
        settings.revision if settings else 0,
    )


# --- One goal's poll ----------------------------------------------------------------

# What a goal's token is made of, in `goal_token`'s order.
_TOKEN_COLUMNS = (
    Goal.current_version_id,
    Goal.lock_version,
    GoalProgress.version,
    ProgressSettings.revision,
)


def _goal_poll_select():
    return (
        select(Goal.status, *_TOKEN_COLUMNS)
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
    return status, token(*parts)


# --- A learner's idle poll, before sign-in -------------------------------------------

# The session row this browser's token finds (auth.services.session_select: what decides
# validity), joined to that session's learner's goal and the goal's token columns.
_LEARNER_FAST_POLL = (
    session_select(Goal.status, *_TOKEN_COLUMNS)
    .join(Goal, and_(Goal.learner_id == User.id, Goal.id == bindparam("goal_id")))
    .outerjoin(GoalProgress, GoalProgress.goal_id == Goal.id)
    .outerjoin(ProgressSettings, ProgressSettings.school_id == User.org_id)
)

# The same query as one SQL string, run on the driver itself. SQLAlchemy's execution
# (connection events, characteristics, execution context, result processing) costs
# more than the query here (about three times on SQLite; on PostgreSQL about 0.2-0.4 ms
# of a 0.5-0.6 ms poll), and this is the most frequent request there is.
# tests/test_progress_live_path.py checks that the string and the statement above answer
# alike, on both backends.
LEARNER_FAST_POLL_SQL = """\
SELECT login_sessions.user_id, login_sessions.last_seen, users.active, users.role,
       login_sessions.id AS session_id,
       goals.status, goals.current_version_id, goals.lock_version,
       goal_progress.version, progress_settings.revision
FROM login_sessions
JOIN users ON users.id = login_sessions.user_id
JOIN goals ON goals.learner_id = users.id AND goals.id = :goal_id
LEFT OUTER JOIN goal_progress ON goal_progress.goal_id = goals.id
LEFT OUTER JOIN progress_settings ON progress_settings.school_id = users.org_id
WHERE login_sessions.token_hash = :token_hash
"""

_DRIVER_SQL: dict[str, str] = {"sqlite": LEARNER_FAST_POLL_SQL}  # sqlite3 takes :name


def driver_sql(dialect) -> str:
    """LEARNER_FAST_POLL_SQL in the driver's own parameter style: as written for sqlite3,
    compiled by the dialect elsewhere (psycopg's %(name)s)."""
    if dialect.name not in _DRIVER_SQL:
        _DRIVER_SQL[dialect.name] = str(text(LEARNER_FAST_POLL_SQL).compile(dialect=dialect))
    return _DRIVER_SQL[dialect.name]


class PollRow(NamedTuple):
    """One row of the fast poll, typed: what `session_state` reads, then the goal's token."""

    user_id: int
    last_seen: datetime
    active: bool
    role: Role
    session_id: int
    status: GoalStatus
    current_version_id: int | None
    lock_version: int | None
    progress_version: int | None
    settings_revision: int | None

    @classmethod
    def from_driver(cls, row) -> PollRow:
        """A row of LEARNER_FAST_POLL_SQL as a driver returns it: the enums as their
        names, the time as SQLite's text or a datetime, the flag as 0/1 or a bool."""
        user_id, last_seen, active, role, session_id, status, *parts = row
        if isinstance(last_seen, str):
            last_seen = datetime.fromisoformat(last_seen)
        return cls(
            user_id, last_seen, bool(active), Role[role], session_id, GoalStatus[status], *parts
        )

    @property
    def token(self) -> str:
        return token(
            self.current_version_id,
            self.lock_version,
            self.progress_version,
            self.settings_revision,
        )


def fast_poll_row(goal_id: int, token_hash: str) -> PollRow | None:
    """The idle poll's one row: the SQL string on the driver, outside a transaction (no
    ORM session, no BEGIN or ROLLBACK for one row).

    A driver error (a dropped connection, a restarted server) is no answer here: the
    normal path then answers, on SQLAlchemy's own disconnect handling (`database.py`).
    """
    engine = db.engine
    try:
        with read_session.driver_cursor(engine) as cursor:
            cursor.execute(
                driver_sql(engine.dialect), {"goal_id": goal_id, "token_hash": token_hash}
            )
            row = cursor.fetchone()
    except engine.dialect.loaded_dbapi.Error as error:
        current_app.logger.warning(
            "The fast poll could not read (%s): the normal path answers", error
        )
        return None
    return None if row is None else PollRow.from_driver(row)


def learner_poll_unchanged(goal_id: int, seen: str) -> bool:
    """True only when this browser's signed-in learner polls their own active, unchanged goal.

    Anything unusual (no row, another role, a session that is not live, a closed goal)
    is False: the normal path then signs in, checks the policy and answers properly
    (and ends a session that is not live).
    """
    token_hash = current_session_token_hash()
    if not token_hash:
        return False
    row = fast_poll_row(goal_id, token_hash)
    return (
        session_state(row, session.get("_user_id")) is SessionState.LIVE
        and row.role is Role.LEARNER
        and row.status is GoalStatus.ACTIVE
        and row.token == seen
    )


# --- The class view's token ----------------------------------------------------------


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
    return None if row is None else token(*row)
