"""Shared set-up for the goal tests: a school with targets, a scale, a strategy bank, people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals import services
from portal.goals.models import Goal, GoalStatus, GoalTemplate, GoalVersion, Horizon, Strategy
from portal.goals.services import GoalContent
from portal.targets.models import (
    DEFAULT_LEVELS,
    MASTERY_VALUE,
    Framework,
    MasteryLevel,
    MasteryScale,
    Target,
    TargetKind,
)

HTMX = {"HX-Request": "true"}


@dataclass
class World:
    school: object
    other_school: object
    targets: list
    foreign_target: object
    bank: list
    teacher: object
    other_teacher: object
    learner: object
    classmate: object
    other_learner: object
    guardian: object
    other_guardian: object
    admin: object
    other_admin: object
    school_class: object
    other_class: object


def _framework(session, org, codes, grade=7):
    framework = Framework(org_id=org.id, title=f"Math {org.name}", subject="Mathematics")
    session.add(framework)
    session.flush()
    group = Target(framework_id=framework.id, kind=TargetKind.GROUP, statement="Ratios", code="RP")
    session.add(group)
    session.flush()
    targets = []
    for i, (code, statement) in enumerate(codes):
        target = Target(
            framework_id=framework.id,
            parent_id=group.id,
            kind=TargetKind.TARGET,
            code=code,
            statement=statement,
            grade_low=grade,
            grade_high=grade,
            position=i,
        )
        session.add(target)
        targets.append(target)
    session.flush()
    return targets


def _scale(session, school):
    scale = MasteryScale(
        school_id=school.id,
        levels=[
            MasteryLevel(value=v, label=label, description=d, is_mastery=v == MASTERY_VALUE)
            for v, label, d in DEFAULT_LEVELS
        ],
    )
    session.add(scale)
    session.flush()
    return scale


def build_world(make) -> World:
    session = db.session
    school = make.default_school()
    other_school = make.school("Other School")
    targets = _framework(
        session,
        school,
        [
            ("7.RP.1", "I can compute unit rates with fractions."),
            ("7.RP.2", "I can tell whether two quantities are in a proportional relationship."),
            ("7.RP.3", "I can use proportions to solve percent problems."),
            ("7.NS.1", "I can add and subtract rational numbers."),
            ("7.NS.2", "I can multiply and divide rational numbers."),
            ("7.EE.1", "I can expand and factor linear expressions."),
        ],
    )
    foreign = _framework(session, other_school, [("9.A.1", "I can solve linear equations.")], 9)
    _scale(session, school)
    _scale(session, other_school)
    bank = [
        Strategy(school_id=school.id, text="Practice 20 minutes 3 times a week"),
        Strategy(school_id=school.id, text="Work with a peer tutor"),
        Strategy(school_id=school.id, text="Ask for a mini-lesson"),
        Strategy(school_id=school.id, text="Redo missed quiz questions"),
        Strategy(school_id=school.id, text="Explain my thinking out loud"),
        Strategy(school_id=school.id, text="Use the worked examples"),
    ]
    session.add_all(bank)
    teacher, other_teacher = make.teacher(), make.teacher()
    learner = make.learner(grade=7, given_name="Maya")
    classmate = make.learner(grade=7, given_name="Omar")
    other_learner = make.learner(grade=7, given_name="Zed")
    school_class = make.school_class(teacher=teacher, learners=[learner, classmate], title="Math 7")
    other_class = make.school_class(
        teacher=other_teacher, learners=[other_learner], title="Math 7B"
    )
    guardian, other_guardian = make.guardian(), make.guardian()
    make.link(guardian, learner)
    make.link(other_guardian, other_learner)
    admin = make.school_admin(school)
    other_admin = make.school_admin(other_school)
    make.commit()
    return World(
        school=school,
        other_school=other_school,
        targets=targets,
        foreign_target=foreign[0],
        bank=bank,
        teacher=teacher,
        other_teacher=other_teacher,
        learner=learner,
        classmate=classmate,
        other_learner=other_learner,
        guardian=guardian,
        other_guardian=other_guardian,
        admin=admin,
        other_admin=other_admin,
        school_class=school_class,
        other_class=other_class,
    )


def content(world: World, **overrides) -> GoalContent:
    values = {
        "statement": "I will reach Proficient on unit rates by practising with Omar.",
        "target_ids": [world.targets[0].id],
        "target_level": 3,
        "due_date": today() + timedelta(days=21),
        "strategies": [(world.bank[0].id, world.bank[0].text), (None, "Check my answers twice")],
        "supports": "A mini-lesson on complex fractions",
    }
    values.update(overrides)
    return GoalContent.build(**values)


def make_goal(
    world: World,
    learner=None,
    author=None,
    status: GoalStatus | None = None,
    horizon: Horizon = Horizon.SHORT,
    parent: Goal | None = None,
    template: GoalTemplate | None = None,
    **overrides,
) -> Goal:
    learner = learner or world.learner
    goal = services.create_goal(
        learner,
        author or learner,
        content(world, **overrides),
        horizon=horizon,
        parent=parent,
        template=template,
    )
    if status is not None:
        goal.status = status
    db.session.commit()
    return goal


def form_data(world: World, **overrides) -> dict:
    """A valid goal form post; override or drop (value None) any field."""
    data = {
        "statement": "I will reach Proficient on unit rates by practising with Omar.",
        "horizon": "short",
        "parent_goal_id": "",
        "targets": [str(world.targets[0].id)],
        "target_level": "3",
        "due_date": (today() + timedelta(days=21)).isoformat(),
        "bank_strategies": [str(world.bank[0].id)],
        "own_strategies-0": "Check my answers twice",
        "own_strategies-1": "",
        "supports": "A mini-lesson on complex fractions",
        "action": "save",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def versions(goal_id: int) -> list[GoalVersion]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(GoalVersion).where(GoalVersion.goal_id == goal_id).order_by(GoalVersion.number)
        )
    )


def fresh(goal_id: int) -> Goal:
    db.session.expire_all()
    return db.session.get(Goal, goal_id)
