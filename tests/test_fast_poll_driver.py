"""The idle tracker poll runs its one SELECT on the driver itself, on both backends, and the
driver cursor it borrows never hands the pool back a connection left reading in autocommit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from devtools.driver_sql import driver_statements
from portal.core import read_session
from portal.core.extensions import db
from portal.progress import live
from tests.fixtures import progress as build

POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}


@pytest.fixture
def poll(client, auth, make):
    learner = make.learner()
    make.school_class(teacher=make.teacher(), learners=[learner])
    build.scale(make)
    goal = build.goal(make, learner)
    build.entry(make, goal, 2, days_ago=1)
    make.commit()
    auth.login(learner)
    tracker = client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"}).text
    url = re.search(r'hx-get="([^"]+)"', tracker).group(1).replace("&amp;", "&")
    assert client.get(url, headers=POLL).status_code == 204
    db.session.remove()
    return url


def _autocommit(connection) -> bool:
    driver = connection.driver_connection
    return bool(driver.autocommit) if hasattr(driver, "autocommit") else False


def test_the_idle_poll_skips_sqlalchemys_execution(client, poll):
    """SQLAlchemy's execution cost more than the query on PostgreSQL too (it ran there)."""
    executed = []

    def on_execute(*args):
        executed.append(args[2])

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        with driver_statements(db.engine) as statements:
            assert client.get(poll, headers=POLL).status_code == 204
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert executed == []
    assert len(statements) == 1 and statements[0].startswith("SELECT login_sessions.user_id")


def test_after_a_poll_the_pool_lends_a_transactional_connection(app, client, poll):
    for _ in range(3):
        assert client.get(poll, headers=POLL).status_code == 204
    raw = db.engine.raw_connection()
    try:
        assert not _autocommit(raw)
    finally:
        raw.close()


def test_a_failure_in_the_block_drops_the_connection(app):
    with app.app_context():
        engine = db.engine
        with pytest.raises(ZeroDivisionError), read_session.driver_cursor(engine) as cursor:
            cursor.execute("SELECT 1")
            borrowed = cursor.connection
            1 / 0  # noqa: B018 (anything at all going wrong inside the block)
        raw = engine.raw_connection()
        try:
            assert raw.driver_connection is not borrowed  # that one was not pooled again
            assert not _autocommit(raw)
        finally:
            raw.close()


def test_a_driver_error_falls_through_to_the_normal_path(app, client, poll, monkeypatch):
    """No 500 from the fast path: the normal path answers (and handles a disconnect)."""
    monkeypatch.setitem(live._DRIVER_SQL, db.engine.dialect.name, "SELECT * FROM no_such_table")
    assert client.get(poll, headers=POLL).status_code == 204
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
