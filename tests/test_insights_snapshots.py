"""Precomputed facts give the same protected numbers as live, in a few statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from devtools.driver_sql import driver_statements
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.insights import snapshots
from portal.insights.compute import BREAKDOWNS, measure_table, trend
from portal.insights.models import InsightFact, InsightSnapshot
from portal.insights.scope import Scope
from portal.rostering.models import APPLIED, RosterImport
from tests.fixtures.insights import demographics, hand_world

pytestmark = pytest.mark.usefixtures("backend")


def shown(table):
    return [
        (r.key, r.learners.shown, {k: c.shown for k, c in r.cells.items()})
        for r in [*table.rows, table.total]
    ]


def test_stored_facts_match_live_and_stay_within_eight_statements(make, app, monkeypatch):
    monkeypatch.setattr(snapshots, "TREND_CYCLES", 1)  # 12 in production: now and T here
    world = hand_world(make)
    for i, learner in enumerate(world.learners):
        demographics(
            learner,
            sex="female" if i < 16 else "male",
            white=i < 20,
            hispanic_or_latino_ethnicity=i % 3 == 0,
            programs={"ell": "Y"} if i < 12 else {},
        )
    make.commit()
    district = world.school.parent_id
    scope = Scope(district)
    live = {by: shown(measure_table(scope, by=by, as_of=world.t)) for by in BREAKDOWNS}
    one_school = Scope(district, (world.school.id,))
    live_school = shown(measure_table(one_school, by="sex", as_of=world.t))
    live_now = shown(measure_table(scope, by="class"))
    live_trend = [shown(t) for t in trend(scope, cycles=2)]
    assert snapshots.due_districts() == [district]

    with driver_statements(db.engine) as statements:
        result = app.test_cli_runner().invoke(
            args=["insights", "refresh", "--district-id", str(district)]
        )
    if db.engine.dialect.name == "sqlite":  # no fact is read while holding the write lock
        locked, reads = False, 0
        for q in statements:
            if q.startswith("BEGIN IMMEDIATE"):
                locked = True
            elif q.startswith(("COMMIT", "ROLLBACK")):
                locked = False
            elif "FROM progress_entries" in q:
                reads += 1
                assert not locked, q
        assert reads
    assert result.exit_code == 0 and "Wrote 2 snapshot(s)" in result.output, result.output
    assert snapshots.due_districts() == []
    assert db.session.scalar(select(func.count()).select_from(InsightFact)) == 31 * 2

    for by in BREAKDOWNS:
        table = measure_table(scope, by=by, as_of=world.t)
        assert shown(table) == live[by], by
        assert table.computed_at > world.t  # read from the snapshot taken at the end of T
    assert shown(measure_table(one_school, by="sex", as_of=world.t)) == live_school
    for by in (None, *BREAKDOWNS):
        db.session.expire_all()
        with driver_statements(db.engine) as statements:
            table = measure_table(scope, by=by)
        assert len(statements) <= 8, (by, statements)
    assert shown(measure_table(scope, by="class")) == live_now
    db.session.expire_all()
    with driver_statements(db.engine) as statements:
        tables = trend(scope, cycles=2)
    assert len(statements) <= 3, statements
    assert [shown(t) for t in tables] == live_trend
    assert tables[0].as_of == world.t
    current = db.session.scalar(select(InsightSnapshot).where(InsightSnapshot.current.is_(True)))
    assert measure_table(scope).as_of == current.as_of  # "as of" the refresh

    # A second refresh keeps the past cycles and replaces the current snapshot only.
    assert snapshots.refresh(district) == {"snapshots": 1}
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(InsightSnapshot)) == 2

    # An import applied after the refresh makes the district due again; the sweep runs it.
    db.session.add(
        RosterImport(
            scope_org_id=district,
            file_name="roster.zip",
            sha256="0" * 64,
            state=APPLIED,
            applied_at=utcnow() + timedelta(seconds=1),
        )
    )
    db.session.commit()
    assert snapshots.due_districts(utcnow() + timedelta(seconds=2)) == [district]
    assert snapshots.refresh_due() == 1
