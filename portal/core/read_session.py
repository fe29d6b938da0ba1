"""The app's SQLAlchemy session class: GET requests only read, and read cheaply.

A GET request writes only inside `database.writing()`; a flush outside it raises,
so a stray write fails loudly in tests instead of riding along with a read. The reads
of a GET run outside a transaction, each statement on its own snapshot: what
PostgreSQL's READ COMMITTED gives inside a transaction anyway, and what SQLite in WAL
mode gives without one. So there is no BEGIN and no ROLLBACK around them: two round
trips fewer on PostgreSQL, two statements fewer on SQLite. `writing()` ends the read,
so its writes get a real transaction from the plain engine.
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


# An execution option: the connection's reads run outside a transaction (database.py
# then emits no BEGIN on SQLite; PostgreSQL gets its own AUTOCOMMIT level).
READS_ONLY = "waypoint_reads_only"


def for_request(engine: Engine) -> Engine:
    """The engine this request should use: one that reads without a transaction for a GET."""
    return _reading_engine(engine) if _reading() else engine


def _reading_engine(engine: Engine) -> Engine:
    """The same engine and pool, its connections reading in autocommit until checked in."""
    made = current_app.extensions.setdefault("waypoint.reading_engines", {})
    if engine not in made:
        options = {READS_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        made[engine] = engine.execution_options(**options)
    return made[engine]


class ReadSession(Session):
    """The app's session: a GET request reads outside a transaction and never writes."""

    def get_bind(self, *args, **kwargs):
        return for_request(super().get_bind(*args, **kwargs))


@event.listens_for(ReadSession, "before_flush")
def _no_writes_while_reading(session, _context, _instances):
    if _reading() and (
        session.new or session.deleted or any(map(session.is_modified, session.dirty))
    ):
        raise RuntimeError(
            f"A {request.method} request wrote outside database.writing(): {request.path}"
        )
