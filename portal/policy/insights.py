"""Who may see which insights: aggregates only, by org, never a child.

- a district admin: their district, each of its schools and classes;
- a school admin: their school and its classes;
- a PL specialist: the schools assigned to them (SpecialistSchool) and their classes,
  and the aggregate of those schools in place of the district; nothing about any child
  (they relate to no learner: relations.py gives them none);
- a teacher: the classes they teach this term (or read in the grace), with no group
  breakdown (a class is too small for a group to be anonymous); their drill-down to
  their own learners is the class page they already may see.

`load_insights_*` answer 404 for anything out of reach, like every loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, literal, select

from portal.auth.models import Role, SpecialistSchool, User
from portal.core.extensions import db
from portal.core.inputs import parse_id
from portal.insights.targets import SuccessIndicator
from portal.policy.relations import district_school_ids, taught_term_filter
from portal.policy.schools import can_view_class
from portal.roster.models import Enrollment, EnrollmentRole, Org, OrgType, SchoolClass, Term

INSIGHTS_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN, Role.PL_SPECIALIST)
# Breakdowns that are about staff and orgs, not about groups of children.
ORG_BREAKDOWNS = ("school", "grade", "class", "teacher")


@dataclass(frozen=True)
class InsightsView:
    """What one page may show: the scope's ids and which breakdowns the viewer may pick."""

    level: str  # "district" | "school" | "class" | "teaching"
    district_id: int
    school_ids: tuple[int, ...] | None = None
    class_ids: tuple[int, ...] | None = None
    org: Org | None = None  # the school or district named on the page
    school_class: SchoolClass | None = None
    groups: bool = False  # may pick a demographic or program breakdown
    by_teacher: bool = False  # may see the teacher-level view


def insights_school_ids(user: User) -> Select:
    """The schools whose insights this user sees as a whole (teachers: none)."""
    if not user.is_active:
        return select(literal(None)).where(literal(False))
    match user.role:
        case Role.DISTRICT_ADMIN:
            return district_school_ids(user.org_id)
        case Role.SCHOOL_ADMIN:
            return select(literal(user.org_id))
        case Role.PL_SPECIALIST:
            return (
                select(SpecialistSchool.school_id)
                .join(Org, Org.id == SpecialistSchool.school_id)
                .where(SpecialistSchool.user_id == user.id, Org.parent_id == user.org_id)
            )
    return select(literal(None)).where(literal(False))


def assigned_schools(user: User) -> list[Org]:
    """The schools of insights_school_ids, by name."""
    return list(
        db.session.scalars(
            select(Org).where(Org.id.in_(insights_school_ids(user))).order_by(Org.name, Org.id)
        )
    )


def teaching_class_ids(user: User) -> list[int]:
    """The classes a teacher may see insights of: the ones they may see (can_view_class)."""
    if user.role is not Role.TEACHER or not user.is_active:
        return []
    return list(
        db.session.scalars(
            select(SchoolClass.id)
            .join(Enrollment, Enrollment.class_id == SchoolClass.id)
            .join(Term, Term.id == SchoolClass.term_id)
            .where(
                Enrollment.user_id == user.id,
                Enrollment.role == EnrollmentRole.TEACHER,
                taught_term_filter(),
            )
            .order_by(SchoolClass.title, SchoolClass.id)
        )
    )


def _district_of(user: User) -> int | None:
    if user.role in (Role.DISTRICT_ADMIN, Role.PL_SPECIALIST):
        return user.org_id
    return db.session.scalar(select(Org.parent_id).where(Org.id == user.org_id))


def load_insights_district() -> InsightsView:
    """The district page: a district admin's district, or a PL specialist's schools."""
    user = current_user
    if user.role is Role.DISTRICT_ADMIN:
        district = db.session.get(Org, user.org_id)
        return InsightsView("district", user.org_id, org=district, groups=True, by_teacher=True)
    if user.role is Role.PL_SPECIALIST:
        schools = tuple(db.session.scalars(insights_school_ids(user)))
        if not schools:
            abort(404)
        district = db.session.get(Org, user.org_id)
        return InsightsView(
            "district", user.org_id, schools, org=district, groups=True, by_teacher=True
        )
    abort(404)


def load_insights_school(school_id: int | str) -> InsightsView:
    """A school whose insights the user sees, or 404."""
    wanted = parse_id(school_id)
    if wanted is None:
        abort(404)
    allowed = db.session.scalar(select(literal(wanted).in_(insights_school_ids(current_user))))
    school = db.session.get(Org, wanted) if allowed else None
    if school is None or school.type is not OrgType.SCHOOL or school.parent_id is None:
        abort(404)
    return InsightsView(
        "school", school.parent_id, (school.id,), org=school, groups=True, by_teacher=True
    )


def load_insights_class(class_id: int) -> InsightsView:
    """A class: its teacher's (no group breakdowns), or one of a school in reach."""
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        abort(404)
    user = current_user
    if user.role is Role.TEACHER:
        if not can_view_class(school_class, user):
            abort(404)
        groups = False
    else:
        in_reach = db.session.scalar(
            select(literal(school_class.school_id).in_(insights_school_ids(user)))
        )
        if not in_reach:
            abort(404)
        groups = True
    district_id = db.session.scalar(select(Org.parent_id).where(Org.id == school_class.school_id))
    return InsightsView(
        "class",
        district_id,
        (school_class.school_id,),
        (school_class.id,),
        org=school_class.school,
        school_class=school_class,
        groups=groups,
        by_teacher=user.role is not Role.TEACHER,
    )


def load_insights_teaching() -> InsightsView:
    """A teacher's own classes together (no group breakdowns), or 404."""
    user = current_user
    class_ids = tuple(teaching_class_ids(user)) if user.role is Role.TEACHER else ()
    if not class_ids:
        abort(404)
    return InsightsView("teaching", _district_of(user), (user.org_id,), class_ids, org=user.org)


def allowed_breakdowns(view: InsightsView, available: tuple[str, ...], groups: frozenset) -> list:
    """The breakdowns this view may offer, in `available`'s order: org ones that make
    sense at its level, and group ones only when `view.groups`."""
    skip = {
        "district": set(),
        "school": {"school"},
        "class": {"school", "class", "teacher"},
        "teaching": {"school", "teacher"},
    }[view.level]
    if not view.by_teacher:
        skip.add("teacher")
    return [
        by
        for by in available
        if by not in skip and (by in ORG_BREAKDOWNS or (view.groups and by in groups))
    ]


def target_setting_org_ids(user: User) -> frozenset[int]:
    """The orgs whose targets this user sets: a district admin their district and its
    schools, a school admin their school; nobody else (a PL specialist reads them)."""
    if user.org_id is None:
        return frozenset()
    if user.role is Role.DISTRICT_ADMIN:
        return frozenset({user.org_id, *db.session.scalars(district_school_ids(user.org_id))})
    if user.role is Role.SCHOOL_ADMIN:
        return frozenset({user.org_id})
    return frozenset()


def may_set_targets(user: User, org_id: int) -> bool:
    return org_id in target_setting_org_ids(user)


def target_org_ids(user: User) -> list[int]:
    """The orgs whose targets this user may read: theirs, their schools' and their
    district's (a school is held to its district's targets too)."""
    schools = list(db.session.scalars(insights_school_ids(user)))
    if not schools:
        return []
    district = _district_of(user)
    return [district, *schools] if district is not None else schools


def load_indicator(indicator_id: int, *, edit: bool = False) -> SuccessIndicator:
    """A success indicator the user may read (404 otherwise); with `edit`, change (403)."""
    indicator = db.session.get(SuccessIndicator, indicator_id)
    if indicator is None or indicator.org_id not in target_org_ids(current_user):
        abort(404)
    if edit and not may_set_targets(current_user, indicator.org_id):
        abort(403)
    return indicator


def load_specialist(user_id: int) -> User:
    """A PL specialist of the district admin's own district, or 404."""
    person = db.session.get(User, user_id)
    if (
        current_user.role is not Role.DISTRICT_ADMIN
        or person is None
        or person.role is not Role.PL_SPECIALIST
        or person.org_id != current_user.org_id
    ):
        abort(404)
    return person
