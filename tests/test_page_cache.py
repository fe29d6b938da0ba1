"""Cached page sections: reused while nothing they show changed, never served stale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import User
from portal.conferences.models import Conference, ConferenceStatus
from portal.core import page_cache
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from tests.conftest import Auth
from tests.fixtures import progress as build
from tests.fixtures.factories import Factory


@pytest.fixture
def setup(make):
    teacher = make.teacher()
    learner = make.learner(given_name="Maya", family_name="Johnson")
    other = make.learner(given_name="Leo", family_name="Martinez")
    school_class = make.school_class(teacher=teacher, learners=[learner, other])
    build.scale(make)
    goal = build.goal(make, learner, statement="I will reach Proficient on fractions.")
    build.entry(make, goal, 1, days_ago=4)
    make.commit()
    return teacher, learner, other, school_class, goal


def _stats(app):
    cache = app.extensions["waypoint.page_cache"]
    return cache.hits, cache.misses


def test_the_learner_home_is_reused_until_the_record_changes(app, client, auth, make, setup):
    _, learner, _, _, goal = setup
    auth.login(learner)
    first = client.get("/").get_data(as_text=True)
    hits, misses = _stats(app)
    again = client.get("/").get_data(as_text=True)
    assert again.split("<main", 1)[1] == first.split("<main", 1)[1]
    assert _stats(app) == (hits + 1, misses)
    assert "Beginning" in first
    build.entry(make, goal, 3)
    make.commit()
    page = client.get("/").get_data(as_text=True)
    assert _stats(app)[1] == misses + 1
    assert "Proficient" in page.split('id="tracker-', 1)[1]


def test_a_change_to_another_learner_keeps_the_cache(app, client, auth, make, setup):
    _, learner, other, _, _ = setup
    auth.login(learner)
    client.get("/")
    hits, misses = _stats(app)
    build.entry(make, build.goal(make, other), 2)
    make.commit()
    client.get("/")
    assert _stats(app) == (hits + 1, misses)


def test_a_shared_change_reaches_every_cached_page(client, auth, make, setup):
    teacher, learner, _, school_class, _ = setup
    auth.login(learner)
    assert "Math 6" not in client.get("/").get_data(as_text=True)
    school_class.title = "Math 6"
    make.commit()
    assert "Math 6" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(teacher)
    url = f"/classes/{school_class.id}/progress"
    assert "Maya Johnson" in client.get(url).get_data(as_text=True)
    db.session.get(User, learner.id).preferred_name = "Mia"
    make.commit()
    assert "Mia Johnson" in client.get(url).get_data(as_text=True)


def test_the_class_view_page_and_fragment_follow_an_entry(app, client, auth, make, setup):
    teacher, _, _, school_class, goal = setup
    auth.login(teacher)
    url = f"/classes/{school_class.id}/progress"
    client.get(url)
    htmx = {"HX-Request": "true"}
    fragment = client.get(url, headers=htmx).get_data(as_text=True)
    assert "<html" not in fragment and 'id="class-progress"' in fragment
    hits, misses = _stats(app)
    assert client.get(url).status_code == 200 and client.get(url, headers=htmx).status_code == 200
    assert _stats(app) == (hits + 2, misses)
    build.entry(make, goal, 4)
    make.commit()
    for headers in ({}, htmx):
        body = client.get(url, headers=headers).get_data(as_text=True)
        assert "Proficient" in body.split('id="class-progress"', 1)[1]


def test_each_session_gets_its_own_entry(app, make, setup):
    """The cached forms carry tokens made from the session's CSRF secret."""
    _, learner, _, _, _ = setup
    for _ in range(2):
        client = app.test_client()
        Auth(client).login(learner)
        client.get("/")
        client.get("/")
    cache = app.extensions["waypoint.page_cache"]
    keys = [k for k in cache._entries if k[0] == "learner-home"]
    assert len(keys) == 2 and keys[0][:-1] == keys[1][:-1] and keys[0][-1] != keys[1][-1]


def test_each_language_is_cached_apart(client, auth, setup):
    _, learner, _, _, _ = setup
    auth.login(learner)
    assert "My conferences" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "es", "next": "/"})
    assert "My conferences" not in client.get("/").get_data(as_text=True)


def test_a_section_that_depends_on_the_clock_expires(app, client, auth, make, setup):
    teacher, learner, _, school_class, _ = setup
    db.session.add(
        Conference(
            learner_id=learner.id,
            teacher_id=teacher.id,
            class_id=school_class.id,
            created_by_id=teacher.id,
            status=ConferenceStatus.SCHEDULED,
            scheduled_at=utcnow() - timedelta(hours=12) + timedelta(seconds=2),
        )
    )
    make.commit()
    auth.login(learner)
    assert "Next conference" in client.get("/").get_data(as_text=True)
    cache = app.extensions["waypoint.page_cache"]
    (entry,) = [e for k, e in cache._entries.items() if k[0] == "learner-home"]
    assert entry[1] is not None and entry[1] <= utcnow() + timedelta(seconds=2)


def test_valid_until_in_the_past_renders_again(app):
    calls = []

    def render():
        calls.append(1)
        page_cache.valid_until(utcnow() - timedelta(seconds=1))
        return "<p>now</p>"

    with app.test_request_context("/"):
        cache = page_cache.FragmentCache(1024)
        cache.get_or_render(("k",), render)
        cache.get_or_render(("k",), render)
    assert len(calls) == 2


def test_the_cache_can_be_turned_off(app_config, make, setup):
    from portal import create_app

    app = create_app({**app_config, "FRAGMENT_CACHE_MB": 0})
    assert app.extensions["waypoint.page_cache"] is None
    _, learner, _, _, _ = setup
    username = learner.username
    db.session.close()  # let the second app write to the same SQLite file
    client = app.test_client()
    client.post("/signin", data={"login": username, "password": Factory.PASSWORD})
    assert "Maya" in client.get("/").get_data(as_text=True)


def test_a_flashed_message_is_shown_once_and_never_cached(client, auth, setup):
    _, learner, _, _, _ = setup
    auth.login(learner)
    client.get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Your entry is saved.")]
    assert "Your entry is saved." in client.get("/").get_data(as_text=True)
    assert "Your entry is saved." not in client.get("/").get_data(as_text=True)


def test_the_family_page_follows_a_shared_entry(app, client, auth, make, setup):
    _, learner, _, _, goal = setup
    guardian = make.guardian()
    make.link(guardian, learner)
    make.commit()
    auth.login(guardian)
    for url in ("/", f"/family/children/{learner.id}"):
        client.get(url)
    hits, misses = _stats(app)
    client.get("/")
    client.get(f"/family/children/{learner.id}")
    assert _stats(app) == (hits + 2, misses)
    entry = build.entry(make, goal, 3)
    entry.reflection = "I drew the fractions as pizzas."
    entry.shared_with_family = True
    make.commit()
    for url in ("/", f"/family/children/{learner.id}"):
        assert "pizzas" in client.get(url).get_data(as_text=True)


def test_hits_and_misses_are_counted_per_kind_of_page(app, client, auth, setup):
    teacher, learner, _, school_class, _ = setup
    assert page_cache.stats() == {}
    auth.login(learner)
    client.get("/")
    client.get("/")
    client.get("/")
    auth.logout()
    auth.login(teacher)
    client.get(f"/classes/{school_class.id}/progress")
    assert page_cache.stats() == {
        "learner-home": {"hits": 2, "misses": 1},
        "class-progress": {"hits": 0, "misses": 1},
    }


def test_no_stats_when_the_cache_is_off(app):
    app.extensions["waypoint.page_cache"] = None
    assert page_cache.stats() == {}
