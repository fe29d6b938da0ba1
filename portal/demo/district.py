"""The demo district: two schools, eight teachers, sixteen classes, 300 learners, 250 guardians."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from portal.auth.models import Role, User
from portal.core.timeutil import today
from portal.demo import names
from portal.roster.models import (
    Course,
    Enrollment,
    EnrollmentRole,
    GuardianLink,
    Org,
    OrgType,
    SchoolClass,
    Term,
)

DISTRICT_SOURCE_ID = "demo-district"
PASSWORD = "waypoint-demo"
PIN = "2468"
YOUNG_CLASS_CODE = "MAPLE3"
LEARNERS_PER_GRADE = 30
GUARDIAN_TARGET = 250
STAFF_DOMAIN = "maplevalley.example.org"
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"

# (school index, teacher username, title, given, family)
TEACHERS = [
    (0, "ms.rivera", "Ms.", "Elena", "Rivera"),
    (0, "mr.chen", "Mr.", "David", "Chen"),
    (0, "ms.okonkwo", "Ms.", "Ngozi", "Okonkwo"),
    (0, "mr.patel", "Mr.", "Raj", "Patel"),
    (1, "mr.haddad", "Mr.", "Sami", "Haddad"),
    (1, "ms.nakamura", "Ms.", "Yuki", "Nakamura"),
    (1, "mr.brooks", "Mr.", "Marcus", "Brooks"),
    (1, "ms.adeyemi", "Ms.", "Funmi", "Adeyemi"),
]

# (school index, teacher username, class title, subject, period, grades, size or None for all)
CLASSES = [
    (0, "ms.rivera", "Grade 3 Homeroom", "Homeroom", "AM block", (3,), None),
    (0, "mr.chen", "Grade 4 Homeroom", "Homeroom", "AM block", (4,), None),
    (0, "ms.okonkwo", "Grade 5 Homeroom", "Homeroom", "AM block", (5,), None),
    (0, "mr.patel", "Math 6", "Mathematics", "Period 1", (6,), None),
    (0, "ms.rivera", "Math 7", "Mathematics", "Period 2", (7,), None),
    (0, "mr.patel", "Math 8", "Mathematics", "Period 3", (8,), None),
    (0, "mr.chen", "Writing Workshop 6-8", "English Language Arts", "Period 4", (6, 7, 8), 30),
    (0, "ms.okonkwo", "Science Inquiry Lab 6-8", "Science", "Period 5", (6, 7, 8), 30),
    (1, "mr.haddad", "Algebra I", "Mathematics", "Period 1", (9,), None),
    (1, "mr.haddad", "Geometry", "Mathematics", "Period 3", (10,), None),
    (1, "ms.nakamura", "English 9", "English Language Arts", "Period 2", (9,), None),
    (1, "ms.nakamura", "English 11", "English Language Arts", "Period 4", (11,), None),
    (1, "mr.brooks", "Biology", "Science", "Period 2", (10,), None),
    (1, "mr.brooks", "Chemistry", "Science", "Period 5", (11,), None),
    (1, "ms.adeyemi", "Senior Capstone", "Career and Technical", "Period 6", (12,), None),
    (1, "ms.adeyemi", "AP Statistics", "Mathematics", "Period 3", (12,), None),
]


@dataclass
class Demo:
    """What the feature seeders get: the people and classes, and a deterministic rng."""

    session: Session
    rng: random.Random
    password_hash: str
    district: Org = None
    schools: list[Org] = field(default_factory=list)
    term: Term = None
    teachers: list[User] = field(default_factory=list)
    learners: list[User] = field(default_factory=list)
    guardians: list[User] = field(default_factory=list)
    classes: list[SchoolClass] = field(default_factory=list)
    class_learners: dict[int, list[User]] = field(default_factory=dict)
    class_teacher: dict[int, User] = field(default_factory=dict)
    named: dict[str, User] = field(default_factory=dict)


def current_term_dates(on: date) -> tuple[str, date, date]:
    """The school-year half that contains `on`: fall (Aug-Jan) or spring (Jan-Jun, into summer)."""
    if on.month >= 8 or (on.month == 1 and on.day <= 20):
        year = on.year if on.month >= 8 else on.year - 1
        return f"Fall {year}", date(year, 8, 15), date(year + 1, 1, 20)
    return f"Spring {on.year}", date(on.year, 1, 21), date(on.year, 7, 31)


class DistrictBuilder:
    def __init__(self, demo: Demo):
        self.demo = demo
        self.session = demo.session
        self.rng = demo.rng
        self.usernames: set[str] = set()
        self.codes: set[str] = {YOUNG_CLASS_CODE}

    def add(self, obj):
        self.session.add(obj)
        return obj

    def username(self, given: str, family: str) -> str:
        base = f"{given}.{family}".lower().replace("'", "").replace(" ", "")
        candidate, n = base, 1
        while candidate in self.usernames:
            n += 1
            candidate = f"{base}{n}"
        self.usernames.add(candidate)
        return candidate

    def person(self, role: Role, given: str, family: str, org: Org | None, **extra) -> User:
        username = extra.pop("username", None) or self.username(given, family)
        self.usernames.add(username)
        user = self.add(
            User(
                username=username,
                role=role,
                given_name=given,
                family_name=family,
                org_id=org.id if org else None,
                password_hash=self.demo.password_hash,
                **extra,
            )
        )
        self.session.flush()  # links and enrollments need the id
        return user

    def class_code(self) -> str:
        while True:
            code = "".join(self.rng.choice(CODE_ALPHABET) for _ in range(6))
            code = f"{code[:3]}-{code[3:]}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    # --- the steps ---

    def orgs(self) -> None:
        demo = self.demo
        demo.district = self.add(
            Org(
                name="Maple Valley School District",
                type=OrgType.DISTRICT,
                source_id=DISTRICT_SOURCE_ID,
            )
        )
        self.session.flush()
        for source_id, name in (
            ("demo-riverside", "Riverside Elementary & Middle School"),
            ("demo-lakeview", "Lakeview High School"),
        ):
            demo.schools.append(
                self.add(
                    Org(
                        name=name,
                        type=OrgType.SCHOOL,
                        parent_id=demo.district.id,
                        source_id=source_id,
                    )
                )
            )
        title, start, end = current_term_dates(today())
        demo.term = self.add(
            Term(
                org_id=demo.district.id,
                title=title,
                start_date=start,
                end_date=end,
                source_id="demo-term-current",
            )
        )
        # A past term, so "current term only" has something to exclude.
        self.add(
            Term(
                org_id=demo.district.id,
                title="Previous term",
                source_id="demo-term-past",
                start_date=start - timedelta(days=200),
                end_date=start - timedelta(days=30),
            )
        )
        self.session.flush()

    def staff(self) -> dict[str, User]:
        demo = self.demo
        by_username = {}
        for school_index, username, _title, given, family in TEACHERS:
            teacher = self.person(
                Role.TEACHER,
                given,
                family,
                demo.schools[school_index],
                username=username,
                email=f"{given}.{family}@{STAFF_DOMAIN}".lower(),
            )
            by_username[username] = teacher
            demo.teachers.append(teacher)
        demo.named["teacher"] = by_username["ms.rivera"]
        demo.named["school_admin"] = self.person(
            Role.SCHOOL_ADMIN,
            "Grace",
            "Okafor",
            demo.schools[0],
            username="principal.okafor",
            email=f"grace.okafor@{STAFF_DOMAIN}",
        )
        self.person(
            Role.SCHOOL_ADMIN,
            "Thomas",
            "Whitfield",
            demo.schools[1],
            username="principal.whitfield",
            email=f"thomas.whitfield@{STAFF_DOMAIN}",
        )
        demo.named["district_admin"] = self.person(
            Role.DISTRICT_ADMIN,
            "Erik",
            "Lindqvist",
            demo.district,
            username="supt.lindqvist",
            email=f"erik.lindqvist@{STAFF_DOMAIN}",
        )
        self.session.flush()
        return by_username

    def learners(self, pin_hash: str) -> dict[int, list[User]]:
        demo = self.demo
        by_grade: dict[int, list[User]] = {}
        fixed = {
            7: [("Maya", "Johnson", "learner")],
            4: [("Eli", "Johnson", "sibling")],
            3: [("Leo", "Martinez", "young_learner")],
        }
        for grade in range(3, 13):
            school = demo.schools[0] if grade <= 8 else demo.schools[1]
            people = list(fixed.get(grade, []))
            while len(people) < LEARNERS_PER_GRADE:
                people.append(
                    (self.rng.choice(names.GIVEN_NAMES), self.rng.choice(names.FAMILY_NAMES), None)
                )
            for given, family, key in people:
                extra = {"grade": grade}
                if grade <= 5:
                    extra["pin_hash"] = pin_hash  # young learners sign in with a class code + PIN
                if grade >= 9:
                    extra["email"] = f"{self.username(given, family)}@students.{STAFF_DOMAIN}"
                learner = self.person(Role.LEARNER, given, family, school, **extra)
                by_grade.setdefault(grade, []).append(learner)
                demo.learners.append(learner)
                if key:
                    demo.named[key] = learner
        self.session.flush()
        return by_grade

    def classes(self, teachers: dict[str, User], by_grade: dict[int, list[User]]) -> None:
        demo = self.demo
        courses: dict[tuple[int, str], Course] = {}
        for index, (school_i, username, title, subject, period, grades, size) in enumerate(CLASSES):
            school = demo.schools[school_i]
            course = courses.get((school_i, title))
            if course is None:
                course = courses[(school_i, title)] = self.add(
                    Course(
                        school_id=school.id,
                        title=title,
                        subject=subject,
                        source_id=f"demo-course-{index}",
                    )
                )
                self.session.flush()
            code = YOUNG_CLASS_CODE if title == "Grade 3 Homeroom" else self.class_code()
            school_class = self.add(
                SchoolClass(
                    school_id=school.id,
                    course_id=course.id,
                    term_id=demo.term.id,
                    title=title,
                    period=period,
                    class_code=code,
                    source_id=f"demo-class-{index}",
                )
            )
            self.session.flush()
            pool = [learner for grade in grades for learner in by_grade[grade]]
            members = pool if size is None else self._sample_with(pool, size)
            teacher = teachers[username]
            self.add(
                Enrollment(
                    class_id=school_class.id, user_id=teacher.id, role=EnrollmentRole.TEACHER
                )
            )
            for learner in members:
                self.add(
                    Enrollment(
                        class_id=school_class.id, user_id=learner.id, role=EnrollmentRole.LEARNER
                    )
                )
            demo.classes.append(school_class)
            demo.class_learners[school_class.id] = members
            demo.class_teacher[school_class.id] = teacher
        self.session.flush()

    def _sample_with(self, pool: list[User], size: int) -> list[User]:
        """A sample that always includes Maya, so she has three classes."""
        maya = self.demo.named["learner"]
        chosen = self.rng.sample([p for p in pool if p is not maya], size - (maya in pool))
        return ([maya] if maya in pool else []) + chosen

    def families(self) -> None:
        demo = self.demo
        maya, eli = demo.named["learner"], demo.named["sibling"]
        ana = self.person(
            Role.GUARDIAN,
            "Ana",
            "Garcia",
            None,
            username="ana.garcia",
            email="ana.garcia@example.com",
            locale="es",
        )
        david = self.person(
            Role.GUARDIAN,
            "David",
            "Johnson",
            None,
            username="david.johnson",
            email="david.johnson@example.com",
        )
        demo.named["guardian"] = ana
        demo.guardians += [ana, david]
        for guardian, label in ((ana, "mother"), (david, "father")):
            for child in (maya, eli):
                self.add(
                    GuardianLink(
                        guardian_id=guardian.id,
                        learner_id=child.id,
                        relationship_label=label,
                        source_id=None,
                    )
                )
        others = [p for p in demo.learners if p not in (maya, eli)]
        self.rng.shuffle(others)
        while others and len(demo.guardians) < GUARDIAN_TARGET:
            size = self.rng.choices([1, 2, 3], weights=[74, 21, 5])[0]
            children, others = others[:size], others[size:]
            adults = 2 if self.rng.random() < 0.15 else 1
            family = children[0].family_name
            for n in range(adults):
                if len(demo.guardians) >= GUARDIAN_TARGET:
                    break
                given = self.rng.choice(names.ADULT_GIVEN_NAMES)
                spanish = family in names.SPANISH_SURNAMES and self.rng.random() < 0.7
                guardian = self.person(
                    Role.GUARDIAN,
                    given,
                    family,
                    None,
                    email=f"{self.username(given, family)}@example.com",
                    locale="es" if spanish else None,
                )
                demo.guardians.append(guardian)
                label = (
                    self.rng.choice(["mother", "father", "guardian", "grandparent"])
                    if n == 0
                    else "parent"
                )
                for child in children:
                    self.add(
                        GuardianLink(
                            guardian_id=guardian.id, learner_id=child.id, relationship_label=label
                        )
                    )
        self.session.flush()
