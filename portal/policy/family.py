"""What a family sees of a learner's records: one set of SQL conditions, and their Python twins.

A guardian sees what the family page promises, on every route, list and download:
- the agreed goals only: ACTIVE (agreed by co-signing) and MET (reached from ACTIVE).
  Drafts, proposals and goals closed any other way are not theirs to read;
- of each, the agreed version's wording (`Goal.agreed_version`; a goal agreed before
  co-signing existed is agreed on its current version), never a later unsigned edit,
  and in its history only the versions both learner and teacher signed;
- of its progress, the entries shared with family and the feedback meant for families;
- of the profile, the sections the learner shared with family and no admin locked.
Everyone else who may see the learner (themselves, their teachers, admins) sees all.
Any goal or entry id a guardian asks for outside this is absent: 404.

The `family_*` conditions are what a family sees, whoever asks (the family page builds
on them); the `*_condition(learner)` ones are what the current user sees of one
learner: the family's set for a guardian, everything for anyone else related.
"""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import and_, exists, func, or_, true

from portal.auth.models import User
from portal.conferences.models import GoalSignature, SignerRole
from portal.goals.models import Goal, GoalStatus, GoalVersion
from portal.policy.relations import Relation, relation
from portal.profiles.models import Audience, ProfileSection
from portal.progress.models import Feedback, ProgressEntry

FAMILY_GOAL_STATUSES = frozenset({"active", "met"})  # GoalStatus values, see portal.goals


def family_view(learner: User, user: User | None = None) -> bool:
    """Does this user read the learner's records as family (the filtered view)?"""
    user = user if user is not None else current_user
    return relation(user, learner) is Relation.GUARDIAN


# --- What a family sees, as SQL ------------------------------------------------------


def family_goal_condition():
    """The family's goals as a SQL condition on Goal."""
    return Goal.status.in_([GoalStatus(s) for s in sorted(FAMILY_GOAL_STATUSES)])


def family_version_id():
    """The id of the version a family reads of a goal (the agreed wording), on Goal."""
    return func.coalesce(Goal.agreed_version_id, Goal.current_version_id)


def family_entry_condition():
    """The progress entries a family sees, as a SQL condition on ProgressEntry."""
    return ProgressEntry.shared_with_family.is_(True)


def family_feedback_condition():
    """The teacher feedback a family sees, as a SQL condition on Feedback."""
    return Feedback.for_families.is_(True)


def family_section_condition():
    """The profile sections a family sees, as a SQL condition on ProfileSection."""
    return and_(ProfileSection.audience == Audience.FAMILY, ProfileSection.locked.is_(False))


# --- The same, in Python, for one loaded row ---------------------------------------------


def family_sees_goal(goal) -> bool:
    return goal.status.value in FAMILY_GOAL_STATUSES


def family_sees_entry(entry) -> bool:
    return bool(entry.shared_with_family)


def family_sees_section(state) -> bool:
    """`state` is a ProfileSection or None (a section nobody touched is staff-only)."""
    return bool(state is not None and state.audience is Audience.FAMILY and not state.locked)


# --- What the current user sees of one learner -----------------------------------------


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
    return family_entry_condition() if family_view(learner, user) else true()


def feedback_condition(learner: User, user: User | None = None):
    """The teacher feedback of this learner the user may see, as a SQL condition."""
    return family_feedback_condition() if family_view(learner, user) else true()


def section_condition(learner: User, user: User | None = None):
    """The profile sections of this learner the user may see, as a SQL condition."""
    return family_section_condition() if family_view(learner, user) else true()
