"""The level calculations, the pace projection and the next-step rules: pure functions."""

from datetime import datetime, timedelta

import pytest

from portal.progress.mastery import Method, current_level, is_stuck, least_used, project
from portal.progress.models import LevelMethod


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        (LevelMethod.MOST_RECENT, [1, 3, 2], 2.0),
        (LevelMethod.HIGHEST, [1, 3, 2], 3.0),
        (LevelMethod.MEAN_LAST_N, [1, 4, 2, 3], 3.0),  # n=3: (4+2+3)/3
        (LevelMethod.DECAYING, [1, 3], 2.3),  # 1*0.35 + 3*0.65
        (LevelMethod.DECAYING, [2], 2.0),
    ],
)
def test_each_method(kind, values, expected):
    assert current_level(values, Method(kind, n=3, decay_percent=65)) == pytest.approx(expected)


def test_no_ratings_has_no_level():
    assert current_level([], Method()) is None


def test_highest_remembers_ratings_no_longer_kept():
    assert current_level([2, 2], Method(LevelMethod.HIGHEST), highest=4) == 4.0


def test_mean_of_last_n_with_fewer_ratings_than_n():
    assert current_level([2, 4], Method(LevelMethod.MEAN_LAST_N, n=5)) == 3.0


def test_decaying_average_weights_newer_ratings_more():
    method = Method(LevelMethod.DECAYING, decay_percent=50)
    assert current_level([1, 2, 4], method) == pytest.approx(((1 * 0.5 + 2 * 0.5) * 0.5) + 2.0)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (LevelMethod.MOST_RECENT, "most recent rating"),
        (LevelMethod.HIGHEST, "highest rating"),
        (LevelMethod.MEAN_LAST_N, "average of the last 4 ratings"),
        (LevelMethod.DECAYING, "each new rating counts 70%, everything before it 30%"),
    ],
)
def test_describe_in_plain_words(app, kind, words):
    with app.test_request_context():
        text = Method(kind, n=4, decay_percent=70).describe()
    assert words in text
    assert "Teacher ratings count" in text


@pytest.mark.parametrize(
    ("values", "stuck"),
    [
        ([1, 2, 2, 2], True),  # three entries, no rise after the 2
        ([2, 2, 1], True),
        ([1, 2], False),  # too few
        ([1, 1, 2], False),  # a rise
        ([3, 3, 3], False),  # at target: not stuck
    ],
)
def test_stuck_after_three_entries_without_a_rise(values, stuck):
    assert is_stuck(values, target_level=3) is stuck


def test_projection_needs_two_points():
    assert not project([(datetime(2026, 1, 1), 1)], 3).enough


def test_projection_fits_a_line_to_the_target():
    start = datetime(2026, 1, 1)
    points = [(start + timedelta(days=d), v) for d, v in [(0, 1), (10, 2)]]
    result = project(points, 3)
    assert result.enough and result.rising
    assert result.on == (start + timedelta(days=20)).date()


def test_projection_without_a_rise():
    start = datetime(2026, 1, 1)
    result = project([(start, 2), (start + timedelta(days=3), 2)], 3)
    assert result.enough and not result.rising and result.on is None


def test_least_used_strategy_first_in_goal_order_on_a_tie():
    strategies = [(1, "Practice"), (2, "Explain"), (3, "Redo")]
    assert least_used(strategies, {"1": 2, "2": 1, "3": 1}) == (2, "Explain")
    assert least_used([], {}) is None
