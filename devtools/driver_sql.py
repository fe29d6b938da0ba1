"""Count the statements the database driver runs, whether through SQLAlchemy or not.

SQLite's idle tracker poll hands its one SELECT straight to the driver, past
SQLAlchemy's events, so for SQLite this asks sqlite3 itself (its trace callback, set
on every connection the pool hands out); for other databases SQLAlchemy's cursor
events see every statement. Used by the tests and by bench/page_costs.py.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def driver_statements(engine):
    statements: list[str] = []
    traced = []

    def on_checkout(dbapi_connection, *_):
        if hasattr(dbapi_connection, "set_trace_callback"):
            dbapi_connection.set_trace_callback(statements.append)
            traced.append(dbapi_connection)

    def on_execute(conn, cursor, statement, *args):
        if conn.dialect.name != "sqlite":
            statements.append(statement)

    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine, "before_cursor_execute", on_execute)
        for dbapi_connection in traced:
            dbapi_connection.set_trace_callback(None)
