"""Background jobs run for real: a Huey consumer (threads) takes them off the queue, on the
embedded SQLite queue and on a real Redis, and the owner watches them on the status page.

The job kinds here exist for the tests only. Each test's database is its own (SQLite and
PostgreSQL), and so is its queue (a SQLite file in tmp_path, or a Redis queue name).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for
from flask_babel import force_locale
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select

from portal import create_app
from portal.auth.models import User
from portal.core import config, jobs
from portal.core.extensions import db
from portal.core.jobs import Job, JobError
from portal.core.timeutil import utcnow
from tests.sql_guard import sql_while_rendering

ROOT = Path(__file__).resolve().parents[1]
HTMX = {"HX-Request": "true"}
RELEASE = threading.Event()  # a held job waits for this before it finishes
_queues = itertools.count()


@jobs.job(
    "test.count",
    title="Counting things",
    result_url=lambda job: url_for("home.index", counted=job.result["counted"]),
)
def _count(progress, n, hold=False):
    for i in range(1, n + 1):
        progress.step(i, n, f"Counted {i}")
    progress.flush()
    if hold:
        RELEASE.wait(30)
    return {"counted": n}


@jobs.job("test.refuse", title="Refusing")
def _refuse(progress):
    progress.step(1, 4, "Reading users.csv")
    raise JobError("users.csv line 3: the role 'wizard' is not a OneRoster role.")


@jobs.job("test.crash", title="Crashing")
def _crash(progress):
    raise RuntimeError("connection string postgresql://secret@db")


@jobs.job("test.write", title="Writing")
def _write(progress, user_id, locale):
    """A job's own work: in the app context, on its own session, committed when it ends."""
    db.session.get(User, user_id).locale = locale


@jobs.job("test.hold", title="Holding a transaction")
def _hold(progress, user_id):
    """Reports progress while its own transaction is open (on SQLite: the write lock)."""
    db.session.get(User, user_id).locale = "es"
    db.session.flush()
    for i in range(1, 4):
        progress.step(i, 3, f"Step {i}")
        progress.flush()


@pytest.fixture
def app_config(app_config, request):
    """The queue: the SQLite file (default) or, with param "redis", a queue on Redis."""
    fast = {"JOBS_HEARTBEAT_SECONDS": 0.2, "JOBS_PROGRESS_SECONDS": 0}
    if getattr(request, "param", "sqlite") == "redis":
        server = request.getfixturevalue("redis_server")
        name = f"test-{os.getpid()}-{next(_queues)}"
        return {**app_config, **fast, "JOBS_URL": server.url(), "JOBS_NAME": name}
    return {**app_config, **fast}


@pytest.fixture
def worker(app):
    """A real Huey consumer (one worker thread) on the test app's queue."""
    consumer = jobs.create_consumer(
        app,
        workers=1,
        periodic=False,
        initial_delay=0.02,
        backoff=1.1,
        max_delay=0.1,
        check_worker_health=False,
    )
    # The consumer sets SIGINT/SIGTERM handlers for a worker process: keep pytest's.
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    for sig, handler in kept.items():
        signal.signal(sig, handler)
    RELEASE.clear()
    yield consumer
    RELEASE.set()
    consumer.stop(graceful=True)
    jobs.huey_for(app).flush()
    RELEASE.clear()


def _start(kind: str, owner, **params) -> int:
    job_id = jobs.enqueue(kind, owner, **params).id
    db.session.commit()
    return job_id


def _row(job_id: int) -> dict:
    """The job's row now, read on a connection of its own (the test's session holds none)."""
    with db.engine.connect() as conn:
        return dict(conn.execute(select(Job.__table__).where(Job.id == job_id)).mappings().one())


def _wait(job_id: int, until, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        row = _row(job_id)
        if until(row):
            return row
        assert time.monotonic() < deadline, f"job {job_id} still {row}"
        time.sleep(0.05)


def _finished(row: dict) -> bool:
    return row["state"] in ("done", "failed")


def _get(client, url: str, htmx: bool = False):
    # The test client shares the test's app context and so its session: end its transaction
    # and forget what it loaded (commit expires it all), as each real request would, to see
    # the worker's writes.
    db.session.commit()
    return client.get(url, headers=HTMX if htmx else {})


def _owner(make, auth):
    owner = make.teacher()
    make.commit()
    auth.login(owner)
    return owner


# --- The worker runs jobs; the owner watches ------------------------------------------


@pytest.mark.parametrize("app_config", ["sqlite", "redis"], indirect=True)
def test_a_worker_runs_the_job_and_its_owner_watches_it(app, make, auth, client, worker):
    expected = RedisHuey if app.config["JOBS_URL"].startswith("redis") else SqliteHuey
    assert type(jobs.huey_for(app)) is expected
    job_id = _start("test.count", _owner(make, auth), n=3, hold=True)
    url = f"/jobs/{job_id}"

    row = _wait(job_id, lambda r: r["done"] == 3)
    assert (row["state"], row["total"], row["message"]) == ("running", 3, "Counted 3")
    assert row["started_at"] is not None and row["heartbeat_at"] is not None
    page = _get(client, url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Counting things" in html and "Running" in html
    assert '<progress max="100" value="100"' in html
    assert "3 of 3 (100%)" in html and "Counted 3" in html
    assert 'hx-trigger="every 1s' in html and ">Refresh</a>" in html  # JS off: a link
    poll = _get(client, url, htmx=True)
    assert poll.status_code == 200
    assert poll.get_data(as_text=True).lstrip().startswith('<section id="job-progress"')
    assert "<html" not in poll.get_data(as_text=True)

    RELEASE.set()
    row = _wait(job_id, _finished)
    assert row["state"] == "done" and row["result"] == {"counted": 3}
    assert row["finished_at"] is not None and row["error"] is None
    last = _get(client, url, htmx=True)
    assert last.status_code == 286  # htmx swaps the final state and stops polling
    body = last.get_data(as_text=True)
    assert "hx-trigger" not in body and "Refresh" not in body
    assert "Done" in body and 'href="/?counted=3"' in body and "See the result" in body


def test_a_job_writes_with_its_own_session_in_the_owners_language(app, make, auth, worker):
    owner = make.teacher(locale="es")
    make.commit()
    owner_id = owner.id
    job_id = _start("test.write", owner, user_id=owner_id, locale="en")
    assert _wait(job_id, _finished)["state"] == "done"
    db.session.remove()
    assert db.session.get(User, owner_id).locale == "en"  # the job's commit


def test_a_failing_job_shows_its_message_and_stops_polling(app, make, auth, client, worker):
    job_id = _start("test.refuse", _owner(make, auth))
    row = _wait(job_id, _finished)
    assert row["state"] == "failed" and (row["done"], row["total"]) == (1, 4)
    message = "users.csv line 3: the role &#39;wizard&#39; is not a OneRoster role."
    poll = _get(client, f"/jobs/{job_id}", htmx=True)
    assert poll.status_code == 286
    assert message in poll.get_data(as_text=True) and "Failed" in poll.get_data(as_text=True)
    page = _get(client, f"/jobs/{job_id}").get_data(as_text=True)
    assert message in page and "hx-trigger" not in page.split('id="job-progress"')[1]


def test_a_crashing_job_fails_with_a_general_message_not_its_internals(
    app, make, auth, client, worker
):
    job_id = _start("test.crash", _owner(make, auth))
    row = _wait(job_id, _finished)
    with force_locale("en"):
        assert row["state"] == "failed" and row["error"] == str(jobs.CRASHED)
    page = _get(client, f"/jobs/{job_id}").get_data(as_text=True)
    assert "Something went wrong while this job ran" in page and "secret" not in page


def test_the_worker_records_failures_in_the_owners_language(app, make, worker):
    owner = make.teacher(locale="es")
    make.commit()
    job_id = _start("test.crash", owner)
    row = _wait(job_id, _finished)
    with force_locale("es"):
        assert row["error"] == str(jobs.CRASHED)


# --- Only its owner sees a job ---------------------------------------------------------


ROLES = ("learner", "teacher", "guardian", "school_admin", "district_admin")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_sees_a_job(app, make, auth, client, role):
    school = make.school("Riverside")
    owner = make.school_admin(school)
    other = (
        getattr(make, role)(school)
        if role not in ("guardian", "district_admin")
        else (getattr(make, role)())
    )
    make.commit()
    job_id = jobs.enqueue("test.count", owner, n=1).id
    db.session.commit()
    auth.login(other)
    assert _get(client, f"/jobs/{job_id}").status_code == 404
    assert _get(client, f"/jobs/{job_id}", htmx=True).status_code == 404
    assert _get(client, f"/jobs/{job_id + 1000}").status_code == 404
    auth.logout()
    auth.login(owner)
    page = _get(client, f"/jobs/{job_id}")
    assert page.status_code == 200 and "Waiting to start" in page.get_data(as_text=True)


# --- The queue hand-off, and jobs whose worker is gone -----------------------------------


def test_a_job_is_sent_when_its_transaction_commits_and_never_if_rolled_back(app, make):
    owner = make.teacher()
    make.commit()
    huey = jobs.huey_for(app)
    jobs.enqueue("test.count", owner, n=1)
    assert huey.pending_count() == 0  # not before the row is committed
    db.session.rollback()
    assert huey.pending_count() == 0
    assert db.session.scalar(select(Job.id)) is None
    jobs.enqueue("test.count", owner, n=1)
    db.session.commit()
    assert huey.pending_count() == 1


def test_enqueue_refuses_an_unknown_kind_or_params_that_are_not_json(app, make):
    owner = make.teacher()
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.enqueue("no.such.kind", owner)
    with pytest.raises(TypeError):
        jobs.enqueue("test.count", owner, n=object())


def test_a_job_whose_worker_died_shows_failed_and_the_sweep_records_it(app, make, auth, client):
    owner = _owner(make, auth)
    long_ago = utcnow() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 5)
    job = make._add(
        Job(
            kind="test.count",
            owner_id=owner.id,
            state="running",
            params={},
            done=2,
            total=9,
            message="",
            started_at=long_ago,
            heartbeat_at=long_ago,
        )
    )
    make.commit()
    job_id = job.id
    poll = _get(client, f"/jobs/{job_id}", htmx=True)
    assert poll.status_code == 286  # never "running" forever
    assert "The job worker stopped while this job ran" in poll.get_data(as_text=True)
    assert _row(job_id)["state"] == "running"  # a GET writes nothing; the sweep does
    assert jobs.fail_stale() == 1
    row = _row(job_id)
    with force_locale("en"):
        assert row["state"] == "failed" and row["error"] == str(jobs.STALE)
    assert jobs.fail_stale() == 0


def test_a_job_is_claimed_once(app, make):
    """A second delivery of its message (or a job the sweep failed) is not run again."""
    owner = make.teacher()
    make.commit()
    job_id = _start("test.write", owner, user_id=owner.id, locale="es")
    jobs.run_job(app, job_id)
    assert _row(job_id)["state"] == "done"
    finished = _row(job_id)["finished_at"]
    jobs.run_job(app, job_id)
    assert _row(job_id)["finished_at"] == finished


def test_a_long_wait_for_a_worker_says_so(app, make, auth, client):
    owner = _owner(make, auth)
    job = make._add(
        Job(
            kind="test.count",
            owner_id=owner.id,
            state="queued",
            params={},
            done=0,
            message="",
            created_at=utcnow() - timedelta(minutes=5),
        )
    )
    make.commit()
    page = _get(client, f"/jobs/{job.id}").get_data(as_text=True)
    assert "No job worker has started this job yet" in page


# --- Configuration and the worker command ----------------------------------------------


def test_the_queue_is_a_sqlite_file_in_the_instance_folder_unless_jobs_url_says(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("JOBS_URL", raising=False)
    assert config.load(str(tmp_path))["JOBS_URL"] == f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    monkeypatch.setenv("JOBS_URL", "redis://10.0.0.5:6379/2")
    assert config.load(str(tmp_path))["JOBS_URL"] == "redis://10.0.0.5:6379/2"
    assert jobs.storage_for("redis://10.0.0.5:6379/2") == (
        RedisHuey,
        {"url": "redis://10.0.0.5:6379/2"},
    )
    assert jobs.storage_for("sqlite:////var/q.sqlite") == (
        SqliteHuey,
        {"filename": "/var/q.sqlite"},
    )
    with pytest.raises(ValueError, match="JOBS_URL"):
        jobs.storage_for("amqp://broker")


def test_building_an_app_opens_no_queue(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "JOBS_URL": f"sqlite:///{tmp_path / 'q.sqlite'}",
        }
    )
    assert app.url_map is not None and not (tmp_path / "q.sqlite").exists()


def test_the_worker_command_runs_queued_jobs(app, make, database_url, tmp_path):
    """`flask --app portal jobs worker` in its own process takes the job off the queue.

    The product has no job kind yet, so the worker records this test kind as unknown to it:
    the command claimed, ran and finished the job.
    """
    owner = make.teacher()
    make.commit()
    job_id = _start("test.count", owner, n=2)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JOBS_URL": app.config["JOBS_URL"],
        "SECRET_KEY": "test-secret-key",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "jobs", "worker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        row = _wait(job_id, _finished, timeout=60)
    finally:
        worker.send_signal(signal.SIGINT)  # graceful: finish, then stop
        output = worker.communicate(timeout=30)[0]
    with force_locale("en"):
        assert row["state"] == "failed" and row["error"] == str(jobs.UNKNOWN_KIND), output
    assert "Job worker: 1 thread(s) on SqliteHuey" in output
    assert worker.returncode == 0, output


def test_the_status_page_and_partial_render_without_sql(app, make, auth, client, worker):
    job_id = _start("test.count", _owner(make, auth), n=2)
    _wait(job_id, _finished)
    db.session.commit()
    with sql_while_rendering(app) as queries:
        assert client.get(f"/jobs/{job_id}").status_code == 200
        assert client.get(f"/jobs/{job_id}", headers=HTMX).status_code == 286
    assert not queries, [str(q) for q in queries]


def test_progress_never_waits_for_the_jobs_own_transaction(app, make, worker):
    """On SQLite a progress write beside the job's open transaction would wait out the
    busy timeout (10 s) each time; it is kept for later instead."""
    owner = make.teacher()
    make.commit()
    started = time.monotonic()
    job_id = _start("test.hold", owner, user_id=owner.id)
    row = _wait(job_id, _finished)
    assert time.monotonic() - started < 8
    assert (row["state"], row["done"], row["total"], row["message"]) == ("done", 3, 3, "Step 3")
