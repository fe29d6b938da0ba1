"""Each button of a form tool posts the whole form to an endpoint of its own.

Without JavaScript the button's `formaction` sends the form there and the whole page
comes back with what was typed; with htmx the same endpoint answers with the form's
block. The old endpoints keep their main action (save) and still honour an `action=`
posted by a page opened before the buttons had endpoints of their own.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal import create_app
from portal.core.extensions import db
from portal.goals.models import Goal, GoalStatus, GoalTemplate, GoalVersion
from portal.targets.models import MasteryLevel
from tests.fixtures.factories import Factory
from tests.fixtures.goals import HTMX, build_world, count, form_data, fresh, make_goal

TYPED = "I will reach Proficient on unit rates by practising with Omar."


@pytest.fixture
def world(make):
    return build_world(make)


def _typed(world, **overrides) -> dict:
    """The goal form as a browser posts it after a button with formaction: no action=."""
    return form_data(world, action=None, **overrides)


# --- The goal form: new goal, proposal, edit --------------------------------------------

# (who signs in, the form page, the prefix of its buttons' endpoints) for each way in.
PAGES = {
    "new": lambda w, goal: (w.learner, "/goals/new", "/goals/new"),
    "propose": lambda w, goal: (
        w.teacher,
        f"/learners/{w.learner.id}/goals/new",
        f"/learners/{w.learner.id}/goals/new",
    ),
    "edit": lambda w, goal: (w.learner, f"/goals/{goal.id}/edit", f"/goals/{goal.id}/edit"),
}


def _open(world, auth, page: str):
    goal = make_goal(world) if page == "edit" else None
    user, form_url, prefix = PAGES[page](world, goal)
    auth.login(user)
    data = _typed(world)
    if goal is not None:
        data["lock_version"] = str(goal.lock_version)
    return goal, form_url, prefix, data


def _nothing_saved(before):
    assert (count(Goal), count(GoalVersion)) == before


@pytest.mark.parametrize("page", PAGES)
def test_the_buttons_post_to_their_own_endpoints(client, auth, world, page):
    goal, form_url, prefix, _ = _open(world, auth, page)
    html = client.get(form_url).get_data(as_text=True)
    assert f'action="{form_url}"' in html  # saving stays the page's own action
    assert f'formaction="{prefix}/targets/search"' in html
    assert f'formaction="{prefix}/strategies/add" hx-post="{prefix}/strategies/add"' in html
    assert f'formaction="{prefix}/strategies/1/remove"' in html
    assert (f'formaction="{prefix}/submit"' in html) is (page != "propose")


@pytest.mark.parametrize("page", PAGES)
def test_add_a_step_without_js_keeps_what_was_typed(client, auth, world, page):
    goal, _, prefix, data = _open(world, auth, page)
    before = (count(Goal), count(GoalVersion))
    response = client.post(f"{prefix}/strategies/add", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert TYPED in html and 'value="Check my answers twice"' in html
    assert 'name="own_strategies-2"' in html
    _nothing_saved(before)


@pytest.mark.parametrize("page", PAGES)
def test_add_a_step_with_htmx_returns_the_rows(client, auth, world, page):
    goal, _, prefix, data = _open(world, auth, page)
    before = (count(Goal), count(GoalVersion))
    response = client.post(f"{prefix}/strategies/add", data=data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="strategy-rows"')
    assert 'name="own_strategies-2"' in html and 'value="Check my answers twice"' in html
    assert f'hx-post="{prefix}/strategies/3/remove"' in html
    _nothing_saved(before)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_remove_a_step_keeps_the_others(client, auth, world, page, htmx):
    goal, _, prefix, data = _open(world, auth, page)
    data["own_strategies-1"] = "Second step"
    before = (count(Goal), count(GoalVersion))
    response = client.post(f"{prefix}/strategies/1/remove", data=data, headers=HTMX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not htmx
    assert 'value="Second step"' in html and "Check my answers twice" not in html
    assert (TYPED in html) is not htmx  # the rows alone for htmx; the whole form without
    _nothing_saved(before)


def test_removing_a_step_that_is_not_there_changes_nothing(client, auth, world):
    goal, _, prefix, data = _open(world, auth, "new")
    response = client.post(f"{prefix}/strategies/9/remove", data=data, headers=HTMX)
    assert response.status_code == 200
    assert 'value="Check my answers twice"' in response.get_data(as_text=True)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_search_targets_keeps_what_was_typed(client, auth, world, page, htmx):
    goal, _, prefix, data = _open(world, auth, page)
    data["q"] = "rational"
    before = (count(Goal), count(GoalVersion))
    response = client.post(f"{prefix}/targets/search", data=data, headers=HTMX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not htmx
    assert 'id="goal-form"' in html and TYPED in html
    assert "7.NS.1" in html and "7.RP.2" not in html
    assert (
        f'id="target-{world.targets[0].id}" name="targets" value="{world.targets[0].id}" checked'
        in html
    )
    _nothing_saved(before)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_submit_a_new_goal_shares_it(client, auth, world, htmx):
    auth.login(world.learner)
    response = client.post("/goals/new/submit", data=_typed(world), headers=HTMX if htmx else {})
    goal = db.session.scalar(select(Goal))
    assert goal.status is GoalStatus.PROPOSED
    if htmx:
        assert response.status_code == 204
        assert response.headers["HX-Redirect"].endswith(f"/goals/{goal.id}")
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/goals/{goal.id}")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_submit_an_edited_draft_saves_and_shares_it(client, auth, world, htmx):
    goal = make_goal(world)
    auth.login(world.learner)
    data = _typed(world, statement="I will reach Proficient on unit rates, with Omar.")
    data["lock_version"] = str(goal.lock_version)
    response = client.post(f"/goals/{goal.id}/edit/submit", data=data, headers=HTMX if htmx else {})
    assert response.status_code == (204 if htmx else 303)
    goal = fresh(goal.id)
    assert goal.status is GoalStatus.PROPOSED and goal.current_version.number == 2


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_invalid_submit_is_refused_next_to_the_field(client, auth, world, htmx):
    auth.login(world.learner)
    data = _typed(world, statement="  ", **{"own_strategies-1": "Keep this step"})
    response = client.post("/goals/new/submit", data=data, headers=HTMX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and ("<html" in html) is not htmx
    assert "Write your goal" in html and 'value="Keep this step"' in html
    assert count(Goal) == 0


def test_a_stale_edit_submit_is_a_conflict_that_keeps_the_text(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    data = _typed(world, statement="My newer words for this goal.")
    data["lock_version"] = str(goal.lock_version - 1)
    response = client.post(f"/goals/{goal.id}/edit/submit", data=data)
    assert response.status_code == 409
    assert "My newer words for this goal." in response.get_data(as_text=True)
    assert fresh(goal.id).status is GoalStatus.DRAFT


def test_the_tools_answer_only_those_who_may_use_the_form(client, auth, world):
    goal = make_goal(world)
    closed = make_goal(world, status=GoalStatus.MET)
    auth.login(world.classmate)  # not Maya's goal
    assert client.post(f"/goals/{goal.id}/edit/strategies/add", data={}).status_code == 404
    auth.logout()
    auth.login(world.learner)
    assert client.post(f"/goals/{closed.id}/edit/targets/search", data={}).status_code == 403
    proposal = f"/learners/{world.learner.id}/goals/new/strategies/add"
    assert client.post(proposal, data={}).status_code == 403  # learners do not propose
    auth.logout()
    auth.login(world.other_teacher)  # not Maya's teacher
    assert client.post(proposal, data={}).status_code in (403, 404)
    assert client.post("/goals/new/submit", data=_typed(world)).status_code == 403
    assert count(Goal) == 2


# --- Stale pages: the old endpoints still understand action= -------------------------------


def test_a_stale_edit_page_still_searches_and_shares(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    data = form_data(world, action="search", q="rational", lock_version=str(goal.lock_version))
    html = client.post(f"/goals/{goal.id}/edit", data=data).get_data(as_text=True)
    assert "7.NS.1" in html and len(fresh(goal.id).versions) == 1
    data = form_data(world, action="submit", lock_version=str(goal.lock_version))
    assert client.post(f"/goals/{goal.id}/edit", data=data).status_code == 303
    assert fresh(goal.id).status is GoalStatus.PROPOSED


def test_an_unknown_action_on_the_old_endpoint_saves(client, auth, world):
    auth.login(world.learner)
    response = client.post("/goals/new", data=form_data(world, action="whatever"))
    assert response.status_code == 303 and count(Goal) == 1


def test_a_stale_remove_with_a_bad_row_only_redraws(client, auth, world):
    auth.login(world.learner)
    data = form_data(world, action="remove_strategy-x")
    response = client.post("/goals/new", data=data, headers=HTMX)
    assert response.status_code == 200 and 'value="Check my answers twice"' in response.get_data(
        as_text=True
    )
    assert count(Goal) == 0


# --- Goal templates: the search button -------------------------------------------------------


def _template_data(world, **overrides) -> dict:
    data = {
        "title": "Unit rates sprint",
        "statement": "I will reach Proficient on unit rates.",
        "horizon": "short",
        "target_level": "3",
        "targets": [str(world.targets[0].id)],
        "strategies_text": "Work with a peer tutor",
        "q": "rational",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_template_search_keeps_what_was_typed(client, auth, world, htmx):
    auth.login(world.teacher)
    class_id = world.school_class.id
    page = client.get(f"/classes/{class_id}/goal-templates").get_data(as_text=True)
    url = f"/classes/{class_id}/goal-templates/targets/search"
    assert f'formaction="{url}"' in page
    response = client.post(url, data=_template_data(world), headers=HTMX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not htmx
    assert 'id="template-form"' in html and 'value="Unit rates sprint"' in html
    assert "7.NS.1" in html and count(GoalTemplate) == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_template_edit_search_keeps_what_was_typed(client, auth, world, htmx):
    auth.login(world.teacher)
    class_id = world.school_class.id
    client.post(f"/classes/{class_id}/goal-templates", data=_template_data(world))
    template = db.session.scalar(select(GoalTemplate))
    page = client.get(f"/goal-templates/{template.id}/edit").get_data(as_text=True)
    url = f"/goal-templates/{template.id}/targets/search"
    assert f'formaction="{url}"' in page
    data = _template_data(world, title="A new title, not saved")
    response = client.post(url, data=data, headers=HTMX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not htmx
    assert 'value="A new title, not saved"' in html and "7.NS.1" in html
    db.session.expire_all()
    assert db.session.get(GoalTemplate, template.id).title == "Unit rates sprint"


def test_a_stale_template_page_still_searches(client, auth, world):
    auth.login(world.teacher)
    url = f"/classes/{world.school_class.id}/goal-templates"
    response = client.post(url, data=_template_data(world, action="search"))
    assert response.status_code == 200 and "7.NS.1" in response.get_data(as_text=True)
    assert count(GoalTemplate) == 0


def test_template_search_is_for_the_class_teacher_only(client, auth, world):
    auth.login(world.other_teacher)
    url = f"/classes/{world.school_class.id}/goal-templates/targets/search"
    assert client.post(url, data=_template_data(world)).status_code in (403, 404)


# --- The mastery scale: add and remove a level -----------------------------------------------


def _scale_data(levels, mastery) -> dict:
    data = {"name": "Riverside scale", "mastery": str(mastery)}
    for i, (value, label) in enumerate(levels):
        data[f"levels-{i}-value"] = str(value)
        data[f"levels-{i}-label"] = label
    return data


FOUR = [(1, "Beginning"), (2, "Developing"), (3, "Proficient"), (4, "Extending")]


def _level_rows() -> int:
    return db.session.scalar(select(func.count(MasteryLevel.id)))


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_add_a_level_keeps_what_was_typed(client, auth, world, htmx):
    school = world.school.id
    auth.login(world.admin)
    page = client.get(f"/targets/scale/{school}").get_data(as_text=True)
    assert f'formaction="/targets/scale/{school}/levels/add"' in page
    assert f'formaction="/targets/scale/{school}/levels/1/remove"' in page
    rows = _level_rows()
    response = client.post(
        f"/targets/scale/{school}/levels/add",
        data=_scale_data(FOUR, 2),
        headers=HTMX if htmx else {},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not htmx
    assert 'id="scale-form"' in html and 'value="Riverside scale"' in html
    assert 'name="levels-4-value"' in html and re.search(r'<input checked id="mastery-2"', html)
    assert _level_rows() == rows


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_remove_a_level_keeps_the_mastery_mark_on_its_level(client, auth, world, htmx):
    school = world.school.id
    auth.login(world.admin)
    rows = _level_rows()
    response = client.post(
        f"/targets/scale/{school}/levels/1/remove",
        data=_scale_data(FOUR, 2),
        headers=HTMX if htmx else {},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not htmx
    assert "Beginning" not in html and 'value="Riverside scale"' in html
    assert 'name="levels-3-value"' not in html
    assert re.search(r'<input checked id="mastery-1"', html)  # Proficient moved up a row
    assert _level_rows() == rows


def test_removing_a_level_that_is_not_there_changes_nothing(client, auth, world):
    auth.login(world.admin)
    url = f"/targets/scale/{world.school.id}/levels/9/remove"
    html = client.post(url, data=_scale_data(FOUR, 2), headers=HTMX).get_data(as_text=True)
    assert 'name="levels-3-value"' in html and "Beginning" in html


def test_scale_buttons_are_for_the_schools_admins_only(client, auth, world):
    auth.login(world.other_admin)
    url = f"/targets/scale/{world.school.id}/levels/add"
    assert client.post(url, data=_scale_data(FOUR, 2)).status_code == 404
    auth.logout()
    auth.login(world.teacher)
    assert client.post(url, data=_scale_data(FOUR, 2)).status_code == 403


# --- CSRF: every new endpoint refuses a post without the form's token --------------------


# Every endpoint this change added, with its URL arguments.
NEW_ENDPOINTS = {
    "goals.new_submit": {},
    "goals.new_add_strategy": {},
    "goals.new_remove_strategy": {"step": 1},
    "goals.new_search_targets": {},
    "goals.propose_add_strategy": {"learner_id": "learner"},
    "goals.propose_remove_strategy": {"learner_id": "learner", "step": 1},
    "goals.propose_search_targets": {"learner_id": "learner"},
    "goals.edit_submit": {"goal_id": "goal"},
    "goals.edit_add_strategy": {"goal_id": "goal"},
    "goals.edit_remove_strategy": {"goal_id": "goal", "step": 1},
    "goals.edit_search_targets": {"goal_id": "goal"},
    "goals.class_template_search_targets": {"class_id": "class"},
    "goals.edit_template_search_targets": {"template_id": "template"},
    "targets.scale_add_level": {"school_id": "school"},
    "targets.scale_remove_level": {"school_id": "school", "row": 1},
}


def test_the_new_endpoints_are_post_only_and_registered(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint in NEW_ENDPOINTS:
        assert rules[endpoint].methods - {"OPTIONS"} == {"POST"}, endpoint


def test_new_endpoints_refuse_a_post_without_the_csrf_token(app_config, backend):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        world = build_world(Factory(db.session))
        goal = make_goal(world)
        template = GoalTemplate(
            class_id=world.school_class.id, teacher_id=world.teacher.id, title="T", statement="S"
        )
        db.session.add(template)
        db.session.commit()
        objects = {
            "learner": world.learner.id,
            "goal": goal.id,
            "class": world.school_class.id,
            "template": template.id,
            "school": world.school.id,
        }
        client = app.test_client()
        page = client.get("/signin").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        signed_in = client.post(
            "/signin",
            data={
                "login": world.learner.username,
                "password": Factory.PASSWORD,
                "csrf_token": token,
            },
        )
        assert signed_in.status_code == 303
        data = _typed(world, lock_version=str(goal.lock_version))
        for endpoint, args in NEW_ENDPOINTS.items():
            with app.test_request_context():
                url = url_for(endpoint, **{k: objects.get(v, v) for k, v in args.items()})
            response = client.post(url, data=data)
            assert response.status_code == 400, (endpoint, response.status_code)
            assert "form token" in response.get_data(as_text=True), endpoint
        assert count(Goal) == 1 and fresh(goal.id).status is GoalStatus.DRAFT
        db.session.remove()
        db.engine.dispose()
