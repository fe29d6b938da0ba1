"""Demo learner profiles: most learners have started one, a few are stale, Maya's is complete."""

from __future__ import annotations

from datetime import timedelta

from portal.auth.models import User
from portal.core.timeutil import utcnow
from portal.profiles.models import (
    Audience,
    ProfileEntry,
    ProfileEntryRevision,
    ProfileReviewRequest,
    ProfileSection,
    ProfileSectionDef,
)
from portal.profiles.prompts import INTEREST_CHIPS, LEARNING_CHIPS, SUPPORT_CHIPS

# Words by grade band: "young" 3-5, "middle" 6-8, "high" 9-12.
WORDS: dict[str, dict[str, list[str]]] = {
    "young": {
        "about": [
            "I live with my mom and my grandma. I have a dog named Biscuit.",
            "I am the oldest of three. I help my little sister get ready for school.",
            "I like to laugh and tell jokes. My family just moved here last year.",
        ],
        "strengths": [
            "I am good at drawing animals.",
            "I am a good friend. I share my snacks.",
            "I am fast at math facts.",
        ],
        "future": [
            "When I grow up I want to be a vet.",
            "I want to be a firefighter like my uncle.",
            "I want to make video games.",
        ],
        "barriers": [
            "It is hard for me when the room is loud.",
            "I feel stuck when there are a lot of words on the page.",
        ],
    },
    "middle": {
        "about": [
            "I play soccer on weekends and I help at my family's restaurant.",
            "I'm really into anime and I draw my own comics.",
            "I take care of my little brother after school most days.",
        ],
        "strengths": [
            "People come to me when they need help with computers.",
            "I speak Spanish and English and I translate for my grandparents.",
            "I don't give up easily, even when a problem takes a long time.",
        ],
        "future": [
            "A career I am curious about is nursing, because my aunt is a nurse.",
            "I want to be an engineer and design bridges.",
            "Maybe a chef. I'd like to own a food truck.",
        ],
        "barriers": [
            "It is hard for me to focus in the afternoon when I'm tired.",
            "I get stuck when directions have lots of steps.",
            "I don't always have internet at home for homework.",
        ],
    },
    "high": {
        "about": [
            "I work 15 hours a week at the grocery store and play trumpet in the band.",
            "I moved here from Puerto Rico in 9th grade. I'm into photography.",
            "I coach my cousin's little league team in the spring.",
        ],
        "strengths": [
            "I am organized and good at planning projects with deadlines.",
            "A skill I have built over time is public speaking, from debate club.",
            "I'm good at fixing things: bikes, small engines, phones.",
        ],
        "future": [
            "I plan to start at community college and transfer for a degree in accounting.",
            "I want to become an electrician through an apprenticeship.",
            "I'm interested in environmental science, maybe working for the parks service.",
        ],
        "barriers": [
            "My work schedule makes it hard to finish long assignments on time.",
            "Reading long texts in English still takes me a lot longer than my classmates.",
        ],
    },
}

TEACHER_SUPPORTS = [
    "Check-in at the start of independent work time.",
    "Chunk longer assignments into steps with a checklist.",
    "Offer text-to-speech for reading assignments.",
    "Preferential seating away from the door.",
    "Extra time on unit assessments (up to time and a half).",
]

TEACHER_COMMENTS = [
    "I've seen this too: you explain your thinking really clearly.",
    "Let's add this to your goal conference notes.",
    "Great to know. Thanks for sharing this.",
]


def _band(grade: int | None) -> str:
    if grade is not None and grade <= 5:
        return "young"
    return "middle" if grade is not None and grade <= 8 else "high"


class _Writer:
    """Adds sections, entries and revisions without a query per row."""

    def __init__(self, session, learner: User):
        self.session = session
        self.learner = learner
        self.sections: dict[str, ProfileSection] = {}

    def section(self, key: str, definition_id: int | None = None) -> ProfileSection:
        if key not in self.sections:
            state = ProfileSection(
                learner_id=self.learner.id,
                key=key,
                definition_id=definition_id,
                audience=Audience.STAFF,
            )
            self.session.add(state)
            self.sections[key] = state
        return self.sections[key]

    def entry(self, key, author, text="", chips=(), at=None, parent=None, definition_id=None):
        at = at or utcnow()
        state = self.section(key, definition_id)
        entry = ProfileEntry(section=state, author_id=author.id, created_at=at, parent=parent)
        entry.revisions.append(
            ProfileEntryRevision(
                text=text, chips=" ".join(chips), edited_by_id=author.id, created_at=at
            )
        )
        self.session.add(entry)
        if state.updated_at is None or state.updated_at < at:
            state.updated_at = at
        return entry

    def revise(self, entry, editor, text, at):
        entry.revisions.append(
            ProfileEntryRevision(
                text=text, chips=entry.revisions[-1].chips, edited_by_id=editor.id, created_at=at
            )
        )
        if entry.section.updated_at < at:
            entry.section.updated_at = at


def seed(demo) -> None:
    session, rng = demo.session, demo.rng
    now = utcnow()
    teacher_of: dict[int, User] = {}
    for school_class in demo.classes:
        for learner in demo.class_learners.get(school_class.id, []):
            teacher_of.setdefault(learner.id, demo.class_teacher[school_class.id])

    lakeview = demo.schools[1]
    plan = ProfileSectionDef(
        school_id=lakeview.id,
        title="After high school plan",
        prompt="College, training, work, service: what is your plan, and what is your backup?",
        position=1,
    )
    session.add(plan)
    session.flush()

    special = {demo.named.get("learner"), demo.named.get("young_learner")}
    for learner in demo.learners:
        if learner in special or rng.random() < 0.2:
            continue  # about one in five has not started a profile yet
        _seed_learner(session, rng, now, learner, teacher_of.get(learner.id), plan)

    if maya := demo.named.get("learner"):
        _seed_maya(session, now, maya, demo.named.get("teacher") or teacher_of.get(maya.id))
    if leo := demo.named.get("young_learner"):
        writer = _Writer(session, leo)
        writer.entry(
            "about", leo, "I have a cat named Pepper. I like pizza.", at=now - timedelta(days=9)
        )
        writer.entry(
            "interests", leo, "", chips=("animals", "building", "games"), at=now - timedelta(days=9)
        )
        writer.entry("learning", leo, "", chips=("hands_on", "partner"), at=now - timedelta(days=8))
    session.flush()


def _seed_learner(session, rng, now, learner, teacher, plan) -> None:
    words = WORDS[_band(learner.grade)]
    writer = _Writer(session, learner)
    stale = rng.random() < 0.15
    age = timedelta(days=rng.randint(100, 220) if stale else rng.randint(2, 70))
    filled = rng.randint(2, 7)
    keys = ["about", "interests", "strengths", "learning", "future", "barriers", "supports"]
    for n, key in enumerate(keys[:filled]):
        at = now - age + timedelta(hours=n)
        if key == "interests":
            writer.entry(key, learner, chips=rng.sample([k for k, _ in INTEREST_CHIPS], 3), at=at)
        elif key == "learning":
            writer.entry(key, learner, chips=rng.sample([k for k, _ in LEARNING_CHIPS], 2), at=at)
        elif key == "supports":
            writer.entry(key, learner, chips=rng.sample([k for k, _ in SUPPORT_CHIPS], 2), at=at)
        else:
            writer.entry(key, learner, rng.choice(words[key]), at=at)
    if filled >= 3 and rng.random() < 0.5:
        writer.sections["about"].audience = Audience.FAMILY
    if teacher is not None and rng.random() < 0.3:
        writer.entry("supports", teacher, rng.choice(TEACHER_SUPPORTS), at=now - age / 2)
    if learner.org_id == plan.school_id and learner.grade and learner.grade >= 11 and filled > 4:
        writer.entry(
            plan.key,
            learner,
            rng.choice(WORDS["high"]["future"]),
            at=now - age,
            definition_id=plan.id,
        )
    if rng.random() < 0.04:
        session.add(ProfileReviewRequest(learner_id=learner.id, created_at=now - timedelta(days=2)))


def _seed_maya(session, now, maya, teacher) -> None:
    writer = _Writer(session, maya)
    day = timedelta(days=1)
    writer.entry(
        "about",
        maya,
        "I live with my mom, my dad and my little brother Eli. We speak Spanish and English "
        "at home.\nOn weekends I help coach Eli's soccer team.",
        at=now - 40 * day,
    )
    writer.sections["about"].audience = Audience.FAMILY
    writer.sections["about"].audience_changed_at = now - 40 * day
    strengths = writer.entry(
        "strengths",
        maya,
        "I'm patient and I'm good at explaining things to younger kids. I don't give up on a "
        "hard math problem.",
        at=now - 40 * day,
    )
    writer.entry(
        "interests",
        maya,
        "I'm saving up for a telescope.",
        chips=("science", "sports", "art"),
        at=now - 39 * day,
    )
    writer.entry(
        "learning",
        maya,
        "I need to see an example before I try it on my own.",
        chips=("examples", "pictures", "partner"),
        at=now - 39 * day,
    )
    writer.entry(
        "barriers",
        maya,
        "When there is a lot of noise I lose track of what I was doing. Word problems with "
        "long paragraphs take me a long time.",
        at=now - 38 * day,
    )
    writer.entry(
        "supports",
        maya,
        "Headphones during independent work.",
        chips=("check_ins", "chunking"),
        at=now - 38 * day,
    )
    future = writer.entry("future", maya, "I want to be a vet.", at=now - 38 * day)
    writer.revise(
        future,
        maya,
        "I want to be an astronomer or work at NASA. I'd like to visit the planetarium in the "
        "city to learn more.",
        at=now - 6 * day,
    )
    if teacher is not None:
        writer.entry(
            "supports",
            teacher,
            "Worked example at the top of each practice set; Maya chooses when to move to the "
            "independent problems. Quiet table available during work time.",
            at=now - 20 * day,
        )
        writer.entry(
            "strengths",
            teacher,
            "I've seen this too: Maya explains her thinking really clearly to her table group.",
            at=now - 19 * day,
            parent=strengths,
        )
    session.add(
        ProfileReviewRequest(
            learner_id=maya.id,
            note="I changed my career goal and want to talk about it.",
            created_at=now - 5 * day,
        )
    )
