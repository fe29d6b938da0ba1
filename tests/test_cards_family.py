"""The family page, the goal page and the conference pages gather their data in the route:
no SQL runs while their templates render, and the cold family page costs a fixed, small
number of statements whatever the data size."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest

from portal.conferences import notes, scheduling, signing
from portal.conferences.models import ConferenceStatus, StepOwner
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.family.models import Cheer
from portal.goals.models import GoalStatus
from portal.profiles import services as profiles
from portal.profiles.models import Audience
from tests.fixtures import conferences as conf
from tests.fixtures import family as fam
from tests.fixtures import progress as build
from tests.sql_guard import sql_while_rendering

HX = {"HX-Request": "true"}
COLD_FAMILY_PAGE_BUDGET = 8


@contextmanager
def no_sql_while_rendering(app):
    """Fail if any SQL runs while a template (or one block of it) renders."""
    with sql_while_rendering(app) as found:
        yield found
    assert not found, "SQL while rendering:\n" + "\n".join(map(str, found))


def _get(client, url, headers=None):
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# --- A family with everything on its page ---------------------------------------------


def _rich_family(make):
    """Two children with several agreed goals, shared entries, feedback, cheers, shared
    profile sections and a held conference with shared notes and next steps."""
    family = fam.build_family(make)
    for child in (family.maya, family.leo):
        for i in range(3):
            g = build.goal(make, child, statement=f"{child.given_name} extra goal {i}")
            fam.add_target(make, g, family.school)
            g.agreed_version_id = g.current_version_id
            build.entry(make, g, 2).shared_with_family = True
            build.entry(make, g, 3)
            for body in ("Go!", "Proud of you"):
                db.session.add(
                    Cheer(
                        learner_id=child.id, goal_id=g.id, author_id=family.guardian.id, body=body
                    )
                )
        reached = build.goal(
            make, child, status=GoalStatus.MET, statement=f"{child.given_name} met"
        )
        reached.agreed_version_id = reached.current_version_id
        shared = profiles.find_spec(child, "strengths")
        profiles.add_entry(child, shared, child, f"{child.given_name} is kind.")
        profiles.set_audience(child, shared, Audience.FAMILY)
        held = scheduling.schedule(
            child, family.teacher, utcnow() - timedelta(days=2), class_id=None
        )[0]
        notes.add_note(held, family.teacher, f"{child.given_name} did well.", False)
        notes.add_note(held, family.teacher, "Private to staff.", True)
        notes.add_step(held, family.teacher, "Read at home", StepOwner.LEARNER, None)
        scheduling.set_status(held, ConferenceStatus.DONE)
    make.commit()
    return family


@pytest.fixture
def rich_family(make):
    return _rich_family(make)


def test_family_pages_render_without_sql(app, client, auth, rich_family):
    family = rich_family
    auth.login(family.guardian)
    with no_sql_while_rendering(app):
        home = _get(client, "/")
        child = _get(client, f"/family/children/{family.maya.id}")
        fragment = _get(client, f"/family/children/{family.maya.id}", HX)
    assert "Leo extra goal 2" in home and "Leo did well." in home and "Leo is kind." in home
    assert "Private to staff." not in home
    assert "Maya extra goal 2" in child and "Maya did well." in child and "Maya is kind." in child
    assert fragment.lstrip().startswith('<div id="family-main"')


def _cold_home(app, client, auth, make, count_queries):
    """Statements of a guardian's home, page cache off, with data and with more of it."""
    family = fam.build_family(make)
    _rich_family_more(make, family)
    auth.login(family.guardian)
    _get(client, "/")
    with count_queries() as some:
        _get(client, "/")
    _rich_family_more(make, family)  # more goals, entries, cheers, sections, conferences
    with count_queries() as first:  # its new targets moved the site stamp: settings reload
        _get(client, "/")
    with count_queries() as more:
        html = _get(client, "/")
    assert "Leo extra goal 2" in html
    return some, first, more


def _listing(statements) -> str:
    return "\n".join(" ".join(s.split())[:160] for s in statements)


def test_cold_family_page_statements_do_not_grow_with_the_data(
    app, client, auth, make, count_queries
):
    """Twice the goals, entries, cheers and conferences: the same statements."""
    some, _first, more = _cold_home(app, client, auth, make, count_queries)
    assert len(more) == len(some), _listing(more)


def test_cold_family_page_within_the_statement_budget(app, client, auth, make, count_queries):
    """The cold guardian home in at most COLD_FAMILY_PAGE_BUDGET statements."""
    _some, first, more = _cold_home(app, client, auth, make, count_queries)
    for counted in (first, more):  # the first after a settings change reads them too
        assert len(counted) <= COLD_FAMILY_PAGE_BUDGET, f"{len(counted)}:\n{_listing(counted)}"


def _rich_family_more(make, family):
    """Everything of _rich_family on an existing family."""
    for child in (family.maya, family.leo):
        for i in range(3):
            g = build.goal(make, child, statement=f"{child.given_name} extra goal {i}")
            fam.add_target(make, g, family.school)
            g.agreed_version_id = g.current_version_id
            build.entry(make, g, 2).shared_with_family = True
            db.session.add(
                Cheer(learner_id=child.id, goal_id=g.id, author_id=family.guardian.id, body="Go!")
            )
        shared = profiles.find_spec(child, "strengths")
        profiles.add_entry(child, shared, child, f"{child.given_name} is kind.")
        profiles.set_audience(child, shared, Audience.FAMILY)
        held = scheduling.schedule(
            child, family.teacher, utcnow() - timedelta(days=2), class_id=None
        )[0]
        notes.add_note(held, family.teacher, f"{child.given_name} did well.", False)
        notes.add_step(held, family.teacher, "Read at home", StepOwner.LEARNER, None)
        scheduling.set_status(held, ConferenceStatus.DONE)
    make.commit()


# --- The goal page and the conference pages --------------------------------------------


@pytest.fixture
def world(make):
    return conf.build_world(make)


def _conference_world(world):
    """An agreed goal, an open one, a conference with notes and steps, an acknowledgement."""
    agreed = conf.sign_both(conf.make_goal(world), world)
    open_goal = conf.make_goal(world)
    conference = conf.conference_for(world)
    notes.add_note(conference, world.teacher, "Shared note", False)
    notes.add_note(conference, world.teacher, "Private note", True)
    notes.add_step(conference, world.teacher, "Practise", StepOwner.LEARNER, None)
    notes.add_step(conference, world.teacher, "Send a sheet", StepOwner.TEACHER, None)
    signing.acknowledge(agreed, world.guardian)
    db.session.commit()
    return agreed, open_goal, conference


@pytest.mark.parametrize("who", ["learner", "teacher", "guardian", "admin"])
def test_goal_page_renders_without_sql(app, client, auth, world, who):
    agreed, open_goal, _conference = _conference_world(world)
    auth.login(getattr(world, who))
    with no_sql_while_rendering(app):
        page = _get(client, f"/goals/{agreed.id}")
        if who != "guardian":
            _get(client, f"/goals/{open_goal.id}")
    assert "Agreement" in page


@pytest.mark.parametrize("who", ["learner", "teacher"])
def test_conference_pages_render_without_sql(app, client, auth, world, who):
    _agreed, _open_goal, conference = _conference_world(world)
    auth.login(getattr(world, who))
    with no_sql_while_rendering(app):
        page = _get(client, f"/conferences/{conference.id}")
        _get(client, f"/conferences/{conference.id}/live", HX)
        history = _get(client, f"/learners/{world.learner.id}/conferences")
    assert "Shared note" in page and "Practise" in history


@pytest.mark.parametrize("who", ["guardian", "admin"])
def test_conference_history_renders_without_sql_for_others(app, client, auth, world, who):
    _conference_world(world)
    auth.login(getattr(world, who))
    with no_sql_while_rendering(app):
        _get(client, f"/learners/{world.learner.id}/conferences")


def test_conference_settings_render_without_sql(app, client, auth, world):
    auth.login(world.admin)
    with no_sql_while_rendering(app):
        _get(client, f"/schools/{world.school.id}/conference-settings")
        _get(client, f"/schools/{world.school.id}/conference-settings", HX)
