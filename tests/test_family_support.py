"""Builders shared by the family tests (no tests here): a family of two children and more."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.auth.models import User
from portal.goals.models import Goal, GoalVersionTarget
from portal.profiles import services as profiles
from portal.profiles.models import Audience
from portal.progress import services as progress
from portal.progress.forms import new_token
from portal.progress.models import Feedback, ProgressEntry
from portal.roster.models import GuardianLink, Org
from portal.targets.models import Framework, Target
from tests import test_progress_support as build

FAMILY_WORDS = "Maya is learning to compare amounts with ratios, like recipes."
TEACHER_NOTE_FOR_FAMILY = "Maya explained her ratio table to the class today."
PRIVATE_NOTE = "Check in privately about the missed homework."
SHARED_SECTION_TEXT = "I love drawing comics and building with Lego."
UNSHARED_SECTION_TEXT = "Loud rooms make it hard for me to focus."


@dataclass
class Family:
    school: Org
    maya: User
    leo: User  # Maya's brother
    other_child: User
    teacher: User
    other_teacher: User
    guardian: User  # Maya's and Leo's
    other_guardian: User  # other_child's only
    admin: User
    other_admin: User
    goal: Goal
    leo_goal: Goal
    entry: ProgressEntry
    link: GuardianLink


def add_target(make, goal: Goal, school: Org) -> Target:
    framework = make._add(Framework(org_id=school.id, title="Math 7"))
    target = make._add(
        Target(
            framework_id=framework.id,
            code="7.RP.A.1",
            statement="I can compute unit rates associated with ratios of fractions.",
            family_statement=FAMILY_WORDS,
        )
    )
    make._add(GoalVersionTarget(version_id=goal.current_version_id, target_id=target.id))
    return target


def build_family(make) -> Family:
    school = make.default_school()
    maya = make.learner(given_name="Maya", family_name="Johnson", grade=7)
    leo = make.learner(given_name="Leo", family_name="Johnson", grade=3)
    other_child = make.learner(given_name="Zed")
    teacher, other_teacher = make.teacher(), make.teacher()
    make.school_class(teacher=teacher, learners=[maya, leo])
    make.school_class(teacher=other_teacher, learners=[other_child])
    guardian = make.guardian(given_name="Ana", family_name="Garcia")
    other_guardian = make.guardian()
    link = make.link(guardian, maya)
    make.link(guardian, leo)
    make.link(other_guardian, other_child)
    build.scale(make)
    goal = build.goal(make, maya, statement="I will reach Proficient on ratios by May.")
    add_target(make, goal, school)
    leo_goal = build.goal(make, leo, statement="I will read two chapter books this month.")
    entry = progress.log_entry(
        goal,
        token=new_token(),
        strategy=str(goal.current_version.strategies[1].id),
        other_strategy=None,
        self_rating=2,
        reflection="I made a ratio table for pancakes.",
        link_url=None,
        stored=None,
        shared_with_family=True,
    )
    for body, for_families in ((TEACHER_NOTE_FOR_FAMILY, True), (PRIVATE_NOTE, False)):
        progress.add_feedback(
            goal, teacher, token=new_token(), body=body, rating=None, for_families=for_families
        )
    shared = profiles.find_spec(maya, "interests")
    profiles.add_entry(maya, shared, maya, SHARED_SECTION_TEXT)
    profiles.set_audience(maya, shared, Audience.FAMILY)
    profiles.add_entry(maya, profiles.find_spec(maya, "barriers"), maya, UNSHARED_SECTION_TEXT)
    other_school = make.school("Elsewhere")
    family = Family(
        school,
        maya,
        leo,
        other_child,
        teacher,
        other_teacher,
        guardian,
        other_guardian,
        make.school_admin(),
        make.school_admin(other_school),
        goal,
        leo_goal,
        entry,
        link,
    )
    make.commit()
    return family


@pytest.fixture
def family(make) -> Family:
    return build_family(make)


def feedback_count(session) -> int:
    return session.query(Feedback).count()


HX = {"HX-Request": "true"}
