"""The database half of a backup: SQLite's online backup API, or pg_dump / pg_restore.

SQLite (WAL mode, `portal.core.database`): `sqlite3.Connection.backup` copies the live file
in one step, inside one read transaction, so the copy is the database as of one commit
while the portal keeps reading and writing (a WAL reader never blocks the writer). The copy
is switched to journal_mode=DELETE so it is one self-contained file.

PostgreSQL: `pg_dump --format=custom` reads in one REPEATABLE READ snapshot, so it is
consistent while writes go on. Restore pipes `pg_restore` into one `psql` transaction that
first drops and re-creates the public schema: it either all lands or nothing changes. The
binaries are those of the server's major version (Debian: /usr/lib/postgresql/N/bin),
else the newest installed, else the PATH's; WAYPOINT_PG_BIN names a directory to use.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine, make_url

from portal.backup.archive import BackupRefused
from portal.core.database import BUSY_TIMEOUT_MS

SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
VERSION_TABLE = "alembic_version"


def backend_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupRefused(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def revision_of(engine: Engine) -> str | None:
    """The database's Alembic revision, or None for a schema never stamped (create_all)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(rows)) or None


def has_rows(engine: Engine) -> list[str]:
    """The tables (apart from Alembic's) that hold at least one row."""
    full = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table == VERSION_TABLE:
                continue
            quoted = conn.dialect.identifier_preparer.quote(table)
            if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first():  # noqa: S608
                full.append(table)
    return full


# --- SQLite -------------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused(f"The SQLite database {url} is not a plain file: nothing to back up.")
    return Path(database)


def _sqlite_connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro" if readonly else path.resolve().as_uri()
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def sqlite_snapshot(url: str, target: Path) -> None:
    """Copy the live database to target (a new file), consistent as of one commit."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupRefused(f"The SQLite database {source_path} does not exist.")
    source = _sqlite_connect(source_path)
    copy = _sqlite_connect(target)
    try:
        source.backup(copy)  # pages=-1: the whole file in one step, on one read snapshot
        copy.execute("PRAGMA journal_mode=DELETE")
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupRefused(f"The copy of the database failed SQLite's check: {check}")
    finally:
        copy.close()
        source.close()
    _fsync(target)


def sqlite_revision(path: Path) -> str | None:
    conn = _sqlite_connect(path, readonly=True)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
        ).fetchone()
        if not found:
            return None
        rows = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    finally:
        conn.close()
    return ",".join(sorted(rows)) or None


def sqlite_check(path: Path) -> None:
    try:
        conn = _sqlite_connect(path, readonly=True)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise BackupRefused(f"The backup's database file cannot be read: {error}") from None
    if check != "ok":
        raise BackupRefused(f"The backup's database file failed SQLite's check: {check}")


def sqlite_restore(source_file: Path, url: str) -> None:
    """Write the backup's pages over the configured database, in one transaction."""
    target_path = sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_connect(source_file, readonly=True)
    target = _sqlite_connect(target_path)
    try:
        # A rollback journal while the pages are written: it holds only the target's old
        # pages (none when it was empty), where WAL would write every page twice (WAL, then
        # checkpoint). Switching needs the only connection: a portal still running on the
        # file makes this fail with "database is locked", before anything is written.
        target.execute("PRAGMA journal_mode=DELETE")
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as error:
        raise BackupRefused(f"SQLite could not restore the database: {error}") from None
    finally:
        target.close()
        source.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- PostgreSQL ---------------------------------------------------------------------------


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the SQLAlchemy URL, and the environment with its
    password (PGPASSWORD: never on a command line, where `ps` would show it)."""
    parsed: URL = make_url(url)
    parts = {
        "dbname": parsed.database,
        "user": parsed.username,
        "host": parsed.host,
        "port": str(parsed.port) if parsed.port else None,
    }
    for key, value in parsed.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    quoted = []
    for key, value in parts.items():
        if value:
            escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
            quoted.append(f"{key}='{escaped}'")
    return " ".join(quoted), env


def pg_bin(engine: Engine, name: str) -> str:
    """The path of pg_dump / pg_restore / psql for the server's major version."""
    if configured := os.environ.get("WAYPOINT_PG_BIN"):
        return str(Path(configured) / name)
    with engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    exact = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if exact.is_file():
        return str(exact)
    newer = sorted(
        (int(Path(p).parts[-3]), p)
        for p in glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
        if Path(p).parts[-3].isdigit() and int(Path(p).parts[-3]) >= major
    )
    if newer:
        return newer[0][1]
    if found := shutil.which(name):
        return found
    raise BackupRefused(f"{name} for PostgreSQL {major} is not installed (postgresql-client).")


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupRefused(f"{what} failed: {result.stderr.strip()[-2000:]}")


def pg_snapshot(engine: Engine, url: str, target: Path) -> None:
    conninfo, env = _conninfo(url)
    _run(
        [pg_bin(engine, "pg_dump"), "--format=custom", f"--file={target}", f"--dbname={conninfo}"],
        env,
        "pg_dump",
    )
    _fsync(target)


def pg_check(engine: Engine, dump: Path) -> None:
    """pg_restore --list reads the archive's table of contents: a file pg_dump did not write
    (or cut short) fails here."""
    _run([pg_bin(engine, "pg_restore"), "--list", str(dump)], dict(os.environ), "pg_restore --list")


def pg_restore(engine: Engine, dump: Path, url: str) -> None:
    """Replace the database's public schema with the dump's, in one transaction.

    pg_restore turns the archive into SQL and psql runs it inside one transaction that
    first drops the schema. psql commits only when its input ends: if pg_restore fails
    part way, psql is killed before its input is closed, so the server rolls back.
    """
    conninfo, env = _conninfo(url)
    engine.dispose()  # the app's pooled connections would hold locks on the old tables
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        restore = subprocess.Popen(  # noqa: S603
            [pg_bin(engine, "pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=restore_err,
            env=env,
        )
        psql = subprocess.Popen(  # noqa: S603
            [
                pg_bin(engine, "psql"),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                "--command=DROP SCHEMA IF EXISTS public CASCADE",
                "--command=CREATE SCHEMA public",
                "--file=-",
                f"--dbname={conninfo}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            env=env,
        )
        with contextlib.suppress(BrokenPipeError):  # psql stopped on an error: see below
            shutil.copyfileobj(restore.stdout, psql.stdin, 1024 * 1024)
        restore.stdout.close()
        if restore.wait() != 0:
            psql.kill()  # before its input ends: no COMMIT, the server rolls back
            psql.wait()
            raise BackupRefused(
                f"pg_restore failed (nothing was changed): {_tail(restore_err)}"
            )
        with contextlib.suppress(BrokenPipeError):
            psql.stdin.close()
        if psql.wait() != 0:
            raise BackupRefused(
                f"Restoring into PostgreSQL failed (nothing was changed): {_tail(psql_err)}"
            )


def _tail(file) -> str:
    file.seek(0)
    return file.read().decode(errors="replace").strip()[-2000:]
