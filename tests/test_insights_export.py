"""The CSV export and `flask insights export` print exactly the protected cells shown."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from portal.insights.compute import measure_table
from portal.insights.export import table_csv
from portal.insights.measures import MEASURES
from portal.insights.scope import Scope
from tests.fixtures.insights import hand_world, learners

pytestmark = pytest.mark.usefixtures("backend")


def parse(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_and_cli_print_what_is_shown(make, app):
    district = make.default_district()
    big = make.school("=HYPERLINK(evil)")
    world = hand_world(make, big)
    tiny = make.school("Tiny")
    small = learners(make, tiny, 3, world.t)
    make.commit()
    scope = Scope(district.id)
    table = measure_table(scope, by="school", as_of=world.t)
    rows = parse(table_csv(table))
    assert [r["group"] for r in rows] == ["'=HYPERLINK(evil)", "Tiny", "All learners"]
    for row, shown in zip(rows, [*table.rows, table.total], strict=True):
        assert row["learners"] == shown.learners.shown
        assert all(row[m.key] == shown.cells[m.key].shown for m in MEASURES)
    assert rows[1]["learners"] == "hidden" or rows[1]["learners"] == "fewer than 10"
    assert rows[0]["agreed_goal"] == "hidden"  # the complement of the tiny school
    text = table_csv(table)
    for learner in [*world.learners, *small]:
        assert learner.family_name not in text and learner.username not in text

    result = app.test_cli_runner().invoke(
        args=[
            "insights",
            "export",
            "--district-id",
            str(district.id),
            "--by",
            "school",
            "--as-of",
            (world.t - timedelta(days=1)).strftime("%Y-%m-%d"),  # to 23:59:59 that day
        ]
    )
    assert result.exit_code == 0, result.output
    printed = parse(result.output)
    end = f"{world.t - timedelta(microseconds=1):%Y-%m-%dT%H:%M}"
    assert [r.pop("as_of") for r in printed] == [end] * 3
    assert printed == [{k: v for k, v in r.items() if k != "as_of"} for r in rows]

    result = app.test_cli_runner().invoke(
        args=["insights", "export", "--district-id", str(district.id), "--school-id", str(big.id)]
    )
    assert result.exit_code == 0, result.output
    (total,) = parse(result.output)
    assert total["agreed_goal"] == "74%" and total["learners"] == "31"

    result = app.test_cli_runner().invoke(
        args=["insights", "export", "--district-id", str(district.id), "--by", "group"]
    )
    assert result.exit_code == 0, result.output
    assert {r["breakdown"] for r in parse(result.output)} >= {"sex", "race", "program:ell"}

    for args in (["--district-id", str(big.id)], ["--district-id", "999999"]):
        result = app.test_cli_runner().invoke(args=["insights", "export", *args])
        assert result.exit_code == 2 and "no district" in result.output
    result = app.test_cli_runner().invoke(
        args=["insights", "export", "--district-id", str(district.id), "--school-id", "999999"]
    )
    assert result.exit_code == 2 and "no school" in result.output
