"""Background jobs: long work (imports, exports) runs in a worker, and its owner watches it.

A feature defines a kind of job once, and starts one from a route:

    @jobs.job("roster.import", title=_l("Roster import"), result_url=lambda job: ...)
    def import_roster(progress, path):
        for done, row in enumerate(rows, 1):
            ...
            progress.step(done, total, _("Reading users.csv"))
        return {"created": 12}               # kept as the job's result (JSON)

    job = jobs.enqueue("roster.import", current_user, path=saved)   # flushes the row
    db.session.commit()                      # the route's one commit hands it to the worker
    return redirect_to(url_for("jobs.status", job_id=job.id))

The `Job` row is the truth the status page (`portal/jobs/`) shows: state, counts, the
latest message, the result or the error. The queue only carries the job's id: Huey on
its SQLite storage (`instance/jobs.sqlite`, no server to run) unless `JOBS_URL` names a
Redis (`redis://host:port/db`). `flask --app portal jobs worker` runs the consumer.

How a job runs (`run_job`): the worker claims the row (queued -> running), then calls the
function inside an app context, in the owner's language, with `db.session` its own. The
function commits its own work when it chooses. Progress and a heartbeat are written on
separate short transactions (never the job's), so a job's commit never depends on them.
`JobError(message)` fails the job with that message for its owner; any other exception
fails it with a general message (the traceback goes to the log, not to the page). A
worker that dies mid-job stops its heartbeat: after `JOBS_STALE_SECONDS` the page shows
the job failed, and the worker's minutely sweep (`fail_stale`) records it so.

On SQLite a write transaction held by the job delays progress writes until it ends (one
writer at a time): a job that reports progress while it holds one gets its bar moved when
it commits. Commit in small transactions where the work allows it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app, has_request_context
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from flask_sqlalchemy.session import Session
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, event, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import utcnow

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)

# Failures the system records for the owner (a job's own come from JobError).
CRASHED = _l(
    "Something went wrong while this job ran, and it stopped. Nothing more will happen "
    "with it. Try again; if it fails again, tell your administrator."
)
STALE = _l(
    "The job worker stopped while this job ran (it was restarted or crashed), so the job "
    "did not finish. Start it again."
)
STOPPED = _l("The job worker was shut down while this job ran, so it did not finish.")
UNKNOWN_KIND = _l("This kind of job is not known to this version of Waypoint.")
NOT_SENT = _l("The job could not be handed to the job worker (its queue is unreachable).")

_TASK = "waypoint.run_job"
_SWEEP = "waypoint.fail_stale_jobs"
_PENDING = "jobs.pending"
_HUEY = "jobs.huey"


class Job(db.Model):
    """One run of long work, owned by the user who started it."""

    __tablename__ = "jobs"
    __stamp__ = stamps.NOTHING  # no cached page shows jobs: the status page is never cached

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[Any | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"


class JobError(Exception):
    """Raise from a job to fail it with this message for its owner (already translated)."""


# --- Kinds of job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    run: Callable[..., Any]  # run(progress, **params) -> JSON-able result or None
    title: Any  # a lazy string: the status page's heading
    result_url: Callable[[Job], str | None] | None = None  # built in the status request


KINDS: dict[str, Kind] = {}


def job(name: str, *, title, result_url: Callable[[Job], str | None] | None = None):
    """Register `fn(progress, **params)` as the job kind `name` (at import time)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        KINDS[name] = Kind(name, fn, title, result_url)
        return fn

    return register


def enqueue(kind: str, owner, **params) -> Job:
    """Add a queued job for `owner` (a user) and flush; the commit sends it to the worker.

    The message is sent after the transaction commits, so the worker never looks for a
    row that is not there yet, and a rolled-back request starts nothing.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; define it with @jobs.job({kind!r}, ...)")
    json.dumps(params)  # TypeError now, not in the worker
    row = Job(kind=kind, owner_id=owner.id, state=QUEUED, params=params, done=0, message="")
    db.session.add(row)
    db.session.flush()
    db.session().info.setdefault(_PENDING, []).append((current_app._get_current_object(), row.id))
    return row


@event.listens_for(Session, "after_commit")
def _send_pending(session) -> None:
    for app, job_id in session.info.pop(_PENDING, ()):
        try:
            huey_for(app).enqueue(_task(app).s(job_id))
        except Exception:
            log.exception("job %s: could not be sent to the queue", job_id)
            _write(job_id, state=FAILED, error=_say(NOT_SENT), finished_at=utcnow())


@event.listens_for(Session, "after_rollback")
def _drop_pending(session) -> None:
    session.info.pop(_PENDING, None)


# --- Progress --------------------------------------------------------------------------------


class Progress:
    """What a running job reports: `progress.step(done, total, message)`.

    Writes are throttled to one per `JOBS_PROGRESS_SECONDS` (the last step is always
    written when the job ends), each in its own short transaction.
    """

    def __init__(self, job_id: int, interval: float) -> None:
        self.job_id = job_id
        self.interval = interval
        self.done = 0
        self.total: int | None = None
        self.message = ""
        self._written_at = 0.0
        self._dirty = False

    def step(self, done: int, total: int | None = None, message: str | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if message is not None:
            self.message = str(message)[:500]
        self._dirty = True
        if time.monotonic() - self._written_at >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self._dirty or _holds_sqlite_writer():
            return  # kept, and written when the job's transaction ends or the job does
        self._written_at = time.monotonic()
        self._dirty = False
        _write(
            self.job_id,
            when=RUNNING,
            done=self.done,
            total=self.total,
            message=self.message,
            heartbeat_at=utcnow(),
        )

    def values(self) -> dict:
        return {"done": self.done, "total": self.total, "message": self.message}


def _holds_sqlite_writer() -> bool:
    """The job's own session is in a transaction on SQLite: it holds the one write lock
    (database.py begins IMMEDIATE outside requests), and a write on another connection
    would wait out the busy timeout for it."""
    return db.engine.dialect.name == "sqlite" and db.session().in_transaction()


def _write(job_id: int, when: str | None = None, **values) -> bool:
    """Update the job's row (if its state is `when`) in a transaction of its own; False if
    no row was changed or the write failed (logged)."""
    statement = update(Job).where(Job.id == job_id).values(**values)
    if when is not None:
        statement = statement.where(Job.state == when)
    try:
        with db.engine.begin() as conn:
            return conn.execute(statement).rowcount == 1
    except Exception:
        log.exception("job %s: could not record %s", job_id, sorted(values))
        return False


class _Heartbeat:
    """A thread that stamps the running job's row every few seconds while it runs."""

    def __init__(self, app: Flask, job_id: int) -> None:
        self.app, self.job_id = app, job_id
        self.interval = float(app.config["JOBS_HEARTBEAT_SECONDS"])
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-{job_id}-heartbeat")
        self.thread.daemon = True

    def _beat(self) -> None:
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                _write(self.job_id, when=RUNNING, heartbeat_at=utcnow())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


# --- Running a job (in the worker) ----------------------------------------------------------


def run_job(app: Flask, job_id: int) -> None:
    """Claim the job and run it; whatever happens, the row ends done or failed."""
    with app.app_context():
        now = utcnow()
        # One UPDATE ... WHERE state = queued: a job is run once, and never after the
        # sweep or a second delivery of its message.
        if not _write(job_id, when=QUEUED, state=RUNNING, started_at=now, heartbeat_at=now):
            log.warning("job %s: not queued (any more), not run", job_id)
            return
        with db.engine.connect() as conn:
            kind_name, params, owner_id = conn.execute(
                select(Job.kind, Job.params, Job.owner_id).where(Job.id == job_id)
            ).one()
            locale = _owner_locale(conn, owner_id) or app.config["BABEL_DEFAULT_LOCALE"]
        progress = Progress(job_id, float(app.config["JOBS_PROGRESS_SECONDS"]))
        with force_locale(locale), _Heartbeat(app, job_id):
            _execute(job_id, KINDS.get(kind_name), params or {}, progress)
        db.session.remove()


def _execute(job_id: int, kind: Kind | None, params: dict, progress: Progress) -> None:
    try:
        if kind is None:
            raise JobError(str(UNKNOWN_KIND))
        result = kind.run(progress, **params)
        db.session.commit()
    except JobError as exc:
        db.session.rollback()
        _end(job_id, progress, FAILED, error=str(exc) or str(CRASHED))
    except Exception:
        log.exception("job %s (%s) failed", job_id, kind.name if kind else "?")
        db.session.rollback()
        _end(job_id, progress, FAILED, error=str(CRASHED))
    except BaseException:
        db.session.rollback()
        _end(job_id, progress, FAILED, error=str(STOPPED))
        raise
    else:
        _end(job_id, progress, DONE, result=_jsonable(job_id, result))


def _end(job_id: int, progress: Progress, state: str, **values) -> None:
    # A late finish wins over a "stale" verdict: it is what really happened.
    _write(job_id, state=state, finished_at=utcnow(), **progress.values(), **values)


def _jsonable(job_id: int, result: Any) -> Any:
    try:
        json.dumps(result)
    except TypeError:
        log.error("job %s: its result is not JSON and was dropped: %r", job_id, result)
        return None
    return result


def _say(message, locale: str | None = None) -> str:
    """A lazy message as text: in the request's language, else in `locale` (or the default)."""
    if locale is None and has_request_context():
        return str(message)
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(message)


def _owner_locale(conn, owner_id: int) -> str | None:
    users = db.metadata.tables["users"]  # by name: plumbing imports no feature
    return conn.execute(select(users.c.locale).where(users.c.id == owner_id)).scalar()


def fail_stale(now: datetime | None = None) -> int:
    """Record as failed every running job whose heartbeat stopped; how many."""
    now = now or utcnow()
    limit = now - timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])
    with db.engine.begin() as conn:
        rows = conn.execute(
            select(Job.id, Job.owner_id).where(Job.state == RUNNING, Job.heartbeat_at < limit)
        ).all()
        for job_id, owner_id in rows:
            message = _say(STALE, _owner_locale(conn, owner_id))
            conn.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == RUNNING)
                .values(state=FAILED, error=message, finished_at=now)
            )
    return len(rows)


def is_stale(row: Job, now: datetime | None = None) -> bool:
    """A running job whose heartbeat is older than JOBS_STALE_SECONDS: its worker is gone."""
    if row.state != RUNNING:
        return False
    beat = row.heartbeat_at or row.started_at or row.created_at
    limit = timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])
    return (now or utcnow()) - beat > limit


QUEUE_PATIENCE = timedelta(seconds=60)


def waited_long(row: Job, now: datetime | None = None) -> bool:
    """Queued for over a minute: a running worker would have started it by now."""
    return row.state == QUEUED and (now or utcnow()) - row.created_at > QUEUE_PATIENCE


# --- The queue: Huey, built lazily from the app's configuration ------------------------------

_build_lock = threading.Lock()


def huey_for(app: Flask) -> Huey:
    """The app's Huey (its queue), built on first use: nothing is opened until a job is."""
    found = app.extensions.get(_HUEY)
    if found is not None:
        return found
    with _build_lock:
        if _HUEY not in app.extensions:
            app.extensions[_HUEY] = _build(app)
    return app.extensions[_HUEY]


def storage_for(url: str) -> tuple[type[Huey], dict]:
    """The Huey class and its storage options for JOBS_URL (sqlite:///path or redis://)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey, {"url": url}
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return SqliteHuey, {"filename": url.removeprefix("sqlite:///")}
    raise ValueError(
        f"JOBS_URL={url!r}: use redis://host:port/db, or leave it unset for the SQLite "
        "file in the instance folder"
    )


# Housekeeping the worker runs every minute, registered by features (core imports none).
_SWEEPERS: list[Callable[[], object]] = []


def every_minute(tidy: Callable[[], object]) -> Callable[[], object]:
    """Register housekeeping for the worker's minute sweep (it runs in an app context)."""
    _SWEEPERS.append(tidy)
    return tidy


def _build(app: Flask) -> Huey:
    cls, options = storage_for(app.config["JOBS_URL"])
    huey = cls(app.config["JOBS_NAME"], results=False, utc=True, **options)

    @huey.task(name=_TASK)
    def run(job_id: int) -> None:
        run_job(app, job_id)

    @huey.periodic_task(crontab(minute="*"), name=_SWEEP)
    def sweep() -> None:
        with app.app_context():
            fail_stale()
            for tidy in _SWEEPERS:
                tidy()

    app.extensions[_HUEY + ".task"] = run
    return huey


def _task(app: Flask):
    huey_for(app)
    return app.extensions[_HUEY + ".task"]


def create_consumer(app: Flask, workers: int | None = None, **options):
    """A Huey consumer (threads) for the app's queue: `.start()`/`.stop()`, or `.run()`."""
    options.setdefault("worker_type", "thread")
    return huey_for(app).create_consumer(workers=workers or app.config["JOBS_WORKERS"], **options)


# --- The worker command ---------------------------------------------------------------------

jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("worker")
@click.option("--workers", type=int, default=None, help="Threads running jobs (JOBS_WORKERS).")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the job worker until interrupted (Ctrl-C finishes the running jobs first)."""
    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    failed = fail_stale()
    if failed:
        log.warning("%s job(s) had lost their worker and were marked failed", failed)
    consumer = create_consumer(app, workers)
    click.echo(
        f"Job worker: {consumer.workers} thread(s) on {type(huey_for(app)).__name__}"
        f" ({app.config['JOBS_URL'].split('@')[-1]})"
    )
    consumer.run()  # SIGINT: finish the running jobs, then stop; SIGTERM: stop now
