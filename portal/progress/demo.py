"""Demo progress: entries on every active goal over the last weeks, some teacher feedback."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.timeutil import utcnow
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.progress.models import Feedback, ProgressEntry
from portal.progress.services import refresh_summary

REFLECTIONS = {
    1: [
        "I got stuck on the second step and did not know what to do next.",
        "I tried it but most of my answers were wrong. I need to see another example.",
        "I started, but I am still confused about where to begin.",
    ],
    2: [
        "I could do the easier ones alone. The longer ones I needed my notes for.",
        "I got about half right. I noticed I rush the last step.",
        "Better than last week. I checked my work and fixed two mistakes myself.",
        "I understood it when my partner explained it, then I did two more by myself.",
    ],
    3: [
        "I did the whole set without help and could explain why each answer works.",
        "I finished early and helped someone at my table. Explaining it helped me too.",
        "I did it on my own today and only needed to check one answer.",
    ],
    4: [
        "I used it in a new kind of problem that we had not practised.",
        "I made my own example and taught it to the class.",
    ],
}
TEACHER_NOTES = {
    1: "Let's look at one example together on Monday. Bring your notebook.",
    2: "Good progress. Slow down on the last step and check it against the example.",
    3: "This shows you can do it on your own. Try explaining it in writing next time.",
    4: "Impressive: you applied it somewhere new. Could you make a challenge for others?",
}
FAMILY_NOTES = [
    "Working hard this week and asking good questions.",
    "A real step forward this week. Ask about the problem they solved on their own!",
]
MAYA_RATINGS = [1, 1, 2, 1, 2, 2]  # rising, not there yet: the tracker shows a pace


def _ratings(rng, count: int, target: int, top: int) -> list[int]:
    level = rng.choice([1, 1, 2])
    out = []
    for _ in range(count):
        out.append(level)
        step = rng.random()
        if step < 0.45 and level < top:
            level += 1 if level < target or rng.random() < 0.3 else 0
        elif step > 0.85 and level > 1:
            level -= 1
    return out


def seed(demo) -> None:
    """Add 3 to 15 entries to each active goal, with feedback from the learner's teacher."""
    session, rng = demo.session, demo.rng
    goals = list(
        session.scalars(
            select(Goal)
            .where(Goal.status == GoalStatus.ACTIVE, Goal.current_version_id.is_not(None))
            .options(selectinload(Goal.current_version).selectinload(GoalVersion.strategies))
            .order_by(Goal.id)
        )
    )
    teacher_of = {}
    for class_id, learners in demo.class_learners.items():
        for learner in learners:
            if demo.class_teacher.get(class_id) is not None:
                teacher_of.setdefault(learner.id, demo.class_teacher[class_id])
    maya = demo.named.get("learner")
    maya_done = False
    now = utcnow().replace(second=0, microsecond=0)
    links = 0
    for goal in goals:
        version = goal.current_version
        target = version.target_level
        if maya is not None and goal.learner_id == maya.id and not maya_done:
            ratings, maya_done = list(MAYA_RATINGS), True
        else:
            ratings = _ratings(rng, rng.randint(3, 15), target, 4)
        # Spread over the last five weeks, the latest within the last few days.
        span = 35
        days = sorted(rng.sample(range(2, span), len(ratings) - 1), reverse=True)
        days.append(rng.randint(0, 3) if goal.learner_id != getattr(maya, "id", None) else 1)
        strategies = version.strategies
        teacher = teacher_of.get(goal.learner_id)
        for n, (rating, ago) in enumerate(zip(ratings, days, strict=True)):
            at = now - timedelta(days=ago, hours=rng.randint(0, 6), minutes=rng.randint(0, 59))
            strategy = strategies[n % len(strategies)] if strategies else None
            if strategy is not None and rng.random() < 0.15:
                strategy = None  # "something else"
            link = None
            if links < 6 and rng.random() < 0.08:
                links += 1
                link = f"https://portfolio.example.org/work/{goal.learner_id}-{goal.id}-{n + 1}"
            entry = ProgressEntry(
                goal_id=goal.id,
                learner_id=goal.learner_id,
                token=f"demo-{goal.id}-{n}",
                strategy_id=strategy.id if strategy else None,
                strategy_text=strategy.text if strategy else "Asked a classmate to quiz me",
                self_rating=rating,
                reflection=rng.choice(REFLECTIONS[min(rating, 4)]),
                link_url=link,
                created_at=at,
            )
            session.add(entry)
            session.flush()
            if teacher is not None and rng.random() < 0.3 and n < len(ratings) - 1:
                rated = max(1, min(4, rating + rng.choice([-1, 0, 0, 0, 1])))
                session.add(
                    Feedback(
                        goal_id=goal.id,
                        entry_id=entry.id,
                        learner_id=goal.learner_id,
                        author_id=teacher.id,
                        token=f"demo-fb-{entry.id}",
                        rating=rated,
                        body=TEACHER_NOTES[rated],
                        for_families=rng.random() < 0.25,
                        created_at=min(now, at + timedelta(hours=rng.randint(2, 30))),
                    )
                )
        if teacher is not None and rng.random() < 0.2:
            session.add(
                Feedback(
                    goal_id=goal.id,
                    learner_id=goal.learner_id,
                    author_id=teacher.id,
                    token=f"demo-goalfb-{goal.id}",
                    body=rng.choice(FAMILY_NOTES),
                    for_families=True,
                    created_at=now - timedelta(days=rng.randint(1, 10)),
                )
            )
        session.flush()
        refresh_summary(goal)
