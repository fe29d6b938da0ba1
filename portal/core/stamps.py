"""Change stamps: counters that go up in the same transaction as every change a page shows.

Live trackers and the class view poll under these counters (`portal.progress.live`): a
poll answers "unchanged" in one query while nothing it shows has changed. There are two
kinds of stamp:

- one per learner, bumped by any change to that learner's record (goals, progress,
  conferences, profile, cheers...), and
- one for the site, bumped by any change to shared data that many pages show: the
  roster and people's names, targets, scales, school settings, the strategy bank.

Every model says which it touches with a `__stamp__` attribute: `SITE`, `NOTHING` (rows no
polled page shows, such as sign-in sessions and the access log), `Learner("learner_id")`
or `Via("goal_id", "Goal")` for rows that reach their learner through a parent.
`tests/test_stamps.py` fails on a model that does not say. The bumps happen in
`before_commit`, one statement per transaction, so a rolled-back change bumps nothing.

ORM-enabled bulk UPDATE or DELETE on a stamped model cannot say which learners it touched,
so it bumps the site stamp: slower pages for a moment, never a stale one.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from flask_sqlalchemy.session import Session
from sqlalchemy import BigInteger, Integer, String, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.extensions import db

SITE_SCOPE = "site"
LEARNER_SCOPE = "learner"
_PENDING = "stamps.pending"


class ChangeStamp(db.Model):
    __tablename__ = "change_stamps"
    __stamp__ = None  # the stamps themselves

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


# --- What each model touches ---------------------------------------------------------

SITE = "site"
NOTHING = None


@dataclass(frozen=True)
class Learner:
    """The row names its learner in this attribute."""

    attribute: str = "learner_id"


@dataclass(frozen=True)
class Via:
    """The row reaches its learner through the parent row this foreign key names."""

    attribute: str
    parent: str  # the parent model's class name


def declaration(model: type):
    """The model's own `__stamp__` (not inherited); KeyError if it has none."""
    return model.__dict__["__stamp__"]


def _changed(obj, ignored: frozenset[str]) -> bool:
    state = db.inspect(obj)
    return any(
        attr.key not in ignored and attr.history.has_changes()
        for attr in state.attrs
        if attr.key in state.mapper.column_attrs
    )


class _Pending:
    """What one transaction has touched so far."""

    def __init__(self):
        self.site = False
        self.learners: set[int] = set()
        self.via: dict[str, set[int]] = {}

    def add(self, obj, decl) -> None:
        if decl == SITE:
            self.site = True
        elif isinstance(decl, Learner):
            value = getattr(obj, decl.attribute)
            if value is not None:
                self.learners.add(value)
        elif isinstance(decl, Via):
            value = getattr(obj, decl.attribute)
            if value is not None:
                self.via.setdefault(decl.parent, set()).add(value)


def _pending(session) -> _Pending:
    found = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = _Pending()
    return found


def _note(session, objects, *, dirty: bool) -> None:
    pending = None
    for obj in objects:
        decl = declaration(type(obj))
        if decl is NOTHING:
            continue
        if dirty and not _changed(obj, getattr(type(obj), "__stamp_ignore__", frozenset())):
            continue
        pending = pending or _pending(session)
        pending.add(obj, decl)


@event.listens_for(Session, "before_flush")
def _before_flush(session, _context, _instances):
    # Deleted rows are read now, while all their attributes are still there.
    _note(session, session.deleted, dirty=False)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _context):
    # New rows are read now, when the flush has filled in their foreign keys.
    _note(session, session.new, dirty=False)
    _note(session, session.dirty, dirty=True)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state):
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and declaration(mapper.class_) is not NOTHING:
        _pending(state.session).site = True


@event.listens_for(Session, "before_commit")
def _before_commit(session):
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    learners = pending.learners | _resolve(session, pending.via)
    connection = session.connection()
    if learners:
        bump(connection, LEARNER_SCOPE, sorted(learners))
    if pending.site:
        bump(connection, SITE_SCOPE, [0])


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, _previous):
    session.info.pop(_PENDING, None)


@functools.cache
def _model_named(name: str) -> type:
    return next(m.class_ for m in db.Model.registry.mappers if m.class_.__name__ == name)


def _resolve(session, via: dict[str, set[int]]) -> set[int]:
    """Follow parent foreign keys up to the learner, one query per level."""
    learners: set[int] = set()
    while via:
        name, ids = via.popitem()
        parent = _model_named(name)
        decl = declaration(parent)
        column = getattr(parent, decl.attribute)
        found = session.connection().execute(select(column).where(parent.id.in_(ids)))
        values = {v for (v,) in found if v is not None}
        if isinstance(decl, Learner):
            learners |= values
        elif isinstance(decl, Via):
            via.setdefault(decl.parent, set()).update(values)
    return learners


def bump(connection, scope: str, subject_ids: list[int]) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # A new site stamp starts at a random value, so a database rebuilt under a running
    # server can never repeat a stamp an open page polled with (it would be told "unchanged").
    start = secrets.randbelow(2**31) if scope == SITE_SCOPE else 1
    statement = dialect.insert(ChangeStamp).values(
        [{"scope": scope, "subject_id": s, "version": start} for s in subject_ids]
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["scope", "subject_id"],
            set_={"version": ChangeStamp.version + 1},
        )
    )


# --- Reading stamps ------------------------------------------------------------------


def _stamp_of(scope: str, subject):
    return (
        select(ChangeStamp.version)
        .where(ChangeStamp.scope == scope, ChangeStamp.subject_id == subject)
        .correlate(None)  # never tied to an outer query that reads change_stamps too
        .scalar_subquery()
    )


_SITE = _stamp_of(SITE_SCOPE, 0)
_LEARNER = select(_SITE, _stamp_of(LEARNER_SCOPE, bindparam("learner_id")))


def site_stamp_column():
    """The site stamp as a scalar subquery, to fold into another query's columns."""
    return _SITE


def learner_stamp(learner_id: int) -> tuple[int, int]:
    """(site stamp, learner stamp) in one query; 0 for a stamp never bumped."""
    site, learner = db.session.execute(_LEARNER, {"learner_id": learner_id}).one()
    return site or 0, learner or 0
