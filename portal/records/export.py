"""The learner's record as a zip: `record.json`, `record.pdf` and the evidence files.

A guardian, the learner or a school admin asks for it on the export page
(export_routes.py); a background job (`records.export`) builds the zip under
RECORD_EXPORT_FOLDER with a random name; only the job's owner may download it, for
RECORD_EXPORT_HOURS after it was built, and the minute sweep deletes it after that.
`flask --app portal records export` (export_cli.py) writes the same zip to a path.
"""

from __future__ import annotations

import json
import secrets
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.i18n import date_text, datetime_text, in_locale
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.pdf import STYLESHEET, html_to_pdf
from portal.core.read_session import READS_ONLY
from portal.core.timeutil import utcnow
from portal.policy import Action, can
from portal.progress import uploads
from portal.progress.models import ProgressEntry
from portal.records import deletion
from portal.records.collect import collect

KIND = "records.export"
RECORD_STYLESHEET = STYLESHEET.with_name("pdf-record.css")
NAME_BYTES = 24  # a download's file name: 32 URL-safe characters, unguessable


def folder() -> Path:
    return Path(current_app.config["RECORD_EXPORT_FOLDER"])


def keep_hours() -> int:
    return int(current_app.config["RECORD_EXPORT_HOURS"])


def _parse(value: str | None):
    if not value:
        return None
    if "T" in value:
        return datetime.fromisoformat(value.removesuffix("Z"))
    return datetime.fromisoformat(value).date()


def when(value: str | None) -> str:
    """An ISO moment or day of the record, in the reader's language."""
    parsed = _parse(value)
    if parsed is None:
        return ""
    return datetime_text(parsed) if isinstance(parsed, datetime) else date_text(parsed)


def render_pdf(record: dict) -> bytes:
    """The human-readable record, in the current language."""
    levels = {
        level["value"]: in_locale(level["label"], level["label_es"])
        for level in record["mastery_scale"]
    }
    html = render_template("records/export_pdf.html", record=record, when=when, levels=levels)
    return html_to_pdf(html, stylesheets=(STYLESHEET, RECORD_STYLESHEET))


def _evidence_files(record: dict, session) -> list[tuple[str, Path]]:
    """(path in the zip, file on disk) of every entry's upload; a file gone from the disk is
    marked missing in the JSON instead."""
    found = []
    keys = _evidence_keys(record, session)
    for goal in record["goals"]:
        for entry in goal["entries"]:
            evidence = entry["evidence"]
            if evidence is None:
                continue
            key = keys.get(entry["ref"])
            try:
                source = uploads.path_of(key) if key else None
            except FileNotFoundError:
                source = None
            if source is None or not source.is_file():
                evidence["path"], evidence["missing"] = None, True
                continue
            found.append((evidence["path"], source))
    return found


def _evidence_keys(record: dict, session) -> dict[str, str]:
    # The storage keys stay out of the JSON (they name files on the server); read them once.
    from_refs = [
        int(entry["ref"].split("/")[1])
        for goal in record["goals"]
        for entry in goal["entries"]
        if entry["evidence"] is not None
    ]
    if not from_refs:
        return {}
    rows = session.execute(
        select(ProgressEntry.id, ProgressEntry.file_key).where(ProgressEntry.id.in_(from_refs))
    ).all()
    return {f"progress_entries/{row.id}": row.file_key for row in rows if row.file_key}


@contextmanager
def snapshot() -> Iterator[Session]:
    """A session on a connection of its own that reads one consistent snapshot and takes no
    write lock: an export of thousands of rows never holds up the portal's writers.

    SQLite: a DEFERRED transaction (a WAL read snapshot; database.py would otherwise begin
    IMMEDIATE outside requests, taking the one write lock). PostgreSQL: a read-only
    REPEATABLE READ transaction. Ended (rolled back) on the way out.
    """
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        options = {READS_ONLY: True}  # database.py emits no BEGIN of its own for these
    else:
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as conn:
        if sqlite:
            conn.exec_driver_sql("BEGIN DEFERRED")
        session = Session(bind=conn)
        try:
            yield session
        finally:
            session.close()
            conn.rollback()


def write_zip(path: Path, learner_id: int, requested_by_id: int | None, progress=None) -> dict:
    """Write the learner's whole record to `path`; a summary of what went in.

    Reads from its own snapshot (see `snapshot`), not `db.session`: callers end their own
    transaction first, so that nothing holds SQLite's write lock while the zip is built.
    """
    step = progress or (lambda *_args, **_kw: None)
    with snapshot() as session:
        learner = session.get(User, learner_id)
        requested_by = session.get(User, requested_by_id) if requested_by_id else None
        record = collect(
            learner,
            requested_by,
            progress=lambda done, total: step(done, total + 3, _("Gathering the record")),
            session=session,
        )
        files = _evidence_files(record, session)
    step(7, 9, _("Writing the printable copy"))
    pdf = render_pdf(record)
    step(8, 9, _("Adding the evidence files"))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("record.json", json.dumps(record, ensure_ascii=False, indent=2))
            archive.writestr("record.pdf", pdf)
            for name, source in files:
                archive.write(source, name, compress_type=zipfile.ZIP_STORED)
        partial.replace(path)  # never a half-written zip under the final name
    except BaseException:
        partial.unlink(missing_ok=True)  # a disk that filled up keeps no half of a record
        raise
    step(9, 9, _("Done"))
    return {"bytes": path.stat().st_size, "evidence_files": len(files)}


def _result_url(job) -> str | None:
    return url_for("record_export.download", job_id=job.id)


@jobs.job(KIND, title=_l("A learner's record download"), result_url=_result_url)
def export_record(progress, learner_id: int, requester_id: int):
    """Build the zip for its requester; it is theirs alone for RECORD_EXPORT_HOURS."""
    learner, requester = db.session.get(User, learner_id), db.session.get(User, requester_id)
    # Asked again now: a guardian link deactivated since the request gets nothing.
    allowed = (
        learner is not None
        and requester is not None
        and can(Action.EXPORT_RECORD, learner, requester)
    )
    db.session.rollback()  # let go of the job session's transaction (on SQLite, the write lock)
    if not allowed:
        raise jobs.JobError(_("This record can no longer be exported for you."))
    name = secrets.token_urlsafe(NAME_BYTES) + ".zip"
    summary = write_zip(folder() / name, learner_id, requester_id, progress.step)
    expires = utcnow() + timedelta(hours=keep_hours())
    return {"file": name, "learner_id": learner_id, "expires_at": expires.isoformat(), **summary}


def _zip_of(result: dict) -> Path | None:
    """Where a finished export's zip is (or was): deleting the learner deletes it too."""
    name = result.get("file")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        return None
    return folder() / name


def export_file(job) -> Path | None:
    """The zip a finished export job built, while it may still be downloaded; else None."""
    result = job.result or {}
    name = result.get("file")
    if job.state != jobs.DONE or not name or "/" in name or name.startswith("."):
        return None
    finished = job.finished_at or job.created_at
    if utcnow() > finished + timedelta(hours=keep_hours()):
        return None
    path = folder() / name
    return path if path.is_file() else None


@jobs.every_minute
def remove_expired_exports(now: float | None = None) -> int:
    """Delete record zips older than RECORD_EXPORT_HOURS (and half-written leftovers)."""
    target = folder()
    if not target.is_dir():
        return 0
    cutoff = (now or time.time()) - keep_hours() * 3600
    old = [f for f in target.iterdir() if f.is_file() and f.stat().st_mtime < cutoff]
    for file in old:
        file.unlink(missing_ok=True)
    return len(old)


deletion.job_makes_files(KIND, _zip_of)
