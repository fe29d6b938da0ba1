"""Demo rows: strategy banks, Ms. Rivera's goal templates, and goals with believable histories."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.core.timeutil import today, utcnow
from portal.goals import services
from portal.goals.models import (
    Goal,
    GoalStatus,
    GoalTemplate,
    GoalTemplateTarget,
    Horizon,
    Strategy,
)
from portal.goals.services import GoalContent
from portal.targets.models import Target, TargetKind

RIVERSIDE_BANK = [
    "Practice 20 minutes 3 times a week",
    "Work with a peer tutor",
    "Ask for a mini-lesson",
    "Use flash cards at home",
    "Redo the problems I missed",
    "Read aloud to a buddy",
    "Explain my thinking to a partner",
    "Use the math manipulatives",
    "Check my work with the answer key",
    "Watch the lesson video again",
    "Make a plan before I start writing",
    "Come to lunch help on Wednesdays",
]
LAKEVIEW_BANK = [
    "Practice 20 minutes 3 times a week",
    "Work with a peer tutor",
    "Ask for a mini-lesson",
    "Go to Tuesday after-school tutoring",
    "Redo missed quiz questions and write why",
    "Use spaced practice with an app",
    "Study with my group before tests",
    "Annotate readings with questions",
    "Ask for feedback on a draft",
    "Teach the concept to someone else",
    "Use office hours once a week",
    "Keep an error log",
]
# The demo banks, each strategy with its Spanish name (what a school would write).
STRATEGIES_ES = {
    "Practice 20 minutes 3 times a week": "Practicar 20 minutos 3 veces por semana",
    "Work with a peer tutor": "Trabajar con un compañero tutor",
    "Ask for a mini-lesson": "Pedir una minilección",
    "Use flash cards at home": "Usar tarjetas de estudio en casa",
    "Redo the problems I missed": "Volver a hacer los problemas que fallé",
    "Read aloud to a buddy": "Leer en voz alta con un compañero",
    "Explain my thinking to a partner": "Explicarle mi razonamiento a un compañero",
    "Use the math manipulatives": "Usar los materiales manipulativos de matemáticas",
    "Check my work with the answer key": "Revisar mi trabajo con las respuestas",
    "Watch the lesson video again": "Volver a ver el video de la clase",
    "Make a plan before I start writing": "Hacer un plan antes de empezar a escribir",
    "Come to lunch help on Wednesdays": "Ir a la ayuda de la hora del almuerzo los miércoles",
    "Go to Tuesday after-school tutoring": "Ir a las tutorías de los martes después de clases",
    "Redo missed quiz questions and write why": (
        "Volver a hacer las preguntas falladas del examen y escribir por qué"
    ),
    "Use spaced practice with an app": "Practicar en sesiones espaciadas con una aplicación",
    "Study with my group before tests": "Estudiar con mi grupo antes de los exámenes",
    "Annotate readings with questions": "Anotar preguntas en las lecturas",
    "Ask for feedback on a draft": "Pedir comentarios sobre un borrador",
    "Teach the concept to someone else": "Enseñarle el tema a otra persona",
    "Use office hours once a week": "Ir a las horas de consulta una vez por semana",
    "Keep an error log": "Llevar un registro de mis errores",
}
OWN_STEPS = {
    "young": ["Practice with my mom after dinner", "Read to my dog every night", "Ask my buddy"],
    "middle": [
        "Do the Khan Academy practice on Sundays",
        "Ask my older sister to quiz me",
        "Put my phone in another room while I study",
    ],
    "high": [
        "Do one past exam question a day",
        "Make a one-page summary sheet",
        "Study in the library after practice",
    ],
}
STATEMENTS = {
    "young": [
        "I want to get better at this: I can {skill}.",
        "I will {skill} all by myself.",
        "I want to {skill}. I will practice a lot.",
    ],
    "middle": [
        "By {date} I want to be Proficient at this: I can {skill}.",
        "I'm going to get to Proficient on {code} ({skill}) by practicing every week.",
        "I want to {skill} without needing help before the end of the unit.",
    ],
    "high": [
        "Reach Proficient on {code} ({skill}) before the unit assessment.",
        "I want to {skill} consistently, not just when someone reminds me.",
        "Get to Extending on {code} so I can help others in my study group: {skill}.",
    ],
}
REWORDINGS = {
    "young": " I will ask for help when I get stuck.",
    "middle": " I'll check in with my teacher every Friday.",
    "high": " I'll track my quiz scores in my error log.",
}
STATUS_MIX = [
    GoalStatus.ACTIVE,
    GoalStatus.ACTIVE,
    GoalStatus.ACTIVE,
    GoalStatus.ACTIVE,
    GoalStatus.PROPOSED,
    GoalStatus.PROPOSED,
    GoalStatus.DRAFT,
    GoalStatus.DRAFT,
    GoalStatus.MET,
    GoalStatus.NOT_MET,
]


def _band(grade: int | None) -> str:
    if grade is None or grade <= 5:
        return "young"
    return "middle" if grade <= 8 else "high"


def _skill(target: Target) -> str:
    text = target.statement.rstrip(".")
    return text[6:] if text.lower().startswith("i can ") else text[0].lower() + text[1:]


class _Seeder:
    def __init__(self, demo):
        self.demo = demo
        self.session = demo.session
        self.rng = demo.rng
        self.banks: dict[int, list[Strategy]] = {}
        self.targets = list(
            self.session.scalars(
                select(Target)
                .where(Target.kind == TargetKind.TARGET, Target.grade_low.is_not(None))
                .order_by(Target.code)
            )
        )
        self.teacher_of: dict[int, object] = {}
        for school_class in demo.classes:
            teacher = demo.class_teacher.get(school_class.id)
            for learner in demo.class_learners.get(school_class.id, []):
                if teacher is not None:
                    self.teacher_of.setdefault(learner.id, teacher)
        self.term_end = demo.term.end_date if demo.term else today() + timedelta(days=120)

    def strategy_banks(self) -> None:
        for school, texts in zip(self.demo.schools, (RIVERSIDE_BANK, LAKEVIEW_BANK), strict=False):
            rows = [
                Strategy(school_id=school.id, text=text, text_es=STRATEGIES_ES.get(text))
                for text in texts
            ]
            self.session.add_all(rows)
            self.banks[school.id] = rows
        self.session.flush()

    def targets_for(self, grade: int | None) -> list[Target]:
        grade = grade if grade is not None else 7
        return [
            t
            for t in self.targets
            if t.grade_low <= grade <= (t.grade_high if t.grade_high is not None else t.grade_low)
        ]

    def code(self, *codes: str) -> list[Target]:
        found = {t.code: t for t in self.targets}
        return [found[c] for c in codes if c in found]

    def content(self, learner, statement, targets, due, strategies, supports="", level=3):
        return GoalContent.build(
            statement=statement,
            target_ids=[t.id for t in targets],
            target_level=level,
            due_date=due,
            strategies=strategies,
            supports=supports,
        )

    def bank_steps(self, learner, n: int) -> list[tuple[int | None, str]]:
        bank = self.banks.get(learner.org_id, [])
        return [(s.id, s.text) for s in self.rng.sample(bank, min(n, len(bank)))]

    def goal(
        self,
        learner,
        author,
        contents: list[GoalContent],
        status: GoalStatus,
        horizon=Horizon.SHORT,
        parent: Goal | None = None,
        template: GoalTemplate | None = None,
        editors: list | None = None,
    ) -> Goal:
        """A goal with one version per content, spread over the past weeks."""
        goal = services.create_goal(
            learner, author, contents[0], horizon=horizon, parent=parent, template=template
        )
        for i, later in enumerate(contents[1:]):
            editor = (editors or [learner])[i % len(editors or [learner])]
            services.save_content(goal, editor, later)
        goal.status = status
        started = utcnow() - timedelta(days=self.rng.randint(20, 45))
        for i, version in enumerate(goal.versions):
            version.created_at = started + timedelta(days=6 * i, hours=self.rng.randint(8, 15))
        goal.created_at = started
        return goal

    # --- Maya, Leo and Ms. Rivera: the goals a demo walks through ------------------------

    def templates(self) -> None:
        rivera = self.demo.named.get("teacher")
        if rivera is None:
            return
        ideas = {
            7: [
                (
                    "Percent problems sprint",
                    "I will solve percent problems like tax, tips and discounts on my own.",
                    ("MATH.7.RP.3",),
                    "Practice 20 minutes 3 times a week\nRedo the problems I missed",
                ),
                (
                    "Circles",
                    "I will use the area and circumference formulas to solve circle problems.",
                    ("MATH.7.G.4",),
                    "Watch the lesson video again\nExplain my thinking to a partner",
                ),
            ],
            3: [
                (
                    "Times tables to 10",
                    "I will know my times tables up to 10 × 10.",
                    ("MATH.3.OA.7",),
                    "Use flash cards at home\nPractice 20 minutes 3 times a week",
                ),
                (
                    "Retell a story",
                    "I will retell a story and tell its lesson.",
                    ("ELA.3.RL.2",),
                    "Read aloud to a buddy",
                ),
            ],
        }
        for school_class in self.demo.classes:
            if self.demo.class_teacher.get(school_class.id) is not rivera:
                continue
            grade = 3 if "3" in school_class.title else 7
            for title, statement, codes, steps in ideas.get(grade, []):
                self.session.add(
                    GoalTemplate(
                        teacher_id=rivera.id,
                        class_id=school_class.id,
                        title=title,
                        statement=statement,
                        horizon=Horizon.SHORT,
                        target_level=3,
                        strategies_text=steps,
                        targets=[GoalTemplateTarget(target_id=t.id) for t in self.code(*codes)],
                    )
                )
        self.session.flush()

    def maya(self, maya) -> None:
        rivera = self.demo.named.get("teacher") or self.teacher_of.get(maya.id)
        bank = {s.text: s.id for s in self.banks.get(maya.org_id, [])}

        def step(text):
            return (bank.get(text), text)

        soon = today() + timedelta(days=24)
        rp = self.code("MATH.7.RP.2", "MATH.7.RP.3")
        long_goal = self.goal(
            maya,
            maya,
            [
                self.content(
                    maya,
                    "By the end of the year I want to be Proficient in all of the 7th grade "
                    "ratio and proportion targets.",
                    rp,
                    self.term_end,
                    [step("Practice 20 minutes 3 times a week")],
                    "Check in with me once a month about how it is going.",
                )
            ],
            GoalStatus.ACTIVE,
            horizon=Horizon.LONG,
        )
        percent = self.code("MATH.7.RP.3")
        self.goal(
            maya,
            maya,
            [
                self.content(
                    maya,
                    "I will get better at percent problems.",
                    percent,
                    soon - timedelta(days=7),
                    [step("Practice 20 minutes 3 times a week")],
                ),
                self.content(
                    maya,
                    "I will solve percent problems like tax, tips and discounts without help.",
                    percent,
                    soon - timedelta(days=7),
                    [step("Practice 20 minutes 3 times a week"), (None, "Do the store-flyer game")],
                    "A mini-lesson on percent increase vs. decrease.",
                ),
                self.content(
                    maya,
                    "I will solve percent problems like tax, tips and discounts without help, "
                    "and explain how I got my answer.",
                    percent,
                    soon,
                    [
                        step("Practice 20 minutes 3 times a week"),
                        (None, "Do the store-flyer game"),
                        step("Work with a peer tutor"),
                    ],
                    "A mini-lesson on percent increase vs. decrease.",
                ),
            ],
            GoalStatus.ACTIVE,
            parent=long_goal,
        )
        self.goal(
            maya,
            maya,
            [
                self.content(
                    maya,
                    "I want to write an argument with a clear claim and real evidence for my "
                    "science fair essay.",
                    self.code("ELA.7.W.1"),
                    today() + timedelta(days=35),
                    [step("Make a plan before I start writing")],
                )
            ],
            GoalStatus.DRAFT,
        )
        if rivera is not None:
            self.goal(
                maya,
                rivera,
                [
                    self.content(
                        maya,
                        "Use the circle formulas to find area and circumference in real problems.",
                        self.code("MATH.7.G.4"),
                        today() + timedelta(days=28),
                        [step("Watch the lesson video again")],
                        level=3,
                    )
                ],
                GoalStatus.PROPOSED,
            )

    def leo(self, leo) -> None:
        bank = {s.text: s.id for s in self.banks.get(leo.org_id, [])}
        tables = self.code("MATH.3.OA.7")
        self.goal(
            leo,
            leo,
            [
                self.content(
                    leo,
                    "I want to know my times tables.",
                    tables,
                    today() + timedelta(days=21),
                    [(bank.get("Use flash cards at home"), "Use flash cards at home")],
                ),
                self.content(
                    leo,
                    "I want to know my times tables up to 10 x 10.",
                    tables,
                    today() + timedelta(days=21),
                    [
                        (bank.get("Use flash cards at home"), "Use flash cards at home"),
                        (None, "Practice with my mom after dinner"),
                    ],
                    "Can I have the times table sheet to take home?",
                ),
            ],
            GoalStatus.ACTIVE,
        )

    # --- Everyone else -------------------------------------------------------------------

    def learner_goals(self, learner) -> None:
        band = _band(learner.grade)
        options = self.targets_for(learner.grade)
        if not options:
            return
        teacher = self.teacher_of.get(learner.id)
        for _ in range(self.rng.choice([1, 1, 2, 2, 3])):
            target = self.rng.choice(options)
            status = self.rng.choice(STATUS_MIX)
            due = today() + timedelta(days=self.rng.randint(10, 42))
            if status in (GoalStatus.MET, GoalStatus.NOT_MET):
                due = today() - timedelta(days=self.rng.randint(2, 20))
            statement = self.rng.choice(STATEMENTS[band]).format(
                skill=_skill(target), code=target.code, date=due.strftime("%B %-d")
            )
            steps = self.bank_steps(learner, self.rng.randint(1, 3))
            if self.rng.random() < 0.4:
                steps.append((None, self.rng.choice(OWN_STEPS[band])))
            supports = self.rng.choice(
                ["", "", "A mini-lesson when I get stuck.", "Check my work on Fridays."]
            )
            level = 4 if band == "high" and "Extending" in statement else 3
            first = self.content(learner, statement, [target], due, steps, supports, level)
            contents = [first]
            for _ in range(self.rng.choice([0, 0, 1, 1, 2, 3])):
                previous = contents[-1]
                if self.rng.random() < 0.5:
                    previous_statement = previous.statement
                    if REWORDINGS[band] not in previous_statement:
                        previous_statement += REWORDINGS[band]
                    changed = GoalContent.build(
                        previous_statement,
                        previous.target_ids,
                        previous.target_level,
                        previous.due_date,
                        previous.strategies,
                        previous.supports,
                    )
                else:
                    changed = GoalContent.build(
                        previous.statement,
                        previous.target_ids,
                        previous.target_level,
                        previous.due_date + timedelta(days=7) if previous.due_date else due,
                        previous.strategies,
                        previous.supports,
                    )
                contents.append(changed)
            proposed_by_teacher = teacher is not None and self.rng.random() < 0.15
            author = teacher if proposed_by_teacher else learner
            if proposed_by_teacher and status is GoalStatus.DRAFT:
                status = GoalStatus.PROPOSED
            self.goal(learner, author, contents, status, editors=[learner])


def seed(demo) -> None:
    """Strategy banks for both schools, Ms. Rivera's templates, and goals for most learners."""
    seeder = _Seeder(demo)
    seeder.strategy_banks()
    seeder.templates()
    named = demo.named
    special = {named[k].id for k in ("learner", "young_learner") if k in named}
    if "learner" in named:
        seeder.maya(named["learner"])
    if "young_learner" in named:
        seeder.leo(named["young_learner"])
    for learner in demo.learners:
        if learner.id in special or seeder.rng.random() < 0.2:
            continue  # about one learner in five has not set a goal yet
        seeder.learner_goals(learner)
    demo.session.flush()


def summary(session) -> dict[str, int]:
    """Counts for a quick look after seeding."""
    return dict(
        session.execute(select(Goal.status, func.count(Goal.id)).group_by(Goal.status)).all()
    )
