"""The server side of "no silent failure": error messages for htmx, one upload limit,
the idle-timeout clock, keep-alive, and a stale form token after signing out elsewhere.
The page's behaviour is in tests/browser/test_resilience_in_chromium.py."""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal import create_app
from portal.auth.models import LoginSession
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from tests.fixtures.factories import Factory
from tests.test_progress import PNG, entry_data

pytestmark = pytest.mark.both_backends
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}


def sign_in(client, user):
    response = client.post("/signin", data={"login": user.username, "password": Factory.PASSWORD})
    assert response.status_code in (302, 303)


def learner_with_goal(make, **learner):
    from tests.test_progress import build

    make.default_school()
    learner = make.learner(**learner)
    make.school_class(teacher=make.teacher(), learners=[learner])
    build.scale(make)
    goal = build.goal(make, learner)
    make.commit()
    return learner, goal


@pytest.fixture
def goal_world(make):
    return learner_with_goal(make, given_name="Maya")


@contextmanager
def app_with(app_config, **overrides):
    """An app of this test's database with some settings changed."""
    app = create_app({**app_config, **overrides})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


# --- Error messages for htmx: a short fragment, in the person's language ------------------


def test_htmx_404_is_a_message_fragment_in_the_learners_language(backend, client, make):
    learner = make.learner(locale="es")
    make.commit()
    sign_in(client, learner)
    response = client.get("/goals/999999/progress", headers=HTMX)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<html" not in body and "data-error-message" in body
    assert "No encontramos esa página." in body


def test_htmx_403_is_a_message_fragment(backend, client, make):
    learner = make.learner(locale="es")
    make.commit()
    sign_in(client, learner)
    response = client.get("/admin/people", headers=HTMX)
    assert response.status_code == 403
    assert "No tiene permiso para hacer eso." in response.get_data(as_text=True)


def test_a_500_says_nothing_was_saved_both_ways(backend, app, client, make):
    def broken():
        raise RuntimeError("boom")

    broken.access = "public"
    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    fragment = client.get("/broken-for-test", headers=HTMX)
    assert fragment.status_code == 500
    assert "Nothing was saved" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    page = client.get("/broken-for-test")
    assert page.status_code == 500 and "<html" in page.get_data(as_text=True)


def test_page_carries_every_client_message_translated(backend, client, make):
    learner = make.learner(locale="es")
    make.commit()
    sign_in(client, learner)
    page = client.get("/").get_data(as_text=True)
    box = re.search(r'<div id="client-messages"[^>]*>', page).group(0)
    for name in ("network", "timeout", "status-403", "status-404", "status-413", "status-5xx",
                 "signed-out", "sign-in", "restored"):
        assert f'data-{name}="' in box, name
    assert 'data-status-404="No encontramos esa página."' in box


# --- One upload limit ------------------------------------------------------------------


def post_file(client, goal, size, headers=None, referrer=None):
    extra = {"Referer": referrer} if referrer else {}
    return client.post(
        f"/goals/{goal.id}/progress",
        data={**entry_data(goal), "evidence": (io.BytesIO(PNG + b"\x00" * size), "big.png")},
        content_type="multipart/form-data",
        headers={**(headers or {}), **extra},
    )


@pytest.fixture
def small_limit_app(app_config):
    with app_with(app_config, MAX_UPLOAD_MB=1) as app:
        yield app


def test_one_setting_drives_the_request_limit_and_the_form(backend, small_limit_app):
    assert small_limit_app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    learner, goal = learner_with_goal(Factory(db.session))
    client = small_limit_app.test_client()
    sign_in(client, learner)
    page = client.get(f"/goals/{goal.id}/progress").get_data(as_text=True)
    assert "up to 1 MB" in page
    assert 'data-max-upload-bytes="1048576"' in page
    message = "That file is too large: the limit is 1 MB."
    # Just over the limit: the form's own check answers (422, the form comes back).
    just_over = post_file(client, goal, 1024 * 1024 + 10, headers=HTMX)
    assert just_over.status_code == 422 and message in just_over.get_data(as_text=True)
    # Far over: the server refuses the request (413) with the very same words,
    # as a fragment for htmx ...
    far = post_file(client, goal, 3 * 1024 * 1024, headers=HTMX)
    assert far.status_code == 413
    assert message in far.get_data(as_text=True) and "<html" not in far.get_data(as_text=True)
    # ... and as a whole page with a way back to the form without JavaScript.
    page = post_file(client, goal, 3 * 1024 * 1024, referrer=f"http://localhost/goals/{goal.id}/progress")
    body = page.get_data(as_text=True)
    assert page.status_code == 413 and message in body and "<html" in body
    assert f'href="/goals/{goal.id}/progress"' in body


def test_default_upload_limit_is_ten_mb_everywhere(backend, app):
    from portal.progress import uploads

    assert app.config["MAX_UPLOAD_MB"] == 10
    assert uploads.max_bytes() == 10 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 11 * 1024 * 1024


# --- The idle clock and keep-alive -----------------------------------------------------


def age(seconds: float) -> None:
    db.session.execute(update(LoginSession).values(last_seen=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


def seen_ago() -> float:
    return (utcnow() - db.session.scalar(select(LoginSession.last_seen))).total_seconds()


def test_every_signed_in_response_says_the_time_left(backend, client, make):
    learner = make.learner()
    make.commit()
    sign_in(client, learner)
    response = client.get("/")
    assert 29 * 60 < int(response.headers["X-Waypoint-Idle-Seconds"]) <= 30 * 60
    assert re.search(r'data-idle-seconds="(\d+)"', response.get_data(as_text=True))


def signed_in_for_a_minute(app, client, make):
    """A learner signed in on this client, whose session ends after a minute idle."""
    app.config["IDLE_TIMEOUT_LEARNER"] = timedelta(minutes=1)
    learner = make.learner()
    make.commit()
    sign_in(client, learner)
    return learner


def test_keep_alive_counts_as_activity(backend, app, client, make):
    signed_in_for_a_minute(app, client, make)
    age(50)
    response = client.post("/session/keep-alive", headers=HTMX)
    assert response.status_code == 204
    assert 55 <= int(response.headers["X-Waypoint-Idle-Seconds"]) <= 60
    assert seen_ago() < 5


def test_a_background_session_check_does_not_count_as_activity(backend, app, client, make):
    signed_in_for_a_minute(app, client, make)
    age(40)
    response = client.get("/session/keep-alive", headers={**HTMX, "X-Waypoint-Poll": "1"})
    assert response.status_code == 204
    assert 15 <= int(response.headers["X-Waypoint-Idle-Seconds"]) <= 20
    assert seen_ago() >= 40


def test_keep_alive_after_expiry_is_a_sign_in_redirect(backend, app, client, make):
    signed_in_for_a_minute(app, client, make)
    age(70)
    response = client.post("/session/keep-alive", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/signin?next=")


def test_a_short_timeout_is_extended_by_activity(backend, app, client, make):
    """With a one-minute timeout, touching only every 60 s could never extend it."""
    signed_in_for_a_minute(app, client, make)
    age(30)
    assert client.get("/").status_code == 200
    assert seen_ago() < 5


# --- A stale form token after signing out in another tab ------------------------------


@pytest.fixture
def csrf_app(app_config):
    with app_with(app_config, WTF_CSRF_ENABLED=True) as app:
        yield app


def test_post_after_signing_out_elsewhere_offers_to_sign_in_again(backend, csrf_app):
    learner, goal = learner_with_goal(Factory(db.session))
    client = csrf_app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/signin",
        data={"login": learner.username, "password": Factory.PASSWORD, "csrf_token": token},
    )
    goal_page = client.get(f"/goals/{goal.id}/progress").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', goal_page).group(1)
    client.delete_cookie("session", domain="localhost")  # Clear-Site-Data from the other tab
    here = f"http://localhost/goals/{goal.id}/progress"
    response = client.post(
        f"/goals/{goal.id}/progress",
        data=entry_data(goal),
        headers={"HX-Request": "true", "HX-Current-URL": here, "X-CSRFToken": header_token},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/signin?next=/goals/{goal.id}/progress"
    # The sign-in form itself keeps the plain "stale token" message.
    response = client.post("/signin", data={"login": "x", "password": "y"}, headers=HTMX)
    assert response.status_code == 400
    assert "stale" in response.get_data(as_text=True)


def test_sign_out_clears_storage_too(backend, client, make):
    learner = make.learner()
    make.commit()
    sign_in(client, learner)
    assert '"storage"' in client.post("/signout").headers["Clear-Site-Data"]
