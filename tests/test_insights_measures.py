"""Every insight measure against a world counted by hand, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.insights.compute import (
    GROUP_BREAKDOWNS,
    UnknownBreakdown,
    available_breakdowns,
    measure_table,
    trend,
)
from portal.insights.scope import Scope
from tests.fixtures.insights import demographics, goal, hand_world, learners

pytestmark = pytest.mark.usefixtures("backend")


def test_every_measure_matches_the_hand_count(make):
    world = hand_world(make)
    table = measure_table(Scope(world.school.parent_id), as_of=world.t)
    shown = {key: cell.shown for key, cell in table.total.cells.items()}
    assert shown == world.expected
    assert table.total.learners.shown == "31"
    assert table.total.cells["agreed_goal"].numerator == 23
    assert table.total.cells["agreed_goal"].denominator == 31
    assert table.cycle_end == world.t

    # The time machine: a cycle earlier, only what had happened by then counts.
    earlier = world.t - timedelta(days=30)
    table = measure_table(Scope(world.school.parent_id), as_of=earlier)
    shown = {key: cell.shown for key, cell in table.total.cells.items()}
    assert shown["agreed_goal"] == "74%"  # signed 50 days before T
    assert shown["logged_14d"] == "42%"  # 13 / 31: the entries 40 days before T
    assert shown["conference_this_cycle"] == "under 5%"  # 1 / 31, in a group under 100
    assert shown["profile_updated_90d"] == "16%"  # 5 / 31: written 100 days before T
    assert shown["met_by_due"] == "—"  # no goal was due in that cycle
    assert (table.cycle_start, table.cycle_end) == (earlier - timedelta(days=30), earlier)
    tables = trend(Scope(world.school.parent_id), cycles=3)
    assert [t.total.cells["agreed_goal"].shown for t in tables[1:]] == ["74%", "74%"]
    assert tables[1].cycle_end == world.t and tables[0].as_of == earlier
    assert tables[2].as_of > world.t


def test_each_breakdown(make):
    world = hand_world(make)
    school, t = world.school, world.t
    teacher = make.teacher(school, given_name="Ana", family_name="Ruiz")
    seventh = learners(make, school, 12, t, grade=7)
    seventh_class = make.school_class(teacher, seventh, school=school, title="Math 7")
    for learner in seventh[:6]:
        goal(learner, teacher, t)
    for i, learner in enumerate(world.learners):
        demographics(
            learner,
            sex=None if i == 30 else ("female" if i < 16 else "male"),
            white=i < 20,
            asian=i >= 20,
            hispanic_or_latino_ethnicity=i < 10,
            programs={"ell": "Y"} if i < 12 else {"frl": "Y"},
        )
    make.commit()
    scope = Scope(school.parent_id, school_ids=(school.id,))

    def rows(by):
        table = measure_table(scope, by=by, as_of=t)
        return {
            r.key: (r.label, r.learners.shown, r.cells["agreed_goal"].shown) for r in table.rows
        }

    assert rows("grade") == {
        "grade:6": ("Grade 6", "31", "74%"),
        "grade:7": ("Grade 7", "12", "50%"),
    }
    assert rows("school") == {f"school:{school.id}": (school.name, "43", "67%")}  # 29 / 43
    classes = rows("class")
    assert classes[f"class:{seventh_class.id}"] == ("Math 7", "12", "50%")
    assert sorted(v[1] for v in classes.values()) == ["12", "31"]
    assert rows("teacher")[f"teacher:{teacher.id}"] == ("Ana Ruiz", "12", "50%")
    # Groups: only the hand world's 31 have demographics; the 12 others are "not reported".
    sex = rows("sex")
    assert sex["sex:female"] == ("Female", "16", "over 95%")  # 16 / 16 agreed
    assert sex["sex:male"][1] == "14"
    assert sex["sex:not_reported"][1] == "13"
    race = rows("race")
    assert race["race:white"] == ("White", "20", "over 95%")
    assert race["race:asian"][:2] == ("Asian", "11")
    assert rows("ethnicity")["ethnicity:hispanic_or_latino"][1] == "10"
    assert {k: v[1] for k, v in rows("program:ell").items()} == {
        "program:ell:yes": "12",
        "program:ell:no": "31",
    }
    offered = available_breakdowns(scope)
    assert "program:ell" in offered and "program:iep" not in offered and "sex" in offered
    assert not GROUP_BREAKDOWNS & set(available_breakdowns(scope, teacher=True))
    own = measure_table(Scope(school.parent_id, class_ids=(seventh_class.id,)), as_of=t)
    assert own.total.learners.shown == "12" and own.total.cells["agreed_goal"].shown == "50%"
    with pytest.raises(UnknownBreakdown):
        measure_table(scope, by="favourite colour")
