"""Loaders: the object a URL names, if it exists and the signed-in user may reach it.

Every loader answers 404 when the object does not exist or the user has no relation to
it (a family also for what the family view leaves out: they learn nothing of it), and
403 when the user may see it but not do what they asked. Routes call a loader first;
services never abort. `of_*` arguments check that the object belongs to another one
the route already loaded (a goal of this conference's learner, an entry of this goal).
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, exists, literal, select

from portal.audit.services import record_read
from portal.auth.models import ADMIN_ROLES, DISTRICT_ROLES, Role, User
from portal.conferences.models import Conference
from portal.core.extensions import db
from portal.core.inputs import parse_id
from portal.core.jobs import Job
from portal.goals.models import Goal, GoalTemplate, Strategy
from portal.policy.family import (
    family_sees_entry,
    family_sees_goal,
    family_sees_section,
    family_view,
)
from portal.policy.relations import (
    Action,
    Relation,
    authorize,
    learner_class_ids,
    relation,
    visible_learner_ids,
)
from portal.policy.schools import (
    can_keep_strategies,
    can_manage_school,
    can_view_class,
    framework_org_ids,
)
from portal.profiles.models import (
    ProfileEntry,
    ProfileReviewRequest,
    ProfileSection,
    ProfileSectionDef,
)
from portal.progress.models import ProgressEntry
from portal.records.tombstone import RecordDeletion
from portal.roster.models import GuardianLink, Org, OrgType, SchoolClass
from portal.rostering.models import RosterImport
from portal.targets.models import Framework, Target

# --- A learner's records ----------------------------------------------------------------


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


def load_goal(
    goal_id: int,
    action: Action = Action.VIEW,
    record: str | None = None,
    *,
    of_learner: int | None = None,
) -> Goal:
    """Return the goal, or 404 if absent, without a version, not of learner `of_learner`,
    its learner unrelated or (for a family) not one of the goals they see, or 403 if
    action is not allowed. `record` as for load_learner."""
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.current_version_id is None:
        abort(404)
    if of_learner is not None and goal.learner_id != of_learner:
        abort(404)
    learner = db.session.get(User, goal.learner_id)
    rel = relation(current_user, learner)
    if rel is Relation.NONE or (rel is Relation.GUARDIAN and not family_sees_goal(goal)):
        abort(404)  # a family learns nothing of the goals they do not see, not even a 403
    load_learner(learner.id, action, record=record)
    return goal


def load_entry(
    entry_id: int,
    action: Action = Action.VIEW,
    record: str | None = None,
    *,
    of_goal: int | None = None,
) -> tuple[ProgressEntry, Goal]:
    """Return a progress entry and its goal: 404 unless the user may see both (a family:
    an entry shared with them) and, with `of_goal`, the entry is of that goal."""
    entry = db.session.get(ProgressEntry, entry_id)
    if entry is None or (of_goal is not None and entry.goal_id != of_goal):
        abort(404)
    goal = load_goal(entry.goal_id, action, record=record)
    if family_view(goal.learner) and not family_sees_entry(entry):
        abort(404)
    return entry, goal


def load_conference(
    conference_id: int, action: Action = Action.VIEW, *, of_learner: int | None = None
) -> Conference:
    """The conference, or 404 if absent, not of learner `of_learner` or its learner is
    unrelated, or 403 if not allowed."""
    conference = db.session.get(Conference, conference_id)
    if conference is None or (of_learner is not None and conference.learner_id != of_learner):
        abort(404)
    authorize(conference.learner, action)
    return conference


def load_profile_entry(learner: User, entry_id: int, *, own: bool = False) -> ProfileEntry:
    """An entry of this (loaded) learner's profile in a section the user may read, or 404;
    with `own`, 403 unless the signed-in user wrote it."""
    entry = db.session.scalar(
        select(ProfileEntry)
        .join(ProfileSection, ProfileSection.id == ProfileEntry.section_id)
        .where(ProfileEntry.id == entry_id, ProfileSection.learner_id == learner.id)
    )
    if entry is None or (family_view(learner) and not family_sees_section(entry.section)):
        abort(404)
    if own and entry.author_id != current_user.id:
        abort(403)
    return entry


def load_review_request(learner: User, request_id: int) -> ProfileReviewRequest:
    """An open profile review request of this (loaded) learner, or 404."""
    review = db.session.get(ProfileReviewRequest, request_id)
    if review is None or review.learner_id != learner.id or review.resolved_at is not None:
        abort(404)
    return review


# --- Schools and what they keep -------------------------------------------------------------


def load_school(
    school_id: int | str | None, *, keeper: bool = False, own_by_default: bool = False
) -> Org | None:
    """The school `school_id` names (from a path, a query string or a form field) if the
    signed-in user manages it, else 404: absent, not an id, another district's, or a
    sibling school a school admin does not run. With `keeper`, a teacher may load their
    own school too (they keep its strategy bank).

    Nothing asked (None or ""): None, or with `own_by_default` the user's own school
    (a district admin has none: None, they pick one).
    """
    if school_id is None or school_id == "":
        if not own_by_default or current_user.school_id is None:
            return None
        school_id = current_user.school_id
    wanted = parse_id(school_id)
    allowed = can_keep_strategies(wanted) if keeper else can_manage_school(wanted)
    school = db.session.get(Org, wanted) if allowed else None
    if school is None:
        abort(404)
    return school


def load_section_def(definition_id: int) -> ProfileSectionDef:
    """An extra profile section of a school the signed-in admin manages, or 404."""
    definition = db.session.get(ProfileSectionDef, definition_id)
    if definition is None or not can_manage_school(definition.school_id):
        abort(404)
    return definition


def load_strategy(strategy_id: int) -> Strategy:
    """A bank entry of a school the signed-in user keeps, or 404."""
    strategy = db.session.get(Strategy, strategy_id)
    if strategy is None or not can_keep_strategies(strategy.school_id):
        abort(404)
    return strategy


def load_own_template(template_id: int) -> GoalTemplate:
    """A goal template the signed-in teacher keeps, or 404."""
    template = db.session.get(GoalTemplate, template_id)
    if template is None or template.teacher_id != current_user.id:
        abort(404)
    return template


def load_offered_template(template_id: int, learner: User) -> GoalTemplate:
    """An active goal template offered to one of the (loaded) learner's classes this term,
    or 404."""
    template = db.session.scalar(
        select(GoalTemplate).where(
            GoalTemplate.id == template_id,
            GoalTemplate.active.is_(True),
            GoalTemplate.class_id.in_(learner_class_ids(learner.id)),
        )
    )
    if template is None:
        abort(404)
    return template


def load_class(class_id: int) -> SchoolClass:
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None or not can_view_class(school_class):
        abort(404)
    return school_class


# --- People an admin manages ------------------------------------------------------------------


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
        # A district admin manages the district admins and PL specialists of their own
        # district.
        if (
            person is not None
            and person.role in DISTRICT_ROLES
            and current_user.role is Role.DISTRICT_ADMIN
            and person.org_id == current_user.org_id
        ):
            return person
        abort(404)
    return person


def load_learner_for_admin(user_id: int) -> User:
    """A learner of a school the admin manages (load_user_for_admin), or 404."""
    person = load_user_for_admin(user_id)
    if person.role is not Role.LEARNER:
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


def load_record_deletion(deletion_id: int) -> RecordDeletion:
    """The tombstone of a record deleted from a school the admin manages, or 404."""
    found = db.session.get(RecordDeletion, deletion_id)
    if found is None or current_user.role not in ADMIN_ROLES:
        abort(404)
    if not can_manage_school(found.school_id):
        abort(404)
    return found


# --- Background jobs -----------------------------------------------------------------------


def load_job(job_id: int) -> Job:
    """A background job the signed-in user started, or 404 (nobody else's, not even an admin's:
    a job's messages may name files and people of its owner's work)."""
    found = db.session.get(Job, job_id)
    if found is None or found.owner_id != current_user.id:
        abort(404)
    return found


RECORD_EXPORT_KIND = "records.export"


def load_record_export(job_id: int) -> tuple[Job, User]:
    """A record export the signed-in user asked for, and its learner: 404 unless the job is
    theirs and is an export, 404/403 unless they may still export that learner's record.
    An admin's download is written to the access log."""
    job = load_job(job_id)
    learner_id = (job.params or {}).get("learner_id")
    if job.kind != RECORD_EXPORT_KIND or not isinstance(learner_id, int):
        abort(404)
    return job, load_learner(learner_id, Action.EXPORT_RECORD, record="record_export")


# --- Rostering: OneRoster imports -------------------------------------------------------------

ROSTER_JOB_KINDS = ("roster.dry_run", "roster.apply")


def roster_scope_ids(user: User) -> Select:
    """The orgs whose roster files this user may import and whose imports they see: a
    district admin their district and its schools, a school admin their school."""
    if user.role is Role.DISTRICT_ADMIN and user.org_id is not None:
        return select(Org.id).where((Org.id == user.org_id) | (Org.parent_id == user.org_id))
    if user.role is Role.SCHOOL_ADMIN and user.org_id is not None:
        return select(Org.id).where(Org.id == user.org_id, Org.type == OrgType.SCHOOL)
    return select(literal(None)).where(literal(False))


def _in_roster_scope(org_id) -> bool:
    wanted = parse_id(org_id)
    if wanted is None or current_user.role not in ADMIN_ROLES:
        return False
    return bool(
        db.session.scalar(
            select(exists().where(Org.id == wanted, Org.id.in_(roster_scope_ids(current_user))))
        )
    )


def load_roster_scope(org_id) -> Org:
    """The district or school an admin may import a roster file for, or 404."""
    if not _in_roster_scope(org_id):
        abort(404)
    return db.session.get(Org, parse_id(org_id))


def load_roster_import(import_id: int) -> RosterImport:
    """An import (dry run, applied or failed) of the admin's district or school, or 404:
    a school admin sees their school's imports, never the district's or a sibling's."""
    found = db.session.get(RosterImport, import_id)
    if found is None or not _in_roster_scope(found.scope_org_id):
        abort(404)
    return found


def load_roster_run(run_id: int) -> Job:
    """A roster dry run or apply job of the admin's district or school, or 404.

    Unlike other jobs (load_job: the owner only), every admin of the scope may follow and
    confirm one: what it shows (the file's people and counts) is what the import history
    shows them anyway, and a colleague may finish what another started."""
    found = db.session.get(Job, run_id)
    if found is None or found.kind not in ROSTER_JOB_KINDS:
        abort(404)
    if not _in_roster_scope((found.params or {}).get("scope_id")):
        abort(404)
    return found


# --- Frameworks and learning targets ------------------------------------------------------


def load_framework(framework_id: int, edit: bool = False) -> Framework:
    """Return the framework, or 404 if absent or not visible, or 403 if edit is not allowed."""
    framework = db.session.get(Framework, framework_id)
    if framework is None:
        abort(404)
    _authorize_framework(framework.org_id, edit)
    return framework


def load_target(target_id: int, edit: bool = False) -> Target:
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
