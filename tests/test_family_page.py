"""The family page's loader (portal/family/page.py) and the guardian's children
(policy.guardian_children): what they build matches what the generic functions build, and
the child's page and its htmx block stay within the statement budget."""

from __future__ import annotations

import pytest

from portal.core.extensions import db
from portal.family.page import family_page
from portal.goals.models import GoalStatus
from portal.policy import Relation, guardian_children, relation
from portal.progress.models import LevelMethod, ProgressSettings
from portal.progress.tracker import tracker_for
from tests.fixtures import family as fam
from tests.fixtures import progress as build
from tests.test_cards_family import COLD_FAMILY_PAGE_BUDGET, HX, _get, _listing, _rich_family

TRACKER_FIELDS = ("method", "summary", "token", "raw_points", "values", "current")


@pytest.fixture
def rich_family(make):
    return _rich_family(make)


@pytest.mark.parametrize("method", [None, LevelMethod.MEAN_LAST_N, LevelMethod.HIGHEST])
def test_family_trackers_are_the_trackers_progress_builds(app, make, rich_family, method):
    """Same scale, method, summary, token and levels as progress.tracker.tracker_for."""
    family = rich_family
    if method is not None:
        db.session.add(ProgressSettings(school_id=family.school.id, method=method, n=2))
    build.entry(make, family.goal, 3)  # a second rating: a current level to compute
    make.commit()
    with app.test_request_context():
        page = family_page(family.maya)
        assert page.child.goals
        for view in page.child.goals:
            ours = view.tracker
            theirs = tracker_for(view.goal, view.version)
            assert ours.version is theirs.version is view.version
            for name in TRACKER_FIELDS:
                assert getattr(ours, name) == getattr(theirs, name), name
            assert ours.labels == theirs.labels and ours.chart == theirs.chart
    assert any(v.tracker.current is not None for v in page.child.goals)


def test_family_page_shows_the_agreed_wording_and_the_reached_goals(app, make, rich_family):
    """A later unsigned edit stays off the family page; reached goals show their words."""
    family = rich_family
    goal = family.goal
    goal.agreed_version_id = goal.current_version_id
    make.commit()
    agreed_statement = goal.current_version.statement
    newer = build.goal(make, family.maya, statement="placeholder").current_version
    newer.goal_id, newer.number, newer.statement = goal.id, 99, "An unsigned rewording"
    goal.current_version_id = newer.id
    make.commit()
    with app.test_request_context():
        page = family_page(family.maya)
    shown = {v.goal.id: v for v in page.child.goals}
    assert shown[goal.id].version.statement == agreed_statement
    assert shown[goal.id].tracker.version.statement == agreed_statement
    agreed = {a.goal.id: a for a in page.conferences.agreed}
    assert agreed[goal.id].agreed.version.statement == agreed_statement
    assert agreed[goal.id].changed_since_signed
    assert "Maya met" in page.child.reached
    assert all(v.goal.status is GoalStatus.ACTIVE for v in page.child.goals)


def test_guardian_children_settle_the_relation_without_queries(
    app, make, rich_family, count_queries
):
    family = rich_family
    for person in (family.guardian, family.maya, family.leo):
        db.session.refresh(person)  # loaded before counting, as the session lookup does
    with app.test_request_context():
        with count_queries() as statements:
            children = guardian_children(family.guardian)
            assert [c.given_name for c in children] == ["Leo", "Maya"]
            assert relation(family.guardian, family.maya) is Relation.GUARDIAN
            assert relation(family.guardian, family.leo) is Relation.GUARDIAN
        assert len(statements) == 1
        assert relation(family.guardian, family.other_child) is Relation.NONE
        assert guardian_children(family.teacher) == []


def test_a_paused_link_is_no_child_and_no_relation(app, client, auth, make, rich_family):
    family = rich_family
    family.link.active = False  # the school paused the link to Maya
    make.commit()
    with app.test_request_context():
        assert [c.given_name for c in guardian_children(family.guardian)] == ["Leo"]
        assert relation(family.guardian, family.maya) is Relation.NONE
    auth.login(family.guardian)
    assert client.get(f"/family/children/{family.maya.id}").status_code == 404
    assert client.get(f"/family/children/{family.other_child.id}").status_code == 404
    assert "Leo extra goal 2" in _get(client, "/")


@pytest.mark.parametrize("headers", [None, HX], ids=["page", "htmx"])
def test_a_childs_page_within_the_statement_budget(
    app, client, auth, make, count_queries, rich_family, headers
):
    family = rich_family
    auth.login(family.guardian)
    url = f"/family/children/{family.maya.id}"
    _get(client, url, headers)
    with count_queries() as statements:
        html = _get(client, url, headers)
    assert "Maya extra goal 2" in html and "Maya did well." in html
    assert len(statements) <= COLD_FAMILY_PAGE_BUDGET, _listing(statements)


def test_the_family_page_in_the_budget_without_goals(app, client, auth, make, count_queries):
    """A child with nothing yet: fewer statements, the same page."""
    family = fam.build_family(make)
    for goal in (family.goal, family.leo_goal):
        goal.status = GoalStatus.DRAFT
    make.commit()
    auth.login(family.guardian)
    _get(client, "/")
    with count_queries() as statements:
        html = _get(client, "/")
    assert "has no goal agreed with a teacher right now" in html
    assert len(statements) <= COLD_FAMILY_PAGE_BUDGET, _listing(statements)
