"""Goal services: versions and their hashes, voice, the status machine, diffs, locking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals import diff, services
from portal.goals.models import Goal, GoalStatus, GoalTemplate, Horizon, Voice
from portal.goals.services import GoalContent, GoalError
from tests.fixtures.goals import build_world, content, fresh, make_goal, versions


@pytest.fixture
def world(make):
    return build_world(make)


def test_content_hash_is_canonical(world):
    a = content(world, target_ids=[world.targets[0].id, world.targets[1].id])
    b = content(
        world,
        target_ids=[world.targets[1].id, world.targets[0].id],
        statement="  I will reach Proficient on unit rates   by practising with Omar.\r\n",
    )
    assert a.content_hash == b.content_hash
    assert len(a.content_hash) == 64
    assert content(world, target_level=4).content_hash != a.content_hash
    assert content(world, supports="").content_hash != a.content_hash


def test_first_version_records_author_voice_and_hash(world):
    goal = make_goal(world)
    version = goal.current_version
    assert goal.status is GoalStatus.DRAFT
    assert version.number == 1 and version.author_id == world.learner.id
    assert version.voice is Voice.LEARNER
    assert version.content_hash == GoalContent.of(version).content_hash
    assert [s.text for s in version.strategies] == [
        "Practice 20 minutes 3 times a week",
        "Check my answers twice",
    ]
    assert version.strategies[0].strategy_id == world.bank[0].id


def test_unchanged_content_makes_no_version(world):
    goal = make_goal(world)
    lock = goal.lock_version
    assert services.save_content(goal, world.learner, content(world)) is None
    db.session.commit()
    assert len(versions(goal.id)) == 1
    assert fresh(goal.id).lock_version == lock


def test_changed_content_makes_a_new_current_version(world):
    goal = make_goal(world)
    lock = goal.lock_version
    new = services.save_content(
        goal, world.learner, content(world, due_date=today() + timedelta(days=30))
    )
    db.session.commit()
    goal = fresh(goal.id)
    assert new is not None and new.number == 2
    assert goal.current_version_id == new.id
    assert goal.lock_version > lock
    assert [v.number for v in versions(goal.id)] == [1, 2]


def test_words_stay_teachers_until_the_learner_rewrites_them(world):
    goal = make_goal(world, author=world.teacher, statement="Reach Proficient on unit rates.")
    assert goal.status is GoalStatus.PROPOSED
    assert goal.current_version.voice is Voice.TEACHER
    v2 = services.save_content(
        goal,
        world.learner,
        content(world, statement="Reach Proficient on unit rates.", target_level=4),
    )
    assert v2.voice is Voice.TEACHER
    v3 = services.save_content(
        goal,
        world.learner,
        content(world, statement="I want to get unit rates by June.", target_level=4),
    )
    assert v3.voice is Voice.LEARNER


def test_adapting_a_template_is_the_learners_voice_only_once_rewritten(world):
    template = GoalTemplate(
        teacher_id=world.teacher.id,
        class_id=world.school_class.id,
        title="Unit rates",
        statement="I will reach Proficient on unit rates.",
    )
    db.session.add(template)
    db.session.flush()
    same = make_goal(world, template=template, statement="I will reach Proficient on unit rates.")
    assert same.current_version.voice is Voice.TEACHER
    assert same.template_id == template.id
    rewritten = make_goal(world, template=template, statement="I will get unit rates down.")
    assert rewritten.current_version.voice is Voice.LEARNER


ALLOWED = {
    (GoalStatus.DRAFT, GoalStatus.PROPOSED),
    (GoalStatus.DRAFT, GoalStatus.ARCHIVED),
    (GoalStatus.PROPOSED, GoalStatus.ACTIVE),
    (GoalStatus.PROPOSED, GoalStatus.DRAFT),
    (GoalStatus.PROPOSED, GoalStatus.ARCHIVED),
    (GoalStatus.ACTIVE, GoalStatus.PROPOSED),
    (GoalStatus.ACTIVE, GoalStatus.MET),
    (GoalStatus.ACTIVE, GoalStatus.NOT_MET),
    (GoalStatus.ACTIVE, GoalStatus.REVISED),
    (GoalStatus.ACTIVE, GoalStatus.ARCHIVED),
    (GoalStatus.MET, GoalStatus.ARCHIVED),
    (GoalStatus.NOT_MET, GoalStatus.ARCHIVED),
    (GoalStatus.REVISED, GoalStatus.ARCHIVED),
}


@pytest.mark.parametrize("start", list(GoalStatus))
def test_status_machine_allows_only_listed_transitions(start):
    goal = Goal(status=start)
    for to in GoalStatus:
        assert services.can_transition(goal, to) == ((start, to) in ALLOWED), (start, to)


def test_transition_refuses_a_jump(world):
    from portal.conferences import signing

    goal = make_goal(world)
    with pytest.raises(GoalError):
        services.transition(goal, GoalStatus.MET, world.learner)
    services.transition(goal, GoalStatus.PROPOSED, world.learner)
    with pytest.raises(GoalError):
        services.activate(goal, world.teacher)  # agreeing needs both signatures
    signing.sign(goal, goal.current_version_id, world.learner)
    assert goal.status is GoalStatus.PROPOSED
    signing.sign(goal, goal.current_version_id, world.teacher)  # activates
    assert goal.status is GoalStatus.ACTIVE and goal.agreed_version_id == goal.current_version_id


def test_changing_an_agreed_goal_needs_agreeing_again(world):
    goal = make_goal(world, status=GoalStatus.ACTIVE)
    agreed = goal.current_version
    services.save_content(goal, world.learner, content(world, target_level=4))
    # It stays agreed on the old wording until both sign the new one (portal/conferences).
    assert goal.status is GoalStatus.ACTIVE and goal.agreed_version is agreed
    assert goal.changed_since_signed and goal.current_version is not agreed


def test_ladder_only_to_own_long_term_goal(world):
    long_goal = make_goal(world, horizon=Horizon.LONG)
    child = make_goal(world, parent=long_goal)
    assert child.parent_goal_id == long_goal.id
    short_goal = make_goal(world)
    others = make_goal(world, learner=world.classmate, horizon=Horizon.LONG)
    for parent in (short_goal, others):
        with pytest.raises(GoalError):
            make_goal(world, parent=parent)
    with pytest.raises(GoalError):
        make_goal(world, horizon=Horizon.LONG, parent=long_goal)


def test_stale_save_raises(world):
    goal = make_goal(world)
    # Someone else saves meanwhile: the row's lock_version moves on behind the ORM's back.
    db.session.execute(
        update(Goal).where(Goal.id == goal.id).values(lock_version=Goal.lock_version + 1),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(StaleDataError):
        services.save_content(goal, world.learner, content(world, target_level=4))
    db.session.rollback()


def test_word_diff_marks_inserted_and_deleted_words():
    chunks = diff.word_diff("I will practise fractions daily", "I will practise unit rates daily")
    assert [(c.op, c.text) for c in chunks if c.op != "equal"] == [
        ("delete", "fractions"),
        ("insert", "unit rates"),
    ]
    assert "".join(c.text for c in chunks if c.op != "delete") == (
        "I will practise unit rates daily"
    )


def test_version_diff_lists_what_changed(world):
    goal = make_goal(world)
    services.save_content(
        goal,
        world.learner,
        content(
            world,
            statement="I will reach Proficient on unit rates by practising alone.",
            target_ids=[world.targets[1].id],
            target_level=4,
            due_date=today() + timedelta(days=35),
            strategies=[(None, "Check my answers twice"), (None, "Watch the video")],
        ),
    )
    db.session.commit()
    first, second = versions(goal.id)
    d = diff.version_diff(first, second)
    assert d.changed and d.statement_changed
    assert [t.id for t in d.targets_added] == [world.targets[1].id]
    assert [t.id for t in d.targets_removed] == [world.targets[0].id]
    assert d.strategies_added == ["Watch the video"]
    assert d.strategies_removed == ["Practice 20 minutes 3 times a week"]
    assert d.level == (3, 4)
    assert d.due_date == (first.due_date, second.due_date)
    assert d.supports is None
    entries = diff.history([first, second])
    assert [v.number for v, _ in entries] == [2, 1]
