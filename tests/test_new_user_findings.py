"""What a new user tripped over (issue 11): each finding, checked through the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.conferences import signing
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals import services as goal_services
from portal.progress.models import ProgressEntry
from portal.targets.models import Target, TargetKind
from tests.fixtures.conferences import (
    HTMX,
    build_world,
    conference_for,
    content,
    fresh,
    proposed_goal,
)
from tests.test_targets_scale import FIVE, levels_form


@pytest.fixture
def world(make):
    return build_world(make)


@pytest.mark.both_backends
def test_settings_pages_are_linked_from_nav_and_the_schools_table(backend, make, client, auth):
    school = make.default_school()
    admin = make.school_admin(school)
    district_admin = make.district_admin(district=school.parent)
    make.commit()
    progress = f"/schools/{school.id}/progress-settings"
    conference = f"/schools/{school.id}/conference-settings"

    auth.login(admin)
    nav = client.get("/targets/").get_data(as_text=True)
    assert f'href="{progress}"' in nav and f'href="{conference}"' in nav
    home = client.get("/").get_data(as_text=True)
    assert home.count(f'href="{progress}"') == 2  # the nav and the school's row
    assert client.get(progress).status_code == 200
    assert client.get(conference).status_code == 200
    auth.logout()

    auth.login(district_admin)
    home = client.get("/").get_data(as_text=True)
    assert f'href="{progress}"' in home and f'href="{conference}"' in home


@pytest.mark.both_backends
def test_family_history_shows_the_wording_that_was_signed(backend, world, client, auth):
    goal = proposed_goal(world, statement="I will compute unit rates: version one.")
    conference = conference_for(world)
    signing.sign(goal, goal.current_version_id, world.learner, conference=conference)
    signing.sign(goal, goal.current_version_id, world.teacher, conference=conference)
    db.session.commit()
    goal = fresh(goal.id)
    goal_services.save_content(
        goal, world.learner, content(world, statement="I will compute unit rates: version two.")
    )
    db.session.commit()

    auth.login(world.guardian)
    page = client.get(f"/learners/{world.learner.id}/conferences").get_data(as_text=True)
    signed_here = page.split("Signed here", 1)[1] if "Signed here" in page else page
    assert "version one" in signed_here
    assert "version two" not in signed_here


@pytest.mark.both_backends
def test_a_later_form_answer_replaces_an_earlier_success_message(backend, make, client, auth):
    school = make.default_school()
    admin = make.school_admin(school)
    make.commit()
    auth.login(admin)
    url = f"/targets/scale/{school.id}"
    saved = client.post(url, data=levels_form(FIVE, 2), headers=HTMX)
    assert saved.headers["HX-Redirect"]
    assert "Mastery scale saved." in client.get(url).get_data(as_text=True)

    invalid = client.post(url, data=levels_form(FIVE, None, name=""), headers=HTMX)
    assert invalid.status_code == 422
    body = invalid.get_data(as_text=True)
    oob = body[body.index('id="flashes"') - 5 :]
    assert 'hx-swap-oob="true"' in oob.split(">", 1)[0]
    assert "Mastery scale saved." not in body
    # Nothing left in the session to pop up on a later page either.
    assert "Mastery scale saved." not in client.get(url).get_data(as_text=True)


@pytest.mark.both_backends
def test_the_goal_page_links_its_progress_log(backend, world, client, auth):
    goal = proposed_goal(world)
    auth.login(world.learner)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert f'href="/goals/{goal.id}/progress"' in page


@pytest.mark.both_backends
def test_workspace_cards_are_titled_by_the_goal(backend, world, client, auth):
    goal = proposed_goal(world, statement="I will explain proportional relationships aloud.")
    conference = conference_for(world)
    auth.login(world.teacher)
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    title = page.split(f'id="goal-work-{goal.id}-title">', 1)[1].split("</h3>", 1)[0]
    assert "I will explain proportional relationships aloud." in title
    assert "Goal, version" not in page


@pytest.mark.both_backends
def test_the_agenda_lets_you_see_every_new_piece_of_evidence(backend, world, client, auth):
    goal = proposed_goal(world)
    for n in range(10):
        db.session.add(
            ProgressEntry(
                goal_id=goal.id,
                learner_id=world.learner.id,
                token=f"token-{n}",
                strategy_text="Practice",
                self_rating=2,
                reflection=f"Reflection number {n:02d}",
                created_at=utcnow() - timedelta(hours=n + 1),
            )
        )
    db.session.commit()
    conference = conference_for(world)
    auth.login(world.teacher)
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert "10 new pieces of evidence" in page
    for n in range(10):
        assert f"Reflection number {n:02d}" in page
    assert "See all 10" in page


@pytest.mark.both_backends
def test_a_class_template_offers_its_grades_targets_first(backend, world, client, auth):
    db.session.add_all(
        Target(
            framework_id=world.targets[0].framework_id,
            parent_id=world.targets[0].parent_id,
            kind=TargetKind.TARGET,
            code=f"1.AA.{n}",
            statement=f"Grade one target {n}",
            grade_low=1,
            grade_high=1,
        )
        for n in range(40)
    )
    db.session.commit()
    auth.login(world.teacher)
    page = client.get(f"/classes/{world.school_class.id}/goal-templates").get_data(as_text=True)
    assert world.targets[0].code in page
    first_grade_one = page.find("1.AA.")
    assert first_grade_one == -1 or page.find(world.targets[0].code) < first_grade_one


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        (None, None, "http://127.0.0.1:5000/signin"),
        ("127.0.0.1", "8123", "http://127.0.0.1:8123/signin"),
        ("0.0.0.0", "8080", "http://127.0.0.1:8080/signin"),  # noqa: S104
        ("school.example", "80", "http://school.example:80/signin"),
    ],
)
def test_the_demo_prints_the_url_make_run_serves(monkeypatch, capsys, host, port, url):
    from portal.demo.command import print_sign_ins

    for name, value in (("HOST", host), ("PORT", port)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    print_sign_ins()
    assert f"Demo sign-ins ({url}):" in capsys.readouterr().out
