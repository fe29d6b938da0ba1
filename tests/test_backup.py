"""Backup and restore (portal/backup/): the restore drill, and every refusal.

The drill: learners' writes flow through the app on threads while `backup create` runs;
the backup is restored into a fresh instance (a new SQLite file, or a new PostgreSQL
database from the pool); every write acknowledged before the backup began is there, its
evidence file too, and the restored portal serves them. The refusals: a damaged backup
(checksum, size, missing or extra file, manifest), a mismatched one (backend, a revision
newer than the code), a target with data (without --force): exit 1, a clear message, and
the target untouched.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from portal import create_app
from portal.backup import engines, service
from portal.core import database
from portal.core.extensions import db
from portal.core.jobs import FAILED, QUEUED, Job
from portal.progress.models import ProgressEntry
from tests.conftest import TEST_CONFIG
from tests.fixtures import progress as build
from tests.fixtures.factories import Factory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
WRITERS = 2


def stamp(app) -> str:
    """Stamp the test database at the code's head, as `flask db upgrade` leaves it."""
    head = sorted(service._code_heads())[0]
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    return head


def cli(app, *args):
    """Run `flask backup ...` against app (its own context: the CLI keeps a pushed one)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", *args])
        db.session.remove()
    return result


@pytest.fixture
def fresh(request, backend, tmp_path):
    """A second, empty instance: its own database and upload folder."""
    home = tmp_path / "restored"
    if backend == "postgresql":
        pool = request.getfixturevalue("pg_pool")
        name = pool.acquire()
        url = pool.server.url(name)
    else:
        url = f"sqlite:///{home / 'waypoint.sqlite'}"
    config = {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": str(home / "uploads"),
        "JOBS_URL": f"sqlite:///{tmp_path / 'restored-jobs.sqlite'}",
    }
    other = create_app(config)
    yield other
    with other.app_context():
        db.engine.dispose()
    if backend == "postgresql":
        pool.release(name)


@pytest.fixture
def world(app, make):
    learner = make.learner(given_name="Maya")
    build.scale(make)
    goal = build.goal(make, learner)
    make.commit()
    stamp(app)
    return learner, goal


def _entry_data(goal_id, strategy_id, token, reflection, with_file):
    data = {"token": token, "strategy": str(strategy_id), "self_rating": "2",
            "reflection": reflection}
    if with_file:
        data["evidence"] = (io.BytesIO(PNG + token.encode()), "work.png")
    return data


def test_restore_drill_every_acknowledged_write_is_back(app, world, make, fresh, tmp_path):
    learner, goal = world
    make._add(Job(kind="roster.import", owner_id=learner.id, state=QUEUED))  # never run
    goal_id, strategy_id = goal.id, goal.current_version.strategies[0].id
    login = {"login": learner.username, "password": Factory.PASSWORD}
    db.session.commit()  # the test's session holds no lock while the writers write
    acked: list[tuple[float, str]] = []  # (acknowledged at, reflection)
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(n):
        client = app.test_client()
        k = 0
        try:
            assert client.post("/signin", data=login).status_code == 303
        except BaseException as exc:
            errors.append(exc)
            return
        while not stop.is_set():
            k += 1
            token = f"tok-drill-{n}-{k:04d}-aaaaaaaa"
            reflection = f"Drill entry {n}-{k}"
            try:
                response = client.post(
                    f"/goals/{goal_id}/progress",
                    data=_entry_data(goal_id, strategy_id, token, reflection, k % 3 == 0),
                    content_type="multipart/form-data",
                )
                assert response.status_code == 303, response.get_data(as_text=True)[:300]
                acked.append((time.monotonic(), reflection))
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 12 and not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        began = time.monotonic()
        before = {reflection for at, reflection in list(acked) if at < began}
        result = cli(app, "create", str(tmp_path / "backup"))
        ended = time.monotonic()
        while not errors and not any(at > ended for at, _ in list(acked)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.01)  # writes go on after the backup too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["backend"] == app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0]
    assert manifest["alembic_revision"] and manifest["app_version"]
    assert any(name.startswith("uploads/evidence/") for name in manifest["files"])
    again = cli(app, "create", str(tmp_path / "backup"))
    assert again.exit_code == 1 and "already exists" in again.output

    restored = cli(fresh, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert "1 jobs queued or running" in restored.output
    with fresh.app_context():
        rows = db.session.execute(select(ProgressEntry.reflection, ProgressEntry.id,
                                         ProgressEntry.file_key)).all()
        job = db.session.scalars(select(Job)).one()  # the queue is not in the backup
        assert job.state == FAILED and "restored from a backup" in job.error
        db.session.remove()
    reflections = {row.reflection for row in rows}
    assert len(before) >= 12 and before <= reflections, sorted(before - reflections)
    assert reflections <= {reflection for _, reflection in acked}  # nothing half-written
    uploads = Path(fresh.config["UPLOAD_FOLDER"]) / "evidence"
    with_files = [row for row in rows if row.file_key]
    assert with_files and all((uploads / row.file_key).is_file() for row in with_files)

    client = fresh.test_client()
    assert client.post("/signin", data=login).status_code == 303
    page = client.get(f"/goals/{goal_id}/progress").get_data(as_text=True)
    newest = max(rows, key=lambda row: row.id)
    assert newest.reflection in page
    evidence = client.get(f"/progress/entries/{with_files[0].id}/evidence")
    assert evidence.status_code == 200 and evidence.data.startswith(PNG)


def _damaged():
    """(name, how to damage a copy, words the refusal must say)."""

    def flip(copy):
        database = next(p for p in copy.iterdir() if p.name.startswith("database."))
        data = bytearray(database.read_bytes())
        data[len(data) // 2] ^= 0xFF
        database.write_bytes(bytes(data))

    def truncate(copy):
        database = next(p for p in copy.iterdir() if p.name.startswith("database."))
        database.write_bytes(database.read_bytes()[:-100])

    def remove_upload(copy):
        next(p for p in (copy / "uploads").rglob("*") if p.is_file()).unlink()

    def extra(copy):
        (copy / "uploads" / "stray.txt").write_text("not from the backup")

    def no_manifest(copy):
        (copy / "manifest.json").unlink()

    def bad_manifest(copy):
        (copy / "manifest.json").write_text('{"format": "waypoint-backup", "files": ')

    return [
        ("flip", flip, "checksum mismatch"),
        ("truncate", truncate, "truncated"),
        ("missing", remove_upload, "missing: uploads/"),
        ("extra", extra, "not in the manifest: uploads/stray.txt"),
        ("no manifest", no_manifest, "has no manifest.json"),
        ("bad manifest", bad_manifest, "manifest.json is damaged"),
    ]


def _mismatched(app):
    other = "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else "sqlite"
    return [
        ("backend", {"backend": other}, "same kind of database"),
        ("newer revision", {"alembic_revision": "ffffffffffff"}, "made by a newer Waypoint"),
        ("newer format", {"format_version": 99}, "newer than this Waypoint reads"),
    ]


def _target_untouched(fresh) -> None:
    assert not Path(fresh.config["UPLOAD_FOLDER"]).exists()
    with fresh.app_context():
        url = fresh.config["SQLALCHEMY_DATABASE_URI"]
        if url.startswith("sqlite"):
            assert not Path(url.removeprefix("sqlite:///")).exists()
        else:
            assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == 0
        db.session.remove()


@pytest.fixture
def backup(app, world, client, tmp_path):
    learner, goal = world
    client.post("/signin", data={"login": learner.username, "password": Factory.PASSWORD})
    data = _entry_data(goal.id, goal.current_version.strategies[0].id,
                       "tok-backup-aaaaaaaaaaaa", "Before the backup", True)
    response = client.post(f"/goals/{goal.id}/progress", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 303
    result = cli(app, "create", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    return tmp_path / "backup"


def test_restore_refuses_a_damaged_or_mismatched_backup_or_a_target_with_data(
    app, backup, make, fresh, tmp_path
):
    cases = list(_damaged())
    for name, change, words in _mismatched(app):

        def edit(copy, change=change):
            manifest = json.loads((copy / "manifest.json").read_text())
            (copy / "manifest.json").write_text(json.dumps({**manifest, **change}))

        cases.append((name, edit, words))
    for name, damage, words in cases:
        copy = tmp_path / f"copy-{name}"
        shutil.copytree(backup, copy)
        damage(copy)
        for command in ("verify", "restore"):
            result = cli(fresh, command, str(copy))
            assert result.exit_code == 1, (name, command, result.output)
            assert words in result.output, (name, command, result.output)
        _target_untouched(fresh)
    assert cli(fresh, "verify", str(backup)).exit_code == 0

    # The wrong target: the source portal itself, which has data. --force replaces it.
    learner = make.learner(given_name="After")  # written after the backup
    learner_id = learner.id
    make.commit()
    refused = cli(app, "restore", str(backup))
    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--force" in refused.output
    db.session.expire_all()
    assert db.session.get(type(learner), learner_id) is not None  # untouched
    db.session.remove()  # its transaction would hold SQLite's write lock
    forced = cli(app, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    assert db.session.get(type(learner), learner_id) is None  # the backup's state
    assert db.session.scalars(select(ProgressEntry.reflection)).all() == ["Before the backup"]
    assert (Path(app.config["UPLOAD_FOLDER"]) / "evidence").is_dir()


FAKE_PG_RESTORE = """#!/bin/sh
# pg_restore that lists the archive as the real one does, then fails part way through SQL.
case " $* " in *" --list "*) exec {real}/pg_restore "$@";; esac
echo "CREATE TABLE public.half_restored (id integer);"
echo "pg_restore: error: could not read input file: end of file" >&2
exit 1
"""


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_restore_that_fails_part_way_changes_nothing(
    app, backup, fresh, tmp_path, monkeypatch
):
    with fresh.app_context():
        real = Path(engines.pg_bin(db.engine, "pg_restore")).parent
        db.engine.dispose()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_restore").write_text(FAKE_PG_RESTORE.format(real=real))
    (fake / "pg_restore").chmod(0o755)
    (fake / "psql").symlink_to(real / "psql")
    monkeypatch.setenv("WAYPOINT_PG_BIN", str(fake))
    result = cli(fresh, "restore", str(backup))
    assert result.exit_code == 1 and "nothing was changed" in result.output, result.output
    _target_untouched(fresh)
    with fresh.app_context():
        tables = db.session.execute(text("SELECT tablename FROM pg_tables")).scalars().all()
        assert "half_restored" not in tables and "users" in tables
        db.session.remove()


@pytest.fixture
def migrated_source(request, backend, tmp_path):
    """A database built by the migrations up to the revision before the code's head."""
    if backend == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = f"waypoint_backup_old_{tmp_path.name}"[:60]
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.url(name)
    else:
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url,
                      "UPLOAD_FOLDER": str(tmp_path / "old-uploads")})
    with old.app_context():
        (head,) = service._code_heads()
        previous = service._script().get_revision(head).down_revision
        flask_migrate.upgrade(revision=previous)
        db.engine.dispose()
    yield old, previous, head
    if backend == "postgresql":
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.sqlite_only(
    "the upgrade after a restore is the same flask_migrate.upgrade on either backend; the "
    "PostgreSQL restore itself is in the drill, and migrations on PostgreSQL in "
    "test_migrations.py"
)
def test_a_backup_of_an_older_revision_is_upgraded_after_the_restore(
    migrated_source, fresh, tmp_path
):
    old, previous, head = migrated_source
    made = cli(old, "create", str(tmp_path / "old-backup"))
    assert made.exit_code == 0, made.output
    assert json.loads((tmp_path / "old-backup" / "manifest.json").read_text())[
        "alembic_revision"
    ] == previous
    result = cli(fresh, "restore", str(tmp_path / "old-backup"))
    assert result.exit_code == 0, result.output
    assert f"Upgraded the database from revision {previous}" in result.output
    with fresh.app_context():
        assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        db.session.remove()  # its IMMEDIATE transaction holds SQLite's write lock
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


@pytest.mark.sqlite_only("SQLite's one-writer lock: a PostgreSQL restore waits for its locks")
def test_restore_while_the_portal_still_writes_says_to_stop_it(app, backup, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(engines, "BUSY_TIMEOUT_MS", 50)
    db.session.remove()
    db.engine.dispose()
    writer = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    writer.isolation_level = None
    writer.execute("BEGIN IMMEDIATE")  # the running portal, in the middle of a write
    try:
        result = cli(app, "restore", "--force", str(backup))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 1, result.output
    assert "stop the portal and the job worker" in result.output
