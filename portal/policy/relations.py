"""How a user stands to a learner, and what each relation may do: the RULES table.

`relation()` is the Python answer for one learner; `visible_learner_ids()` the same
answer as SQL for lists. tests/test_class_access_agreement.py checks they agree.

Terms decide "this year": a class belongs to the term its imported academicSession
gives it, and the term's dates decide whether it is current (today within them), ended
or yet to start. A teacher relates to the learners of the classes they teach this term
(TEACHER) and, for `ROSTER_TEACHER_GRACE_DAYS` (default 60) after a class's term ended,
to the learners of that class read-only (FORMER_TEACHER: see what a teacher sees, change
nothing). Teachers do not relate to deactivated learners: their records are kept, and
only the admins who manage people still reach them.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from flask import abort, current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, literal, select
from sqlalchemy.orm import aliased

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, Org, SchoolClass, Term


class Relation(enum.StrEnum):
    """How the signed-in user stands to one learner."""

    SELF = "self"
    TEACHER = "teacher"
    FORMER_TEACHER = "former_teacher"  # taught them in a term that ended within the grace
    GUARDIAN = "guardian"
    SCHOOL_ADMIN = "school_admin"
    DISTRICT_ADMIN = "district_admin"
    NONE = "none"


STAFF_RELATIONS = frozenset({Relation.TEACHER, Relation.SCHOOL_ADMIN, Relation.DISTRICT_ADMIN})
# Staff who may read as staff do and do nothing else: last year's teacher in the grace.
READ_ONLY_RELATIONS = frozenset({Relation.FORMER_TEACHER})
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
    EXPORT_RECORD = "export_record"  # download the whole record (a zip), FERPA's inspection
    SEE_WHO_LOOKED = "see_who_looked"  # the family's and learner's view of the access log
    ASK_CORRECTION = "ask_correction"  # ask the school to correct a part of the record
    ANSWER_CORRECTION = "answer_correction"  # the school admin's queue
    PRINT_PROFILE = "print_profile"  # the one-page profile PDF
    PRINT_GOAL_REPORT = "print_goal_report"  # a goal's conference report PDF
    PRINT_FAMILY_REPORT = "print_family_report"  # a child's progress report, for the family
    DELETE_RECORD = "delete_record"  # delete the whole record on a records request
    MANAGE_BADGES = "manage_badges"  # print, revoke, picture of a sign-in badge


RULES: dict[Action, frozenset[Relation]] = {
    Action.VIEW: ANYONE_RELATED,
    Action.VIEW_STAFF_ONLY: frozenset({Relation.SELF}) | STAFF_RELATIONS | READ_ONLY_RELATIONS,
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
    # The learner, each guardian, and the admins answering a records request (logged).
    Action.EXPORT_RECORD: frozenset({Relation.SELF, Relation.GUARDIAN}) | ADMIN_RELATIONS,
    Action.SEE_WHO_LOOKED: frozenset({Relation.SELF, Relation.GUARDIAN}),
    Action.ASK_CORRECTION: frozenset({Relation.SELF, Relation.GUARDIAN}),
    Action.ANSWER_CORRECTION: ADMIN_RELATIONS,
    Action.PRINT_PROFILE: LEARNER_AND_TEACHER,
    Action.PRINT_GOAL_REPORT: LEARNER_AND_TEACHER,
    Action.PRINT_FAMILY_REPORT: frozenset({Relation.GUARDIAN}),
    Action.DELETE_RECORD: ADMIN_RELATIONS,
    Action.MANAGE_BADGES: frozenset({Relation.TEACHER}) | ADMIN_RELATIONS,
}


# --- Terms: this term, and the teacher's grace after a term ended ------------------


def grace_days() -> int:
    """How long after a class's term ended its teachers still read its learners' records."""
    return int(current_app.config.get("ROSTER_TEACHER_GRACE_DAYS", 60))


def grace_start(on: date | None = None) -> date:
    """The earliest term end still within the grace period on day `on` (default today)."""
    return (on or today()) - timedelta(days=grace_days())


def current_term_filter():
    """Terms running today, as a SQL condition on Term."""
    on = today()
    return and_(Term.start_date <= on, Term.end_date >= on)


def taught_term_filter():
    """Terms whose classes' teachers still reach their learners: running today, or ended
    within the grace period (a term yet to start is not one), as a SQL condition on Term."""
    on = today()
    return and_(Term.start_date <= on, Term.end_date >= grace_start(on))


def class_has_ended(school_class: SchoolClass, on: date | None = None) -> bool:
    """Is this class last year's (its term is over)? Its roster, templates and conferences
    are then history: readable, never changed."""
    return school_class.term.has_ended(on or today())


def ended_class_ids() -> Select:
    """The classes whose term is over, as a SELECT of ids (their enrollments are history)."""
    return (
        select(SchoolClass.id)
        .join(Term, Term.id == SchoolClass.term_id)
        .where(Term.end_date < today())
    )


# --- Which learners a user can see -------------------------------------------------

# Made once: an alias is costly to build and to adapt columns to, and these are used
# only inside the subquery below (an alias named in a statement's FROM is never reused).
_MINE, _THEIRS = aliased(Enrollment), aliased(Enrollment)


def teacher_learner_ids(teacher_id: int, *, current_only: bool = False) -> Select:
    """Active learners enrolled with this teacher in a class of the current term or, unless
    `current_only`, of a term that ended within the grace period (read-only for them)."""
    terms = current_term_filter() if current_only else taught_term_filter()
    return _teacher_learners(teacher_id, terms)


def _teacher_learners(teacher_id, terms) -> Select:
    mine, theirs = _MINE, _THEIRS
    return (
        select(theirs.user_id)
        .join(mine, and_(mine.class_id == theirs.class_id, mine.user_id == teacher_id))
        .join(SchoolClass, SchoolClass.id == theirs.class_id)
        .join(Term, Term.id == SchoolClass.term_id)
        .join(User, User.id == theirs.user_id)
        .where(
            mine.role == EnrollmentRole.TEACHER,
            theirs.role == EnrollmentRole.LEARNER,
            User.active.is_(True),
            terms,
        )
        .distinct()
    )


# teacher_learner_ids(teacher) as one expression built once, for statements that are
# built once themselves (the class view's): parameters `teacher_learner_params(teacher)`.
TEACHER_LEARNER_IDS = _teacher_learners(
    bindparam("viewer_id"),
    and_(Term.start_date <= bindparam("today"), Term.end_date >= bindparam("since")),
)


def teacher_learner_params(teacher: User) -> dict:
    on = today()
    return {"viewer_id": teacher.id, "today": on, "since": grace_start(on)}


def learner_class_ids(learner_id: int) -> Select:
    """The classes this learner is enrolled in this term."""
    return (
        select(Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(Term, Term.id == SchoolClass.term_id)
        .where(
            Enrollment.user_id == learner_id,
            Enrollment.role == EnrollmentRole.LEARNER,
            current_term_filter(),
        )
    )


def district_school_ids(district_id: int) -> Select:
    return select(Org.id).where(Org.parent_id == district_id)


def visible_learner_ids(user: User) -> Select:
    """A SELECT of the ids of every learner this user may see; use it in WHERE ... IN."""
    if not user.is_active:  # as relation(): a deactivated account relates to no one
        return select(literal(None)).where(literal(False))
    match user.role:
        case Role.LEARNER:
            return select(literal(user.id))
        case Role.TEACHER:
            return teacher_learner_ids(user.id)
        case Role.GUARDIAN:
            return guardian_learner_ids(user.id)
        case Role.SCHOOL_ADMIN:
            return select(User.id).where(User.role == Role.LEARNER, User.org_id == user.org_id)
        case Role.DISTRICT_ADMIN:
            return select(User.id).where(
                User.role == Role.LEARNER, User.org_id.in_(district_school_ids(user.org_id))
            )
    return select(literal(None)).where(literal(False))


def guardian_learner_ids(guardian_id) -> Select:
    """The learners a guardian follows: an active link (`guardian_id` an id or a bindparam)."""
    return select(GuardianLink.learner_id).where(
        GuardianLink.guardian_id == guardian_id, GuardianLink.active.is_(True)
    )


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
    if user.role is Role.TEACHER:
        if not learner.active:
            return Relation.NONE
        current, taught = db.session.execute(
            select(
                literal(learner.id).in_(teacher_learner_ids(user.id, current_only=True)),
                literal(learner.id).in_(teacher_learner_ids(user.id)),
            )
        ).one()
        if current:
            return Relation.TEACHER
        return Relation.FORMER_TEACHER if taught else Relation.NONE
    visible = db.session.scalar(select(literal(learner.id).in_(visible_learner_ids(user))))
    return role_relation if visible else Relation.NONE


def _relations() -> dict:
    # Cached on the request, not on g: g outlives a request when an app context is reused.
    return request.environ.setdefault("waypoint.relations", {}) if has_request_context() else {}


def relation(user: User, learner: User) -> Relation:
    """How user stands to learner, computed once per request."""
    if not getattr(user, "is_authenticated", False):
        return Relation.NONE
    cache = _relations()
    key = (user.id, learner.id)
    if key not in cache:
        cache[key] = _compute_relation(user, learner)
    return cache[key]


# Built once: every family page asks it (building a statement costs about what running
# this one does).
_GUARDIAN_CHILDREN = (
    select(User)
    .where(User.id.in_(guardian_learner_ids(bindparam("guardian_id"))))
    .order_by(User.given_name, User.id)
)


def guardian_children(guardian: User) -> list[User]:
    """The learners this guardian follows through an active link, by first name, in one
    query; how the guardian stands to each is then known for the request (what
    `_compute_relation` would find: the same link), so `can()` asks nothing more."""
    if guardian.role is not Role.GUARDIAN:
        return []
    if not guardian.is_active:  # as visible_learner_ids: a deactivated account sees no one
        return []
    children = list(db.session.scalars(_GUARDIAN_CHILDREN, {"guardian_id": guardian.id}))
    if getattr(guardian, "is_authenticated", False):
        cache = _relations()
        for child in children:
            related = child.role is Role.LEARNER and guardian.is_active and child.id != guardian.id
            cache[(guardian.id, child.id)] = Relation.GUARDIAN if related else Relation.NONE
    return children


def can(action: Action | str, learner: User, user: User | None = None) -> bool:
    """May the (current) user do action to this learner's records?"""
    user = user if user is not None else current_user
    return relation(user, learner) in RULES[Action(action)]


def authorize(learner: User, action: Action = Action.VIEW) -> Relation:
    """Abort unless the current user may do action to learner; return the relation."""
    rel = relation(current_user, learner)
    if rel is Relation.NONE:
        abort(404)
    if rel not in RULES[action]:
        abort(403)
    return rel
