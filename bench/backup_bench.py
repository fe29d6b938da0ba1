"""Backup and restore of the bench district: times and sizes, SQLite or PostgreSQL.

    .venv/bin/python bench/backup_bench.py                        # SQLite, 50,000 learners
    .venv/bin/python bench/backup_bench.py --postgresql           # a throwaway PostgreSQL
    DATABASE_URL=postgresql+psycopg://... bench/backup_bench.py   # an existing bench database

Builds the district if it is missing (bench/world.py: 100 entries per learner; the SQLite
file is reused from $WAYPOINT_BENCH_DIR), then times `backup create`, `backup verify` and
`backup restore` into a fresh target (a new SQLite file; a new database on the same
server) through the CLI's own functions, and prints the sizes. The backups and the
restored copy are written under --work (default: a temporary directory) and removed.
The throwaway server runs with fsync off (devtools/pgserver.py): PostgreSQL's numbers leave
out the flushes a production server does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

import benchapp  # noqa: E402
import pg  # noqa: E402
import world  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal.backup import service  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.progress.models import ProgressEntry  # noqa: E402


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB"


def _source_size(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        size = db.session.scalar(select(func.pg_database_size(func.current_database())))
        db.engine.dispose()
    return int(size)


def _entries(url: str, uploads: Path) -> int:
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(uploads)})
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(ProgressEntry))
        db.engine.dispose()
    return count


def run(url: str, target_url: str, work: Path) -> dict:
    uploads = work / "uploads"
    config = {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(uploads)}
    app = benchapp.create_app(config)
    backup = work / "backup"
    with app.app_context():
        created = service.create(backup)
        started = time.perf_counter()
        service.check(backup)
        verified = time.perf_counter() - started
        db.engine.dispose()
    target = benchapp.create_app(
        {"SQLALCHEMY_DATABASE_URI": target_url, "UPLOAD_FOLDER": str(work / "restored-uploads")}
    )
    with target.app_context():
        restored = service.restore(backup)
        db.engine.dispose()
    entries = _entries(target_url, work / "restored-uploads")
    return {
        "source": _source_size(url),
        "backup": created.bytes,
        "create": created.seconds,
        "verify": verified,
        "restore": restored.seconds,
        "restored_size": _source_size(target_url),
        "entries": entries,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="backup_bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=50_000)
    parser.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL")
    parser.add_argument("--work", type=Path, help="where backups go (default: a temp dir)")
    args = parser.parse_args(argv)
    server = pg.PostgresServer().start() if args.postgresql else None
    work = Path(tempfile.mkdtemp(prefix="waypoint-backup-bench-", dir=args.work))
    try:
        if server is not None:
            url = pg.database(server, f"bench_{args.learners}")
        else:
            url = os.environ.get("DATABASE_URL") or world.sqlite_url(args.learners)
        started = time.perf_counter()
        world.build(url, args.learners, args.learners * 100)
        print(f"district of {args.learners:,} learners ready in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        if url.startswith("sqlite"):
            target_url = f"sqlite:///{work / 'restored.sqlite'}"
        else:
            name = f"bench_{args.learners}_restored_{os.getpid()}"
            if server is not None:
                target_url = pg.database(server, name)
            else:
                target_url = _sibling_database(url, name)
        numbers = run(url, target_url, work)
        backend = url.split(":")[0].split("+")[0]
        print(
            f"{backend}, {args.learners:,} learners, {numbers['entries']:,} entries:\n"
            f"  database {_mb(numbers['source'])}, backup {_mb(numbers['backup'])}\n"
            f"  backup create {numbers['create']:.1f} s, verify {numbers['verify']:.1f} s, "
            f"restore {numbers['restore']:.1f} s (restored database "
            f"{_mb(numbers['restored_size'])})",
            flush=True,
        )
        if server is None and not url.startswith("sqlite"):
            _drop_sibling(url, name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.stop()


def _sibling_database(url: str, name: str) -> str:
    """A new, empty database on the same server as url."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _drop_sibling(url: str, name: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


if __name__ == "__main__":
    main()
