"""Builders shared by the progress tests (no tests here): scales, goals, entries."""

from __future__ import annotations

from datetime import timedelta

from portal.core.timeutil import today, utcnow
from portal.goals.models import Goal, GoalStatus, GoalVersion, GoalVersionStrategy, Voice
from portal.progress import services
from portal.progress.forms import new_token
from portal.progress.models import ProgressEntry
from portal.targets.models import DEFAULT_LEVELS, MASTERY_VALUE, MasteryLevel, MasteryScale

STRATEGIES = ("Practice 20 minutes", "Explain it to a partner", "Redo my mistakes")


def scale(make, school=None):
    school = school or make.default_school()
    found = make.session.query(MasteryScale).filter_by(school_id=school.id).first()
    if found:
        return found
    s = MasteryScale(
        school_id=school.id,
        levels=[
            MasteryLevel(value=v, label=label, description=d, is_mastery=v == MASTERY_VALUE)
            for v, label, d in DEFAULT_LEVELS
        ],
    )
    return make._add(s)


def goal(
    make,
    learner,
    *,
    status=GoalStatus.ACTIVE,
    target_level=3,
    due_in=20,
    strategies=STRATEGIES,
    statement="By the due date I will reach Proficient on fractions.",
):
    g = make._add(Goal(learner_id=learner.id, created_by_id=learner.id, status=status))
    v = make._add(
        GoalVersion(
            goal_id=g.id,
            number=1,
            statement=statement,
            target_level=target_level,
            due_date=today() + timedelta(days=due_in) if due_in is not None else None,
            author_id=learner.id,
            voice=Voice.LEARNER,
            content_hash="0" * 64,
            strategies=[GoalVersionStrategy(text=t, position=i) for i, t in enumerate(strategies)],
        )
    )
    g.current_version_id = v.id
    make.session.flush()
    return g


def entry(make, g, rating, *, days_ago=0, strategy_index=0):
    """Add an entry through the service, as the route does."""
    version = g.current_version
    strategy = str(version.strategies[strategy_index].id) if version.strategies else "other"
    e = services.log_entry(
        g,
        token=new_token(),
        strategy=strategy,
        other_strategy="Something" if strategy == "other" else None,
        self_rating=rating,
        reflection="I practised and it went fine.",
        link_url=None,
        stored=None,
    )
    if days_ago:
        e.created_at = utcnow() - timedelta(days=days_ago)
        make.session.flush()
        services.refresh_summary(g)
    return e


def entry_count(session) -> int:
    return session.query(ProgressEntry).count()
