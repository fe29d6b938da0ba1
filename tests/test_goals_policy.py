"""Who may see and change goals: the permission matrix for every goal route."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.goals.models import GoalStatus, GoalTemplate
from tests.test_goals_support import build_world, form_data, fresh, make_goal, versions


@pytest.fixture
def world(make):
    return build_world(make)


PEOPLE = [
    "learner",
    "classmate",
    "teacher",
    "other_teacher",
    "guardian",
    "other_guardian",
    "admin",
    "other_admin",
]


def _status(client, auth, world, who, method, url, data=None):
    auth.login(getattr(world, who))
    response = client.open(url, method=method, data=data)
    auth.logout()
    return response.status_code


def _matrix(client, auth, world, method, urls) -> dict[str, int]:
    """Each person's answer; every URL must answer the same for the same person."""
    answers = {}
    for who in PEOPLE:
        auth.login(getattr(world, who))
        codes = {client.open(url, method=method).status_code for url in urls}
        auth.logout()
        assert len(codes) == 1, (who, codes)
        answers[who] = codes.pop()
    return answers


READ = {
    "learner": 200,
    "classmate": 404,
    "teacher": 200,
    "other_teacher": 404,
    "guardian": 200,
    "other_guardian": 404,
    "admin": 200,
    "other_admin": 404,
}


def test_reading_a_goal(client, auth, world):
    goal = make_goal(world, status=GoalStatus.ACTIVE)
    urls = [f"/goals/{goal.id}", f"/goals/{goal.id}/history", f"/learners/{world.learner.id}/goals"]
    assert _matrix(client, auth, world, "GET", urls) == {who: READ[who] for who in PEOPLE}


EDIT = {
    "learner": 200,
    "classmate": 404,
    "teacher": 200,
    "other_teacher": 404,
    "guardian": 403,
    "other_guardian": 403,
    "admin": 403,
    "other_admin": 403,
}


def test_editing_a_goal(client, auth, world):
    goal = make_goal(world)
    url = f"/goals/{goal.id}/edit"
    assert _matrix(client, auth, world, "GET", [url]) == EDIT
    for who in PEOPLE:
        goal = make_goal(world)
        data = form_data(world, lock_version=str(goal.lock_version), target_level="4")
        expected = 303 if EDIT[who] == 200 else EDIT[who]
        assert _status(client, auth, world, who, "POST", f"/goals/{goal.id}/edit", data) == expected
        assert len(versions(goal.id)) == (2 if expected == 303 else 1), who


def test_closing_a_goal(client, auth, world):
    for who in PEOPLE:
        goal = make_goal(world, status=GoalStatus.ACTIVE)
        expected = 303 if EDIT[who] == 200 else EDIT[who]
        url = f"/goals/{goal.id}/status"
        assert _status(client, auth, world, who, "POST", url, {"status": "met"}) == expected, who
        assert (fresh(goal.id).status is GoalStatus.MET) == (expected == 303)


# Those who may sign (learner and teacher) get 409: only co-signing makes a goal agreed.
ACTIVATE = {**EDIT}


def test_marking_a_goal_agreed(client, auth, world):
    """No button makes a goal agreed: co-signing does (tests/test_conferences_signing.py)."""
    for who in PEOPLE:
        goal = make_goal(world, status=GoalStatus.PROPOSED)
        expected = 409 if ACTIVATE[who] == 200 else ACTIVATE[who]
        url = f"/goals/{goal.id}/status"
        assert _status(client, auth, world, who, "POST", url, {"status": "active"}) == expected, who
        assert fresh(goal.id).status is GoalStatus.PROPOSED


PROPOSE = {**EDIT, "learner": 403, "classmate": 403}


def test_proposing_a_goal(client, auth, world):
    url = f"/learners/{world.learner.id}/goals/new"
    assert _matrix(client, auth, world, "GET", [url]) == PROPOSE


SEARCH = {**EDIT}


def test_searching_targets_for_a_learner(client, auth, world):
    url = f"/learners/{world.learner.id}/goals/targets?q=rate"
    assert _matrix(client, auth, world, "GET", [url]) == SEARCH


CLASS = {
    "learner": 403,
    "classmate": 403,
    "teacher": 200,
    "other_teacher": 404,
    "guardian": 403,
    "other_guardian": 403,
    "admin": 200,
    "other_admin": 404,
}


def test_a_class_goal_list(client, auth, world):
    url = f"/classes/{world.school_class.id}/goals"
    assert _matrix(client, auth, world, "GET", [url]) == CLASS


TEMPLATES = {**CLASS, "admin": 403, "other_admin": 403}


def test_a_class_goal_templates(client, auth, world):
    urls = [
        f"/classes/{world.school_class.id}/goal-templates",
        f"/classes/{world.school_class.id}/goal-templates/targets?q=rate",
    ]
    assert _matrix(client, auth, world, "GET", urls) == TEMPLATES


RETIRE = {**TEMPLATES, "teacher": 303}


def test_retiring_a_template(client, auth, world):
    template = GoalTemplate(
        teacher_id=world.teacher.id, class_id=world.school_class.id, title="T", statement="S"
    )
    db.session.add(template)
    db.session.commit()
    url = f"/goal-templates/{template.id}/retire"
    assert _matrix(client, auth, world, "POST", [url]) == RETIRE


def test_learner_only_pages(client, auth, world):
    urls = ["/goals", "/goals/new", "/goals/templates"]
    expected = {who: 200 if who in ("learner", "classmate") else 403 for who in PEOPLE}
    assert _matrix(client, auth, world, "GET", urls) == expected
