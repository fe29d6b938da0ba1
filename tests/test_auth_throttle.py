"""Sign-in throttling a classmate cannot abuse: sliding windows, device cookies, an hourly
lock budget, per-browser and per-class limits, and unknown logins answered like known ones."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.auth import services
from portal.auth.models import TrustedDevice, User
from portal.auth.passwords import hash_secret, verify_secret
from portal.core.extensions import db
from tests.conftest import Clock
from tests.fixtures.factories import Factory

pytestmark = pytest.mark.both_backends

WRONG = "That username or password is not right"
WRONG_PIN = "That PIN is not right"
LOCKED = "Too many tries. Wait"
CLASS_LOCKED = "Too many wrong PINs in this class just now"
MINUTE = 60


@pytest.fixture
def app_config(app_config, backend):
    # The shipped defaults, spelled out so the numbers below read against them.
    return {
        **app_config,
        "LOGIN_FREE_ATTEMPTS": 5,
        "LOGIN_WINDOW": timedelta(minutes=15),
        "LOGIN_MAX_LOCK_SECONDS": 300,
        "LOGIN_LOCK_BUDGET_SECONDS": 300,
        "LOGIN_SLOW_SECONDS": 30,
        "LOGIN_DEVICE_FREE_ATTEMPTS": 5,
        "LOGIN_DEVICES_PER_BROWSER": 30,
        "LOGIN_CLIENT_FREE_ATTEMPTS": 10,
        "LOGIN_CLASS_PIN_ATTEMPTS": 30,
        "LOGIN_CLASS_WINDOW": timedelta(minutes=10),
    }


def sign_in(client, login, password=Factory.PASSWORD):
    return client.post("/signin", data={"login": login, "password": password})


def message(response) -> str:
    """The error shown under the field, with the numbers kept (they must match too)."""
    found = re.search(r'id="(?:password|pin)-error"[^>]*>\s*(.*?)\s*<', response.get_data(True))
    return found.group(1) if found else f"(no error, {response.status_code})"


def stranger(app):
    """A browser that never signed in to anyone: no device cookie, a fresh session."""
    return app.test_client()


def lock_out(app, user: User, tries: int = 5) -> None:
    for _ in range(tries):
        assert sign_in(stranger(app), user.username, "wrong").status_code == 422
    assert services.seconds_locked(user) > 0


def signed_in_device(app, user: User):
    """A browser where `user` signed in before (and signed out): it holds a device cookie."""
    device = app.test_client()
    assert sign_in(device, user.username).status_code == 303
    device.post("/signout")
    return device


# --- Sliding window -------------------------------------------------------------------------


def test_failures_slide_out_of_the_window(app, make, clock):
    teacher = make.teacher()
    make.commit()
    for _ in range(4):
        sign_in(stranger(app), teacher.username, "wrong")
    clock.advance(15 * MINUTE + 1)
    # Under the old never-decaying counter this would be the 5th to 8th miss: locked.
    for _ in range(4):
        assert WRONG in message(sign_in(stranger(app), teacher.username, "wrong"))
    assert services.seconds_locked(teacher) == 0
    sign_in(stranger(app), teacher.username, "wrong")  # the 5th within 15 minutes
    assert services.seconds_locked(teacher) == 15


def test_one_wrong_try_every_five_minutes_keeps_no_one_locked(app, make, clock):
    teacher = make.teacher()
    make.commit()
    # A burst first, each lock waited out, until locks are as long as they get...
    for _ in range(10):
        sign_in(stranger(app), teacher.username, "wrong")
        clock.advance(services.seconds_locked(teacher) + 1)
    refused = []
    for round_ in range(24):  # ...then one wrong try every five minutes, for two hours.
        sign_in(stranger(app), teacher.username, "wrong")
        clock.advance(2 * MINUTE)
        # The owner, on a device never used before, two minutes after each wrong try.
        response = sign_in(stranger(app), teacher.username)
        if response.status_code != 303:
            refused.append((round_, message(response)))
        clock.advance(3 * MINUTE)
    assert refused == []


# --- Device cookies -------------------------------------------------------------------------


def test_device_cookie_holder_signs_in_while_strangers_are_locked(app, make, clock):
    teacher = make.teacher()
    make.commit()
    device = signed_in_device(app, teacher)
    cookie = device.get_cookie(services.DEVICE_COOKIE, domain="localhost", path="/signin")
    assert cookie.http_only and cookie.path == "/signin" and cookie.max_age == 30 * 86400
    assert re.fullmatch(r"[\w-]{43}", cookie.value)  # one random token: it names no one

    lock_out(app, teacher)
    response = sign_in(stranger(app), teacher.username)
    assert response.status_code == 422
    assert message(response) == (
        "Too many tries. Wait 15 seconds, or sign in on a device you have used before."
    )
    assert sign_in(device, teacher.username).status_code == 303


def test_a_device_cookie_has_its_own_small_limit(app, make, clock):
    """A classmate on the owner's Chromebook gets 5 tries, then is a stranger again."""
    teacher = make.teacher()
    make.commit()
    device = signed_in_device(app, teacher)
    lock_out(app, teacher)
    for _ in range(5):
        assert WRONG in message(sign_in(device, teacher.username, "wrong"))
    assert LOCKED in message(sign_in(device, teacher.username))
    # Those device misses did not lock the owner's other devices, nor extend the lock.
    clock.advance(16)
    assert sign_in(stranger(app), teacher.username).status_code == 303


def test_device_cookies_expire_and_can_be_revoked(app, make, clock):
    teacher, other = make.teacher(), make.teacher()
    make.commit()
    device = signed_in_device(app, teacher)
    lock_out(app, teacher)
    services.forget_devices(teacher)
    db.session.commit()
    assert LOCKED in message(sign_in(device, teacher.username))

    old = signed_in_device(app, other)
    clock.advance(31 * 86400)
    lock_out(app, other)
    assert LOCKED in message(sign_in(old, other.username))  # 30 days is the lifetime


def test_a_shared_chromebook_keeps_one_cookie_per_account_up_to_a_cap(app, make, clock):
    app.config["LOGIN_DEVICES_PER_BROWSER"] = 3
    learners = [make.learner() for _ in range(4)]
    make.commit()
    chromebook = app.test_client()
    for learner in learners:
        assert sign_in(chromebook, learner.username).status_code == 303
        chromebook.post("/signout")
    tokens = chromebook.get_cookie(services.DEVICE_COOKIE, path="/signin").value.split(".")
    assert len(tokens) == 3
    assert db.session.scalar(select(func.count(TrustedDevice.id))) == 3  # dropped one deleted

    for learner in learners:
        lock_out(app, learner)
    for learner in learners[1:]:  # the three most recent still get through
        assert sign_in(chromebook, learner.username).status_code == 303
        chromebook.post("/signout")
    assert LOCKED in message(sign_in(chromebook, learners[0].username))


# --- The hourly lock budget -----------------------------------------------------------------


def _attack_for_an_hour(app, user: User, clock: Clock) -> list[int]:
    """Someone trying a wrong password whenever let (and at least every 20 s) for an hour,
    from a new browser each time."""
    locks, start = [], clock.now
    while clock.now - start < timedelta(hours=1):
        sign_in(stranger(app), user.username, "wrong")
        locks.append(services.seconds_locked(user))
        clock.advance(max(locks[-1], 20))
    return [lock for lock in locks if lock]


def test_one_person_cannot_keep_an_account_locked_beyond_the_budget(app, make, clock):
    teacher = make.teacher()
    make.commit()
    locks = _attack_for_an_hour(app, teacher, clock)
    budget = [15, 30, 60, 120, 75]  # 15 s doubling, until 5 minutes of lock are spent
    assert locks[:5] == budget
    # Past the budget a stranger's wrong try holds the account for 30 s at most.
    assert locks[5:] and set(locks[5:]) == {30}


def test_without_the_slow_lane_the_hourly_cap_is_absolute(app, make, clock):
    app.config["LOGIN_SLOW_SECONDS"] = 0
    teacher = make.teacher()
    make.commit()
    assert sum(_attack_for_an_hour(app, teacher, clock)) == 300


# --- Per browser, per class -----------------------------------------------------------------


def test_one_browser_trying_many_accounts_is_slowed(app, make, clock):
    teachers = [make.teacher() for _ in range(11)]
    make.commit()
    browser = app.test_client()
    for teacher in teachers[:10]:
        assert WRONG in message(sign_in(browser, teacher.username, "wrong"))
    assert LOCKED in message(sign_in(browser, teachers[10].username))
    assert sign_in(stranger(app), teachers[10].username).status_code == 303


@pytest.fixture
def pin_class(make):
    learners = [make.learner(grade=2, pin=True) for _ in range(8)]
    make.school_class(learners=learners, class_code="PIN8AB")
    other = make.learner(grade=2, pin=True)
    make.school_class(learners=[other], class_code="OTHER1")
    make.commit()
    return learners, other


def pin_try(client, code, learner, pin):
    return client.post(f"/signin/class/{code}/{learner.id}", data={"pin": pin})


def test_pin_guessing_is_limited_per_class(app, pin_class, clock):
    learners, other = pin_class
    # 30 wrong PINs spread over the class, 4 per learner: no single account locks.
    for n in range(30):
        assert WRONG_PIN in message(pin_try(stranger(app), "PIN8AB", learners[n % 8], "0000"))
    assert services.seconds_locked(learners[0]) == 0

    response = pin_try(stranger(app), "PIN8AB", learners[7], Factory.PIN)
    assert message(response) == (
        "Too many wrong PINs in this class just now. Wait 10 minutes, or ask your teacher."
    )
    assert pin_try(stranger(app), "OTHER1", other, Factory.PIN).status_code == 303
    clock.advance(10 * MINUTE + 1)
    assert pin_try(stranger(app), "PIN8AB", learners[7], Factory.PIN).status_code == 303


def test_a_learner_with_a_device_cookie_gets_past_the_class_limit(app, pin_class, clock):
    learners, _ = pin_class
    chromebook = app.test_client()
    assert pin_try(chromebook, "PIN8AB", learners[0], Factory.PIN).status_code == 303
    chromebook.post("/signout")
    for n in range(30):
        pin_try(stranger(app), "PIN8AB", learners[n % 8], "0000")
    assert CLASS_LOCKED in message(pin_try(chromebook, "PIN8AB", learners[1], Factory.PIN))
    assert pin_try(chromebook, "PIN8AB", learners[0], Factory.PIN).status_code == 303


def test_a_learners_own_typos_do_not_count_against_the_class(app, pin_class, clock):
    learners, _ = pin_class
    for learner in learners:  # a whole class, each mistyping twice before getting it
        device = stranger(app)
        pin_try(device, "PIN8AB", learner, "1111")
        pin_try(device, "PIN8AB", learner, "2222")
        assert pin_try(device, "PIN8AB", learner, Factory.PIN).status_code == 303
    assert all(services.recent_failures(learner) == 0 for learner in learners)


# --- Unknown accounts: same answers, same time ----------------------------------------------


def test_unknown_and_known_logins_get_the_same_messages(app, make, clock):
    teacher = make.teacher()
    make.commit()

    def sequence(login: str) -> list[str]:
        seen = []
        for step in range(9):
            seen.append(message(sign_in(stranger(app), login, "wrong")))
            clock.advance(10 if step % 2 else 0)
        return seen

    known, unknown = sequence(teacher.username), sequence("no-such-person")
    assert known == unknown
    assert WRONG in known[0] and LOCKED in known[5]


def test_unknown_logins_take_as_long_as_known_ones(app, make, clock):
    """Medians of interleaved tries with production argon2 parameters (the suite's cheap
    ones would make every answer fast), generous bounds for a loaded 2-core machine."""
    teacher = make.teacher()
    make.commit()
    sign_in(stranger(app), "warm-up-name", "wrong")  # cheap parameters seen first
    app.config.update(ARGON2_TIME_COST=3, ARGON2_MEMORY_KIB=65536, LOGIN_FREE_ATTEMPTS=2)
    db.session.execute(
        update(User).where(User.id == teacher.id).values(password_hash=hash_secret("real one"))
    )
    db.session.commit()
    sign_in(stranger(app), "warm-up-name", "wrong")  # a first dummy hash may be made here
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(7):  # past the lock: locked answers must take as long too
        for kind, login in (("known", teacher.username), ("unknown", "no-such-person")):
            start = time.perf_counter()
            sign_in(stranger(app), login, "wrong")
            times[kind].append(time.perf_counter() - start)
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    assert 0.5 < unknown / known < 2, (known, unknown)
    # And both spend a real verification (not both skipping it, say when locked).
    real = db.session.get(User, teacher.id).password_hash
    one = statistics.median(_timed(lambda: verify_secret(real, "wrong")) for _ in range(3))
    assert min(known, unknown) > one / 2, (known, unknown, one)


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
