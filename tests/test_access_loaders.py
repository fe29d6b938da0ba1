"""The loaders of portal.policy, one by one: 404 for what a user may not reach, 403 for what
they may see but not do, and the object otherwise.

`load_school` replaced five hand-written school lookups (progress and conference
settings, the strategy bank, profile sections, the roster's school filters; the scale
editor too): every role against every kind of school.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden, NotFound

from portal import policy
from portal.auth.models import Role
from portal.conferences import scheduling
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import GoalStatus, GoalTemplate, Strategy
from portal.policy import Action
from portal.profiles import services as profiles
from portal.profiles.models import Audience
from portal.profiles.prompts import BUILT_IN
from portal.progress.models import ProgressEntry
from tests.fixtures.progress import goal as make_goal

MISSING = 987654


@contextmanager
def signed_in(app, user):
    with app.test_request_context():
        login_user(user)
        yield


def status_of(load, *args, **kwargs):
    """200 and the object, or the status the loader aborted with."""
    try:
        return 200, load(*args, **kwargs)
    except NotFound:
        return 404, None
    except Forbidden:
        return 403, None


# --- load_school -------------------------------------------------------------------------

# Which kinds of school each role may load: manage (settings, sections, roster filters)
# and keep (the strategy bank: teachers keep their own school's).
MANAGES = {
    Role.LEARNER: set(),
    Role.TEACHER: set(),
    Role.GUARDIAN: set(),
    Role.SCHOOL_ADMIN: {"own"},
    Role.DISTRICT_ADMIN: {"own", "sibling"},
}
KEEPS = {**MANAGES, Role.TEACHER: {"own"}}
# With nothing asked and own_by_default: the user's own school, if they may load it.
OWN_BY_DEFAULT = {
    Role.LEARNER: 404,  # their school is not theirs to manage (no route lets them ask)
    Role.TEACHER: 404,  # ... unless they keep its bank: see KEEPS
    Role.GUARDIAN: None,  # no school of their own
    Role.SCHOOL_ADMIN: "own",
    Role.DISTRICT_ADMIN: None,  # a district has many schools: they pick one
}


def _schools(make):
    home = make.default_school()
    sibling = make.school("Sibling School")
    elsewhere = make.school("Far School", make.district("Other District"))
    return {"own": home, "sibling": sibling, "other district": elsewhere}


def _user_of(make, role, home):
    if role is Role.GUARDIAN:
        guardian = make.guardian()
        make.link(guardian, make.learner(home))
        return guardian
    if role is Role.DISTRICT_ADMIN:
        return make.district_admin()
    return make.user(role, home)


@pytest.mark.parametrize("role", list(MANAGES), ids=lambda r: r.value)
def test_load_school_for_each_role_and_kind_of_school(app, make, role):
    schools = _schools(make)
    user = _user_of(make, role, schools["own"])
    make.commit()
    wrong = []
    with signed_in(app, user):
        for keeper, allowed in ((False, MANAGES[role]), (True, KEEPS[role])):
            asks = {kind: school.id for kind, school in schools.items()} | {"missing": MISSING}
            for kind, school_id in asks.items():
                expected = (200, school_id) if kind in allowed else (404, None)
                for given in (school_id, str(school_id)):  # a path, a query string
                    status, school = status_of(policy.load_school, given, keeper=keeper)
                    if (status, school and school.id) != expected:
                        wrong.append((keeper, kind, repr(given), status))
    assert not wrong


@pytest.mark.parametrize("role", list(MANAGES), ids=lambda r: r.value)
def test_load_school_when_nothing_is_asked(app, make, role):
    schools = _schools(make)
    user = _user_of(make, role, schools["own"])
    make.commit()
    with signed_in(app, user):
        for nothing in (None, ""):
            assert policy.load_school(nothing) is None  # e.g. "All schools" in a filter
        status, school = status_of(policy.load_school, None, own_by_default=True)
        expected = OWN_BY_DEFAULT[role]
        if expected == "own":
            assert (status, school.id) == (200, schools["own"].id)
        elif expected is None:
            assert (status, school) == (200, None)
        else:
            assert status == expected
        status, school = status_of(policy.load_school, None, keeper=True, own_by_default=True)
        if role in (Role.TEACHER, Role.SCHOOL_ADMIN):
            assert (status, school.id) == (200, schools["own"].id)


@pytest.mark.parametrize("garbage", ["abc", "0", "-1", "1.5", " ", "99999999999999999999"])
def test_load_school_refuses_what_is_no_id(app, make, garbage):
    admin = make.district_admin()
    make.commit()
    with signed_in(app, admin), pytest.raises(NotFound):
        policy.load_school(garbage)


def test_load_school_refuses_the_district_itself(app, make):
    admin = make.district_admin()
    make.commit()
    with signed_in(app, admin), pytest.raises(NotFound):
        policy.load_school(admin.org_id)


# --- A learner's records ---------------------------------------------------------------------


@pytest.fixture
def world(make):
    """A class of two learners with a teacher; a guardian of the first; a stranger teacher."""
    learner, classmate = make.learner(), make.learner()
    teacher, stranger = make.teacher(), make.teacher()
    school_class = make.school_class(teacher, [learner, classmate])
    make.school_class(stranger, [])
    guardian = make.guardian()
    make.link(guardian, learner)
    active = make_goal(make, learner)
    draft = make_goal(make, learner, status=GoalStatus.DRAFT)
    theirs = make_goal(make, classmate)
    make.commit()
    return {
        "learner": learner,
        "classmate": classmate,
        "teacher": teacher,
        "stranger": stranger,
        "guardian": guardian,
        "class": school_class,
        "active": active,
        "draft": draft,
        "theirs": theirs,
    }


def _entry(make, goal, shared: bool) -> ProgressEntry:
    return make._add(
        ProgressEntry(
            goal_id=goal.id,
            learner_id=goal.learner_id,
            token=secrets.token_hex(8),
            strategy_text="Practice",
            self_rating=2,
            reflection="It went well.",
            shared_with_family=shared,
        )
    )


def test_load_goal(app, make, world):
    w = world
    versionless = make_goal(make, w["learner"])
    versionless.current_version_id = None  # a goal without any version: nothing to show
    make.commit()
    with signed_in(app, w["teacher"]):
        assert policy.load_goal(w["active"].id, Action.EDIT_GOAL) is w["active"]
        assert status_of(policy.load_goal, MISSING)[0] == 404
        # A goal of another learner than the one the route loaded: absent.
        of = {"of_learner": w["learner"].id}
        assert status_of(policy.load_goal, w["theirs"].id, **of)[0] == 404
        assert policy.load_goal(w["active"].id, **of) is w["active"]
        assert status_of(policy.load_goal, versionless.id)[0] == 404
    with signed_in(app, w["stranger"]):
        assert status_of(policy.load_goal, w["active"].id)[0] == 404
    with signed_in(app, w["guardian"]):
        assert policy.load_goal(w["active"].id) is w["active"]
        assert status_of(policy.load_goal, w["active"].id, Action.EDIT_GOAL)[0] == 403
        assert status_of(policy.load_goal, w["theirs"].id)[0] == 404


def test_load_goal_hides_what_a_family_does_not_see(app, world):
    with signed_in(app, world["guardian"]):
        assert status_of(policy.load_goal, world["draft"].id)[0] == 404  # not even a 403
        assert status_of(policy.load_goal, world["draft"].id, Action.EDIT_GOAL)[0] == 404


def test_load_entry(app, make, world):
    w = world
    shared, private = _entry(make, w["active"], True), _entry(make, w["active"], False)
    theirs = _entry(make, w["theirs"], True)
    make.commit()
    with signed_in(app, w["teacher"]):
        assert policy.load_entry(private.id) == (private, w["active"])
        assert status_of(policy.load_entry, theirs.id, of_goal=w["active"].id)[0] == 404
        assert policy.load_entry(shared.id, of_goal=w["active"].id)[0] is shared
        assert status_of(policy.load_entry, MISSING)[0] == 404
    with signed_in(app, w["guardian"]):
        assert policy.load_entry(shared.id)[0] is shared
        assert status_of(policy.load_entry, private.id)[0] == 404
        assert status_of(policy.load_entry, shared.id, Action.GIVE_FEEDBACK)[0] == 403
    with signed_in(app, w["stranger"]):
        assert status_of(policy.load_entry, shared.id)[0] == 404


def test_load_conference(app, world):
    w = world
    conference = scheduling.schedule(
        w["learner"], w["teacher"], utcnow() + timedelta(days=1), class_id=w["class"].id
    )[0]
    db.session.commit()
    with signed_in(app, w["teacher"]):
        assert policy.load_conference(conference.id, Action.RUN_CONFERENCE) is conference
        of = {"of_learner": w["classmate"].id}
        assert status_of(policy.load_conference, conference.id, **of)[0] == 404
        assert status_of(policy.load_conference, MISSING)[0] == 404
    with signed_in(app, w["guardian"]):
        assert status_of(policy.load_conference, conference.id, Action.RUN_CONFERENCE)[0] == 403
    with signed_in(app, w["stranger"]):
        assert status_of(policy.load_conference, conference.id)[0] == 404


def test_load_profile_entry(app, world):
    w = world
    about, strengths = BUILT_IN[0], BUILT_IN[1]
    shared = profiles.add_entry(w["learner"], about, w["learner"], "I like maps.")
    private = profiles.add_entry(w["learner"], strengths, w["teacher"], "Kind to others.")
    profiles.set_audience(w["learner"], about, Audience.FAMILY)
    theirs = profiles.add_entry(w["classmate"], about, w["classmate"], "Mine.")
    db.session.commit()
    with signed_in(app, w["teacher"]):
        assert policy.load_profile_entry(w["learner"], private.id, own=True) is private
        assert status_of(policy.load_profile_entry, w["learner"], shared.id, own=True)[0] == 403
        assert status_of(policy.load_profile_entry, w["learner"], theirs.id)[0] == 404
        assert status_of(policy.load_profile_entry, w["learner"], MISSING)[0] == 404
    with signed_in(app, w["guardian"]):
        assert policy.load_profile_entry(w["learner"], shared.id) is shared
        assert status_of(policy.load_profile_entry, w["learner"], private.id)[0] == 404
    profiles.set_lock(w["learner"], about, True, w["teacher"])  # locked: staff only
    db.session.commit()
    with signed_in(app, w["guardian"]):
        assert status_of(policy.load_profile_entry, w["learner"], shared.id)[0] == 404


def test_load_review_request(app, world):
    w = world
    mine = profiles.request_review(w["learner"], "Please")
    theirs = profiles.request_review(w["classmate"], None)
    db.session.commit()
    with signed_in(app, w["teacher"]):
        assert policy.load_review_request(w["learner"], mine.id) is mine
        assert status_of(policy.load_review_request, w["learner"], theirs.id)[0] == 404
    profiles.resolve_review(mine, w["teacher"])
    db.session.commit()
    with signed_in(app, w["teacher"]):
        assert status_of(policy.load_review_request, w["learner"], mine.id)[0] == 404


# --- What schools keep ------------------------------------------------------------------------


def test_load_strategy_section_def_and_template(app, make):
    home, sibling = make.default_school(), make.school("Sibling")
    far = make.school("Far", make.district("Far District"))
    mine = make._add(Strategy(school_id=home.id, text="Practice"))
    next_door = make._add(Strategy(school_id=sibling.id, text="Practice"))
    teacher, colleague = make.teacher(home), make.teacher(home)
    template = make._add(GoalTemplate(teacher_id=teacher.id, title="Rates", statement="I will"))
    home_def = profiles.add_section_def(home.id, "Clubs", None)
    far_def = profiles.add_section_def(far.id, "Clubs", None)
    district_admin = make.district_admin()
    make.commit()
    with signed_in(app, teacher):
        assert policy.load_strategy(mine.id) is mine
        assert status_of(policy.load_strategy, next_door.id)[0] == 404
        assert policy.load_own_template(template.id) is template
        assert status_of(policy.load_section_def, home_def.id)[0] == 404  # admins only
    with signed_in(app, colleague):
        assert status_of(policy.load_own_template, template.id)[0] == 404
        assert status_of(policy.load_own_template, MISSING)[0] == 404
    with signed_in(app, district_admin):
        assert policy.load_strategy(next_door.id) is next_door
        assert policy.load_section_def(home_def.id) is home_def
        assert status_of(policy.load_section_def, far_def.id)[0] == 404
        assert status_of(policy.load_section_def, MISSING)[0] == 404


def test_load_learner_for_admin(app, make):
    learner, teacher = make.learner(), make.teacher()
    far = make.learner(make.school("Far", make.district("Far District")))
    guardian = make.guardian()
    make.link(guardian, learner)
    admin = make.school_admin()
    make.commit()
    with signed_in(app, admin):
        assert policy.load_learner_for_admin(learner.id) is learner
        assert policy.load_user_for_admin(guardian.id) is guardian  # a person, not a learner
        for not_a_learner_of_mine in (guardian.id, teacher.id, far.id, MISSING):
            assert status_of(policy.load_learner_for_admin, not_a_learner_of_mine)[0] == 404
    with signed_in(app, teacher):
        assert status_of(policy.load_learner_for_admin, learner.id)[0] == 404


# --- Through the routes: what changed when the hand-written loaders went ---------------------


def test_a_school_admin_cannot_configure_a_sibling_schools_profile_sections(make, client, auth):
    """?school= of a school they do not run was ignored (their own school's page came back,
    200); now, as on every other school page, it is a 404."""
    sibling = make.school("Sibling School")
    admin = make.school_admin()
    make.commit()
    auth.login(admin)
    assert client.get(f"/admin/profile-sections?school={admin.org_id}").status_code == 200
    assert client.get(f"/admin/profile-sections?school={sibling.id}").status_code == 404
    assert client.get("/admin/profile-sections").status_code == 200


def test_a_goal_without_a_version_is_absent_on_every_goal_page(make, client, auth, world):
    goal = make_goal(make, world["learner"])
    goal.current_version_id = None
    make.commit()
    auth.login(world["learner"])
    for url in (f"/goals/{goal.id}", f"/goals/{goal.id}/history", f"/goals/{goal.id}/edit"):
        assert client.get(url).status_code == 404, url


def test_load_offered_template(app, make):
    learner, teacher = make.learner(), make.teacher()
    mine = make.school_class(teacher, [learner])
    past = make.school_class(teacher, [learner], term=make.term(current=False))
    elsewhere = make.school_class(teacher, [make.learner()])

    def template(school_class, active=True):
        return make._add(
            GoalTemplate(
                teacher_id=teacher.id,
                class_id=school_class.id,
                title="Rates",
                statement="I will",
                active=active,
            )
        )

    offered, old, retired, theirs = (
        template(mine),
        template(past),
        template(mine, active=False),
        template(elsewhere),
    )
    make.commit()
    with signed_in(app, learner):
        assert policy.load_offered_template(offered.id, learner) is offered
        for not_offered in (old.id, retired.id, theirs.id, MISSING):
            assert status_of(policy.load_offered_template, not_offered, learner)[0] == 404
