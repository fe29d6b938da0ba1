"""Small groups stay hidden: the rules one by one, and an attack by subtraction that fails."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.core.extensions import babel
from portal.insights.compute import measure_table
from portal.insights.measures import MEASURES, SHARE
from portal.insights.scope import Scope
from portal.insights.suppression import MinCellError, RawRow, configured_min_cell, protect
from tests.fixtures.insights import end_of_last_cycle, goal, hand_world, learners


@pytest.fixture(scope="module")
def plain_app():
    """Rules on raw counts need only translations, no database."""
    app = Flask(__name__)
    babel.init_app(app)
    with app.app_context():
        yield app


def raw(key, learners_, **shares):
    row = RawRow(key, key, learners_)
    row.shares = {m.key: (0, learners_) for m in MEASURES if m.kind == SHARE}
    row.shares.update(shares)
    row.medians = {"entries_per_cycle": 2.0}
    return row


def recoverable(rows, total, column):
    """What subtraction gives for the one hidden cell of a column, or None if not one."""
    if column == "learners":
        cells = [learners for learners, _cells in rows]
        whole = total[0].numerator
    else:
        cells = [cells[column] for _learners, cells in rows]
        whole = total[1][column].numerator
    hidden = [c for c in cells if c.numerator is None and c.shown != "—"]
    if len(hidden) != 1 or whole is None:
        return None
    return whole - sum(c.numerator for c in cells if c.numerator is not None)


def test_small_group_and_its_complement_are_hidden(plain_app):
    rows = [
        raw("a", 40, agreed_goal=(20, 40)),
        raw("b", 12, agreed_goal=(6, 12)),
        raw("c", 3, agreed_goal=(2, 3)),
    ]
    total = raw("all", 55, agreed_goal=(28, 55))
    out, total_out = protect(rows, total, 10)
    (a_l, a), (b_l, b), (c_l, c) = out
    assert c_l.shown == "fewer than 10" and c["agreed_goal"].shown == "fewer than 10"
    assert c_l.numerator is None and c["agreed_goal"].numerator is None
    assert c["entries_per_cycle"].value is None  # a median of a small group is hidden too
    assert b_l.shown == "hidden" and b["agreed_goal"].numerator is None  # the complement
    assert a_l.shown == "40" and a["agreed_goal"].shown == "50%"
    for column in ["learners", *(m.key for m in MEASURES if m.kind == SHARE)]:
        assert recoverable(out, total_out, column) is None, column


def test_one_banded_numerator_gets_a_complement_in_its_column(plain_app):
    rows = [raw("a", 40, agreed_goal=(20, 40)), raw("b", 30, agreed_goal=(1, 30))]
    out, total_out = protect(rows, raw("all", 70, agreed_goal=(21, 70)), 10)
    assert out[1][1]["agreed_goal"].shown == "under 5%"
    assert out[1][1]["agreed_goal"].numerator is None and out[1][1]["agreed_goal"].band == "under"
    assert out[0][1]["agreed_goal"].shown == "hidden"
    assert recoverable(out, total_out, "agreed_goal") is None


def test_near_zero_and_hundred_only_for_groups_under_100(plain_app):
    out, _total = protect(
        [
            raw("small", 99, agreed_goal=(98, 99), own_words=(4, 99)),
            raw("small too", 50, agreed_goal=(50, 50), own_words=(0, 50)),
            raw("big", 100, agreed_goal=(99, 100), own_words=(4, 100)),
        ],
        raw("all", 249, agreed_goal=(247, 249), own_words=(8, 249)),
        10,
    )
    small, big = out[0][1], out[2][1]  # two banded cells per column: no complement needed
    assert small["agreed_goal"].shown == "over 95%" and small["own_words"].shown == "under 5%"
    assert big["agreed_goal"].shown == "99%" and big["own_words"].shown == "4%"


def test_goal_share_over_few_goals_is_hidden(plain_app):
    (row,), _t = protect([raw("a", 40, level_rose=(3, 4))], raw("all", 40), 10)
    assert row[1]["level_rose"].shown == "fewer than 10" and row[1]["level_rose"].value is None


@pytest.mark.parametrize(("value", "ok"), [(5, True), (10, True), (4, False), ("x", False)])
def test_min_cell_is_never_below_five(plain_app, value, ok):
    plain_app.config["INSIGHTS_MIN_CELL"] = value
    if ok:
        assert configured_min_cell() == value
        out, _t = protect([raw("a", 5), raw("b", 5)], raw("all", 10), value)
        assert out[0][0].shown == ("5" if value == 5 else "fewer than 10")
    else:
        with pytest.raises(MinCellError):
            configured_min_cell()
    plain_app.config.pop("INSIGHTS_MIN_CELL")


@pytest.mark.usefixtures("backend")
def test_subtracting_shown_schools_from_the_district_recovers_nothing(make):
    district = make.default_district()
    t = end_of_last_cycle(district.id)
    big = make.school("A Big School")
    world = hand_world(make, big, t)
    mid, tiny = make.school("B Middle School"), make.school("C Tiny School")
    for school, count, agreed in ((mid, 12, 6), (tiny, 3, 2)):
        teacher = make.teacher(school)
        for i, learner in enumerate(learners(make, school, count, t)):
            if i < agreed:
                goal(learner, teacher, t)
    make.commit()
    table = measure_table(Scope(district.id), by="school", as_of=t)
    by_label = {row.label: row for row in table.rows}
    assert by_label["A Big School"].cells["agreed_goal"].shown == world.expected["agreed_goal"]
    assert by_label["C Tiny School"].learners.shown == "fewer than 10"
    assert by_label["B Middle School"].learners.shown == "hidden"
    # The attack: district total minus the schools shown.
    total = table.total.cells["agreed_goal"].numerator
    shown = sum(
        r.cells["agreed_goal"].numerator
        for r in table.rows
        if r.cells["agreed_goal"].numerator is not None
    )
    assert total - shown == 8  # B and C together: C's 2 cannot be told apart
    assert table.total.learners.numerator - 31 == 15
    for row in table.rows[1:]:
        assert all(c.numerator is None and c.value is None for c in row.cells.values())


@pytest.mark.usefixtures("backend")
def test_min_cell_five_shows_a_group_of_five(make, app):
    app.config["INSIGHTS_MIN_CELL"] = 5
    district = make.default_district()
    t = end_of_last_cycle(district.id)
    for name in ("Five", "Six"):
        learners(make, make.school(name), 5 if name == "Five" else 6, t)
    make.commit()
    table = measure_table(Scope(district.id), by="school", as_of=t)
    assert [r.learners.shown for r in table.rows] == ["5", "6"]
    assert table.min_cell == 5
    app.config["INSIGHTS_MIN_CELL"] = 4
    with pytest.raises(MinCellError):
        measure_table(Scope(district.id), as_of=t)
