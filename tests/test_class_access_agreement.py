"""The access layer answers twice, in Python for one object and in SQL for lists: both agree.

`can_view_class` (one class) and `class_access_sql` (a condition folded into list
queries) must give the same answer for every user and every class; so must
`relation()` (one learner) and `visible_learner_ids()` (a SELECT of ids). A generated
world holds every near miss: two districts, sibling schools, current and past terms,
teachers in no class, one class or two (one of them past), admins of each kind,
learners in and out of classes, guardians with active and paused links. Both are also
checked against the rules written out plainly here, so an error in both at once fails.

Year rollover: terms that ended 10, 59 and 61 days ago (the grace is 60 days), a
teacher who taught a learner last year and teaches them again this year, and a
deactivated learner in a current class (teachers no longer relate to them; admins do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from portal import policy
from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals.models import Goal, GoalStatus
from portal.profiles.models import Audience, ProfileSection
from portal.progress.models import ProgressEntry
from portal.roster.models import Org, SchoolClass, Term
from tests.fixtures.progress import goal as make_goal


@dataclass
class World:
    districts: list[Org]
    schools: list[Org]
    classes: list[SchoolClass]
    users: list[User]
    current_classes: set[int] = field(default_factory=set)
    grace_classes: set[int] = field(default_factory=set)  # ended, within the grace period
    inactive: set[int] = field(default_factory=set)  # deactivated learners
    teaches: dict[int, set[int]] = field(default_factory=dict)  # teacher id -> class ids
    learns: dict[int, set[int]] = field(default_factory=dict)  # learner id -> class ids
    follows: dict[int, set[int]] = field(default_factory=dict)  # guardian id -> learner ids


def build(make) -> World:
    districts = [make.district("North"), make.district("South")]
    schools = [
        make.school("North A", districts[0]),
        make.school("North B", districts[0]),
        make.school("South A", districts[1]),
    ]
    terms = {
        d.id: (make.term(current=True, org=d), make.term(current=False, org=d)) for d in districts
    }
    ended = {
        (d.id, days): make._add(
            Term(
                org_id=d.id,
                title=f"Ended {days} days ago",
                start_date=today() - timedelta(days=days + 200),
                end_date=today() - timedelta(days=days),
            )
        )
        for d in districts
        for days in (10, 59, 61)
    }
    world = World(districts, schools, [], [])
    for school in schools:
        current, past = terms[school.parent_id]
        learners = [make.learner(school) for _ in range(3)]
        idle, one, two = (make.teacher(school) for _ in range(3))
        now_class = make.school_class(one, learners[:2], term=current, school=school)
        other_now = make.school_class(two, learners[1:], term=current, school=school)
        old_class = make.school_class(two, learners, term=past, school=school)
        # A class without a teacher, and one taught by a teacher of another school.
        empty = make.school_class(None, [], term=current, school=school)
        world.classes += [now_class, other_now, old_class, empty]
        world.current_classes |= {now_class.id, other_now.id, empty.id}
        world.teaches |= {idle.id: set(), one.id: {now_class.id}}
        world.teaches[two.id] = {other_now.id, old_class.id}
        members = {now_class.id: learners[:2], other_now.id: learners[1:], old_class.id: learners}
        for class_id, in_class in members.items():
            for learner in in_class:
                world.learns.setdefault(learner.id, set()).add(class_id)
        guardian, paused = make.guardian(), make.guardian()
        make.link(guardian, learners[0])
        make.link(guardian, learners[2])
        make.link(paused, learners[1], active=False)
        world.follows |= {guardian.id: {learners[0].id, learners[2].id}, paused.id: set()}
        world.users += [*learners, idle, one, two, guardian, paused, make.school_admin(school)]
        # Last year's teacher: a class whose term ended 10, 59 and 61 days ago, one learner each.
        former, again = make.teacher(school), make.teacher(school)
        world.teaches[former.id], world.teaches[again.id] = set(), set()
        for learner, days in zip(learners, (10, 59, 61), strict=True):
            old = make.school_class(
                former, [learner], term=ended[(school.parent_id, days)], school=school
            )
            world.classes.append(old)
            world.teaches[former.id].add(old.id)
            world.learns[learner.id].add(old.id)
            if days < 60:
                world.grace_classes.add(old.id)
        # Taught learners[0] last year (ended 10 days ago) and again this year.
        last_year = make.school_class(
            again, [learners[0]], term=ended[(school.parent_id, 10)], school=school
        )
        this_year = make.school_class(again, [learners[0]], term=current, school=school)
        world.classes += [last_year, this_year]
        world.grace_classes.add(last_year.id)
        world.current_classes.add(this_year.id)
        world.teaches[again.id] = {last_year.id, this_year.id}
        world.learns[learners[0].id] |= {last_year.id, this_year.id}
        # A learner who left: deactivated, still enrolled in a current class.
        gone = make.learner(school, active=False)
        make.enroll(gone, now_class)
        world.learns[gone.id] = {now_class.id}
        world.inactive.add(gone.id)
        world.users += [former, again, gone]
    visiting = make.teacher(schools[0])  # teaches a class of a sibling school
    world.classes.append(
        make.school_class(visiting, [], term=terms[districts[0].id][0], school=schools[1])
    )
    world.current_classes.add(world.classes[-1].id)
    world.teaches[visiting.id] = {world.classes[-1].id}
    world.users += [visiting, *(make.district_admin(d) for d in districts)]
    make.commit()
    return world


def _schools_of(user: User, world: World) -> set[int]:
    """The schools an admin runs, written out."""
    if user.role is Role.SCHOOL_ADMIN:
        return {user.org_id}
    if user.role is Role.DISTRICT_ADMIN:
        return {s.id for s in world.schools if s.parent_id == user.org_id}
    return set()


def expected_classes(user: User, world: World) -> set[int]:
    if user.role is Role.TEACHER:
        return world.teaches.get(user.id, set()) & (world.current_classes | world.grace_classes)
    return {c.id for c in world.classes if c.school_id in _schools_of(user, world)}


def expected_learners(user: User, world: World) -> set[int]:
    learners = [u for u in world.users if u.role is Role.LEARNER]
    if user.id in world.inactive:
        return set()  # a deactivated account relates to no one, itself included
    match user.role:
        case Role.LEARNER:
            return {user.id}
        case Role.TEACHER:
            mine = expected_classes(user, world)
            return {
                lr.id
                for lr in learners
                if world.learns[lr.id] & mine and lr.id not in world.inactive
            }
        case Role.GUARDIAN:
            return world.follows.get(user.id, set())
    return {lr.id for lr in learners if lr.org_id in _schools_of(user, world)}


def expected_relation(user: User, learner: User, world: World):
    """A teacher's relation written out: this term's class wins over last year's."""
    if learner.id not in expected_learners(user, world):
        return policy.Relation.NONE
    if world.teaches.get(user.id, set()) & world.current_classes & world.learns[learner.id]:
        return policy.Relation.TEACHER
    return policy.Relation.FORMER_TEACHER


def test_teachers_relation_is_teacher_this_term_and_former_teacher_in_the_grace(make, app):
    world = build(make)
    learners = [u for u in world.users if u.role is Role.LEARNER]
    teachers = [u for u in world.users if u.role is Role.TEACHER]
    wrong = []
    with app.test_request_context():
        for user in teachers:
            for learner in learners:
                got, want = policy.relation(user, learner), expected_relation(user, learner, world)
                if got is not want:
                    wrong.append((user.username, learner.username, got, want))
                for action in policy.Action:
                    if policy.can(action, learner, user) is not (want in policy.RULES[action]):
                        wrong.append((user.username, learner.username, action))
            this_term = set(
                db.session.scalars(policy.teacher_learner_ids(user.id, current_only=True))
            )
            expected = {
                lr.id
                for lr in learners
                if expected_relation(user, lr, world) is policy.Relation.TEACHER
            }
            if this_term != expected:
                wrong.append((user.username, "current_only", this_term, expected))
    assert not wrong
    kinds = {expected_relation(t, lr, world) for t in teachers for lr in learners}
    assert kinds == {policy.Relation.NONE, policy.Relation.TEACHER, policy.Relation.FORMER_TEACHER}


def test_can_view_class_agrees_with_class_access_sql(make):
    world = build(make)
    disagreements = []
    for user in world.users:
        condition, params = policy.class_access_sql(user)
        in_sql = set(db.session.scalars(select(SchoolClass.id).where(condition), params))
        in_python = {c.id for c in world.classes if policy.can_view_class(c, user)}
        expected = expected_classes(user, world)
        if not in_sql == in_python == expected:
            disagreements.append((user.username, user.role, in_sql, in_python, expected))
    assert not disagreements
    # The world is not trivial: each kind of answer occurs.
    seen = [len(expected_classes(u, world)) for u in world.users]
    assert 0 in seen and 1 in seen and max(seen) >= 8


def test_relation_agrees_with_visible_learner_ids(make, app):
    world = build(make)
    learners = [u for u in world.users if u.role is Role.LEARNER]
    disagreements = []
    with app.test_request_context():
        for user in world.users:
            in_sql = set(db.session.scalars(policy.visible_learner_ids(user)))
            related = {
                lr.id for lr in learners if policy.relation(user, lr) is not policy.Relation.NONE
            }
            expected = expected_learners(user, world)
            if not in_sql == related == expected:
                disagreements.append((user.username, user.role, in_sql, related, expected))
    assert not disagreements
    seen = {len(expected_learners(u, world)) for u in world.users}
    assert {0, 1, 2} <= seen and max(seen) >= 6


def test_teacher_learner_ids_built_once_agrees_with_the_one_built_per_call(make):
    """TEACHER_LEARNER_IDS (bind parameters, for statements built once) is
    teacher_learner_ids(teacher) with the day and the grace as parameters."""
    world = build(make)
    teachers = [u for u in world.users if u.role is Role.TEACHER]
    disagreements = []
    for teacher in teachers:
        params = policy.teacher_learner_params(teacher)
        built_once = set(db.session.scalars(policy.TEACHER_LEARNER_IDS, params))
        per_call = set(db.session.scalars(policy.teacher_learner_ids(teacher.id)))
        if built_once != per_call or per_call != expected_learners(teacher, world):
            disagreements.append((teacher.username, built_once, per_call))
    assert not disagreements
    assert {len(expected_learners(t, world)) for t in teachers} >= {0, 1, 2}


def test_family_conditions_agree_with_their_python_twins(make):
    """What a family sees is one rule with two forms: the SQL conditions lists use and the
    checks loaders make on one row. Every goal status, entry and section state."""
    learner = make.learner()
    goals = [make_goal(make, learner, status=status) for status in GoalStatus]
    entries = [
        make._add(
            ProgressEntry(
                goal_id=goals[0].id,
                learner_id=learner.id,
                token=f"t{shared}",
                strategy_text="Practice",
                self_rating=2,
                reflection="Fine.",
                shared_with_family=shared,
            )
        )
        for shared in (True, False)
    ]
    sections = [
        make._add(ProfileSection(learner_id=learner.id, key=f"k{n}", audience=a, locked=locked))
        for n, (a, locked) in enumerate((a, lk) for a in Audience for lk in (True, False))
    ]
    make.commit()

    def in_sql(model, condition):
        return set(db.session.scalars(select(model.id).where(condition)))

    assert (
        in_sql(Goal, policy.family_goal_condition())
        == {g.id for g in goals if policy.family_sees_goal(g)}
        == {g.id for g in goals if g.status in (GoalStatus.ACTIVE, GoalStatus.MET)}
    )
    assert (
        in_sql(ProgressEntry, policy.family_entry_condition())
        == {e.id for e in entries if policy.family_sees_entry(e)}
        == {entries[0].id}
    )
    assert (
        in_sql(ProfileSection, policy.family_section_condition())
        == {s.id for s in sections if policy.family_sees_section(s)}
        == {s.id for s in sections if s.shared_with_family}
    )
    assert len(in_sql(ProfileSection, policy.family_section_condition())) == 1
