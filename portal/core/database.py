"""Engine set-up: SQLite pragmas and transaction modes, and a write-transaction helper.

SQLite allows one writer at a time. A transaction that reads and then writes,
begun DEFERRED, fails at once with "database is locked" when another writer
got in between: the busy timeout cannot help it. So write requests (and any
explicit `writing()` block) begin IMMEDIATE, taking the write lock up front and
queueing behind the busy timeout; GET requests begin DEFERRED so readers never
wait on each other.

A GET request only reads, except inside `writing()`, and reads outside a
transaction: see `portal.core.read_session`.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.core.extensions import db
from portal.core.read_session import READS_ONLY, SAFE_METHODS

BUSY_TIMEOUT_MS = 10_000


def in_read_request() -> bool:
    """A GET (or HEAD) request outside `writing()`: it may read, and write only in writing()."""
    return (
        has_request_context() and request.method in SAFE_METHODS and not g.get("_write_tx", False)
    )


def _wants_immediate() -> bool:
    return not in_read_request()  # writes, CLI commands, seeding, scripts


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        if conn.get_execution_options().get(READS_ONLY):
            return  # a GET's reads: each statement on its own snapshot (read_session.py)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_immediate() else "BEGIN")


def init_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)


@contextmanager
def writing():
    """Run a write inside a GET request: end the read transaction, write, commit."""
    db.session.commit()
    g._write_tx = True
    try:
        yield db.session
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        g._write_tx = False
