"""Refreshing the precomputed facts: after each roster import, nightly, or on demand.

`refresh(district_id)` computes every learner's facts live (compute.learner_facts, a fixed
number of statements however large the district) for the current moment and for the end
of each of the last TREND_CYCLES cycles not yet kept, for the district's default cycle and
each cycle length its schools chose. The job, the sweep and the command commit each
snapshot on its own, its facts read outside a transaction (no SQLite write lock while
reading); called without `commit`, it only flushes. The district's older current
snapshot goes. Past cycles' snapshots are kept: the trend and the time
machine read them. The worker's minute sweep refreshes a district whose current snapshot
is missing, older than the last roster import applied in it, or from before 02:00 UTC
today; `flask --app portal insights refresh` and the "insights.refresh" job do it at once.
While a refresh runs, pages keep reading the previous current snapshot (the newest wins).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import Integer, cast, delete, func, insert, literal, select

from portal.conferences.models import DEFAULT_CYCLE_DAYS, ConferenceSettings
from portal.core import jobs
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.read_session import READS_ONLY
from portal.core.timeutil import utcnow
from portal.roster.models import Org, OrgType
from portal.rostering.models import APPLIED, RosterImport

from .compute import CUBE_BREAKDOWNS, FACT_FIELDS, cycle_bounds, fact_group_value, learner_facts
from .models import InsightCell, InsightFact, InsightSnapshot
from .scope import Scope, learner_ids_stmt, school_ids_stmt

log = logging.getLogger(__name__)

TREND_CYCLES = 12  # past_cycles() offers 12 to the time machine: none computed live
NIGHTLY_HOUR = 2  # UTC


def cycle_lengths(district_id: int) -> list[int]:
    """The default cycle (the district's pages) and every length its schools chose."""
    chosen = db.session.scalars(
        select(ConferenceSettings.cycle_days)
        .where(ConferenceSettings.school_id.in_(school_ids_stmt(Scope(district_id))))
        .distinct()
    )
    return sorted({DEFAULT_CYCLE_DAYS, *chosen})


def _read_unlocked(read):
    """Run `read` on a connection that reads outside a transaction (as a GET does,
    core/read_session.py): on SQLite no write lock is taken while a district's facts are
    read, which takes seconds. Ends the session's transaction before and after."""
    db.session.commit()
    options = {READS_ONLY: True}
    if db.engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    db.session.connection(execution_options=options)
    try:
        return read()
    finally:
        db.session.commit()


def _write(
    district_id: int, days: int, at: datetime, *, current: bool, unlocked: bool = False
) -> InsightSnapshot:
    """Read the facts first (seconds at district size), then write them in a short
    transaction; `unlocked` (when the caller commits each snapshot) reads without one."""
    start, end = cycle_bounds(days, at)

    def read():
        return learner_facts(learner_ids_stmt(Scope(district_id), at), at, start)

    facts = _read_unlocked(read) if unlocked else read()
    snapshot = InsightSnapshot(
        district_id=district_id,
        cycle_days=days,
        as_of=at,
        cycle_start=start,
        cycle_end=end,
        current=current,
        computed_at=utcnow(),
    )
    db.session.add(snapshot)
    db.session.flush()
    rows = [
        {"snapshot_id": snapshot.id, "learner_id": lid, **{k: getattr(f, k) for k in FACT_FIELDS}}
        for lid, f in facts.items()
    ]
    if rows:
        db.session.execute(insert(InsightFact), rows)
        _sum_cells(snapshot.id)
    return snapshot


def _sum_cells(snapshot_id: int) -> None:
    """Sum the snapshot's facts per school, group and entries count, for each breakdown
    that splits the learners (the district and school pages read these)."""
    booleans = ("agreed", "own_words", "strategy", "started", "logged", "feedback",
                "conference", "profile_complete", "profile_updated", "profile_shared",
                "guardian_linked", "family_active")  # fmt: skip
    counts = ("rose", "rose_of", "met", "met_of")
    for by in CUBE_BREAKDOWNS:
        value = fact_group_value(by)
        chosen = select(
            literal(snapshot_id),
            InsightFact.school_id,
            literal(by),
            value,
            InsightFact.entries,
            func.count(),
            *(func.sum(cast(getattr(InsightFact, c), Integer)) for c in booleans),
            *(func.sum(getattr(InsightFact, c)) for c in counts),
        ).where(InsightFact.snapshot_id == snapshot_id)
        chosen = chosen.group_by(InsightFact.school_id, value, InsightFact.entries)
        db.session.execute(
            insert(InsightCell).from_select(
                [
                    "snapshot_id",
                    "school_id",
                    "breakdown",
                    "value",
                    "entries",
                    "learners",
                    *booleans,
                    *counts,
                ],  # fmt: skip
                chosen,
            )
        )


def refresh(district_id: int, *, progress=None, now: datetime | None = None, commit=None) -> dict:
    """Recompute the district's current facts and any missing past cycle; flushes only,
    unless `commit` (the job's and the sweep's `db.session.commit`) is given: then each
    snapshot is committed as soon as it is written (short write transactions)."""
    now = now or utcnow()
    written = 0
    lengths = cycle_lengths(district_id)
    plan = []
    for days in lengths:
        start, _end = cycle_bounds(days, now)
        kept = set(
            db.session.scalars(
                select(InsightSnapshot.as_of).where(
                    InsightSnapshot.district_id == district_id,
                    InsightSnapshot.cycle_days == days,
                    InsightSnapshot.current.is_(False),
                )
            )
        )
        ends = [start - timedelta(days=days * k) for k in range(TREND_CYCLES)]
        plan.append((days, now, True))
        plan.extend((days, end, False) for end in ends if end not in kept)
    old = list(
        db.session.scalars(
            select(InsightSnapshot.id).where(
                InsightSnapshot.district_id == district_id, InsightSnapshot.current.is_(True)
            )
        )
    )
    for done, (days, at, current) in enumerate(plan):
        if progress is not None:
            progress.step(done, len(plan), _("Counting insights"))
        _write(district_id, days, at, current=current, unlocked=commit is not None)
        written += 1
        if commit is not None:
            commit()
    if old:
        db.session.execute(delete(InsightCell).where(InsightCell.snapshot_id.in_(old)))
        db.session.execute(delete(InsightFact).where(InsightFact.snapshot_id.in_(old)))
        db.session.execute(delete(InsightSnapshot).where(InsightSnapshot.id.in_(old)))
    db.session.flush()
    return {"snapshots": written}


def due_districts(now: datetime | None = None) -> list[int]:
    """Districts whose current facts are missing, older than an applied import, or than
    the last nightly hour."""
    now = now or utcnow()
    nightly = datetime.combine(now.date(), time(NIGHTLY_HOUR))
    if nightly > now:
        nightly -= timedelta(days=1)
    latest = (
        select(func.max(InsightSnapshot.computed_at))
        .where(InsightSnapshot.district_id == Org.id, InsightSnapshot.current.is_(True))
        .scalar_subquery()
    )
    school = Org.__table__.alias("school")
    imported = (
        select(func.max(RosterImport.applied_at))
        .where(
            RosterImport.state == APPLIED,
            (RosterImport.scope_org_id == Org.id)
            | RosterImport.scope_org_id.in_(
                select(school.c.id).where(school.c.parent_id == Org.id)
            ),
        )
        .scalar_subquery()
    )
    out = []
    for district_id, computed, applied in db.session.execute(
        select(Org.id, latest, imported).where(Org.type == OrgType.DISTRICT)
    ):
        computed = _as_datetime(computed)
        applied = _as_datetime(applied)
        if computed is None or computed < nightly or (applied is not None and applied > computed):
            out.append(district_id)
    return out


def _as_datetime(value):
    # SQLite hands back the text of a MAX() over datetimes.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@jobs.every_minute
def refresh_due() -> int:
    """The worker's sweep: refresh each district that is due, one transaction each."""
    done = 0
    for district_id in due_districts():
        try:
            refresh(district_id, commit=db.session.commit)
            db.session.commit()
        except Exception:  # one district's failure must not stop the others or the sweep
            db.session.rollback()
            log.exception("insights refresh of district %s failed", district_id)
            continue
        done += 1
    return done


@jobs.job("insights.refresh", title=_l("Insights refresh"))
def refresh_job(progress, district_id: int):
    result = refresh(district_id, progress=progress, commit=db.session.commit)
    db.session.commit()
    return result
