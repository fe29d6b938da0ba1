"""Engine set-up: SQLite pragmas and transaction modes, and a write-transaction helper.

SQLite allows one writer at a time. A transaction that reads and then writes,
begun DEFERRED, fails at once with "database is locked" when another writer
got in between: the busy timeout cannot help it. So write requests (and any
explicit `writing()` block) begin IMMEDIATE, taking the write lock up front and
queueing behind the busy timeout; GET requests begin DEFERRED so readers never
wait on each other.

A GET request only reads, except inside `writing()`, and reads outside a
transaction: see `portal.core.read_session`.

A server that dropped a connection (restarted, or ended the backend) is handled the
optimistic way (no ping per checkout; `config.engine_options`): the statement on the dead
connection fails, SQLAlchemy invalidates every pooled connection, and a read request that
has not written is run once more from the start on a fresh connection. A write request is
never run again, since its change may already have been committed: it answers 503 and the
person tries again.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import ServiceUnavailable

from portal.core.extensions import db
from portal.core.read_session import READS_ONLY, SAFE_METHODS

BUSY_TIMEOUT_MS = 10_000


def in_read_request() -> bool:
    """A GET (or HEAD) request outside `writing()`: it may read, and write only in writing()."""
    return (
        has_request_context() and request.method in SAFE_METHODS and not g.get("_write_tx", False)
    )


def _wants_immediate() -> bool:
    if has_request_context() and g.get("_reads_first"):
        return False  # inside reads_first(): read without taking the write lock
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
    app.register_error_handler(DBAPIError, _on_database_error)


def _on_database_error(error: DBAPIError):
    """A lost connection: run a read request again once; answer 503 to anything else."""
    if not error.connection_invalidated:
        raise error  # not a disconnect: the usual 500
    db.session.rollback()  # let go of the dead connection
    if in_read_request() and not g.get("_wrote") and not g.get("_db_retried"):
        g._db_retried = True
        current_app.logger.warning("Lost the database connection; reading again: %s", error)
        return _dispatch_again()
    current_app.logger.warning("Lost the database connection: %s", error)
    return current_app.handle_http_exception(ServiceUnavailable())


def _dispatch_again():
    """The request from its before_request hooks on, as Flask's full_dispatch_request runs it
    (the response is finalized once, by the first dispatch that called the error handler)."""
    app = current_app._get_current_object()
    try:
        response = app.preprocess_request()
        return app.dispatch_request() if response is None else response
    except Exception as error:
        return app.handle_user_exception(error)


@contextmanager
def reads_first():
    """In a write request, read (and think) before taking SQLite's write lock.

    A write request holds the write lock from its first statement to its commit. Sign-in
    checks a password hash (deliberately slow) before it writes anything: with the lock
    held, a class of 35 signing in at once queued behind each other's hash checks until
    the busy timeout answered "database is locked". Inside this block the transaction
    begins DEFERRED and is ended on the way out, so the writes that follow get their own
    IMMEDIATE transaction. Nothing may be written inside it (a DEFERRED transaction that
    starts writing can fail at once when another writer got in between).
    """
    db.session.commit()  # end whatever the request began before (its writes are kept)
    g._reads_first = True
    try:
        yield
        if db.session.new or db.session.dirty or db.session.deleted:
            raise RuntimeError("reads_first() is for reads: write after the block")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        g._reads_first = False


@contextmanager
def writing():
    """Run a write inside a GET request: end the read transaction, write, commit."""
    db.session.commit()
    g._write_tx = True
    g._wrote = True  # a lost connection from here on does not run the request again
    try:
        yield db.session
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        g._write_tx = False
