"""School administration: people, classes, enrollments and family links.

Reads are single SELECTs scoped in SQL to what the admin manages; writes change
state and at most flush(). Problems with the input raise FieldErrors (field
name -> message) before anything is flushed; the route rolls back and shows them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Select, and_, delete, exists, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.auth.models import DISTRICT_ROLES, LoginSession, Role, SpecialistSchool, User
from portal.auth.passwords import hash_secret
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import today, utcnow
from portal.policy import can_manage_school, manageable_school_ids, visible_learner_ids
from portal.roster.models import (
    Course,
    Enrollment,
    EnrollmentRole,
    GuardianLink,
    Org,
    SchoolClass,
    Term,
)

SCHOOL_ROLES = frozenset({Role.LEARNER, Role.TEACHER, Role.SCHOOL_ADMIN})
STAFF_ROLES_ORDER = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN, Role.PL_SPECIALIST)
# No 0/O, 1/I/L, so a code read aloud or copied off a board is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class FieldErrors(Exception):
    """Input the service refused, as messages keyed by form field name."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise FieldErrors(errors)


def _flush(on_conflict: dict[str, str]) -> None:
    """Flush; a unique constraint lost to a concurrent request becomes a field error."""
    try:
        db.session.flush()
    except IntegrityError as exc:  # the route rolls back when it catches FieldErrors
        raise FieldErrors(on_conflict) from exc


def _contains(column, term: str):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


# --- What an admin manages --------------------------------------------------------


def allowed_roles(admin: User) -> list[Role]:
    """Roles this admin may give: only district admins create district admins and PL
    specialists (who see the insights of the schools they are assigned to)."""
    roles = [Role.LEARNER, Role.TEACHER, Role.GUARDIAN, Role.SCHOOL_ADMIN]
    if admin.role is Role.DISTRICT_ADMIN:
        roles += [Role.DISTRICT_ADMIN, Role.PL_SPECIALIST]
    return roles


def manageable_schools(admin: User) -> list[Org]:
    return list(
        db.session.scalars(
            select(Org).where(Org.id.in_(manageable_school_ids(admin))).order_by(Org.name)
        )
    )


def terms_for(admin: User) -> list[Term]:
    """Terms of the admin's schools and of their districts that have not ended (a class
    is not put into history by hand), newest first."""
    schools = manageable_school_ids(admin)
    districts = select(Org.parent_id).where(Org.id.in_(schools))
    return list(
        db.session.scalars(
            select(Term)
            .where(
                or_(Term.org_id.in_(schools), Term.org_id.in_(districts)),
                Term.end_date >= today(),
            )
            .order_by(Term.start_date.desc(), Term.title)
        )
    )


def _guardians_of_learners(learner_ids: Select) -> Select:
    return select(GuardianLink.guardian_id).where(GuardianLink.learner_id.in_(learner_ids))


def managed_people(admin: User):
    """SQL condition for the people this admin manages (as policy.load_user_for_admin)."""
    conditions = [
        User.org_id.in_(manageable_school_ids(admin)),
        and_(
            User.role == Role.GUARDIAN,
            User.id.in_(_guardians_of_learners(visible_learner_ids(admin))),
        ),
    ]
    if admin.role is Role.DISTRICT_ADMIN:
        conditions.append(and_(User.role.in_(DISTRICT_ROLES), User.org_id == admin.org_id))
    return or_(*conditions)


def people_query(
    admin: User, *, q: str = "", school_id: int | None = None, role: Role | None = None
) -> Select:
    """The admin's people, filtered by school, role and a name/username/e-mail search."""
    stmt = select(User).where(managed_people(admin))
    if school_id is not None:
        learners_of_school = select(User.id).where(
            User.role == Role.LEARNER, User.org_id == school_id
        )
        stmt = stmt.where(
            or_(
                User.org_id == school_id,
                and_(
                    User.role == Role.GUARDIAN,
                    User.id.in_(_guardians_of_learners(learners_of_school)),
                ),
            )
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    for word in q.split()[:5]:
        stmt = stmt.where(
            or_(
                _contains(User.given_name, word),
                _contains(User.family_name, word),
                _contains(User.preferred_name, word),
                _contains(User.username, word),
                _contains(User.email, word),
            )
        )
    return stmt.order_by(User.family_name, User.given_name, User.id)


# --- People -----------------------------------------------------------------------


@dataclass
class PersonInput:
    given_name: str
    family_name: str
    preferred_name: str | None
    username: str
    email: str | None
    role: Role
    school_id: int | None
    grade: int | None
    password: str | None = None
    pin: str | None = None
    learner_username: str | None = None
    relationship: str = "parent"


def _taken(column, value: str, exclude_id: int | None) -> bool:
    # Sign-in matches usernames and e-mails case-insensitively, so uniqueness must too.
    condition = func.lower(column) == value.lower()
    not_self = User.id != exclude_id if exclude_id is not None else true()
    return db.session.scalar(select(exists().where(condition, not_self)))


def _check_identity(data: PersonInput, exclude_id: int | None, errors: dict[str, str]) -> None:
    if _taken(User.username, data.username, exclude_id):
        errors["username"] = _("That username is taken. Try adding a number or an initial.")
    if data.email and _taken(User.email, data.email, exclude_id):
        errors["email"] = _("Another account already uses that e-mail address.")


def _org_for(admin: User, data: PersonInput, errors: dict[str, str]) -> int | None:
    if data.role not in allowed_roles(admin):
        errors["role"] = _("You cannot give that role.")
        return None
    if data.role is Role.GUARDIAN:
        return None
    if data.role in DISTRICT_ROLES:
        return admin.org_id
    if data.school_id is None or not can_manage_school(data.school_id, admin):
        errors["school"] = _("Choose one of your schools.")
        return None
    return data.school_id


def _apply(person: User, data: PersonInput, org_id: int | None) -> None:
    person.given_name = data.given_name
    person.family_name = data.family_name
    person.preferred_name = data.preferred_name
    person.username = data.username
    person.email = data.email
    person.role = data.role
    person.org_id = org_id
    person.grade = data.grade if data.role is Role.LEARNER else None
    if data.password:
        person.password_hash = hash_secret(data.password)
    if data.role is not Role.LEARNER:
        person.pin_hash = None
    elif data.pin:
        person.pin_hash = hash_secret(data.pin)


def _learner_of(admin: User, username: str) -> User | None:
    return db.session.scalar(
        select(User).where(
            func.lower(User.username) == username.lower(),
            User.role == Role.LEARNER,
            User.id.in_(visible_learner_ids(admin)),
        )
    )


_IDENTITY_CONFLICT = {"username": _l("That username or e-mail was just taken. Try another.")}


def create_person(admin: User, data: PersonInput) -> User:
    """Add an account; a family account is linked to its first learner in the same step."""
    errors: dict[str, str] = {}
    org_id = _org_for(admin, data, errors)
    _check_identity(data, None, errors)
    learner = None
    if data.role is Role.GUARDIAN:
        learner = _learner_of(admin, data.learner_username or "")
        if learner is None:
            errors["learner"] = _("No learner of your schools has that username.")
    _raise_if(errors)
    person = User(role=data.role, active=True)
    _apply(person, data, org_id)
    db.session.add(person)
    _flush(_IDENTITY_CONFLICT)
    # A PL specialist's school on the form is their first assignment (more on Insights).
    pl_school = data.school_id if data.role is Role.PL_SPECIALIST else None
    if pl_school is not None and can_manage_school(pl_school, admin):
        db.session.add(SpecialistSchool(user_id=person.id, school_id=pl_school))
        db.session.flush()
    if learner is not None:
        db.session.add(
            GuardianLink(
                guardian_id=person.id, learner_id=learner.id, relationship_label=data.relationship
            )
        )
        _flush(_IDENTITY_CONFLICT)
    return person


def _has_roster_ties(person: User) -> bool:
    return db.session.scalar(
        select(
            exists().where(Enrollment.user_id == person.id)
            | exists().where(
                or_(GuardianLink.guardian_id == person.id, GuardianLink.learner_id == person.id)
            )
        )
    )


def editable_roles(admin: User, person: User) -> list[Role]:
    """Learners and family accounts keep their role; staff move between staff roles."""
    if person.role in (Role.LEARNER, Role.GUARDIAN) or person.id == admin.id:
        return [person.role]
    return [r for r in STAFF_ROLES_ORDER if r in allowed_roles(admin)]


def update_person(admin: User, person: User, data: PersonInput) -> None:
    errors: dict[str, str] = {}
    if data.role is not person.role:
        if data.role not in editable_roles(admin, person):
            errors["role"] = _("This account's role cannot change; create a new account instead.")
        elif _has_roster_ties(person):
            errors["role"] = _("Remove their class enrollments first, then change the role.")
    org_id = _org_for(admin, data, errors)
    if "school" not in errors and org_id != person.org_id and person.role is not Role.GUARDIAN:
        in_classes = db.session.scalar(select(exists().where(Enrollment.user_id == person.id)))
        if in_classes:
            errors["school"] = _("Remove their class enrollments first, then change the school.")
    _check_identity(data, person.id, errors)
    _raise_if(errors)
    _apply(person, data, org_id)
    _flush(_IDENTITY_CONFLICT)


def set_active(admin: User, person: User, active: bool) -> None:
    """Deactivate (signing them out everywhere) or reactivate an account."""
    if person.id == admin.id and not active:
        raise FieldErrors({"active": _("You cannot deactivate your own account.")})
    if person.active != active:
        person.deactivated_at = None if active else utcnow()
    person.active = active
    if not active:
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == person.id))
    db.session.flush()


def classes_of_person(person: User) -> list[tuple[SchoolClass, EnrollmentRole]]:
    return list(
        db.session.execute(
            select(SchoolClass, Enrollment.role)
            .join(Enrollment, Enrollment.class_id == SchoolClass.id)
            .where(Enrollment.user_id == person.id)
            .order_by(SchoolClass.period, SchoolClass.title)
        ).tuples()
    )


# --- Family links -----------------------------------------------------------------


def guardian_links_of(learner: User) -> list[GuardianLink]:
    return list(
        db.session.scalars(
            select(GuardianLink)
            .options(joinedload(GuardianLink.guardian))
            .where(GuardianLink.learner_id == learner.id)
            .order_by(GuardianLink.active.desc(), GuardianLink.created_at)
        )
    )


def followed_learners(admin: User, guardian: User) -> list[GuardianLink]:
    """The guardian's links to learners this admin may see."""
    return list(
        db.session.scalars(
            select(GuardianLink)
            .options(joinedload(GuardianLink.learner))
            .where(
                GuardianLink.guardian_id == guardian.id,
                GuardianLink.learner_id.in_(visible_learner_ids(admin)),
            )
            .order_by(GuardianLink.created_at)
        )
    )


def link_guardian(learner: User, login: str, relationship: str) -> GuardianLink:
    """Let an existing family account follow this learner."""
    login = login.strip().lower()
    guardian = db.session.scalar(
        select(User).where(
            User.role == Role.GUARDIAN,
            or_(func.lower(User.username) == login, func.lower(User.email) == login),
        )
    )
    if guardian is None:
        raise FieldErrors(
            {
                "guardian": _(
                    "No family account has that username or e-mail. "
                    "Create it with “Add a person” first."
                )
            }
        )
    existing = db.session.scalar(
        select(GuardianLink).where(
            GuardianLink.guardian_id == guardian.id, GuardianLink.learner_id == learner.id
        )
    )
    if existing is not None:
        message = (
            _("%(name)s already follows this learner.", name=guardian.display_name)
            if existing.active
            else _(
                "%(name)s is linked but paused: reactivate the link below.",
                name=guardian.display_name,
            )
        )
        raise FieldErrors({"guardian": message})
    link = GuardianLink(
        guardian_id=guardian.id, learner_id=learner.id, relationship_label=relationship
    )
    db.session.add(link)
    _flush({"guardian": _("That family member was just linked. Reload the page.")})
    return link


def set_link_active(link: GuardianLink, active: bool) -> None:
    """Pause or restore a family link; policy reads it on the very next request."""
    link.active = active
    link.deactivated_at = None if active else utcnow()
    db.session.flush()


# --- Classes ----------------------------------------------------------------------


def classes_query(admin: User, school_id: int | None = None) -> Select:
    """The admin's classes, newest term first."""
    stmt = (
        select(SchoolClass)
        .options(joinedload(SchoolClass.school))
        .join(Term, Term.id == SchoolClass.term_id)
        .where(SchoolClass.school_id.in_(manageable_school_ids(admin)))
    )
    if school_id is not None:
        stmt = stmt.where(SchoolClass.school_id == school_id)
    return stmt.order_by(
        Term.start_date.desc(), SchoolClass.period, SchoolClass.title, SchoolClass.id
    )


def enrollment_counts(class_ids: list[int]) -> dict[int, dict[EnrollmentRole, int]]:
    """Teachers and learners per class, for one page of classes in one query."""
    counts: dict[int, dict[EnrollmentRole, int]] = {
        i: dict.fromkeys(EnrollmentRole, 0) for i in class_ids
    }
    rows = db.session.execute(
        select(Enrollment.class_id, Enrollment.role, func.count(Enrollment.id))
        .where(Enrollment.class_id.in_(class_ids))
        .group_by(Enrollment.class_id, Enrollment.role)
    )
    for class_id, role, n in rows:
        counts[class_id][role] = n
    return counts


def new_class_code(taken: set[str]) -> str:
    """A fresh code like RVR4-7K that is not in `taken` (for imports that hold every code)."""
    for _attempt in range(20):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        code = f"{raw[:4]}-{raw[4:]}"
        if code not in taken:
            return code
    raise RuntimeError("could not find a free class code")


def generate_class_code() -> str:
    """A fresh code like RVR4-7K that no class uses yet."""
    for _attempt in range(20):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        code = f"{raw[:4]}-{raw[4:]}"
        if not db.session.scalar(select(exists().where(SchoolClass.class_code == code))):
            return code
    raise RuntimeError("could not find a free class code")


def _course(school_id: int, title: str | None) -> Course | None:
    if not title:
        return None
    course = db.session.scalar(
        select(Course)
        .where(Course.school_id == school_id, func.lower(Course.title) == title.lower())
        .limit(1)
    )
    if course is None:
        course = Course(school_id=school_id, title=title)
        db.session.add(course)
    return course


def _term_for_school(term_id: int | None, school_id: int, errors: dict[str, str]) -> None:
    district_of_school = select(Org.parent_id).where(Org.id == school_id)
    fits = term_id is not None and db.session.scalar(
        select(
            exists().where(
                Term.id == term_id,
                or_(Term.org_id == school_id, Term.org_id.in_(district_of_school)),
                Term.end_date >= today(),
            )
        )
    )
    if not fits:
        errors["term"] = _("Choose a term of this school's district that has not ended.")


@dataclass
class ClassInput:
    title: str
    period: str | None
    course_title: str | None
    term_id: int | None
    school_id: int | None = None


def create_class(admin: User, data: ClassInput) -> SchoolClass:
    errors: dict[str, str] = {}
    if data.school_id is None or not can_manage_school(data.school_id, admin):
        errors["school"] = _("Choose one of your schools.")
    else:
        _term_for_school(data.term_id, data.school_id, errors)
    _raise_if(errors)
    school_class = SchoolClass(
        school_id=data.school_id,
        title=data.title,
        period=data.period,
        term_id=data.term_id,
        course=_course(data.school_id, data.course_title),
        class_code=generate_class_code(),
    )
    db.session.add(school_class)
    _flush({"title": _("Another change got in first. Please try again.")})
    return school_class


def update_class(school_class: SchoolClass, data: ClassInput) -> None:
    errors: dict[str, str] = {}
    _term_for_school(data.term_id, school_class.school_id, errors)
    _raise_if(errors)
    school_class.title = data.title
    school_class.period = data.period
    school_class.term_id = data.term_id
    school_class.course = _course(school_class.school_id, data.course_title)
    db.session.flush()


def regenerate_code(school_class: SchoolClass) -> str:
    """Give the class a new code: the old one stops working at once."""
    school_class.class_code = generate_class_code()
    db.session.flush()
    return school_class.class_code


def class_members(school_class: SchoolClass) -> list[Enrollment]:
    return list(
        db.session.scalars(
            select(Enrollment)
            .join(User, User.id == Enrollment.user_id)
            .options(joinedload(Enrollment.user))
            .where(Enrollment.class_id == school_class.id)
            .order_by(User.family_name, User.given_name)
        )
    )


def enrollment_candidates(school_class: SchoolClass, q: str, limit: int = 15) -> list[User]:
    """Active learners and teachers of the class's school, not yet in it, matching q."""
    already = select(Enrollment.user_id).where(Enrollment.class_id == school_class.id)
    stmt = select(User).where(
        User.org_id == school_class.school_id,
        User.role.in_([Role.LEARNER, Role.TEACHER]),
        User.active.is_(True),
        User.id.not_in(already),
    )
    for word in q.split()[:5]:
        stmt = stmt.where(
            or_(
                _contains(User.username, word),
                _contains(User.given_name, word),
                _contains(User.family_name, word),
                _contains(User.preferred_name, word),
            )
        )
    return list(db.session.scalars(stmt.order_by(User.family_name, User.given_name).limit(limit)))


def enroll(school_class: SchoolClass, username: str) -> Enrollment:
    """Add a learner or teacher of the class's own school; the role follows the person's."""
    person = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    # One message for "no such user" and "someone of another school": it reveals nothing.
    if (
        person is None
        or person.org_id != school_class.school_id
        or person.role not in (Role.LEARNER, Role.TEACHER)
    ):
        raise FieldErrors(
            {
                "username": _(
                    "No learner or teacher of %(school)s has the username “%(username)s”. "
                    "People of other schools cannot join this class.",
                    school=school_class.school.name,
                    username=username,
                )
            }
        )
    if not person.active:
        raise FieldErrors(
            {"username": _("%(name)s's account is deactivated.", name=person.display_name)}
        )
    if db.session.scalar(
        select(
            exists().where(Enrollment.class_id == school_class.id, Enrollment.user_id == person.id)
        )
    ):
        raise FieldErrors(
            {"username": _("%(name)s is already in this class.", name=person.display_name)}
        )
    role = EnrollmentRole.TEACHER if person.role is Role.TEACHER else EnrollmentRole.LEARNER
    enrollment = Enrollment(class_id=school_class.id, user_id=person.id, role=role)
    db.session.add(enrollment)
    _flush({"username": _("%(name)s is already in this class.", name=person.display_name)})
    return enrollment


def remove_enrollment(enrollment: Enrollment) -> None:
    db.session.delete(enrollment)
    db.session.flush()
