"""The slow hash check of a sign-in runs with no transaction open: on SQLite a class of 35
signing in at once queued behind each other's checks while each held the write lock, until
the busy timeout answered "database is locked" (a 500, found by bench/class_period.py)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from portal.auth import services
from portal.core.extensions import db
from tests.fixtures.factories import Factory


@pytest.fixture
def checks(app, monkeypatch):
    """Each hash check records whether a transaction was open and whether another
    connection could have taken SQLite's write lock at that moment."""
    seen: list[dict] = []
    real = services.verify_secret

    def watched(stored, secret):
        seen.append({"in_transaction": db.session().in_transaction(), "lock_free": _lock_free()})
        return real(stored, secret)

    def _lock_free() -> bool | None:
        url = make_url(str(db.engine.url))
        if url.get_backend_name() != "sqlite":
            return None
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    monkeypatch.setattr(services, "verify_secret", watched)
    return seen


def _assert_checked_outside_a_transaction(seen):
    assert len(seen) == 1, seen
    assert seen[0]["in_transaction"] is False
    assert seen[0]["lock_free"] in (True, None)  # None: PostgreSQL has no database lock


@pytest.mark.parametrize("password", [Factory.PASSWORD, "wrong-password"])
def test_a_password_is_checked_before_the_write_lock_is_taken(client, make, checks, password):
    user = make.learner()
    make.commit()
    response = client.post("/signin", data={"login": user.username, "password": password})
    assert response.status_code in (302, 303, 422)
    _assert_checked_outside_a_transaction(checks)


@pytest.mark.parametrize("pin", [Factory.PIN, "0000"])
def test_a_pin_is_checked_before_the_write_lock_is_taken(client, make, checks, pin):
    learner = make.learner(grade=2, pin=True)
    make.school_class(learners=[learner], class_code="LOCK42")
    make.commit()
    response = client.post(f"/signin/class/LOCK42/{learner.id}", data={"pin": pin})
    assert response.status_code in (302, 303, 422)
    _assert_checked_outside_a_transaction(checks)


def test_a_wrong_password_is_still_recorded_and_a_right_one_signs_in(client, make):
    user = make.learner()
    make.commit()
    client.post("/signin", data={"login": user.username, "password": "wrong-password"})
    assert services.recent_failures(user) == 1
    response = client.post("/signin", data={"login": user.username, "password": Factory.PASSWORD})
    assert response.status_code in (302, 303)
    assert client.get("/").status_code == 200
