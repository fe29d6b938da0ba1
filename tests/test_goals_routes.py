"""Goal pages: drafting, validation, versions and history, conflicts, htmx fragments, lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals import services
from portal.goals.models import Goal, GoalStatus, GoalTemplate, GoalVersion, Horizon, Voice
from tests.fixtures.goals import (
    HTMX,
    build_world,
    content,
    count,
    form_data,
    fresh,
    make_goal,
    versions,
)

# --- Drafting a goal --------------------------------------------------------------------


@pytest.fixture
def world(make):
    return build_world(make)


def test_learner_drafts_a_goal(client, auth, world):
    auth.login(world.learner)
    page = client.get("/goals/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "7.RP.1" in html and "9.A.1" not in html  # only the school's targets are offered
    assert 'name="own_strategies-1"' in html  # blank rows without JS
    assert '<option selected value="3">' in html  # the mastery level by default
    response = client.post("/goals/new", data=form_data(world))
    assert response.status_code == 303
    goal = db.session.scalar(select(Goal))
    assert goal.learner_id == world.learner.id and goal.status is GoalStatus.DRAFT
    version = goal.current_version
    assert version.voice is Voice.LEARNER and version.number == 1
    assert [link.target_id for link in version.targets] == [world.targets[0].id]
    assert [s.text for s in version.strategies] == [
        "Practice 20 minutes 3 times a week",
        "Check my answers twice",
    ]
    assert response.headers["Location"].endswith(f"/goals/{goal.id}")
    detail = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "by practising with Omar" in detail and "3 · Proficient" in detail


def test_saving_a_draft_with_htmx_stays_in_place(client, auth, world):
    auth.login(world.learner)
    response = client.post("/goals/new", data=form_data(world), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="goal-form"' in html
    goal = db.session.scalar(select(Goal))
    assert response.headers["HX-Replace-Url"].endswith(f"/goals/{goal.id}/edit")
    assert f'action="/goals/{goal.id}/edit"' in html and "Draft saved." in html
    assert f'name="lock_version" type="hidden" value="{goal.lock_version}"' in html


def test_save_and_share_proposes_the_goal(client, auth, world):
    auth.login(world.learner)
    client.post("/goals/new", data=form_data(world, action="submit"))
    assert db.session.scalar(select(Goal)).status is GoalStatus.PROPOSED


def _invalid_cases(world):
    other_long = make_goal(world, learner=world.classmate, horizon=Horizon.LONG)
    own_short = make_goal(world)
    return {
        "empty statement": ({"statement": "   "}, "Write your goal"),
        "past due date": (
            {"due_date": (today() - timedelta(days=1)).isoformat()},
            "cannot be in the past",
        ),
        "foreign target": ({"targets": [str(world.foreign_target.id)]}, "not used at your school"),
        "no target": ({"targets": None}, "at least one learning target"),
        "level off the scale": ({"target_level": "9"}, "a level on your school"),
        "too many strategies": (
            {
                "bank_strategies": [str(s.id) for s in world.bank[:5]],
                "own_strategies-0": "One more",
            },
            "at most 5 strategies",
        ),
        "too many targets": (
            {"targets": [str(t.id) for t in world.targets[:5]]},
            "at most 4 learning targets",
        ),
        "someone else's parent goal": (
            {"parent_goal_id": str(other_long.id)},
            "your own long-term goals",
        ),
        "a short-term parent goal": (
            {"parent_goal_id": str(own_short.id)},
            "your own long-term goals",
        ),
    }


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_invalid_goal_is_refused_next_to_the_field(client, auth, world, htmx):
    cases = _invalid_cases(world)
    goals_before, versions_before = count(Goal), count(GoalVersion)
    auth.login(world.learner)
    for case, (overrides, message) in cases.items():
        response = client.post(
            "/goals/new", data=form_data(world, **overrides), headers=HTMX if htmx else {}
        )
        assert response.status_code == 422, case
        html = response.get_data(as_text=True)
        assert message in html, case
        assert 'class="field-error"' in html, case
        assert ("<html" in html) is not htmx, case
        assert (count(Goal), count(GoalVersion)) == (goals_before, versions_before), case


def test_error_is_linked_to_its_field(client, auth, world):
    auth.login(world.learner)
    html = client.post("/goals/new", data=form_data(world, statement="")).get_data(as_text=True)
    assert 'aria-describedby="statement-hint statement-error"' in html
    assert 'id="statement-error"' in html


# --- Editing, versions, history ----------------------------------------------------------


def test_edit_makes_a_version_and_unchanged_save_does_not(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    page = client.get(f"/goals/{goal.id}/edit").get_data(as_text=True)
    assert "by practising with Omar" in page and 'name="lock_version"' in page
    unchanged = form_data(world, lock_version=str(goal.lock_version))
    assert client.post(f"/goals/{goal.id}/edit", data=unchanged).status_code == 303
    assert len(versions(goal.id)) == 1
    changed = form_data(
        world,
        lock_version=str(fresh(goal.id).lock_version),
        statement="I will reach Proficient on unit rates by practising with my tutor.",
        targets=[str(world.targets[0].id), str(world.targets[1].id)],
    )
    assert client.post(f"/goals/{goal.id}/edit", data=changed).status_code == 303
    all_versions = versions(goal.id)
    assert [v.number for v in all_versions] == [1, 2]
    assert fresh(goal.id).current_version_id == all_versions[1].id
    assert all_versions[0].statement.endswith("with Omar.")  # history is never overwritten

    history = client.get(f"/goals/{goal.id}/history").get_data(as_text=True)
    # A space keeps the struck and the new words apart when read as text.
    assert "<del>Omar.</del> <ins>my tutor.</ins>" in history
    assert "Added target:" in history and "7.RP.2" in history


def test_htmx_edit_saves_in_place_with_the_new_lock(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    data = form_data(world, lock_version=str(goal.lock_version), target_level="4")
    response = client.post(f"/goals/{goal.id}/edit", data=data, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Saved." in html and "version 2" in html
    assert f'value="{fresh(goal.id).lock_version}"' in html


def test_stale_lock_version_gets_409_and_keeps_the_users_text(client, auth, world):
    goal = make_goal(world)
    stale = str(goal.lock_version)
    services.save_content(goal, world.teacher, content(world, statement="Teacher's new wording."))
    db.session.commit()
    auth.login(world.learner)
    mine = "My own wording that I typed for a long time."
    for headers in ({}, HTMX):
        response = client.post(
            f"/goals/{goal.id}/edit",
            data=form_data(world, lock_version=stale, statement=mine),
            headers=headers,
        )
        assert response.status_code == 409
        html = response.get_data(as_text=True)
        assert "this goal changed" in html.lower()
        assert "Teacher&#39;s new wording." in html  # the new version is shown
        assert mine in html  # and the user's own text is kept
        assert f'value="{fresh(goal.id).lock_version}"' in html  # a resave is deliberate
        assert ("<html" in html) is not bool(headers)
    assert len(versions(goal.id)) == 2


def test_stale_data_at_flush_gets_409(client, auth, world, monkeypatch):
    goal = make_goal(world)

    def raced(*args, **kwargs):
        raise StaleDataError("row changed")

    monkeypatch.setattr(services, "save_content", raced)
    auth.login(world.learner)
    response = client.post(
        f"/goals/{goal.id}/edit",
        data=form_data(world, lock_version=str(goal.lock_version), statement="Mine, kept."),
    )
    assert response.status_code == 409
    assert "Mine, kept." in response.get_data(as_text=True)


def test_invalid_edit_saves_nothing(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    response = client.post(
        f"/goals/{goal.id}/edit",
        data=form_data(world, lock_version=str(goal.lock_version), statement="", target_level="4"),
    )
    assert response.status_code == 422
    assert len(versions(goal.id)) == 1


def test_closed_goal_cannot_be_edited(client, auth, world):
    goal = make_goal(world, status=GoalStatus.MET)
    auth.login(world.learner)
    assert client.get(f"/goals/{goal.id}/edit").status_code == 403


# --- htmx pieces of the form -------------------------------------------------------------


def test_add_and_remove_strategy_rows_in_place(client, auth, world):
    auth.login(world.learner)
    data = form_data(world, action="add_strategy")
    response = client.post("/goals/new", data=data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="strategy-rows"')
    assert 'name="own_strategies-2"' in html
    data = form_data(world, action="remove_strategy-0", **{"own_strategies-1": "Second step"})
    html = client.post("/goals/new", data=data, headers=HTMX).get_data(as_text=True)
    assert 'value="Second step"' in html and "Check my answers twice" not in html
    assert count(Goal) == 0


def test_add_strategy_row_without_js_rerenders_the_page(client, auth, world):
    auth.login(world.learner)
    response = client.post("/goals/new", data=form_data(world, action="add_strategy"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert 'name="own_strategies-2"' in html and "by practising with Omar" in html
    assert count(Goal) == 0


def test_target_search_as_you_type(client, auth, world):
    auth.login(world.learner)
    url = f"/learners/{world.learner.id}/goals/targets"
    chosen = world.targets[3].id
    response = client.get(url, query_string={"q": "proportion", "targets": chosen}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "7.RP.2" in html and "7.RP.3" in html and "7.RP.1" not in html
    assert f'id="target-{chosen}" name="targets" value="{chosen}" checked' in html
    assert "9.A.1" not in client.get(url, query_string={"q": "linear"}).get_data(as_text=True)


def test_target_search_without_js(client, auth, world):
    auth.login(world.learner)
    data = form_data(world, action="search", q="rational")
    html = client.post("/goals/new", data=data).get_data(as_text=True)
    assert "<html" in html and "7.NS.1" in html and "7.RP.2" not in html
    assert count(Goal) == 0


# --- Status -----------------------------------------------------------------------------------


def test_no_button_makes_a_goal_active_co_signing_does(client, auth, world):
    goal = make_goal(world, status=GoalStatus.PROPOSED)
    auth.login(world.learner)
    assert client.post(f"/goals/{goal.id}/status", data={"status": "active"}).status_code == 409
    auth.logout()
    auth.login(world.teacher)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Agreed in conference" not in page and "I agree: sign version 1" in page
    response = client.post(f"/goals/{goal.id}/status", data={"status": "active"})
    assert response.status_code == 409
    assert fresh(goal.id).status is GoalStatus.PROPOSED


def test_learner_shares_and_closes_own_goal(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Agreed in conference" not in page  # the button is hidden, and the route refuses
    client.post(f"/goals/{goal.id}/status", data={"status": "proposed"})
    assert fresh(goal.id).status is GoalStatus.PROPOSED
    fresh(goal.id).status = GoalStatus.ACTIVE
    db.session.commit()
    client.post(f"/goals/{goal.id}/status", data={"status": "met"})
    assert fresh(goal.id).status is GoalStatus.MET


def test_disallowed_transition_is_a_409(client, auth, world):
    goal = make_goal(world)
    auth.login(world.learner)
    response = client.post(f"/goals/{goal.id}/status", data={"status": "met"}, headers=HTMX)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="goal-status"' in html
    assert fresh(goal.id).status is GoalStatus.DRAFT


def test_revise_closes_and_prefills_a_new_goal(client, auth, world):
    goal = make_goal(world, status=GoalStatus.ACTIVE)
    auth.login(world.learner)
    response = client.post(f"/goals/{goal.id}/status", data={"status": "revised"})
    assert response.headers["Location"].endswith(f"/goals/new?from_goal={goal.id}")
    assert fresh(goal.id).status is GoalStatus.REVISED
    html = client.get(f"/goals/new?from_goal={goal.id}").get_data(as_text=True)
    assert "by practising with Omar" in html


# --- Lists ------------------------------------------------------------------------------------


def test_my_goals_lists_active_first_then_proposed_drafts_closed(client, auth, world):
    for status, word in [
        (GoalStatus.MET, "Zulu"),
        (GoalStatus.DRAFT, "Yankee"),
        (GoalStatus.PROPOSED, "Xray"),
        (GoalStatus.ACTIVE, "Whiskey"),
    ]:
        make_goal(world, status=status, statement=f"{word} goal")
    auth.login(world.learner)
    html = client.get("/goals").get_data(as_text=True)
    positions = [html.index(f"{w} goal") for w in ("Whiskey", "Xray", "Yankee", "Zulu")]
    assert positions == sorted(positions)
    home = client.get("/").get_data(as_text=True)
    assert home.index("Whiskey goal") < home.index("Xray goal") < home.index("Yankee goal")
    assert "Zulu goal" not in home  # closed goals stay off the home page


def test_class_goals_filter_by_status_target_and_due_date(client, auth, world):
    make_goal(world, status=GoalStatus.ACTIVE, statement="Alpha goal")
    make_goal(
        world,
        learner=world.classmate,
        statement="Bravo goal",
        target_ids=[world.targets[2].id],
        due_date=today() + timedelta(days=60),
    )
    make_goal(world, learner=world.other_learner, statement="Hidden goal")  # not in this class
    auth.login(world.teacher)
    url = f"/classes/{world.school_class.id}/goals"
    html = client.get(url).get_data(as_text=True)
    assert "Alpha goal" in html and "Bravo goal" in html and "Hidden goal" not in html
    html = client.get(url, query_string={"status": "active"}).get_data(as_text=True)
    assert "Alpha goal" in html and "Bravo goal" not in html
    html = client.get(url, query_string={"target": world.targets[2].id}).get_data(as_text=True)
    assert "Bravo goal" in html and "Alpha goal" not in html
    due_by = (today() + timedelta(days=30)).isoformat()
    response = client.get(url, query_string={"due_by": due_by}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="goal-table"' in html
    assert "Alpha goal" in html and "Bravo goal" not in html


def test_class_goals_list_is_one_query_whatever_its_size(client, auth, world, count_queries):
    auth.login(world.teacher)
    url = f"/classes/{world.school_class.id}/goals"
    make_goal(world)
    db.session.commit()  # the test shares the session: start each count from a cold cache
    with count_queries() as small:
        client.get(url, headers=HTMX)
    for i in range(8):
        make_goal(
            world,
            learner=world.classmate if i % 2 else world.learner,
            statement=f"Goal {i}",
            target_ids=[world.targets[i % 4].id, world.targets[4].id],
        )
    db.session.commit()
    with count_queries() as big:
        html = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "Goal 7" in html
    assert len(big) == len(small)
    assert sum("FROM goals" in s for s in big) == 1


def test_guardian_reads_goals_but_sees_no_edit_buttons(client, auth, world):
    goal = make_goal(world, status=GoalStatus.ACTIVE)
    auth.login(world.guardian)
    html = client.get(f"/learners/{world.learner.id}/goals").get_data(as_text=True)
    assert "by practising with Omar" in html
    detail = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Edit this goal" not in detail and "Goal met" not in detail
    assert client.get(f"/goals/{goal.id}/history").status_code == 200


# --- Teachers propose, and offer templates --------------------------------------------------


def test_teacher_proposes_a_goal(client, auth, world):
    auth.login(world.teacher)
    url = f"/learners/{world.learner.id}/goals/new"
    assert client.get(url).status_code == 200
    response = client.post(url, data=form_data(world, action="submit"))
    assert response.status_code == 303
    goal = db.session.scalar(select(Goal))
    assert goal.status is GoalStatus.PROPOSED and goal.created_by_id == world.teacher.id
    assert goal.current_version.voice is Voice.TEACHER


def test_teacher_offers_a_template_and_learner_adapts_it(client, auth, world):
    auth.login(world.teacher)
    url = f"/classes/{world.school_class.id}/goal-templates"
    bad = client.post(url, data={"title": "", "statement": "x", "horizon": "short"})
    assert bad.status_code == 422 and count(GoalTemplate) == 0
    response = client.post(
        url,
        data={
            "title": "Unit rates sprint",
            "statement": "I will reach Proficient on unit rates.",
            "horizon": "short",
            "target_level": "3",
            "targets": [str(world.targets[0].id)],
            "strategies_text": "Work with a peer tutor\nMake flash cards",
        },
    )
    assert response.status_code == 303
    template = db.session.scalar(select(GoalTemplate))
    auth.logout()

    auth.login(world.learner)
    listing = client.get("/goals/templates").get_data(as_text=True)
    assert "Unit rates sprint" in listing
    form = client.get(f"/goals/new?template={template.id}").get_data(as_text=True)
    assert "I will reach Proficient on unit rates." in form
    assert 'value="Make flash cards"' in form  # not in the bank: one of their own rows
    tutor = world.bank[1].id
    assert f'id="bank_strategies-1" name="bank_strategies" type="checkbox" value="{tutor}"' in form
    data = form_data(
        world,
        statement="I will reach Proficient on unit rates.",
        template_id=str(template.id),
    )
    client.post("/goals/new", data=data)
    goal = db.session.scalar(select(Goal))
    assert goal.template_id == template.id
    assert goal.current_version.voice is Voice.TEACHER  # their words only once rewritten


def test_templates_of_other_classes_are_not_offered(client, auth, world):
    template = GoalTemplate(
        teacher_id=world.other_teacher.id,
        class_id=world.other_class.id,
        title="Other class idea",
        statement="Something",
    )
    db.session.add(template)
    db.session.commit()
    auth.login(world.learner)
    assert "Other class idea" not in client.get("/goals/templates").get_data(as_text=True)
    assert client.get(f"/goals/new?template={template.id}").status_code == 404


def test_only_the_owner_retires_a_template(client, auth, world):
    template = GoalTemplate(
        teacher_id=world.teacher.id,
        class_id=world.school_class.id,
        title="Idea",
        statement="Something",
    )
    db.session.add(template)
    db.session.commit()
    auth.login(world.other_teacher)
    assert client.post(f"/goal-templates/{template.id}/retire").status_code == 404
    auth.logout()
    auth.login(world.teacher)
    assert client.post(f"/goal-templates/{template.id}/retire").status_code == 303
    db.session.expire_all()
    assert db.session.get(GoalTemplate, template.id).active is False


@pytest.mark.both_backends
def test_first_page_to_need_a_schools_scale_creates_it(backend, client, auth, make):
    """Found by the hostile-input sweep: a GET that needed the default scale flushed it
    outside a write (500). It now writes it in a transaction of its own."""
    from sqlalchemy import func, select

    from portal.targets.models import MasteryScale

    teacher = make.teacher()
    school_class = make.school_class(teacher=teacher, learners=[make.learner()])
    make.commit()
    assert db.session.scalar(select(func.count()).select_from(MasteryScale)) == 0
    auth.login(teacher)
    assert client.get(f"/classes/{school_class.id}/goal-templates").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(MasteryScale)) == 1
