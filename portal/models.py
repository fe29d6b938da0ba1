"""Every model, imported once so metadata (create_all, Alembic) sees all tables."""

from portal.audit.models import AccessLogEntry
from portal.auth.models import LoginSession, Role, SpecialistSchool, User
from portal.badges import models as badges_models  # noqa: F401
from portal.conferences import models as conferences_models  # noqa: F401
from portal.core.jobs import Job
from portal.core.stamps import ChangeStamp
from portal.family import models as family_models  # noqa: F401
from portal.goals.models import (
    Goal,
    GoalStatus,
    GoalTemplate,
    GoalTemplateTarget,
    GoalVersion,
    GoalVersionStrategy,
    GoalVersionTarget,
    Horizon,
    Strategy,
    Voice,
)
from portal.insights import models as insights_models  # noqa: F401
from portal.insights.targets import SuccessIndicator
from portal.profiles import models as profiles_models  # noqa: F401
from portal.progress import models as progress_models  # noqa: F401
from portal.records.retention import RetentionDue
from portal.records.tombstone import RecordDeletion
from portal.rights.models import CorrectionRequest
from portal.roster.models import (
    Course,
    Enrollment,
    EnrollmentRole,
    GuardianLink,
    Org,
    OrgType,
    SchoolClass,
    Term,
)
from portal.rostering.models import Demographics, RosterImport, UserIdentifier
from portal.sso import models as sso_models  # noqa: F401
from portal.targets.models import Framework, MasteryLevel, MasteryScale, Target, TargetKind

__all__ = [
    "ChangeStamp",
    "Framework",
    "Goal",
    "GoalStatus",
    "GoalTemplate",
    "GoalTemplateTarget",
    "GoalVersion",
    "GoalVersionStrategy",
    "GoalVersionTarget",
    "Horizon",
    "Job",
    "MasteryLevel",
    "MasteryScale",
    "Strategy",
    "Target",
    "TargetKind",
    "Voice",
    "AccessLogEntry",
    "CorrectionRequest",
    "Course",
    "Demographics",
    "RecordDeletion",
    "RetentionDue",
    "RosterImport",
    "UserIdentifier",
    "Enrollment",
    "EnrollmentRole",
    "GuardianLink",
    "LoginSession",
    "Org",
    "OrgType",
    "Role",
    "SpecialistSchool",
    "SuccessIndicator",
    "SchoolClass",
    "Term",
    "User",
]
