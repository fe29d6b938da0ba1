"""Signing in and out: passwords, class code + PIN, throttling, sessions, `next`, CSRF."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal import create_app
from portal.auth import services
from portal.auth.models import LoginSession, User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from tests.fixtures.factories import Factory

FREE_ATTEMPTS = 3
MAX_LOCK = 100
WRONG = "That username or password is not right"
LOCKED = "Too many tries. Wait"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_FREE_ATTEMPTS": FREE_ATTEMPTS, "LOGIN_MAX_LOCK_SECONDS": MAX_LOCK}


def sign_in(client, login, password=Factory.PASSWORD, **extra):
    return client.post("/signin", data={"login": login, "password": password, **extra})


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def session_count() -> int:
    return db.session.scalar(select(func.count(LoginSession.id)))


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session", domain="localhost")
    return cookie.value if cookie else None


def fresh_client_with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value, domain="localhost")
    return other


# --- Password sign-in ---------------------------------------------------------------


def test_sign_in_with_username(client, make):
    teacher = make.teacher(given_name="Elena", family_name="Rivera")
    make.commit()
    response = sign_in(client, teacher.username)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Elena Rivera" in client.get("/").get_data(as_text=True)


def test_sign_in_with_email_in_any_case(client, make):
    make.teacher(email="ms.rivera@example.org")
    make.commit()
    assert sign_in(client, "  Ms.Rivera@Example.ORG ").status_code == 303
    assert is_signed_in(client)


@pytest.mark.parametrize("login", ["known", "nobody-by-this-name"])
def test_wrong_password_gets_one_message_for_known_and_unknown_accounts(client, make, login):
    teacher = make.teacher()
    make.commit()
    name = teacher.username if login == "known" else login
    response = sign_in(client, name, "not the password")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert WRONG in page
    assert 'aria-describedby="password-error"' in page
    assert "not the password" not in page  # a password is never echoed back
    assert not is_signed_in(client)


def test_deactivated_account_cannot_sign_in(client, make):
    teacher = make.teacher(active=False)
    make.commit()
    response = sign_in(client, teacher.username)
    assert response.status_code == 422
    assert WRONG in response.get_data(as_text=True)


def test_htmx_wrong_password_gets_the_form_fragment(client, make):
    teacher = make.teacher()
    make.commit()
    response = client.post(
        "/signin",
        data={"login": teacher.username, "password": "nope"},
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body
    assert body.lstrip().startswith('<form id="signin-form"')
    assert WRONG in body


def test_htmx_sign_in_answers_with_hx_redirect(client, make):
    teacher = make.teacher()
    make.commit()
    response = client.post(
        "/signin",
        data={"login": teacher.username, "password": Factory.PASSWORD},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_signed_in_user_visiting_sign_in_goes_home(client, auth, make):
    auth.login(make.teacher())
    response = client.get("/signin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- Class code, pick your name, PIN ------------------------------------------------


@pytest.fixture
def young_class(make):
    teacher = make.teacher()
    leo = make.learner(grade=3, pin=True, given_name="Leo", family_name="Park")
    nopin = make.learner(grade=3, given_name="Nadia", family_name="Quinn")
    school_class = make.school_class(teacher=teacher, learners=[leo, nopin], class_code="RVR47K")
    outsider = make.learner(grade=3, pin=True, given_name="Omar", family_name="Stone")
    make.school_class(learners=[outsider])
    make.commit()
    return school_class, leo, nopin, outsider


def test_class_code_name_pick_and_pin(client, young_class):
    school_class, leo, _, _ = young_class
    assert client.get("/signin/class").status_code == 200

    response = client.post("/signin/class", data={"code": " rvr47k "})
    assert response.status_code == 303
    pick_url = response.headers["Location"]
    assert pick_url == "/signin/class/RVR47K"

    pick = client.get(pick_url).get_data(as_text=True)
    assert "Leo P." in pick
    assert "Park" not in pick  # first name and last initial only
    assert "Nadia" not in pick  # no PIN: cannot sign in this way
    pin_url = f"/signin/class/RVR47K/{leo.id}"
    assert f'href="{pin_url}"' in pick

    assert "Hi, Leo!" in client.get(pin_url).get_data(as_text=True)
    response = client.post(pin_url, data={"pin": Factory.PIN})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Hi, Leo" in client.get("/").get_data(as_text=True)


def test_wrong_pin_is_refused_with_a_message(client, young_class):
    _, leo, _, _ = young_class
    response = client.post(f"/signin/class/RVR47K/{leo.id}", data={"pin": "9999"})
    assert response.status_code == 422
    assert "That PIN is not right" in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_unknown_class_code_gets_a_message(client, young_class):
    response = client.post("/signin/class", data={"code": "NOPE99"})
    assert response.status_code == 422
    assert "We could not find a class with that code" in response.get_data(as_text=True)
    assert client.get("/signin/class/NOPE99").status_code == 404


def test_htmx_class_code_answers_fragment_or_hx_redirect(client, young_class):
    bad = client.post("/signin/class", data={"code": "NOPE99"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert "<html" not in bad.get_data(as_text=True)
    good = client.post("/signin/class", data={"code": "RVR47K"}, headers={"HX-Request": "true"})
    assert good.headers["HX-Redirect"] == "/signin/class/RVR47K"


def test_pin_of_a_learner_of_another_class_is_not_reachable(client, young_class):
    _, _, nopin, outsider = young_class
    assert client.get(f"/signin/class/RVR47K/{outsider.id}").status_code == 404
    response = client.post(f"/signin/class/RVR47K/{outsider.id}", data={"pin": Factory.PIN})
    assert response.status_code == 404
    assert not is_signed_in(client)
    # A learner without a PIN has nothing to match, whatever is typed.
    assert client.post(f"/signin/class/RVR47K/{nopin.id}", data={"pin": "0000"}).status_code == 422


# --- Throttling: per account, 15 s doubling to a cap (more in test_auth_throttle.py) --


def lock_seconds(user: User) -> int:
    """How long a stranger (a browser that never signed in to this account) must wait."""
    return services.seconds_locked(user)


def test_account_locks_after_free_attempts_and_doubles_to_the_cap(app, make, clock):
    teacher = make.teacher()
    make.commit()
    for _ in range(FREE_ATTEMPTS - 1):
        page = sign_in(app.test_client(), teacher.username, "wrong").get_data(as_text=True)
        assert WRONG in page
        assert lock_seconds(teacher) == 0

    locks = []
    for _ in range(4):
        sign_in(app.test_client(), teacher.username, "wrong")
        locks.append(lock_seconds(teacher))
        clock.advance(locks[-1] + 1)
    assert locks == [15, 30, 60, MAX_LOCK]


def test_locked_account_refuses_even_the_right_password(client, make, clock):
    teacher = make.teacher()
    make.commit()
    for _ in range(FREE_ATTEMPTS):
        sign_in(client, teacher.username, "wrong")

    response = sign_in(client, teacher.username)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert LOCKED in page
    assert "Wait 15 seconds, or sign in on a device you have used before" in page
    assert not is_signed_in(client)

    # Tries while locked neither count nor extend the lock.
    failures = services.recent_failures(teacher)
    sign_in(client, teacher.username, "wrong")
    assert lock_seconds(teacher) == 15
    assert services.recent_failures(teacher) == failures


def test_lock_is_per_account_not_per_address(app, client, make, clock):
    teacher, classmate = make.teacher(), make.teacher()
    make.commit()
    for _ in range(FREE_ATTEMPTS):
        sign_in(client, teacher.username, "wrong")
    assert LOCKED in sign_in(client, teacher.username).get_data(as_text=True)

    # Same address (the whole school is behind one IP), different account: unaffected.
    neighbour = app.test_client()
    assert sign_in(neighbour, classmate.username).status_code == 303
    assert is_signed_in(neighbour)


def test_lock_expires_and_success_forgets_own_misses(client, make, clock):
    teacher = make.teacher()
    make.commit()
    for _ in range(FREE_ATTEMPTS):
        sign_in(client, teacher.username, "wrong")
    clock.advance(14)
    assert LOCKED in sign_in(client, teacher.username).get_data(as_text=True)
    clock.advance(2)
    assert sign_in(client, teacher.username).status_code == 303
    assert services.recent_failures(teacher) == 0  # they were this browser's own typos
    assert lock_seconds(teacher) == 0


def test_pin_guessing_locks_the_learner_account(app, young_class, clock):
    _, leo, _, _ = young_class
    url = f"/signin/class/RVR47K/{leo.id}"
    for _ in range(FREE_ATTEMPTS):
        app.test_client().post(url, data={"pin": "0000"})
    stranger = app.test_client()
    response = stranger.post(url, data={"pin": Factory.PIN})
    assert response.status_code == 422
    assert LOCKED in response.get_data(as_text=True)
    assert not is_signed_in(stranger)


# --- Sessions: rotation, sign-out, idle timeout, polls ------------------------------


def test_session_is_rotated_at_sign_in(app, client, make):
    teacher = make.teacher()
    make.commit()
    client.post("/language", data={"locale": "es"})  # the browser now has a session
    before = session_cookie(client)
    assert before

    sign_in(client, teacher.username)
    after = session_cookie(client)
    assert after and after != before
    assert is_signed_in(client)
    # Whoever held the pre-sign-in cookie (a planted one, say) is not signed in.
    assert not is_signed_in(fresh_client_with_cookie(app, before))


def test_each_sign_in_gets_its_own_server_side_session(app, make):
    teacher = make.teacher()
    make.commit()
    first, second = app.test_client(), app.test_client()
    sign_in(first, teacher.username)
    sign_in(second, teacher.username)
    tokens = db.session.scalars(select(LoginSession.token_hash)).all()
    assert len(tokens) == len(set(tokens)) == 2
    # The cookie carries the token, the database only its hash.
    assert not any(token in session_cookie(first) for token in tokens)


def test_language_chosen_before_sign_in_survives_it(client, make):
    teacher = make.teacher()
    make.commit()
    client.post("/language", data={"locale": "es"})
    sign_in(client, teacher.username)
    assert '<html lang="es">' in client.get("/").get_data(as_text=True)


def test_sign_out_ends_the_session_everywhere_it_matters(app, client, make):
    teacher = make.teacher()
    make.commit()
    sign_in(client, teacher.username)
    cookie = session_cookie(client)
    assert session_count() == 1

    response = client.post("/signout")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/signin")
    assert '"cache"' in response.headers["Clear-Site-Data"]
    assert '"storage"' in response.headers["Clear-Site-Data"]
    # The session cookie is expired by name; the device cookie (opaque, for sign-in
    # pages only) stays so this learner is not a stranger here next time.
    assert '"cookies"' not in response.headers["Clear-Site-Data"]
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in set_cookie
    assert client.get_cookie(services.DEVICE_COOKIE, domain="localhost", path="/signin")
    assert session_count() == 0
    assert not is_signed_in(client)
    # The old cookie, replayed, signs nobody in.
    assert not is_signed_in(fresh_client_with_cookie(app, cookie))


def test_sign_out_of_another_browser_leaves_this_one_signed_in(app, make):
    teacher = make.teacher()
    make.commit()
    laptop, chromebook = app.test_client(), app.test_client()
    sign_in(laptop, teacher.username)
    sign_in(chromebook, teacher.username)
    chromebook.post("/signout")
    assert is_signed_in(laptop)
    assert session_count() == 1


def age_sessions(minutes: float) -> None:
    db.session.execute(update(LoginSession).values(last_seen=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


@pytest.mark.parametrize(
    ("role", "minutes", "still_in"),
    [
        ("learner", 29, True),
        ("learner", 31, False),
        ("teacher", 59, True),
        ("teacher", 61, False),
        ("school_admin", 61, False),
        ("guardian", 59, True),
    ],
)
def test_idle_timeout(client, make, role, minutes, still_in):
    user = getattr(make, role)()
    make.commit()
    sign_in(client, user.username)
    age_sessions(minutes)
    response = client.get("/")
    if still_in:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/signin")
        assert session_count() == 0  # the expired row is gone, not just ignored


def last_seen() -> timedelta:
    return utcnow() - db.session.scalar(select(LoginSession.last_seen))


def test_polls_do_not_keep_a_session_alive(client, make):
    learner = make.learner()
    make.commit()
    sign_in(client, learner.username)
    age_sessions(10)
    assert client.get("/", headers={"X-Waypoint-Poll": "1"}).status_code == 200
    db.session.expire_all()
    assert last_seen() > timedelta(minutes=9)

    assert client.get("/").status_code == 200
    db.session.expire_all()
    assert last_seen() < timedelta(minutes=1)

    age_sessions(31)
    assert client.get("/", headers={"X-Waypoint-Poll": "1"}).status_code == 302


def test_expired_session_on_htmx_request_gets_hx_redirect_and_401(client, make):
    learner = make.learner()
    make.commit()
    sign_in(client, learner.username)
    age_sessions(31)
    response = client.get(
        "/",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost/learners/{learner.id}"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/signin?next=/learners/{learner.id}"
    assert "<form" not in response.get_data(as_text=True)


def test_hx_current_url_of_another_site_is_not_used_for_next(client):
    response = client.get(
        "/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"}
    )
    assert response.status_code == 401
    assert "evil" not in response.headers["HX-Redirect"]


# --- `next` after sign-in -----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "http://localhost@evil.example/",
        "javascript:alert(1)",
        "https:evil.example",
    ],
)
def test_next_to_another_site_is_ignored(client, make, target):
    teacher = make.teacher()
    make.commit()
    response = sign_in(client, teacher.username, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/classes/7?tab=learners", "/classes/7?tab=learners"),
        ("http://localhost/classes/7", "/classes/7"),
    ],
)
def test_next_on_this_site_is_followed(client, make, target, expected):
    teacher = make.teacher()
    make.commit()
    response = sign_in(client, teacher.username, next=target)
    assert response.headers["Location"] == expected


def test_sign_in_page_carries_next_into_the_form(client):
    page = client.get("/signin?next=/classes/7").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/classes/7"' in page


# --- CSRF ---------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app_config):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def csrf_token_from(page: str) -> str:
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match, "no X-CSRFToken in <body hx-headers>"
    return match.group(1)


def test_csrf_token_never_expires_mid_conference(csrf_app):
    assert csrf_app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_form_post_without_token_is_refused(csrf_app):
    teacher = Factory(db.session).teacher()
    db.session.commit()
    client = csrf_app.test_client()
    client.get("/signin")
    response = sign_in(client, teacher.username)
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_htmx_header_token_is_accepted_and_works_after_hours(csrf_app, monkeypatch):
    teacher = Factory(db.session).teacher()
    db.session.commit()
    client = csrf_app.test_client()

    def frozen_at(moment):
        class Clock:
            @staticmethod
            def time():
                return moment

        monkeypatch.setattr("itsdangerous.timed.time", Clock)

    frozen_at(time.time())  # a token is signed with the second: two pages must share one
    token = csrf_token_from(client.get("/signin").get_data(as_text=True))
    assert f'name="csrf_token" type="hidden" value="{token}"' in client.get("/signin").get_data(
        as_text=True
    )

    frozen_at(time.time() + 10 * 3600)
    response = client.post(
        "/signin",
        data={"login": teacher.username, "password": Factory.PASSWORD},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 204, response.get_data(as_text=True)[:300]
    assert is_signed_in(client)

    # Sign-in rotated the session; the new page carries a new token that works.
    new_token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/signout", headers={"X-CSRFToken": new_token}).status_code == 303


def test_token_of_another_session_is_refused(csrf_app):
    teacher = Factory(db.session).teacher()
    db.session.commit()
    mine, theirs = csrf_app.test_client(), csrf_app.test_client()
    token = csrf_token_from(theirs.get("/signin").get_data(as_text=True))
    mine.get("/signin")
    response = mine.post(
        "/signin",
        data={"login": teacher.username, "password": Factory.PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
