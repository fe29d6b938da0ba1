"""Every insight measure against a world counted by hand, on both backends."""

from __future__ import annotations

import pytest

from portal.insights.compute import measure_table
from portal.insights.scope import Scope
from tests.fixtures.insights import hand_world

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
