"""Count the statements the database driver runs, whether through SQLAlchemy or not.

The idle tracker poll hands its one SELECT straight to the driver, past SQLAlchemy's
events, so this asks the driver itself on every connection the pool hands out: sqlite3
through its trace callback, psycopg through a counting cursor class (its
`cursor_factory`, put back when counting ends); SQLAlchemy's cursor events count for
any other driver.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


def _counting(cursor_class, statements: list[str]):
    class CountingCursor(cursor_class):
        def execute(self, query, *args, **kwargs):
            statements.append(query if isinstance(query, str) else str(query))
            return super().execute(query, *args, **kwargs)

        def executemany(self, query, *args, **kwargs):
            statements.append(query if isinstance(query, str) else str(query))
            return super().executemany(query, *args, **kwargs)

    return CountingCursor


@contextmanager
def driver_statements(engine):
    statements: list[str] = []
    traced = []
    factories = {}  # psycopg connection -> its own cursor class

    def on_checkout(dbapi_connection, *_):
        if hasattr(dbapi_connection, "set_trace_callback"):
            dbapi_connection.set_trace_callback(statements.append)
            traced.append(dbapi_connection)
        elif hasattr(dbapi_connection, "cursor_factory") and dbapi_connection not in factories:
            factories[dbapi_connection] = dbapi_connection.cursor_factory
            dbapi_connection.cursor_factory = _counting(dbapi_connection.cursor_factory, statements)

    def on_execute(conn, cursor, statement, *args):
        if conn.dialect.name != "sqlite" and conn.dialect.driver != "psycopg":
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
        for dbapi_connection, cursor_class in factories.items():
            dbapi_connection.cursor_factory = cursor_class
