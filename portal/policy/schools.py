"""Schools, classes and frameworks: what belongs to an org, and who may see or manage it.

`can_view_class` is the Python answer for one class, `class_access_sql` the same answer
as SQL for lists; tests/test_class_access_agreement.py checks they agree for everyone.
"""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, exists, false, literal, select

from portal.auth.models import ADMIN_ROLES, Role, User
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.policy.relations import district_school_ids, grace_start
from portal.roster.models import Enrollment, EnrollmentRole, Org, SchoolClass, Term


def manageable_school_ids(user: User) -> Select:
    """Schools whose classes and people this user administers."""
    if user.role is Role.SCHOOL_ADMIN:
        return select(literal(user.org_id))
    if user.role is Role.DISTRICT_ADMIN:
        return district_school_ids(user.org_id)
    return select(literal(None)).where(literal(False))


def can_manage_school(school_id: int | None, user: User | None = None) -> bool:
    user = user if user is not None else current_user
    if school_id is None or user.role not in ADMIN_ROLES:
        return False
    if user.role is Role.SCHOOL_ADMIN:
        return user.org_id == school_id
    return db.session.scalar(
        select(exists().where(Org.id == school_id, Org.parent_id == user.org_id))
    )


def can_keep_strategies(school_id: int | None, user: User | None = None) -> bool:
    """Teachers keep their own school's strategy bank; admins the banks of their schools."""
    user = user if user is not None else current_user
    if school_id is None:
        return False
    if user.role is Role.TEACHER:
        return user.org_id == school_id
    return can_manage_school(school_id, user)


# can_view_class for a teacher, as a condition on SchoolClass (parameters: viewer_id, today,
# since = the grace start: a class whose term ended since then is still theirs to read).
# Correlated to SchoolClass only: the queries this goes into join enrollments themselves.
TEACHER_CLASS_ACCESS = and_(
    select(Enrollment.id)
    .where(
        Enrollment.class_id == SchoolClass.id,
        Enrollment.user_id == bindparam("viewer_id"),
        Enrollment.role == EnrollmentRole.TEACHER,
    )
    .correlate(SchoolClass)
    .exists(),
    select(Term.id)
    .where(
        Term.id == SchoolClass.term_id,
        Term.start_date <= bindparam("today"),
        Term.end_date >= bindparam("since"),
    )
    .correlate(SchoolClass)
    .exists(),
)


def class_access_sql(user: User) -> tuple:
    """can_view_class as a SQL condition on SchoolClass and its parameters, to fold into a
    query; the teacher's condition is one fixed expression, so statements built on it can
    be built once."""
    if user.role is Role.TEACHER:
        on = today()
        return TEACHER_CLASS_ACCESS, {"viewer_id": user.id, "today": on, "since": grace_start(on)}
    if user.role in ADMIN_ROLES:
        return SchoolClass.school_id.in_(manageable_school_ids(user)), {}
    return false(), {}


def can_view_class(school_class: SchoolClass, user: User | None = None) -> bool:
    """Teachers see the classes they teach this term, and (read-only) those whose term ended
    within the grace period; admins see all their schools' classes, past ones included."""
    user = user if user is not None else current_user
    if user.role is Role.TEACHER:
        # An older class would list learners the teacher no longer relates to; a class
        # yet to start, learners they do not teach yet.
        on, term = today(), school_class.term
        return term.start_date <= on and term.end_date >= grace_start(on) and db.session.scalar(
            _TEACHES_CLASS, {"class_id": school_class.id, "teacher_id": user.id}
        )
    return can_manage_school(school_class.school_id, user)


_TEACHES_CLASS = select(  # built once: every class page and poll asks it
    exists().where(
        Enrollment.class_id == bindparam("class_id"),
        Enrollment.user_id == bindparam("teacher_id"),
        Enrollment.role == EnrollmentRole.TEACHER,
    )
)


# --- Frameworks and learning targets ----------------------------------------------
# Targets are not learner records: access follows the org that owns the framework.
# Learners and staff see their school's and their district's frameworks (a district
# admin: the district's and its schools'); staff edit what they see.


def framework_org_ids(user: User) -> Select:
    """A SELECT of the org ids whose frameworks this user may see."""
    if user.role is Role.DISTRICT_ADMIN:
        return select(Org.id).where((Org.id == user.org_id) | (Org.parent_id == user.org_id))
    if user.role in (Role.LEARNER, Role.TEACHER, Role.SCHOOL_ADMIN) and user.org_id is not None:
        district = select(Org.parent_id).where(Org.id == user.org_id).scalar_subquery()
        return select(Org.id).where((Org.id == user.org_id) | (Org.id == district))
    return select(literal(None)).where(literal(False))
