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

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def driver_cursor(engine: Engine) -> Iterator:
    """A driver (DBAPI) cursor on a pooled connection that reads outside a transaction.

    For the one statement of the hottest path (the idle tracker poll, progress/live.py),
    where SQLAlchemy's execution (connection object, characteristics, execution context,
    result metadata) costs more than the query itself. PostgreSQL: the connection reads
    in autocommit for the block (no BEGIN, no ROLLBACK: the statement's one round trip)
    and goes back to the pool as it was lent. SQLite's connections never run the
    driver's own transactions (`database.py`), so a SELECT there is its own snapshot.

    Whatever goes wrong in the block, the connection is dropped, never pooled again
    (its state is unknown; it could be left in autocommit), and the error propagates.
    """
    raw = engine.raw_connection()
    driver = raw.driver_connection
    autocommit = engine.dialect.name == "postgresql"
    try:
        if autocommit:
            driver.autocommit = True
        cursor = raw.cursor()
        yield cursor
        cursor.close()
        if autocommit:
            driver.autocommit = False
    except BaseException as error:
        raw.invalidate(error)
        raise
    finally:
        raw.close()


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
