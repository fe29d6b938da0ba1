"""Change stamps: every model says what it touches, and each commit bumps exactly that."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from portal.auth.models import User
from portal.auth.services import recent_failures
from portal.core import stamps
from portal.core.extensions import db
from portal.profiles.models import ProfileEntry, ProfileSection
from portal.progress.models import GoalProgress
from portal.roster.models import SchoolClass
from tests.fixtures import progress as build


def _models():
    # Sorted: the registry is a set, and every xdist worker must collect the same tests.
    return sorted((m.class_ for m in db.Model.registry.mappers), key=lambda c: c.__name__)


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_model_declares_what_it_touches(model):
    assert "__stamp__" in model.__dict__, f"{model.__name__} has no __stamp__ of its own"
    decl = stamps.declaration(model)
    assert decl in (stamps.SITE, stamps.NOTHING) or isinstance(decl, stamps.Learner | stamps.Via)
    if isinstance(decl, stamps.Learner | stamps.Via):
        assert decl.attribute in model.__table__.columns, decl
    if isinstance(decl, stamps.Via):
        names = {m.__name__ for m in _models()}
        assert decl.parent in names, decl


@pytest.fixture
def two_learners(make):
    teacher = make.teacher()
    maya, leo = make.learner(given_name="Maya"), make.learner(given_name="Leo")
    school_class = make.school_class(teacher=teacher, learners=[maya, leo])
    build.scale(make)
    make.commit()
    return maya, leo, school_class


def _now(learner):
    return stamps.learner_stamp(learner.id)


@pytest.mark.both_backends
def test_an_entry_bumps_its_learner_only(make, two_learners):
    maya, leo, _ = two_learners
    goal = build.goal(make, maya)
    make.commit()
    site, maya_before = _now(maya)
    leo_before = _now(leo)[1]
    build.entry(make, goal, 2)
    make.commit()
    assert _now(maya) == (site, maya_before + 1)  # one bump per transaction
    assert _now(leo)[1] == leo_before


@pytest.mark.both_backends
def test_shared_data_bumps_the_site(make, two_learners):
    maya, _, school_class = two_learners
    site, mine = _now(maya)
    db.session.get(SchoolClass, school_class.id).title = "Renamed"
    db.session.commit()
    assert _now(maya) == (site + 1, mine)


def test_rows_reached_through_a_parent_bump_the_learner(make, two_learners):
    maya, _, _ = two_learners
    section = ProfileSection(learner_id=maya.id, key="strengths")
    db.session.add(section)
    db.session.commit()
    before = _now(maya)[1]
    db.session.add(ProfileEntry(section_id=section.id, author_id=maya.id))
    db.session.commit()
    assert _now(maya)[1] == before + 1


def test_a_rollback_bumps_nothing(make, two_learners):
    maya, _, _ = two_learners
    goal = build.goal(make, maya)
    make.commit()
    before = _now(maya)
    build.entry(make, goal, 2)
    db.session.rollback()
    db.session.commit()
    assert _now(maya) == before


def test_sign_in_bookkeeping_does_not_bump_the_site(client, make, two_learners):
    maya, _, _ = two_learners
    before = _now(maya)
    client.post("/signin", data={"login": maya.username, "password": "wrong password"})
    assert recent_failures(maya) == 1
    assert _now(maya) == before
    user = db.session.get(User, maya.id)
    user.preferred_name = "May"
    db.session.commit()
    assert _now(maya)[0] == before[0] + 1  # a name shows on other people's pages


def test_a_bulk_update_of_learner_rows_bumps_the_site(make, two_learners):
    maya, _, _ = two_learners
    build.goal(make, maya)
    make.commit()
    site, _ = _now(maya)
    db.session.execute(update(GoalProgress).values(version=GoalProgress.version + 1))
    db.session.commit()
    assert _now(maya)[0] == site + 1


def test_a_never_bumped_stamp_reads_zero(make):
    learner = make.learner()
    make.commit()
    db.session.execute(db.delete(stamps.ChangeStamp))
    db.session.commit()
    assert stamps.learner_stamp(learner.id) == (0, 0)


