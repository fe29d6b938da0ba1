"""Who may see and do what: the one place that decides. Deny by default.

Every view is marked with `public` or `roles(...)` (markers.py); every object a view
loads comes through a loader (loaders.py) that answers 404 when the object does not
exist or the user has no relation to its learner, and 403 when the user may see it but
not do what they asked. Templates call `can()` to hide what a user may not do.

- relations.py: how a user stands to a learner, the RULES table, `can`, the learners a
  user may see as SQL;
- family.py: what a family sees (agreed goals, shared entries, family feedback, shared
  profile sections) as SQL conditions, used by every page and download;
- schools.py: schools, classes and frameworks (`can_view_class` and its SQL twin);
- sso.py: district sign-in providers (district admins of that district only);
- loaders.py: load_learner, load_goal, load_entry, load_conference, load_school,
  load_job, load_record_export, load_roster_import, load_roster_run, ...;
- rights.py: the part of the record a correction request names, and the request;
- templating.py: what templates may call.

Callers import everything from `portal.policy`.
"""

from __future__ import annotations

from portal.policy.family import (
    FAMILY_GOAL_STATUSES,
    entry_condition,
    family_entry_condition,
    family_feedback_condition,
    family_goal_condition,
    family_section_condition,
    family_sees_entry,
    family_sees_goal,
    family_sees_section,
    family_version_id,
    family_view,
    feedback_condition,
    goal_condition,
    section_condition,
    shown_version,
    version_condition,
)
from portal.policy.loaders import (
    load_class,
    load_conference,
    load_entry,
    load_framework,
    load_goal,
    load_job,
    load_learner,
    load_learner_for_admin,
    load_offered_template,
    load_own_template,
    load_profile_entry,
    load_record_deletion,
    load_record_export,
    load_review_request,
    load_roster_import,
    load_roster_run,
    load_roster_scope,
    load_school,
    load_section_def,
    load_strategy,
    load_target,
    load_user_for_admin,
    roster_scope_ids,
)
from portal.policy.markers import public, roles
from portal.policy.relations import (
    ADMIN_RELATIONS,
    ANYONE_RELATED,
    LEARNER_AND_TEACHER,
    READ_ONLY_RELATIONS,
    RULES,
    STAFF_RELATIONS,
    Action,
    Relation,
    authorize,
    can,
    class_has_ended,
    current_term_filter,
    district_school_ids,
    ended_class_ids,
    grace_days,
    grace_start,
    guardian_children,
    learner_class_ids,
    relation,
    taught_term_filter,
    teacher_learner_ids,
    visible_learner_ids,
)
from portal.policy.rights import load_correction, load_correction_part, own_correction_condition
from portal.policy.schools import (
    TEACHER_CLASS_ACCESS,
    can_keep_strategies,
    can_manage_school,
    can_view_class,
    class_access_sql,
    framework_org_ids,
    manageable_school_ids,
)
from portal.policy.sso import load_sso_provider, sso_district_id

__all__ = [
    "load_sso_provider",
    "sso_district_id",
    "ADMIN_RELATIONS",
    "ANYONE_RELATED",
    "FAMILY_GOAL_STATUSES",
    "LEARNER_AND_TEACHER",
    "READ_ONLY_RELATIONS",
    "RULES",
    "STAFF_RELATIONS",
    "TEACHER_CLASS_ACCESS",
    "Action",
    "Relation",
    "authorize",
    "can",
    "can_keep_strategies",
    "can_manage_school",
    "can_view_class",
    "class_access_sql",
    "class_has_ended",
    "current_term_filter",
    "district_school_ids",
    "ended_class_ids",
    "entry_condition",
    "family_entry_condition",
    "family_feedback_condition",
    "family_goal_condition",
    "family_section_condition",
    "family_sees_entry",
    "family_sees_goal",
    "family_sees_section",
    "family_version_id",
    "family_view",
    "feedback_condition",
    "framework_org_ids",
    "grace_days",
    "grace_start",
    "goal_condition",
    "guardian_children",
    "learner_class_ids",
    "load_class",
    "load_conference",
    "load_correction",
    "load_correction_part",
    "load_entry",
    "load_framework",
    "load_goal",
    "load_job",
    "load_learner",
    "load_learner_for_admin",
    "load_offered_template",
    "load_own_template",
    "load_profile_entry",
    "load_record_export",
    "load_record_deletion",
    "load_review_request",
    "load_roster_import",
    "load_roster_run",
    "load_roster_scope",
    "load_school",
    "load_section_def",
    "load_strategy",
    "load_target",
    "load_user_for_admin",
    "manageable_school_ids",
    "own_correction_condition",
    "public",
    "relation",
    "roles",
    "roster_scope_ids",
    "section_condition",
    "shown_version",
    "taught_term_filter",
    "teacher_learner_ids",
    "version_condition",
    "visible_learner_ids",
]
