"""The test session's PostgreSQL: a throwaway server (devtools/pgserver.py) and a pool of
databases copied from one migrated template."""

from __future__ import annotations

import contextlib
import itertools
import os

from devtools.pgserver import PostgresServer, PostgresUnavailable

__all__ = ["DatabasePool", "PostgresServer", "PostgresUnavailable"]


# Empties a database the way a fresh copy of the template would be: every row gone
# (foreign keys are not checked while deleting), every used sequence back at 1, and
# any connection a test left behind (a thread, a leaked engine) ended first.
_RESET = """
DO $$
DECLARE
    item record;
BEGIN
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid();
    SET LOCAL lock_timeout = '20s';
    SET LOCAL session_replication_role = replica;
    FOR item IN SELECT schemaname, tablename FROM pg_tables
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema') LOOP
        EXECUTE format('DELETE FROM %I.%I', item.schemaname, item.tablename);
    END LOOP;
    FOR item IN SELECT schemaname, sequencename FROM pg_sequences
            WHERE last_value IS NOT NULL LOOP
        PERFORM setval(format('%I.%I', item.schemaname, item.sequencename), 1, false);
    END LOOP;
END
$$
"""
_SCHEMA = """
SELECT count(*), coalesce(sum(hashtext(c.relname || '.' || a.attname || ':' || a.atttypid
       || ':' || a.atttypmod || ':' || a.attnotnull)), 0)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
"""


class DatabasePool:
    """Copies of a template database, one lent to each test and emptied when it is returned.

    Copying the template (CREATE DATABASE ... TEMPLATE) and dropping the copy cost
    0.1-0.5 s per test (the copy checkpoints); emptying a returned copy over the
    connection kept to it costs about 10 ms. A copy whose schema a test changed, or
    that will not empty, is dropped instead of reused.
    """

    def __init__(self, server: PostgresServer, template: str) -> None:
        self.server = server
        self.template = template
        self.free: list[str] = []
        self.conns: dict[str, object] = {}
        self.numbers = itertools.count()
        self.schema = self._schema(template)

    def _connect(self, database: str):
        import psycopg

        return psycopg.connect(
            dbname=database,
            user=self.server.user,
            host=str(self.server.socket_dir),
            autocommit=True,
        )

    def _schema(self, database: str):
        with self._connect(database) as conn:
            return conn.execute(_SCHEMA).fetchone()

    def acquire(self) -> str:
        if self.free:
            return self.free.pop()
        name = f"waypoint_test_{os.getpid()}_{next(self.numbers)}"
        with self._connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def release(self, name: str) -> None:
        # One connection per copy, kept open between tests: a new backend would load
        # every table's catalog entries again, which costs more than the emptying.
        try:
            conn = self.conns.get(name) or self._connect(name)
            self.conns[name] = conn
            conn.execute(_RESET)
            same_schema = conn.execute(_SCHEMA).fetchone() == self.schema
        except Exception:
            same_schema = False
        if same_schema:
            self.free.append(name)
        else:
            self.drop(name)

    def drop(self, name: str) -> None:
        conn = self.conns.pop(name, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        while self.free:
            self.drop(self.free.pop())
