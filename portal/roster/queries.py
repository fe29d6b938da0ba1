"""Read-side roster queries shared by home pages and features. Each is one SELECT."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, contains_eager

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.policy import current_term_filter, manageable_school_ids
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, Org, SchoolClass, Term


def classes_taught_by(teacher: User) -> list[tuple[SchoolClass, int]]:
    """The teacher's classes this term, each with its number of learners.

    The class's term (eagerly loaded with every class) comes from the term join the
    filter already needs, so every selected column is grouped: PostgreSQL refuses a
    column that is not (SQLite would take any). Classes without a period come last
    on both databases.
    """
    learners = aliased(Enrollment)
    return list(
        db.session.execute(
            select(SchoolClass, func.count(learners.id))
            .join(Enrollment, Enrollment.class_id == SchoolClass.id)
            .join(Term, Term.id == SchoolClass.term_id)
            .outerjoin(
                learners,
                (learners.class_id == SchoolClass.id) & (learners.role == EnrollmentRole.LEARNER),
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


def learners_in_class(class_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.LEARNER)
            .order_by(User.family_name, User.given_name)
        )
    )


def teachers_of_class(class_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.TEACHER)
            .order_by(User.family_name)
        )
    )


_TEACHER_ENROLLMENT, _TEACHER = aliased(Enrollment), aliased(User)  # made once: costly to build


def classes_of_learner(learner_id: int) -> list[tuple[SchoolClass, str | None]]:
    """The learner's classes this term with their teachers' names, comma-separated."""
    teacher_enrollment, teacher = _TEACHER_ENROLLMENT, _TEACHER
    rows = db.session.execute(
        select(SchoolClass, teacher)
        .join(Enrollment, Enrollment.class_id == SchoolClass.id)
        .join(Term, Term.id == SchoolClass.term_id)
        .outerjoin(
            teacher_enrollment,
            (teacher_enrollment.class_id == SchoolClass.id)
            & (teacher_enrollment.role == EnrollmentRole.TEACHER),
        )
        .outerjoin(teacher, teacher.id == teacher_enrollment.user_id)
        .where(
            Enrollment.user_id == learner_id,
            Enrollment.role == EnrollmentRole.LEARNER,
            current_term_filter(),
        )
        .order_by(SchoolClass.period.asc().nulls_last(), SchoolClass.title)
    ).tuples()
    grouped: dict[int, tuple[SchoolClass, list[str]]] = {}
    for school_class, person in rows:
        entry = grouped.setdefault(school_class.id, (school_class, []))
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
