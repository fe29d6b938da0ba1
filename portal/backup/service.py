"""Create, verify and restore a backup of the configured portal (database and uploads).

Create: the database first (one consistent snapshot), then UPLOAD_FOLDER file by file,
into a hidden sibling directory that is renamed to PATH only when its manifest is
written: an interrupted `create` never leaves something that looks like a backup.
An evidence file is written before the row that names it is committed, so every file the
snapshot refers to is on disk by the time the folder is copied (files newer than the
snapshot may be copied too: harmless orphans).

Left out, on purpose:
- the job queue (instance/jobs.sqlite, or Redis): it only carries the ids of jobs whose
  rows (state, progress, result) are in the database. A restored queue would run again
  work of a moment that no longer exists; jobs that were queued or running in the backup
  are recorded as failed on restore ("start it again"), as a crashed worker's are.
- SECRET_KEY (instance/secret_key): a secret does not belong beside the data it protects.
  Keep it in the secrets store; the restored portal needs the same one for its signed
  links and sessions.

Restore checks everything before it writes anything: the manifest and every file
(`archive.verify`), the backend, the revision (not newer than this code), and that the
target database and upload folder are empty (unless force). Then the database (one
transaction), then the upload folder (swapped in by rename), then `db upgrade` when the
backup's revision is older than the code's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import select, update

from portal.backup import engines
from portal.backup.archive import (
    MANIFEST,
    UPLOADS,
    BackupRefused,
    Manifest,
    copy_hashed,
    files_under,
    fsync_tree,
    sha256_of,
    verify,
)
from portal.core.extensions import db, migrate
from portal.core.i18n import lazy_gettext as _l
from portal.core.jobs import FAILED, QUEUED, RUNNING, Job
from portal.core.timeutil import utcnow

RESTORED = _l(
    "The portal was restored from a backup taken while this job waited or ran, so it did "
    "not finish. Start it again."
)
LEFT_OUT = {
    "job queue": "Only job ids; the jobs' rows are in the database. Jobs queued or running "
    "at backup time are recorded as failed on restore.",
    "SECRET_KEY": "Kept out of backups on purpose: keep it in your secrets store.",
}


@dataclass
class Created:
    path: Path
    manifest: Manifest
    seconds: float
    bytes: int


@dataclass
class Restored:
    manifest: Manifest
    upgraded_from: str | None
    failed_jobs: int
    seconds: float


def _app_version() -> str:
    try:
        return metadata.version("waypoint")
    except metadata.PackageNotFoundError:
        return "unknown"


def _url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _uploads() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def create(path: Path) -> Created:
    """Back up the app's database and uploads into the new directory `path`."""
    started = time.perf_counter()
    url = _url()
    backend = engines.backend_of(url)
    path = path.resolve()
    if path.exists():
        raise BackupRefused(f"{path} already exists: give a new directory for each backup.")
    if path.is_relative_to(_uploads().resolve()):
        raise BackupRefused(f"{path} is inside the upload folder: the backup would copy itself.")
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    try:
        created_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if backend == "sqlite":
            name = engines.SQLITE_FILE
            engines.sqlite_snapshot(url, work / name)
            revision = engines.sqlite_revision(work / name)
        else:
            name = engines.PG_FILE
            revision = engines.revision_of(db.engine)
            engines.pg_snapshot(db.engine, url, work / name)
        manifest = Manifest(
            created_at=created_at,
            backend=backend,
            alembic_revision=revision,
            app_version=_app_version(),
            database=name,
            left_out=LEFT_OUT,
        )
        manifest.files[name] = sha256_of(work / name)
        uploads = _uploads()
        for relative in files_under(uploads):
            try:
                record = copy_hashed(uploads / relative, work / UPLOADS / relative)
            except FileNotFoundError:
                continue  # deleted while we copied: it is not in the snapshot's future
            manifest.files[f"{UPLOADS}/{relative.as_posix()}"] = record
        (work / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        fsync_tree(work)
        os.rename(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    total = sum(rec.size for rec in manifest.files.values())
    return Created(path, manifest, time.perf_counter() - started, total)


def check(path: Path) -> Manifest:
    """Verify a backup for this portal (files, backend, revision); raise BackupRefused."""
    manifest = verify(path)
    backend = engines.backend_of(_url())
    if manifest.backend != backend:
        raise BackupRefused(
            f"This backup is of a {manifest.backend} database; this portal is configured for "
            f"{backend} (DATABASE_URL). A backup restores into the same kind of database."
        )
    if manifest.alembic_revision is not None:
        known = _known_revisions()
        for revision in manifest.alembic_revision.split(","):
            if revision not in known:
                raise BackupRefused(
                    f"The backup's database is at revision {revision}, which this code does "
                    f"not know: it was made by a newer Waypoint (backup's app version "
                    f"{manifest.app_version}). Restore it with that version or newer."
                )
    database = path / manifest.database
    if backend == "sqlite":
        engines.sqlite_check(database)
    else:
        engines.pg_check(db.engine, database)
    return manifest


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.get_config())


def _known_revisions() -> set[str]:
    return {script.revision for script in _script().walk_revisions()}


def _code_heads() -> set[str]:
    return set(_script().get_heads())


def target_problems() -> list[str]:
    """What is already in the configured database and upload folder."""
    problems = []
    url = _url()
    exists = engines.backend_of(url) == "postgresql" or engines.sqlite_path(url).is_file()
    if exists:
        tables = engines.has_rows(db.engine)
        if tables:
            shown = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "")
            problems.append(f"the database has data (in {shown})")
    uploads = _uploads()
    if files_under(uploads):
        problems.append(f"the upload folder {uploads} has files")
    return problems


def restore(path: Path, force: bool = False) -> Restored:
    """Restore the backup at `path` into the configured database and upload folder."""
    started = time.perf_counter()
    path = path.resolve()
    manifest = check(path)
    problems = target_problems()
    if problems and not force:
        raise BackupRefused(
            "The target is not empty: "
            + "; ".join(problems)
            + ". Restoring would replace it. Run again with --force to replace it."
        )
    uploads = _uploads()
    staging = _stage_uploads(path, manifest, uploads)
    try:
        url = _url()
        db.session.remove()
        db.engine.dispose()
        if manifest.backend == "sqlite":
            engines.sqlite_restore(path / manifest.database, url)
        else:
            engines.pg_restore(db.engine, path / manifest.database, url)
        _swap_in(staging, uploads)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    db.engine.dispose()
    upgraded_from = None
    revision = manifest.alembic_revision
    if revision is not None and set(revision.split(",")) != _code_heads():
        upgrade()
        upgraded_from = revision
    failed = fail_interrupted_jobs()
    return Restored(manifest, upgraded_from, failed, time.perf_counter() - started)


def _stage_uploads(path: Path, manifest: Manifest, uploads: Path) -> Path:
    """The backup's uploads copied beside the upload folder (same file system: a rename
    swaps them in after the database is restored)."""
    uploads.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{uploads.name}.restoring-", dir=uploads.parent))
    prefix = f"{UPLOADS}/"
    for name in manifest.files:
        if name.startswith(prefix):
            copy_hashed(path / name, staging / name[len(prefix) :])
    fsync_tree(staging)
    return staging


def _swap_in(staging: Path, uploads: Path) -> None:
    old = None
    if uploads.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{uploads.name}.replaced-", dir=uploads.parent))
        os.rename(uploads, old / uploads.name)
    os.rename(staging, uploads)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def fail_interrupted_jobs() -> int:
    """Jobs queued or running when the backup was taken have no queue entry nor worker now."""
    rows = db.session.execute(select(Job).where(Job.state.in_((QUEUED, RUNNING)))).scalars().all()
    now = utcnow()
    for job in rows:
        owner_locale = db.session.scalar(
            select(db.metadata.tables["users"].c.locale).where(
                db.metadata.tables["users"].c.id == job.owner_id
            )
        )
        with force_locale(owner_locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            message = str(RESTORED)
        db.session.execute(
            update(Job).where(Job.id == job.id).values(state=FAILED, error=message, finished_at=now)
        )
    db.session.commit()
    return len(rows)
