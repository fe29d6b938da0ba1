"""A database server that drops the app's connections (a restart, an admin ending backends)
fails no read request, and never makes a write run twice (optimistic disconnect handling:
`portal.core.config.engine_options`, `portal.core.database`)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from portal.core.config import engine_options
from portal.core.extensions import db
from portal.progress.models import ProgressEntry
from tests.fixtures import progress as build
from tests.test_progress import entry_data

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}


def end_every_app_connection(app) -> int:
    """pg_terminate_backend on every other connection to the app's database."""
    admin = create_engine(
        app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    return ended


@pytest.fixture
def signed_in(app, client, auth, make):
    learner = make.learner(given_name="Maya")
    make.school_class(teacher=make.teacher(), learners=[learner])
    build.scale(make)
    goal = build.goal(make, learner)
    make.commit()
    auth.login(learner)
    assert client.get("/").status_code == 200  # the pool now holds a live connection
    db.session.close()
    return learner, goal


def test_no_ping_per_checkout_on_a_server(backend):
    assert not engine_options("postgresql+psycopg://u@/db").get("pool_pre_ping")
    assert engine_options("postgresql+psycopg://u@/db")["pool_recycle"] > 0


def test_a_page_answers_after_the_server_ended_the_connections(app, client, signed_in):
    assert end_every_app_connection(app) >= 1
    response = client.get("/")
    assert response.status_code == 200
    assert "Maya" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_the_idle_tracker_poll_answers_after_the_server_ended_the_connections(
    app, client, signed_in
):
    _, goal = signed_in
    tracker = client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"})
    poll = re.search(r'hx-get="([^"]+)"', tracker.get_data(as_text=True)).group(1)
    db.session.close()
    assert end_every_app_connection(app) >= 1
    assert client.get(poll.replace("&amp;", "&"), headers=POLL).status_code == 204


def test_a_write_is_not_run_again_after_a_lost_connection(app, client, signed_in):
    _, goal = signed_in
    # The fixture closed its session: read the goal's strategies in a fresh one (the
    # learner home no longer loads them, so they are not left in the identity map).
    data = entry_data(db.session.get(type(goal), goal.id))
    db.session.close()
    assert end_every_app_connection(app) >= 1
    url = f"/goals/{goal.id}/progress"
    failed = client.post(url, data=data, content_type="multipart/form-data")
    assert failed.status_code == 503
    assert "Please try again" in failed.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ProgressEntry.id))) == 0
    db.session.close()
    again = client.post(url, data=data, content_type="multipart/form-data")
    assert again.status_code == 303
    assert db.session.scalar(select(func.count(ProgressEntry.id))) == 1
