"""The tracker and the class view render byte for byte as they did before their view model
was precomputed in Python (tests/golden/*.html were rendered by main's templates).

Time is fixed (`tracker.today`) and the summaries are written with fixed dates, so the
words ("3 days ago", "Due today", the pace) are the same on every run; ids and poll
tokens, which depend on the database, are replaced by placeholders before comparing.
Regenerate after an intended change of the markup with WAYPOINT_WRITE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import render_template
from flask_babel import force_locale, gettext

from portal.core.extensions import db
from portal.goals.models import GoalStatus
from portal.progress import tracker
from portal.progress.models import GoalProgress, LevelMethod, ProgressSettings
from tests.fixtures import progress as build

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 3, 10)
FRAGMENT = {"HX-Request": "true"}


def _normal(html: str) -> str:
    html = re.sub(r"tracker-\d+", "tracker-N", html)
    html = re.sub(r"/(goals|learners|classes)/\d+", r"/\1/N", html)
    return re.sub(r"v=[0-9a-zA-Z_.-]+", "v=TOKEN", html)


def _check(name: str, html: str) -> None:
    path = GOLDEN / name
    html = _normal(html)
    if os.environ.get("WAYPOINT_WRITE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(html)
    assert html == path.read_text(), name


def _summary(goal, points, *, rated=False, self_rating=None):
    """A summary with these (days before TODAY, value, source) points."""
    at = [
        (datetime.combine(TODAY, datetime.min.time()) - timedelta(days=d, hours=-9), v, s)
        for d, v, s in points
    ]
    db.session.add(
        GoalProgress(
            goal_id=goal.id,
            learner_id=goal.learner_id,
            version=3,
            entry_count=len(at),
            last_entry_at=at[-1][0] if at else None,
            max_value=max(v for _, v, _ in at) if at else None,
            points_json=json.dumps([[t.isoformat(), v, s] for t, v, s in at]),
            strategy_counts_json="{}",
            latest_self_rating=self_rating,
            latest_entry_rated=rated,
        )
    )


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(tracker, "today", lambda: TODAY)


@pytest.fixture
def world(make, fixed_today):
    """A class of six learners whose goals cover the tracker's states."""
    teacher = make.teacher(given_name="Tess", family_name="Teacher")
    build.scale(make)
    names = [("Ana", "Alvarez"), ("Ben", "Brown"), ("Cai", "Chen"), ("Dee", "Diaz")]
    people = [make.learner(given_name=g, family_name=f) for g, f in names]
    people.append(make.learner(given_name="Eli", family_name="Evans", preferred_name="E."))
    people.append(make.learner(given_name="Fay", family_name="Fox"))  # no goal
    school_class = make.school_class(teacher=teacher, learners=people)
    ana, ben, cai, dee, eli, _fay = people
    goals = {}
    goals["rising"] = g = build.goal(make, ana, due_in=None)
    _summary(g, [(20, 1, "self"), (14, 2, "self"), (9, 2, "teacher"), (3, 3, "self")])
    long = "A goal without entries yet, its statement long enough to be cut short"
    goals["bare"] = build.goal(make, ana, statement=long)
    goals["one"] = g = build.goal(make, ben, due_in=0, statement="One rating so far")
    _summary(g, [(0, 2, "self")])
    goals["stuck"] = g = build.goal(make, cai, due_in=-5, statement="Flat for a while")
    _summary(g, [(30, 2, "self"), (20, 2, "teacher"), (12, 1, "self"), (10, 1, "self")])
    goals["ready"] = g = build.goal(make, dee, target_level=2, statement="Ready to check")
    _summary(g, [(8, 1, "self"), (2, 2, "self")], self_rating=2)
    goals["falling"] = g = build.goal(make, dee, due_in=400, statement="Going down")
    _summary(g, [(6, 4, "teacher"), (5, 3, "self"), (4, 2, "self")], rated=True, self_rating=2)
    goals["closed"] = g = build.goal(make, eli, status=GoalStatus.MET, statement="Done & <dusted>")
    _summary(g, [(40, 2, "self"), (35, 3, "teacher")])
    goals["eli"] = g = build.goal(make, eli, statement="Today's <b>entry</b> & more")
    _summary(g, [(1, 3, "self"), (0, 4, "self")])
    make.commit()
    return teacher, school_class, {name: (g.id, g.learner_id) for name, g in goals.items()}


def _trackers(goals):
    db.session.expunge_all()
    learners = sorted({learner_id for _, learner_id in goals.values()})
    found = {t.goal.id: t for t in tracker.trackers_for(tracker.load_goals(learners, status=None))}
    return {name: found[goal_id] for name, (goal_id, _) in goals.items()}


@pytest.mark.parametrize("locale", ["en", "es"])
def test_trackers_render_as_before(app, world, locale):
    _teacher, _class, goals = world
    with app.test_request_context("/"), force_locale(locale):
        trackers = _trackers(goals)
        for name, t in trackers.items():
            html = render_template("progress/_tracker.html", t=t, readonly=False, link_goal=True)
            _check(f"tracker_{name}_{locale}.html", html)
        html = render_template(
            "progress/_tracker.html", t=trackers["rising"], readonly=True, link_goal=False
        )
        _check(f"tracker_rising_readonly_{locale}.html", html)


def test_trackers_under_another_method_render_as_before(app, make, world):
    _teacher, _class, goals = world
    db.session.add(
        ProgressSettings(school_id=make.default_school().id, method=LevelMethod.MEAN_LAST_N, n=2)
    )
    db.session.commit()
    with app.test_request_context("/"):
        html = "".join(
            render_template("progress/_tracker.html", t=t, readonly=False, link_goal=True)
            for t in _trackers(goals).values()
        )
    _check("trackers_mean_last_2.html", html)


@pytest.mark.parametrize(
    "query", ["", "?sort=last", "?sort=level&show=all", "?show=stuck", "?show=quiet&sort=last"]
)
def test_class_view_renders_as_before(app, client, auth, world, query):
    teacher, school_class, _goals = world
    auth.login(teacher)
    url = f"/classes/{school_class.id}/progress{query}"
    response = client.get(url, headers=FRAGMENT)
    assert response.status_code == 200
    name = re.sub(r"\W+", "_", query).strip("_") or "default"
    _check(f"class_{name}.html", response.get_data(as_text=True))


def test_the_class_view_page_renders_its_table_as_the_fragment(app, client, auth, world):
    teacher, school_class, _goals = world
    auth.login(teacher)
    url = f"/classes/{school_class.id}/progress"
    page = client.get(url).get_data(as_text=True)
    fragment = client.get(url, headers=FRAGMENT).get_data(as_text=True)
    assert fragment.strip() in page


STATUS_WORDS = {
    "draft": "Draft",
    "proposed": "Proposed",
    "active": "Active",
    "met": "Met",
    "not_met": "Not met yet",
    "revised": "Revised",
    "archived": "Archived",
}


@pytest.mark.parametrize("locale", ["en", "es"])
def test_each_goal_status_badge_says_its_own_word(app, locale):
    """The goal cards' status badge (the learner home shows one per goal) says the word
    the dict of every status said before it looked up only its own."""
    source = '{% from "goals/_macros.html" import status_badge %}{{ status_badge(s) }}'
    with app.test_request_context("/"), force_locale(locale):
        for status in GoalStatus:
            html = app.jinja_env.from_string(source).render(s=status)
            word = gettext(STATUS_WORDS[status.value])
            assert html == f'<span class="goal-status goal-status-{status.value}">{word}</span>'


def test_the_class_views_row_links_keep_the_mount_point(app, client, auth, world):
    """The row links are made from one url_for per page: mounted under a prefix (and one
    with a % in it), every link still carries it, as url_for's own would."""
    teacher, school_class, goals = world
    auth.login(teacher)
    for prefix in ("/waypoint", "/way%25point"):
        response = client.get(
            f"/classes/{school_class.id}/progress",
            headers=FRAGMENT,
            environ_overrides={"SCRIPT_NAME": prefix},
        )
        html = response.get_data(as_text=True)
        goal_id, learner_id = goals["stuck"]
        assert f'href="{prefix}/goals/{goal_id}/progress"' in html
        assert f'href="{prefix}/learners/{learner_id}"' in html
