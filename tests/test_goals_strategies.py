"""The school's strategy bank (/strategies) and editing goal templates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core.extensions import db
from portal.goals.models import GoalTemplate, GoalVersionStrategy, Strategy
from tests.fixtures.goals import HTMX, build_world, count, make_goal


@pytest.fixture
def world(make):
    return build_world(make)


def fresh(strategy_id: int) -> Strategy:
    db.session.expire_all()
    return db.session.get(Strategy, strategy_id)


def add(client, text, school=None, headers=None):
    url = "/strategies" + (f"?school={school}" if school else "")
    return client.post(url, data={"new-text": text}, headers=headers or {})


# --- Who keeps a bank ---------------------------------------------------------------------


def test_teacher_lists_own_school_bank_active_and_retired(client, auth, world):
    world.bank[1].active = False
    other = Strategy(school_id=world.other_school.id, text="Elsewhere only")
    db.session.add(other)
    db.session.commit()
    auth.login(world.teacher)
    html = client.get("/strategies").get_data(as_text=True)
    assert world.bank[0].text in html and world.bank[1].text in html
    assert "Elsewhere only" not in html
    assert "Retired (1)" in html and "Offered to learners (5)" in html
    assert 'href="/strategies"' in html  # the nav link


def test_school_admin_keeps_own_school_and_not_another(client, auth, world):
    auth.login(world.admin)
    assert world.bank[0].text in client.get("/strategies").get_data(as_text=True)
    assert client.get(f"/strategies?school={world.other_school.id}").status_code == 404
    assert add(client, "Read it aloud", school=world.other_school.id).status_code == 404


def test_district_admin_picks_a_school(client, auth, make, world):
    district_admin = make.district_admin()
    far = make.district_admin(make.district("Far District"))
    make.commit()
    auth.login(district_admin)
    picker = client.get("/strategies").get_data(as_text=True)
    assert f"/strategies?school={world.school.id}" in picker
    assert f"/strategies?school={world.other_school.id}" in picker
    response = add(client, "Read it aloud", school=world.other_school.id)
    assert response.status_code == 303
    added = db.session.scalar(select(Strategy).where(Strategy.text == "Read it aloud"))
    assert added.school_id == world.other_school.id
    auth.logout()
    auth.login(far)
    assert client.get(f"/strategies?school={world.school.id}").status_code == 404
    assert client.post(f"/strategies/{world.bank[0].id}/retire").status_code == 404


@pytest.mark.parametrize("who", ["learner", "guardian"])
def test_learners_and_guardians_are_refused(client, auth, world, who):
    auth.login(getattr(world, who))
    strategy_id = world.bank[0].id
    assert client.get("/strategies").status_code == 403
    assert add(client, "Sneaky strategy").status_code == 403
    assert client.get(f"/strategies/{strategy_id}/edit").status_code == 403
    assert client.post(f"/strategies/{strategy_id}/retire").status_code == 403
    assert fresh(strategy_id).active is True and count(Strategy) == len(world.bank)


def test_another_schools_strategy_is_404_for_teacher_and_admin(client, auth, make, world):
    other = Strategy(school_id=world.other_school.id, text="Elsewhere only")
    db.session.add(other)
    db.session.commit()
    for user in (world.teacher, world.admin):
        auth.login(user)
        assert client.get(f"/strategies/{other.id}/edit").status_code == 404
        response = client.post(f"/strategies/{other.id}/edit", data={f"s{other.id}-text": "Mine"})
        assert response.status_code == 404
        assert client.post(f"/strategies/{other.id}/retire").status_code == 404
        assert client.post(f"/strategies/{other.id}/restore").status_code == 404
        auth.logout()
    assert fresh(other.id).text == "Elsewhere only" and fresh(other.id).active
    # ...while the other school's own teacher may.
    auth.login(make.teacher(world.other_school))
    assert client.post(f"/strategies/{other.id}/retire").status_code == 303
    assert fresh(other.id).active is False


# --- Adding -------------------------------------------------------------------------------


def test_teacher_adds_a_strategy(client, auth, world):
    auth.login(world.teacher)
    response = add(client, "  Make   flash cards ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/strategies?school={world.school.id}")
    strategy = db.session.scalar(select(Strategy).where(Strategy.text == "Make flash cards"))
    assert strategy.school_id == world.school.id and strategy.active


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the strategy in a few words."),
        ("ab", "Use 3 to 200 characters."),
        ("x" * 201, "Use 3 to 200 characters."),
        ("WORK WITH A PEER TUTOR", "already has this strategy"),
    ],
)
def test_invalid_strategy_is_refused_next_to_the_field(client, auth, world, text, message):
    auth.login(world.teacher)
    response = add(client, text)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="new-text-error"' in html
    assert 'aria-describedby="new-text-hint new-text-error"' in html
    assert count(Strategy) == len(world.bank)


def test_duplicate_of_a_retired_strategy_is_refused_too(client, auth, world):
    world.bank[2].active = False
    db.session.commit()
    auth.login(world.teacher)
    assert add(client, "ask for a mini-lesson").status_code == 422


def test_same_wording_is_fine_in_another_school(client, auth, make, world):
    auth.login(make.teacher(world.other_school))
    assert add(client, world.bank[0].text).status_code == 303


def test_htmx_add_returns_the_bank_fragment(client, auth, world):
    auth.login(world.teacher)
    response = add(client, "Make flash cards", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="bank-editor"' in html
    assert "Strategy added: Make flash cards" in html
    assert 'name="new-text"' in html and 'value="Make flash cards"' not in html  # fresh form
    bad = add(client, "no", headers=HTMX)
    assert bad.status_code == 422 and "<html" not in bad.get_data(as_text=True)
    assert "Use 3 to 200 characters." in bad.get_data(as_text=True)


# --- Editing ------------------------------------------------------------------------------


def test_edit_row_in_place_and_plain_fallback(client, auth, world):
    strategy = world.bank[0]
    field = f"s{strategy.id}-text"
    auth.login(world.teacher)
    row = client.get(f"/strategies/{strategy.id}/edit", headers=HTMX)
    html = row.get_data(as_text=True)
    assert row.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<li id="strategy-{strategy.id}"')
    assert f'name="{field}"' in html
    page = client.get(f"/strategies/{strategy.id}/edit").get_data(as_text=True)
    assert "<html" in page and f'name="{field}"' in page and 'name="new-text"' in page

    saved = client.post(
        f"/strategies/{strategy.id}/edit", data={field: "Practice 15 minutes daily"}, headers=HTMX
    )
    assert saved.status_code == 200 and "<html" not in saved.get_data(as_text=True)
    assert "Practice 15 minutes daily" in saved.get_data(as_text=True)
    assert f'name="{field}"' not in saved.get_data(as_text=True)  # back to the plain row
    assert fresh(strategy.id).text == "Practice 15 minutes daily"

    plain = client.post(f"/strategies/{strategy.id}/edit", data={field: "Practice daily"})
    assert plain.status_code == 303 and fresh(strategy.id).text == "Practice daily"


def test_edit_validation(client, auth, world):
    strategy = world.bank[0]
    field = f"s{strategy.id}-text"
    auth.login(world.teacher)
    taken = client.post(f"/strategies/{strategy.id}/edit", data={field: "work with a PEER tutor"})
    assert taken.status_code == 422 and "<html" in taken.get_data(as_text=True)
    assert f'id="{field}-error"' in taken.get_data(as_text=True)
    short = client.post(f"/strategies/{strategy.id}/edit", data={field: "ok"}, headers=HTMX)
    assert short.status_code == 422 and "<html" not in short.get_data(as_text=True)
    assert "Use 3 to 200 characters." in short.get_data(as_text=True)
    # Its own wording, recased, is not a duplicate of itself.
    same = client.post(f"/strategies/{strategy.id}/edit", data={field: strategy.text.upper()})
    assert same.status_code == 303
    assert fresh(strategy.id).text == strategy.text.upper()


def test_rewording_keeps_goal_history(client, auth, world):
    goal = make_goal(world)  # chose world.bank[0]
    auth.login(world.teacher)
    field = f"s{world.bank[0].id}-text"
    client.post(f"/strategies/{world.bank[0].id}/edit", data={field: "Practice every day"})
    client.post(f"/strategies/{world.bank[0].id}/retire")
    kept = db.session.scalar(
        select(GoalVersionStrategy.text).where(
            GoalVersionStrategy.version_id == goal.current_version_id,
            GoalVersionStrategy.strategy_id == world.bank[0].id,
        )
    )
    assert kept == "Practice 20 minutes 3 times a week"


# --- Retiring and restoring ----------------------------------------------------------------


def test_retire_and_restore(client, auth, world):
    strategy = world.bank[3]
    auth.login(world.admin)
    response = client.post(f"/strategies/{strategy.id}/retire", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="bank-editor"' in html
    assert f"Strategy retired: {strategy.text}" in html and "Retired (1)" in html
    assert fresh(strategy.id).active is False
    plain = client.post(f"/strategies/{strategy.id}/restore")
    assert plain.status_code == 303 and fresh(strategy.id).active is True
    assert count(Strategy) == len(world.bank)  # never deleted


def test_retired_strategy_is_hidden_from_the_learners_goal_form(client, auth, world):
    auth.login(world.teacher)
    client.post(f"/strategies/{world.bank[1].id}/retire")
    auth.logout()
    auth.login(world.learner)
    html = client.get("/goals/new").get_data(as_text=True)
    assert world.bank[0].text in html and world.bank[1].text not in html
    assert html.count('name="bank_strategies"') == len(world.bank) - 1


def test_goal_with_a_retired_strategy_can_still_be_edited(client, auth, world):
    goal = make_goal(world)
    world.bank[0].active = False
    db.session.commit()
    auth.login(world.learner)
    html = client.get(f"/goals/{goal.id}/edit").get_data(as_text=True)
    # The retired bank strategy comes back as one of the learner's own steps.
    assert 'name="own_strategies-0" type="text" value="Practice 20 minutes 3 times a week"' in html


# --- Editing goal templates ---------------------------------------------------------------


def _template(world, teacher=None, school_class=None) -> GoalTemplate:
    template = GoalTemplate(
        teacher_id=(teacher or world.teacher).id,
        class_id=(school_class or world.school_class).id,
        title="Unit rates sprint",
        statement="I will reach Proficient on unit rates.",
        target_level=3,
        strategies_text="Work with a peer tutor",
    )
    db.session.add(template)
    db.session.commit()
    return template


def _template_post(world, **overrides):
    data = {
        "title": "Unit rates, week 2",
        "statement": "I will reach Advanced on unit rates.",
        "horizon": "long",
        "target_level": "4",
        "targets": [str(world.targets[1].id), str(world.targets[2].id)],
        "strategies_text": "Make flash cards\nExplain my thinking out loud",
    }
    data.update(overrides)
    return data


def test_teacher_edits_own_template(client, auth, world):
    template = _template(world)
    auth.login(world.teacher)
    listing = client.get(f"/classes/{world.school_class.id}/goal-templates").get_data(as_text=True)
    assert f"/goal-templates/{template.id}/edit" in listing
    page = client.get(f"/goal-templates/{template.id}/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="Unit rates sprint"' in html
    assert f'action="/goal-templates/{template.id}/edit"' in html
    response = client.post(f"/goal-templates/{template.id}/edit", data=_template_post(world))
    assert response.status_code == 303
    db.session.expire_all()
    template = db.session.get(GoalTemplate, template.id)
    assert template.title == "Unit rates, week 2" and template.horizon.value == "long"
    assert template.target_level == 4
    assert sorted(link.target_id for link in template.targets) == sorted(
        [world.targets[1].id, world.targets[2].id]
    )
    assert template.strategies_text == "Make flash cards\nExplain my thinking out loud"


def test_template_edit_validation_and_htmx(client, auth, world):
    template = _template(world)
    auth.login(world.teacher)
    url = f"/goal-templates/{template.id}/edit"
    bad = client.post(url, data=_template_post(world, title="", targets=[]), headers=HTMX)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "<html" not in html and 'id="template-form"' in html
    assert "Give the template a short title." in html
    assert "Choose at least one learning target." in html
    foreign = client.post(url, data=_template_post(world, targets=[str(world.foreign_target.id)]))
    assert foreign.status_code == 422
    db.session.expire_all()
    assert db.session.get(GoalTemplate, template.id).title == "Unit rates sprint"
    search = client.get(f"/goal-templates/{template.id}/targets?q=percent", headers=HTMX)
    assert search.status_code == 200 and "7.RP.3" in search.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other_teacher", "admin", "learner", "guardian"])
def test_only_the_templates_teacher_may_edit_it(client, auth, world, who):
    template = _template(world)
    auth.login(getattr(world, who))
    expected = 404 if who == "other_teacher" else 403
    url = f"/goal-templates/{template.id}/edit"
    assert client.get(url).status_code == expected
    assert client.post(url, data=_template_post(world)).status_code == expected
    assert client.get(f"/goal-templates/{template.id}/targets").status_code == expected
    db.session.expire_all()
    assert db.session.get(GoalTemplate, template.id).title == "Unit rates sprint"
