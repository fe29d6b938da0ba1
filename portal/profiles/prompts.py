"""The built-in profile sections: titles, prompts, sentence starters and choice chips.

Every section has wording for grades 6 to 12 and simpler wording for grades 3 to 5.
Chips are short choices a young learner can tick instead of typing.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.i18n import lazy_gettext as _l

YOUNG_MAX_GRADE = 5


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    prompt: str
    prompt_young: str
    starters: tuple[str, ...] = ()
    starters_young: tuple[str, ...] = ()
    chips: tuple[tuple[str, str], ...] = ()
    # Barriers and supports can touch disability, language and family circumstances.
    sensitive: bool = False
    definition_id: int | None = None

    def prompt_for(self, grade: int | None) -> str:
        return self.prompt_young if is_young(grade) else self.prompt

    def starters_for(self, grade: int | None) -> tuple[str, ...]:
        return self.starters_young if is_young(grade) else self.starters

    def chip_label(self, key: str) -> str:
        return dict(self.chips).get(key, key)


def is_young(grade: int | None) -> bool:
    return grade is not None and grade <= YOUNG_MAX_GRADE


INTEREST_CHIPS = (
    ("sports", _l("Sports")),
    ("music", _l("Music")),
    ("art", _l("Drawing and art")),
    ("reading", _l("Reading")),
    ("writing", _l("Writing stories")),
    ("animals", _l("Animals")),
    ("nature", _l("Being outside")),
    ("games", _l("Games and puzzles")),
    ("building", _l("Building and making")),
    ("science", _l("Science")),
    ("coding", _l("Computers and coding")),
    ("cooking", _l("Cooking")),
    ("dance", _l("Dance and drama")),
    ("helping", _l("Helping others")),
)

LEARNING_CHIPS = (
    ("hands_on", _l("Trying it with my hands")),
    ("pictures", _l("Pictures and diagrams")),
    ("talking", _l("Talking it through")),
    ("partner", _l("Working with a partner")),
    ("group", _l("Working in a group")),
    ("alone", _l("Working on my own")),
    ("quiet", _l("A quiet place")),
    ("steps", _l("Step-by-step directions")),
    ("examples", _l("Seeing an example first")),
    ("listening", _l("Listening")),
    ("moving", _l("Moving around or short breaks")),
)

SUPPORT_CHIPS = (
    ("extra_time", _l("Extra time")),
    ("check_ins", _l("Check-ins with my teacher")),
    ("read_aloud", _l("Having text read aloud")),
    ("chunking", _l("Big tasks in small pieces")),
    ("visual_schedule", _l("A visual schedule")),
    ("seat", _l("Choosing where I sit")),
    ("breaks", _l("Short breaks")),
    ("reminders", _l("Reminders about due dates")),
)

BUILT_IN: tuple[SectionSpec, ...] = (
    SectionSpec(
        key="about",
        title=_l("About me"),
        prompt=_l("Who are you outside of school? What should a new teacher know about you?"),
        prompt_young=_l("Tell us about you!"),
        starters=(
            _l("Something most people don't know about me is ..."),
            _l("The people who matter most to me are ..."),
            _l("I feel proud when ..."),
        ),
        starters_young=(_l("I am ..."), _l("I live with ..."), _l("I feel happy when ...")),
    ),
    SectionSpec(
        key="strengths",
        title=_l("Strengths and assets"),
        prompt=_l("What are you good at, in or out of school? What do others count on you for?"),
        prompt_young=_l("What are you good at?"),
        starters=(
            _l("People come to me when they need ..."),
            _l("A skill I have built over time is ..."),
            _l("I speak or understand these languages: ..."),
        ),
        starters_young=(_l("I am good at ..."), _l("My friends say I am ...")),
    ),
    SectionSpec(
        key="interests",
        title=_l("Interests"),
        prompt=_l("What do you like to learn about or spend your time on?"),
        prompt_young=_l("What do you like? Pick some or write your own."),
        starters=(
            _l("Lately I have been really into ..."),
            _l("If I could learn about anything, it would be ..."),
        ),
        starters_young=(_l("I like ..."), _l("After school I ...")),
        chips=INTEREST_CHIPS,
    ),
    SectionSpec(
        key="learning",
        title=_l("How I learn best"),
        prompt=_l("Think of a time learning went well. What made it work?"),
        prompt_young=_l("What helps you learn? Pick some or write your own."),
        starters=(
            _l("I understand new ideas best when ..."),
            _l("I do my best work when ..."),
            _l("It helps me when a teacher ..."),
        ),
        starters_young=(_l("I learn best when ..."), _l("It helps me when ...")),
        chips=LEARNING_CHIPS,
    ),
    SectionSpec(
        key="barriers",
        title=_l("Barriers to my learning"),
        prompt=_l(
            "What gets in the way of your learning? "
            "Only your teachers see this unless you share it."
        ),
        prompt_young=_l("What makes learning hard for you?"),
        starters=(
            _l("It is hard for me to focus when ..."),
            _l("I get stuck when ..."),
            _l("Something outside school that affects my learning is ..."),
        ),
        starters_young=(_l("It is hard for me when ..."), _l("I feel stuck when ...")),
        sensitive=True,
    ),
    SectionSpec(
        key="supports",
        title=_l("Supports that help me"),
        prompt=_l("What helps you get past those barriers? Pick some or write your own."),
        prompt_young=_l("What helps you when learning is hard? Pick some or write your own."),
        starters=(
            _l("When I'm stuck, it helps if ..."),
            _l("A support that has worked for me before is ..."),
        ),
        starters_young=(_l("It helps me when ..."), _l("I can ask for ...")),
        chips=SUPPORT_CHIPS,
        sensitive=True,
    ),
    SectionSpec(
        key="future",
        title=_l("Future and career goals"),
        prompt=_l(
            "What might you want to do after school? What jobs or paths are you curious about?"
        ),
        prompt_young=_l("What do you want to be or do when you grow up?"),
        starters=(
            _l("A career I am curious about is ..."),
            _l("To get there, I will need to ..."),
            _l("Someone whose work I admire is ..."),
        ),
        starters_young=(_l("When I grow up I want to ..."), _l("A job that looks fun is ...")),
    ),
)

BUILT_IN_KEYS = frozenset(spec.key for spec in BUILT_IN)


def custom_spec(definition) -> SectionSpec:
    """A school's extra section, worded by the school."""
    prompt = definition.prompt or ""
    return SectionSpec(
        key=definition.key,
        title=definition.title,
        prompt=prompt,
        prompt_young=prompt,
        definition_id=definition.id,
    )
