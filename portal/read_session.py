"""The app's SQLAlchemy session class: GET requests only read, and read cheaply.

A GET request writes only inside `database.writing()`; a flush outside it raises,
so a stray write fails loudly in tests instead of riding along with a read. On
PostgreSQL, the reads of a GET request run in autocommit: under READ COMMITTED every
statement takes its own snapshot anyway, so the BEGIN and ROLLBACK around them were
two round trips that bought nothing. `writing()` ends the read, so its writes get a
real transaction from the same engine.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _reading() -> bool:
    return (
        has_request_context() and request.method in SAFE_METHODS and not g.get("_write_tx", False)
    )


def for_request(engine: Engine) -> Engine:
    """The engine this request should use: autocommit for a GET's reads on PostgreSQL."""
    if engine.dialect.name == "postgresql" and _reading():
        return _autocommit(engine)
    return engine


class ReadSession(Session):
    """The app's session: GET requests read in autocommit on PostgreSQL and never write."""

    def get_bind(self, *args, **kwargs):
        return for_request(super().get_bind(*args, **kwargs))


def _autocommit(engine: Engine) -> Engine:
    """The same engine and pool, with connections in autocommit until they are checked in."""
    made = current_app.extensions.setdefault("waypoint.autocommit", {})
    if engine not in made:
        made[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return made[engine]


@event.listens_for(ReadSession, "before_flush")
def _no_writes_while_reading(session, _context, _instances):
    if _reading() and (
        session.new or session.deleted or any(map(session.is_modified, session.dirty))
    ):
        raise RuntimeError(
            f"A {request.method} request wrote outside database.writing(): {request.path}"
        )
