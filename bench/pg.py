"""The bench's throwaway PostgreSQL (devtools/pgserver.py, shared with the tests) and a
database on it per district size."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # devtools/, portal/
from devtools.pgserver import PostgresServer, PostgresUnavailable  # noqa: E402

__all__ = ["PostgresServer", "PostgresUnavailable", "database"]


def database(server: PostgresServer, name: str) -> str:
    """Create database `name` on the server (if missing); return its URL."""
    with psycopg.connect(
        dbname="postgres", user=server.user, host=str(server.socket_dir), autocommit=True
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)
