"""Without JavaScript, a form sent after the session ended is kept for its sender and
offered back after signing in again; nothing of it outlives sign-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.auth.models import LoginSession, PendingWrite
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.progress.models import ProgressEntry
from tests.fixtures.factories import Factory
from tests.test_resilience import goal_world  # noqa: F401  (fixture)

pytestmark = pytest.mark.both_backends
WORDS = "I checked every answer twice and wrote down where I went wrong."


def sign_in(client, user):
    return client.post("/signin", data={"login": user.username, "password": Factory.PASSWORD})


def expire_sessions():
    db.session.execute(update(LoginSession).values(last_seen=utcnow() - timedelta(hours=5)))
    db.session.commit()


def entry_form(goal):
    return {
        "token": "tok-pending-000000001",
        "strategy": str(goal.current_version.strategies[0].id),
        "self_rating": "2",
        "reflection": WORDS,
    }


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(ProgressEntry))


def send_after_expiry(client, learner, goal):
    sign_in(client, learner)
    expire_sessions()
    return client.post(f"/goals/{goal.id}/progress", data=entry_form(goal))


def test_a_post_after_expiry_is_kept_and_offered_back_after_signing_in(
    backend, client, goal_world  # noqa: F811
):
    learner, goal = goal_world
    response = send_after_expiry(client, learner, goal)
    assert response.status_code == 303
    assert "kept=1" in response.headers["Location"]
    assert entries() == 0
    assert "sign in again and you can send it" in client.get(response.headers["Location"]).text

    again = sign_in(client, learner)
    assert again.headers["Location"].endswith("/signin/resume")
    page = client.get("/signin/resume").text
    assert WORDS in page
    assert f'action="/goals/{goal.id}/progress"' in page

    kept = db.session.scalar(select(PendingWrite))
    resend = {**entry_form(goal), "_pending_write": str(kept.id)}
    assert client.post(f"/goals/{goal.id}/progress", data=resend).status_code == 303
    assert entries() == 1
    assert db.session.scalar(select(ProgressEntry.reflection)) == WORDS
    assert db.session.scalar(select(func.count()).select_from(PendingWrite)) == 0


def test_an_invalid_resend_lands_on_the_form_with_the_words(
    backend, client, goal_world  # noqa: F811
):
    learner, goal = goal_world
    send_after_expiry(client, learner, goal)
    sign_in(client, learner)
    kept = db.session.scalar(select(PendingWrite))
    resend = {**entry_form(goal), "self_rating": "", "_pending_write": str(kept.id)}
    response = client.post(f"/goals/{goal.id}/progress", data=resend)
    assert response.status_code == 422
    assert WORDS in response.text
    assert db.session.scalar(select(func.count()).select_from(PendingWrite)) == 0


def test_nothing_kept_outlives_sign_out_or_goes_to_someone_else(
    backend, client, make, goal_world  # noqa: F811
):
    learner, goal = goal_world
    send_after_expiry(client, learner, goal)
    other = make.learner(given_name="Noor")
    make.commit()
    assert sign_in(client, other).headers["Location"].endswith("/")
    assert client.get("/signin/resume").status_code == 302  # nothing waits for Noor
    client.post("/signout")

    sign_in(client, learner)
    client.post("/signout")
    assert db.session.scalar(select(func.count()).select_from(PendingWrite)) == 0


def test_secrets_are_never_kept(backend, client, goal_world):  # noqa: F811
    learner, goal = goal_world
    sign_in(client, learner)
    expire_sessions()
    client.post(
        f"/goals/{goal.id}/progress",
        data={**entry_form(goal), "password": "hunter2", "csrf_token": "t"},
    )
    kept = db.session.scalar(select(PendingWrite))
    assert "hunter2" not in kept.fields and "csrf_token" not in kept.fields


def test_discard_throws_it_away(backend, client, goal_world):  # noqa: F811
    learner, goal = goal_world
    send_after_expiry(client, learner, goal)
    sign_in(client, learner)
    assert client.post("/signin/resume/discard").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(PendingWrite)) == 0
    assert entries() == 0


def test_old_kept_writes_are_not_offered(backend, client, goal_world):  # noqa: F811
    learner, goal = goal_world
    send_after_expiry(client, learner, goal)
    db.session.execute(update(PendingWrite).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    assert not sign_in(client, learner).headers["Location"].endswith("/signin/resume")
