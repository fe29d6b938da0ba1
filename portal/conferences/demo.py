"""Demo rows: every active goal co-signed, Ms. Rivera's past conferences, Maya's next one.

Maya's active goals are signed by her and Ms. Rivera on their current versions; her
proposed circle goal is left unsigned for the demo conference two days from now. A
few of Ms. Rivera's learners are due (no conference this cycle, or they asked).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import to_utc
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.timeutil import today, utcnow
from portal.goals.models import Goal, GoalStatus

from .models import (
    Conference,
    ConferenceNote,
    ConferenceRequest,
    ConferenceSettings,
    ConferenceStatus,
    GoalSignature,
    NextStep,
    SignerRole,
    SignMethod,
    StepOwner,
)

SHARED_NOTES = [
    "Good focus today. You explained your strategy clearly and caught your own mistake.",
    "We agreed the flash cards are working; keep them going at home.",
    "You asked great questions. Next time bring one problem you could not finish.",
    "Your evidence this month shows real growth. Let's aim a bit higher next cycle.",
    "We looked at your last three entries together and picked a new strategy to try.",
]
PRIVATE_NOTES = [
    "Seems tired in first period; check in with the counselor about sleep.",
    "Reading the word problems is the barrier, not the math. Try read-aloud support.",
    "Mentioned a new baby sibling at home; be flexible with homework this month.",
]
LEARNER_STEPS = [
    "Redo the three problems I missed and write why",
    "Practise 20 minutes on Monday, Wednesday and Friday",
    "Bring my error log to the next conference",
    "Ask my buddy to quiz me before Friday",
]
TEACHER_STEPS = [
    "Set up a mini-lesson on percent increase and decrease",
    "Send a note home about the flash-card practice",
    "Pair with a peer tutor for two weeks",
]


def _local(day, hour: int, minute: int = 0) -> datetime:
    return to_utc(datetime.combine(day, time(hour, minute)))


def seed(demo) -> None:
    session, rng = demo.session, demo.rng
    for school, days in zip(demo.schools, (30, 28), strict=False):
        session.add(ConferenceSettings(school_id=school.id, cycle_days=days))

    teacher_of: dict[int, object] = {}
    for class_id, learners in demo.class_learners.items():
        teacher = demo.class_teacher.get(class_id)
        for learner in learners:
            if teacher is not None:
                teacher_of.setdefault(learner.id, teacher)
    rivera = demo.named.get("teacher")
    maya = demo.named.get("learner")
    rivera_classes = [c for c in demo.classes if demo.class_teacher.get(c.id) is rivera]
    if rivera is not None and maya is not None:
        teacher_of[maya.id] = rivera  # Maya's goals are Ms. Rivera's to co-sign

    # Past conferences: most of Ms. Rivera's learners met her once or twice; a few are due.
    held: dict[int, Conference] = {}
    for school_class in rivera_classes:
        for i, learner in enumerate(demo.class_learners.get(school_class.id, [])):
            if learner is not maya and i % 5 == 4:
                continue  # never had one: due
            ages = [rng.randint(34, 50)] + ([rng.randint(8, 24)] if i % 3 else [])
            if learner is maya:
                ages = [40, 18]
            for age in ages:
                conference = _past(session, rng, learner, rivera, school_class, age)
                held[learner.id] = conference

    # Every active goal is agreed: the learner and their teacher signed it.
    active = session.scalars(
        select(Goal)
        .where(Goal.status == GoalStatus.ACTIVE, Goal.current_version_id.is_not(None))
        .options(selectinload(Goal.versions))
    )
    for goal in active:
        teacher = teacher_of.get(goal.learner_id)
        if teacher is None:
            continue
        version = goal.current_version
        signed_at = max(version.created_at, utcnow() - timedelta(days=25)) + timedelta(hours=2)
        conference = held.get(goal.learner_id)
        for signer, role in (
            (goal.learner_id, SignerRole.LEARNER),
            (teacher.id, SignerRole.TEACHER),
        ):
            session.add(
                GoalSignature(
                    goal_id=goal.id,
                    version_id=version.id,
                    learner_id=goal.learner_id,
                    signer_id=signer,
                    role=role,
                    content_hash=version.content_hash,
                    method=SignMethod.SESSION,
                    conference_id=conference.id if conference else None,
                    signed_at=min(signed_at, utcnow()),
                )
            )
        goal.agreed_version = version
    session.flush()

    if maya is not None and rivera is not None:
        math7 = next((c for c in rivera_classes if maya in demo.class_learners.get(c.id, [])), None)
        upcoming = Conference(
            learner_id=maya.id,
            teacher_id=rivera.id,
            class_id=math7.id if math7 else None,
            scheduled_at=_local(today() + timedelta(days=2), 10, 15),
            duration_minutes=15,
            prep_hard="Percent decrease problems: I mix up which number to divide by.",
            prep_at=utcnow() - timedelta(hours=20),
            created_by_id=rivera.id,
        )
        session.add(upcoming)
    # Two learners asked for a conference.
    for school_class in rivera_classes[:1] + rivera_classes[1:2]:
        learners = demo.class_learners.get(school_class.id, [])
        for learner in learners[1:2]:
            if learner is not maya:
                session.add(
                    ConferenceRequest(
                        learner_id=learner.id,
                        note="I keep getting stuck and want to try a different strategy.",
                        created_at=utcnow() - timedelta(days=1),
                    )
                )
    session.flush()


def _past(session, rng, learner, teacher, school_class, age_days: int) -> Conference:
    when = _local(today() - timedelta(days=age_days), rng.choice([8, 9, 10, 13, 14]), 15)
    conference = Conference(
        learner_id=learner.id,
        teacher_id=teacher.id,
        class_id=school_class.id,
        scheduled_at=when,
        status=ConferenceStatus.DONE,
        held_at=when + timedelta(minutes=15),
        prep_working=rng.choice(
            ["Flash cards every night", "Working with my buddy", "Watching the video again"]
        ),
        prep_hard=rng.choice(["Word problems", "Remembering the steps", "Finishing on time"]),
        prep_help=rng.choice(["A mini-lesson", "More examples", "A check-in on Fridays"]),
        prep_at=when - timedelta(days=1),
        created_by_id=teacher.id,
        created_at=when - timedelta(days=7),
    )
    session.add(conference)
    session.flush()
    session.add(
        ConferenceNote(
            conference_id=conference.id,
            learner_id=learner.id,
            author_id=teacher.id,
            body=rng.choice(SHARED_NOTES),
            created_at=when + timedelta(minutes=10),
        )
    )
    if rng.random() < 0.3:
        session.add(
            ConferenceNote(
                conference_id=conference.id,
                learner_id=learner.id,
                author_id=teacher.id,
                body=rng.choice(PRIVATE_NOTES),
                private=True,
                created_at=when + timedelta(minutes=12),
            )
        )
    session.add(
        NextStep(
            conference_id=conference.id,
            learner_id=learner.id,
            text=rng.choice(LEARNER_STEPS),
            owner=StepOwner.LEARNER,
            due_date=(when + timedelta(days=7)).date(),
            created_by_id=teacher.id,
            created_at=when + timedelta(minutes=14),
        )
    )
    if rng.random() < 0.5:
        session.add(
            NextStep(
                conference_id=conference.id,
                learner_id=learner.id,
                text=rng.choice(TEACHER_STEPS),
                owner=StepOwner.TEACHER,
                due_date=(when + timedelta(days=5)).date(),
                created_by_id=teacher.id,
                created_at=when + timedelta(minutes=14),
            )
        )
    return conference
