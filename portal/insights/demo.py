"""Demo rows for insights: a PL specialist, learners' demographics, and history.

The other seeders write everything "now", so every past cycle would be empty. Here the
demo's learners and family links get older accounts, and each goal (with its versions,
signatures, entries and feedback) is moved back by a number of days drawn per school:
Riverside started personalized learning months ago (a slow, steady rise), Lakeview this
autumn (a late, steep one), so the district and both schools show different numbers and
trends. A few bulk UPDATE statements, so `flask demo` stays fast. Then the insights are
precomputed (`snapshots.refresh`), as the job worker would do after a roster import.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select, update

from portal.auth.models import Role, SpecialistSchool, User
from portal.conferences.models import GoalSignature
from portal.goals.models import Goal, GoalVersion
from portal.progress.models import Feedback, ProgressEntry
from portal.roster.models import GuardianLink
from portal.rostering.models import Demographics

from .snapshots import refresh

# Per school (in the demo's order): the most days a goal's history moves back, and the
# share of learners whose goals stay recent (the school's active core).
HISTORY = ((150, 0.35), (45, 0.15))
ACCOUNT_AGE_DAYS = 220
SEXES = ("female", "male", "female", "male", "unspecified")


def seed(demo) -> None:
    session, rng = demo.session, demo.rng
    specialist = User(
        username="pl.moreno",
        email="lucia.moreno@maplevalley.example.org",
        given_name="Lucía",
        family_name="Moreno",
        role=Role.PL_SPECIALIST,
        org_id=demo.district.id,
        password_hash=demo.password_hash,
    )
    session.add(specialist)
    session.flush()
    demo.named["pl_specialist"] = specialist
    for school in demo.schools:
        session.add(SpecialistSchool(user_id=specialist.id, school_id=school.id))

    learner_ids = [learner.id for learner in demo.learners]
    old = demo.learners[0].created_at - timedelta(days=ACCOUNT_AGE_DAYS)
    session.execute(update(User).where(User.id.in_(learner_ids)).values(created_at=old))
    session.execute(
        update(GuardianLink)
        .where(GuardianLink.learner_id.in_(learner_ids))
        .values(created_at=old + timedelta(days=30))
    )
    session.add_all(_demographics(demo, rng))
    session.flush()
    _move_history_back(demo, rng)
    session.flush()
    refresh(demo.district.id)


def _demographics(demo, rng) -> list[Demographics]:
    rows = []
    for learner in demo.learners:
        race = rng.choice(
            ("white", "black_or_african_american", "asian", "white", "two_or_more_races")
        )
        programs = {}
        if rng.random() < 0.14:
            programs["ell"] = "true"
        if rng.random() < 0.12:
            programs["iep"] = "true"
        if rng.random() < 0.06:
            programs["504"] = "true"
        if rng.random() < 0.08:
            programs["gifted"] = "true"
        rows.append(
            Demographics(
                user_id=learner.id,
                sex=rng.choice(SEXES),
                hispanic_or_latino_ethnicity=rng.random() < 0.3,
                programs=programs,
                **{race: True},
            )
        )
    return rows


def _move_history_back(demo, rng) -> None:
    """Move each goal's history back by a per-goal number of days (school-dependent)."""
    session = demo.session
    school_of = {learner.id: learner.org_id for learner in demo.learners}
    index_of = {school.id: i for i, school in enumerate(demo.schools)}
    goals = session.execute(select(Goal.id, Goal.learner_id, Goal.created_at)).all()
    shifts: dict[int, timedelta] = {}
    core: dict[int, bool] = {}
    for goal_id, learner_id, _created in goals:
        school = index_of.get(school_of.get(learner_id))
        if school is None:
            continue
        most, recent_share = HISTORY[school]
        if learner_id not in core:
            core[learner_id] = rng.random() < recent_share
        days = rng.uniform(0, 10) if core[learner_id] else rng.uniform(5, most)
        shifts[goal_id] = timedelta(days=days)
    if not shifts:
        return
    _shift(session, Goal, Goal.id, ("created_at", "updated_at"), shifts)
    _shift(session, GoalVersion, GoalVersion.goal_id, ("created_at",), shifts)
    _shift(session, GoalSignature, GoalSignature.goal_id, ("signed_at",), shifts)
    _shift(session, ProgressEntry, ProgressEntry.goal_id, ("created_at",), shifts)
    _shift(session, Feedback, Feedback.goal_id, ("created_at",), shifts)


def _shift(session, model, goal_column, columns, shifts) -> None:
    """Move `columns` of every row of `model` back by its goal's shift (one executemany
    of a plain table UPDATE: a versioned row's lock is not the demo's business)."""
    table = model.__table__
    cols = [getattr(model, c) for c in columns]
    rows = session.execute(select(model.id, goal_column, *cols)).all()
    values = []
    for row in rows:
        shift = shifts.get(row[1])
        if shift is None:
            continue
        change = {"row_id": row[0]}
        for name, value in zip(columns, row[2:], strict=True):
            change[f"new_{name}"] = value - shift if value is not None else None
        values.append(change)
    if values:
        statement = (
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        session.execute(statement, values)
