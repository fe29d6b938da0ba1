"""Read-side roster queries shared by home pages and features. Each is one SELECT."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased, contains_eager, lazyload

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.policy import current_term_filter, manageable_school_ids
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, Org, SchoolClass, Term


def classes_taught_by(teacher: User) -> list[tuple[SchoolClass, int]]:
    """The teacher's classes this term, each with its number of (active) learners.

    The class's term (eagerly loaded with every class) comes from the term join the
    filter already needs, so every selected column is grouped: PostgreSQL refuses a
    column that is not (SQLite would take any). Classes without a period come last
    on both databases.
    """
    learners = aliased(Enrollment)
    active = select(User.id).where(User.id == learners.user_id, User.active.is_(True)).exists()
    return list(
        db.session.execute(
            select(SchoolClass, func.count(learners.id))
            .join(Enrollment, Enrollment.class_id == SchoolClass.id)
            .join(Term, Term.id == SchoolClass.term_id)
            .outerjoin(
                learners,
                (learners.class_id == SchoolClass.id)
                & (learners.role == EnrollmentRole.LEARNER)
                & active,
            )
            .where(
                Enrollment.user_id == teacher.id,
                Enrollment.role == EnrollmentRole.TEACHER,
                current_term_filter(),
            )
            .options(contains_eager(SchoolClass.term))
            .group_by(SchoolClass.id, Term.id)
            .order_by(SchoolClass.period.asc().nulls_last(), SchoolClass.title)
        ).tuples()
    )


# The class's active learners: a deactivated learner's records are kept, not listed
# (the admin's class roster, roster/services.class_members, shows them marked). Their
# school is the class's: the lists that show them name no school, so it is not joined.
_LEARNERS_IN_CLASS = (  # built once: the class view runs it on every view and poll
    select(User)
    .join(Enrollment, Enrollment.user_id == User.id)
    .where(
        Enrollment.class_id == bindparam("class_id"),
        Enrollment.role == EnrollmentRole.LEARNER,
        User.active.is_(True),
    )
    .order_by(User.family_name, User.given_name)
    .options(lazyload(User.org))
)


def learners_in_class(class_id: int) -> list[User]:
    return list(db.session.scalars(_LEARNERS_IN_CLASS, {"class_id": class_id}))


def teachers_of_class(class_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.TEACHER)
            .order_by(User.family_name)
        )
    )


class LearnerClass(NamedTuple):
    """What a learner's page shows of one of their classes."""

    id: int
    title: str
    period: str | None


_TEACHER_ENROLLMENT, _TEACHER = aliased(Enrollment), aliased(User)
# Built once (building and keying a statement with aliases costs more than running it):
# the learner's classes in the term running on day `on`, each row with one of its teachers.
_CLASSES_OF_LEARNER = (
    select(SchoolClass.id, SchoolClass.title, SchoolClass.period, _TEACHER)
    .join(Enrollment, Enrollment.class_id == SchoolClass.id)
    .join(Term, Term.id == SchoolClass.term_id)
    .outerjoin(
        _TEACHER_ENROLLMENT,
        (_TEACHER_ENROLLMENT.class_id == SchoolClass.id)
        & (_TEACHER_ENROLLMENT.role == EnrollmentRole.TEACHER),
    )
    .outerjoin(_TEACHER, _TEACHER.id == _TEACHER_ENROLLMENT.user_id)
    .where(
        Enrollment.user_id == bindparam("learner_id"),
        Enrollment.role == EnrollmentRole.LEARNER,
        # policy.current_term_filter() for the day given as `on`
        Term.start_date <= bindparam("on"),
        Term.end_date >= bindparam("on"),
    )
    .order_by(SchoolClass.period.asc().nulls_last(), SchoolClass.title)
)


def classes_of_learner(learner_id: int) -> list[tuple[LearnerClass, str | None]]:
    """The learner's classes this term with their teachers' names, comma-separated."""
    rows = db.session.execute(_CLASSES_OF_LEARNER, {"learner_id": learner_id, "on": today()})
    grouped: dict[int, tuple[LearnerClass, list[str]]] = {}
    for class_id, title, period, person in rows:
        entry = grouped.setdefault(class_id, (LearnerClass(class_id, title, period), []))
        if person is not None:
            entry[1].append(person.display_name)
    return [(c, ", ".join(names) or None) for c, names in grouped.values()]


def children_of(guardian: User) -> list[User]:
    """Learners this guardian follows through an active link."""
    return list(
        db.session.scalars(
            select(User)
            .join(GuardianLink, GuardianLink.learner_id == User.id)
            .where(GuardianLink.guardian_id == guardian.id, GuardianLink.active.is_(True))
            .order_by(User.given_name)
        )
    )


def schools_managed_by(admin: User) -> list[tuple[Org, int, int, int]]:
    """The admin's schools with counts of learners, teachers and classes."""
    learners = (
        select(func.count(User.id))
        .where(User.org_id == Org.id, User.role == Role.LEARNER)
        .scalar_subquery()
    )
    teachers = (
        select(func.count(User.id))
        .where(User.org_id == Org.id, User.role == Role.TEACHER)
        .scalar_subquery()
    )
    classes = (
        select(func.count(SchoolClass.id)).where(SchoolClass.school_id == Org.id).scalar_subquery()
    )
    return list(
        db.session.execute(
            select(Org, learners, teachers, classes)
            .where(Org.id.in_(manageable_school_ids(admin)))
            .order_by(Org.name)
        ).tuples()
    )
