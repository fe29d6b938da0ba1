"""Who may see and do what: the one place that decides. Deny by default.

Every view is marked with `public` or `roles(...)`; every object a view loads
comes through a loader here that answers 404 when the object does not exist or
the user has no relation to its learner, and 403 when the user may see it but
not do what they asked. Templates call `can()` to hide what a user may not do.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps

from flask import abort, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, exists, false, literal, or_, select, true
from sqlalchemy.orm import aliased

from portal.audit.services import record_read
from portal.auth.models import ADMIN_ROLES, Role, User
from portal.conferences.models import GoalSignature, SignerRole
from portal.core.extensions import db, login_manager
from portal.core.timeutil import today
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.progress.models import Feedback, ProgressEntry
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, Org, SchoolClass, Term
from portal.targets.models import Framework, Target


class Relation(enum.StrEnum):
    """How the signed-in user stands to one learner."""

    SELF = "self"
    TEACHER = "teacher"
    GUARDIAN = "guardian"
    SCHOOL_ADMIN = "school_admin"
    DISTRICT_ADMIN = "district_admin"
    NONE = "none"


STAFF_RELATIONS = frozenset({Relation.TEACHER, Relation.SCHOOL_ADMIN, Relation.DISTRICT_ADMIN})
ANYONE_RELATED = frozenset(Relation) - {Relation.NONE}
LEARNER_AND_TEACHER = frozenset({Relation.SELF, Relation.TEACHER})
ADMIN_RELATIONS = frozenset({Relation.SCHOOL_ADMIN, Relation.DISTRICT_ADMIN})


class Action(enum.StrEnum):
    """Things done to or about one learner's records."""

    VIEW = "view"  # goals, progress, trackers, shared notes
    VIEW_STAFF_ONLY = "view_staff_only"  # e.g. sections locked to staff
    EDIT_GOAL = "edit_goal"
    PROPOSE_GOAL = "propose_goal"
    LOG_PROGRESS = "log_progress"
    GIVE_FEEDBACK = "give_feedback"
    SIGN_GOAL = "sign_goal"
    ACKNOWLEDGE = "acknowledge"  # "seen by family", not a signature
    CHEER = "cheer"
    MODERATE = "moderate"  # hide a family cheer
    RUN_CONFERENCE = "run_conference"
    SCHEDULE_CONFERENCE = "schedule_conference"
    PREPARE_CONFERENCE = "prepare_conference"  # ask for one, answer the prep questions
    PRIVATE_NOTES = "private_notes"
    EDIT_PROFILE = "edit_profile"
    SET_AUDIENCE = "set_audience"
    REQUEST_PROFILE_REVIEW = "request_profile_review"  # "review my profile with me"
    LOCK_SECTION = "lock_section"
    VIEW_ACCESS_LOG = "view_access_log"
    INVITE_FAMILY = "invite_family"


RULES: dict[Action, frozenset[Relation]] = {
    Action.VIEW: ANYONE_RELATED,
    Action.VIEW_STAFF_ONLY: frozenset({Relation.SELF}) | STAFF_RELATIONS,
    Action.EDIT_GOAL: LEARNER_AND_TEACHER,
    Action.PROPOSE_GOAL: frozenset({Relation.TEACHER}),
    Action.LOG_PROGRESS: frozenset({Relation.SELF}),
    Action.GIVE_FEEDBACK: frozenset({Relation.TEACHER}),
    Action.SIGN_GOAL: LEARNER_AND_TEACHER,
    Action.ACKNOWLEDGE: frozenset({Relation.GUARDIAN}),
    Action.CHEER: frozenset({Relation.GUARDIAN}),
    Action.MODERATE: frozenset({Relation.TEACHER}) | ADMIN_RELATIONS,
    Action.RUN_CONFERENCE: LEARNER_AND_TEACHER,
    Action.SCHEDULE_CONFERENCE: frozenset({Relation.TEACHER}),
    Action.PREPARE_CONFERENCE: frozenset({Relation.SELF}),
    Action.PRIVATE_NOTES: frozenset({Relation.TEACHER}),
    Action.EDIT_PROFILE: LEARNER_AND_TEACHER,
    Action.SET_AUDIENCE: frozenset({Relation.SELF}),
    Action.REQUEST_PROFILE_REVIEW: frozenset({Relation.SELF}),
    Action.LOCK_SECTION: ADMIN_RELATIONS,
    Action.VIEW_ACCESS_LOG: ADMIN_RELATIONS,
    Action.INVITE_FAMILY: frozenset({Relation.TEACHER}) | ADMIN_RELATIONS,
}


# --- Which learners a user can see -------------------------------------------------


def current_term_filter():
    on = today()
    return and_(Term.start_date <= on, Term.end_date >= on)


def teacher_learner_ids(teacher_id: int) -> Select:
    """Learners enrolled with this teacher in a class of the current term."""
    mine, theirs = aliased(Enrollment), aliased(Enrollment)
    return (
        select(theirs.user_id)
        .join(mine, and_(mine.class_id == theirs.class_id, mine.user_id == teacher_id))
        .join(SchoolClass, SchoolClass.id == theirs.class_id)
        .join(Term, Term.id == SchoolClass.term_id)
        .where(
            mine.role == EnrollmentRole.TEACHER,
            theirs.role == EnrollmentRole.LEARNER,
            current_term_filter(),
        )
    )


def district_school_ids(district_id: int) -> Select:
    return select(Org.id).where(Org.parent_id == district_id)


def visible_learner_ids(user: User) -> Select:
    """A SELECT of the ids of every learner this user may see; use it in WHERE ... IN."""
    match user.role:
        case Role.LEARNER:
            return select(literal(user.id))
        case Role.TEACHER:
            return teacher_learner_ids(user.id)
        case Role.GUARDIAN:
            return select(GuardianLink.learner_id).where(
                GuardianLink.guardian_id == user.id, GuardianLink.active.is_(True)
            )
        case Role.SCHOOL_ADMIN:
            return select(User.id).where(User.role == Role.LEARNER, User.org_id == user.org_id)
        case Role.DISTRICT_ADMIN:
            return select(User.id).where(
                User.role == Role.LEARNER, User.org_id.in_(district_school_ids(user.org_id))
            )
    return select(literal(None)).where(literal(False))


def _compute_relation(user: User, learner: User) -> Relation:
    if learner.role is not Role.LEARNER or not user.is_active:
        return Relation.NONE
    if user.id == learner.id:
        return Relation.SELF
    role_relation = {
        Role.TEACHER: Relation.TEACHER,
        Role.GUARDIAN: Relation.GUARDIAN,
        Role.SCHOOL_ADMIN: Relation.SCHOOL_ADMIN,
        Role.DISTRICT_ADMIN: Relation.DISTRICT_ADMIN,
    }.get(user.role)
    if role_relation is None:
        return Relation.NONE
    visible = db.session.scalar(select(literal(learner.id).in_(visible_learner_ids(user))))
    return role_relation if visible else Relation.NONE


def relation(user: User, learner: User) -> Relation:
    """How user stands to learner, computed once per request."""
    if not getattr(user, "is_authenticated", False):
        return Relation.NONE
    # Cached on the request, not on g: g outlives a request when an app context is reused.
    cache = request.environ.setdefault("waypoint.relations", {}) if has_request_context() else {}
    key = (user.id, learner.id)
    if key not in cache:
        cache[key] = _compute_relation(user, learner)
    return cache[key]


def can(action: Action | str, learner: User, user: User | None = None) -> bool:
    """May the (current) user do action to this learner's records?"""
    user = user if user is not None else current_user
    return relation(user, learner) in RULES[Action(action)]


# --- What a family sees of a learner's goals -----------------------------------------
# A guardian sees what the family page promises, on every route, list and download:
# - the agreed goals only: ACTIVE (agreed by co-signing) and MET (reached from ACTIVE).
#   Drafts, proposals and goals closed any other way are not theirs to read;
# - of each, the agreed version's wording (`Goal.agreed_version`; a goal agreed before
#   co-signing existed is agreed on its current version), never a later unsigned edit,
#   and in its history only the versions both learner and teacher signed;
# - of its progress, the entries shared with family and the feedback meant for families.
# Everyone else who may see the learner (themselves, their teachers, admins) sees all.
# Any goal or entry id a guardian asks for outside this is absent: 404.

FAMILY_GOAL_STATUSES = frozenset({"active", "met"})  # GoalStatus values, see portal.goals


def family_view(learner: User, user: User | None = None) -> bool:
    """Does this user read the learner's records as family (the filtered view)?"""
    user = user if user is not None else current_user
    return relation(user, learner) is Relation.GUARDIAN


def family_goal_condition():
    """The family's goals as a SQL condition on Goal."""
    return Goal.status.in_([GoalStatus(s) for s in sorted(FAMILY_GOAL_STATUSES)])


def family_sees_goal(goal) -> bool:
    return goal.status.value in FAMILY_GOAL_STATUSES


def goal_condition(learner: User, user: User | None = None):
    """The goals of this learner the user may see, as a SQL condition on Goal."""
    return family_goal_condition() if family_view(learner, user) else true()


def shown_version(goal, user: User | None = None):
    """The version of a goal this user reads: the agreed wording for a family."""
    if goal.current_version_id is not None and family_view(goal.learner, user):
        return goal.agreed_version or goal.current_version
    return goal.current_version


def version_condition(goal, user: User | None = None):
    """The versions of a (visible) goal the user may read, as a SQL condition on GoalVersion:
    for a family, the one they read and the earlier ones both learner and teacher signed."""
    if not family_view(goal.learner, user):
        return true()
    shown = shown_version(goal, user)

    def signed_by(role):
        return exists().where(
            GoalSignature.version_id == GoalVersion.id, GoalSignature.role == role
        )

    return or_(
        GoalVersion.id == shown.id,
        and_(
            GoalVersion.number < shown.number,
            signed_by(SignerRole.LEARNER),
            signed_by(SignerRole.TEACHER),
        ),
    )


def entry_condition(learner: User, user: User | None = None):
    """The progress entries of this learner the user may see, as a SQL condition."""
    if family_view(learner, user):
        return ProgressEntry.shared_with_family.is_(True)
    return true()


def feedback_condition(learner: User, user: User | None = None):
    """The teacher feedback of this learner the user may see, as a SQL condition."""
    if family_view(learner, user):
        return Feedback.for_families.is_(True)
    return true()


# --- Schools and classes -----------------------------------------------------------


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


# can_view_class for a teacher, as a condition on SchoolClass (parameters: viewer_id, today).
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
        Term.end_date >= bindparam("today"),
    )
    .correlate(SchoolClass)
    .exists(),
)


def class_access_sql(user: User) -> tuple:
    """can_view_class as a SQL condition on SchoolClass and its parameters, to fold into a
    query; the teacher's condition is one fixed expression, so statements built on it can
    be built once."""
    if user.role is Role.TEACHER:
        return TEACHER_CLASS_ACCESS, {"viewer_id": user.id, "today": today()}
    if user.role in ADMIN_ROLES:
        return SchoolClass.school_id.in_(manageable_school_ids(user)), {}
    return false(), {}


def can_view_class(school_class: SchoolClass, user: User | None = None) -> bool:
    """Teachers see the classes they teach this term; admins see their schools' classes."""
    user = user if user is not None else current_user
    if user.role is Role.TEACHER:
        # A past term's class would list learners the teacher no longer relates to.
        return school_class.term.is_current(today()) and db.session.scalar(
            select(
                exists().where(
                    Enrollment.class_id == school_class.id,
                    Enrollment.user_id == user.id,
                    Enrollment.role == EnrollmentRole.TEACHER,
                )
            )
        )
    return can_manage_school(school_class.school_id, user)


# --- Loaders: exists + may this user see it ---------------------------------------


def load_learner(learner_id: int, action: Action = Action.VIEW, record: str | None = None) -> User:
    """Return the learner, or 404 if absent or unrelated, or 403 if action is not allowed.

    With `record`, a staff member's full-page read is written to the access log.
    """
    learner = db.session.get(User, learner_id)
    if learner is None:
        abort(404)
    authorize(learner, action)
    if record:
        record_read(current_user, learner, relation(current_user, learner), record)
    return learner


def load_goal(goal_id: int, action: Action = Action.VIEW, record: str | None = None):
    """Return the goal, or 404 if absent, its learner unrelated or (for a family) not one
    of the goals they see, or 403 if action is not allowed. `record` as for load_learner."""
    goal = db.session.get(Goal, goal_id)
    if goal is None:
        abort(404)
    learner = db.session.get(User, goal.learner_id)
    rel = relation(current_user, learner)
    if rel is Relation.NONE or (rel is Relation.GUARDIAN and not family_sees_goal(goal)):
        abort(404)  # a family learns nothing of the goals they do not see, not even a 403
    load_learner(learner.id, action, record=record)
    return goal


def load_entry(entry_id: int, action: Action = Action.VIEW, record: str | None = None):
    """Return a progress entry and its goal: 404 unless the user may see both."""
    entry = db.session.get(ProgressEntry, entry_id)
    if entry is None:
        abort(404)
    goal = load_goal(entry.goal_id, action, record=record)
    if family_view(goal.learner) and not entry.shared_with_family:
        abort(404)
    return entry, goal


def authorize(learner: User, action: Action = Action.VIEW) -> Relation:
    """Abort unless the current user may do action to learner; return the relation."""
    rel = relation(current_user, learner)
    if rel is Relation.NONE:
        abort(404)
    if rel not in RULES[action]:
        abort(403)
    return rel


def load_class(class_id: int) -> SchoolClass:
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None or not can_view_class(school_class):
        abort(404)
    return school_class


def load_user_for_admin(user_id: int) -> User:
    """A person an admin manages: someone whose home org is one of their schools."""
    if current_user.role not in ADMIN_ROLES:
        abort(404)  # e.g. a teacher must not reach guardians through their learners
    person = db.session.get(User, user_id)
    if person is None or not can_manage_school(person.org_id):
        # Guardians have no school of their own: an admin manages the ones linked
        # to a learner of their school.
        if person is not None and person.role is Role.GUARDIAN and _guardian_in_my_schools(person):
            return person
        # A district admin manages the district admins of their own district.
        if (
            person is not None
            and person.role is Role.DISTRICT_ADMIN
            and current_user.role is Role.DISTRICT_ADMIN
            and person.org_id == current_user.org_id
        ):
            return person
        abort(404)
    return person


def _guardian_in_my_schools(guardian: User) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                GuardianLink.guardian_id == guardian.id,
                GuardianLink.learner_id.in_(visible_learner_ids(current_user)),
            )
        )
    )


# --- View markers: every route says who may call it -------------------------------


def public(view: Callable) -> Callable:
    """Mark a view as open to anyone, signed in or not."""
    view.access = "public"
    return view


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Require a signed-in user with one of the allowed roles (all roles if none given)."""
    allowed_set = frozenset(allowed) or frozenset(Role)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed_set:
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = ("roles", allowed_set)
        return wrapper

    return decorate


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


def load_framework(framework_id: int, edit: bool = False):
    """Return the framework, or 404 if absent or not visible, or 403 if edit is not allowed."""
    framework = db.session.get(Framework, framework_id)
    if framework is None:
        abort(404)
    _authorize_framework(framework.org_id, edit)
    return framework


def load_target(target_id: int, edit: bool = False):
    """Return the target, or 404 if absent or not visible, or 403 if edit is not allowed."""
    target = db.session.get(Target, target_id)
    if target is None:
        abort(404)
    _authorize_framework(target.framework.org_id, edit)
    return target


def _authorize_framework(org_id: int, edit: bool) -> None:
    visible = db.session.scalar(select(literal(org_id).in_(framework_org_ids(current_user))))
    if not visible:
        abort(404)
    if edit and not current_user.is_staff:
        abort(403)
