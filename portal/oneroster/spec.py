"""What the OneRoster CSV bindings define: files, columns (in the spec's order), which are
required, and the vocabularies Waypoint checks.

Sources, cited by document and the heading of its table:
- [OR11] 1EdTech OneRoster v1.1 CSV Tables (Final Release, 2017; 1.1.1 errata 2023):
  Table 2.1 "CSV files", the per-file tables in section 3 (manifest.csv, orgs.csv,
  academicSessions.csv, courses.csv, classes.csv, users.csv, enrollments.csv,
  demographics.csv), and the data-type and extension rules of section 2.
- [OR12] 1EdTech OneRoster CSV Binding 1.2 / 1.2.1 (Final Release, 2022-2023): the
  per-file tables (adds roles.csv and userProfiles.csv; users.csv loses role and
  orgSourcedIds), the manifest table, and the data-type and extension rules.
- [OR12-INFO] the OneRoster 1.2 Rostering information model, for the enumerations
  (OrgType, SessionType, RoleType, Role, EnrollRole, Sex, ClassType, StatusType).
- [CEDS] CEDS "Entry Grade Level" option set, which both bindings name for `grades`.
"""

from __future__ import annotations

from dataclasses import dataclass

V11 = "1.1"
V12 = "1.2"
VERSIONS = (V11, V12)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: tuple[str, ...] = ()  # the versions in which the column (and a value) is required
    versions: tuple[str, ...] = VERSIONS  # the versions that define the column


def _c(name: str, required: tuple[str, ...] | bool = False, versions=VERSIONS) -> Column:
    if required is True:
        required = tuple(versions)
    return Column(name, required or (), tuple(versions))


_BASE = (_c("sourcedId", True), _c("status"), _c("dateLastModified"))
_11 = (V11,)
_12 = (V12,)

# Column order is the spec's; readers match by name, so order drift is accepted.
COLUMNS: dict[str, tuple[Column, ...]] = {
    # [OR11] §3 orgs.csv; [OR12] orgs.csv (unchanged)
    "orgs": (
        *_BASE,
        _c("name", True),
        _c("type", True),
        _c("identifier"),
        _c("parentSourcedId"),
    ),
    # [OR11] §3 academicSessions.csv; [OR12] academicSessions.csv
    "academicSessions": (
        *_BASE,
        _c("title", True),
        _c("type", True),
        _c("startDate", True),
        _c("endDate", True),
        _c("parentSourcedId"),
        _c("schoolYear", True),
    ),
    # [OR11] §3 courses.csv; [OR12] courses.csv adds resourceSourcedIds
    "courses": (
        *_BASE,
        _c("schoolYearSourcedId"),
        _c("title", True),
        _c("courseCode"),
        _c("grades"),
        _c("orgSourcedId", True),
        _c("subjects"),
        _c("subjectCodes"),
        _c("resourceSourcedIds", versions=_12),
    ),
    # [OR11] §3 classes.csv; [OR12] classes.csv adds resourceSourcedIds
    "classes": (
        *_BASE,
        _c("title", True),
        _c("grades"),
        _c("courseSourcedId", True),
        _c("classCode"),
        _c("classType", True),
        _c("location"),
        _c("schoolSourcedId", True),
        _c("termSourcedIds", True),
        _c("subjects"),
        _c("subjectCodes"),
        _c("periods"),
        _c("resourceSourcedIds", versions=_12),
    ),
    # [OR11] §3 users.csv carries orgSourcedIds and role; [OR12] users.csv moves them to
    # roles.csv and adds userMasterIdentifier, preferred names, primaryOrgSourcedId, pronouns.
    "users": (
        *_BASE,
        _c("enabledUser", True),
        _c("orgSourcedIds", _11),
        _c("role", _11),
        _c("username", True),
        _c("userIds"),
        _c("givenName", True),
        _c("familyName", True),
        _c("middleName"),
        _c("identifier"),
        _c("email"),
        _c("sms"),
        _c("phone"),
        _c("agentSourcedIds"),
        _c("grades"),
        _c("password"),
        _c("userMasterIdentifier", versions=_12),
        _c("resourceSourcedIds", versions=_12),
        _c("preferredGivenName", versions=_12),
        _c("preferredMiddleName", versions=_12),
        _c("preferredFamilyName", versions=_12),
        _c("primaryOrgSourcedId", versions=_12),
        _c("pronouns", versions=_12),
    ),
    # [OR12] roles.csv (new in 1.2)
    "roles": (
        *_BASE,
        _c("userSourcedId", True, _12),
        _c("roleType", True, _12),
        _c("role", True, _12),
        _c("beginDate", versions=_12),
        _c("endDate", versions=_12),
        _c("orgSourcedId", True, _12),
        _c("userProfileSourcedId", versions=_12),
    ),
    # [OR12] userProfiles.csv (new in 1.2)
    "userProfiles": (
        *_BASE,
        _c("userSourcedId", True, _12),
        _c("profileType", True, _12),
        _c("vendorId", True, _12),
        _c("applicationId", versions=_12),
        _c("description", versions=_12),
        _c("credentialType", True, _12),
        _c("username", True, _12),
        _c("password", versions=_12),
    ),
    # [OR11] §3 enrollments.csv; [OR12] enrollments.csv (unchanged)
    "enrollments": (
        *_BASE,
        _c("classSourcedId", True),
        _c("schoolSourcedId", True),
        _c("userSourcedId", True),
        _c("role", True),
        _c("primary"),
        _c("beginDate"),
        _c("endDate"),
    ),
    # [OR11] §3 demographics.csv; [OR12] demographics.csv. The sourcedId is the user's.
    "demographics": (
        *_BASE,
        _c("birthDate"),
        _c("sex"),
        _c("americanIndianOrAlaskaNative"),
        _c("asian"),
        _c("blackOrAfricanAmerican"),
        _c("nativeHawaiianOrOtherPacificIslander"),
        _c("white"),
        _c("demographicRaceTwoOrMoreRaces"),
        _c("hispanicOrLatinoEthnicity"),
        _c("countryOfBirthCode"),
        _c("stateOfBirthAbbreviation"),
        _c("cityOfBirth"),
        _c("publicSchoolResidenceStatus"),
    ),
}

# The order Waypoint reads the files in: every file after the files it references.
READ_ORDER = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "userProfiles",
    "roles",
    "enrollments",
    "demographics",
)
ONLY_12 = frozenset({"roles", "userProfiles"})

# Files of the bindings that Waypoint does not use: accepted, ignored, and said so.
# [OR11] Table 2.1; [OR12] adds the score scales, learning objective ids and userResources.
UNUSED_FILES = frozenset(
    {
        "categories",
        "classResources",
        "courseResources",
        "lineItems",
        "resources",
        "results",
        "scoreScales",
        "lineItemScoreScales",
        "resultScoreScales",
        "lineItemLearningObjectiveIds",
        "resultLearningObjectiveIds",
        "userResources",
    }
)

# Columns Waypoint never keeps, whatever the file says: it signs people in its own way,
# and a password in a roster export must not end up in Waypoint's database.
NEVER_KEPT = frozenset({"password"})

# --- Vocabularies ---------------------------------------------------------------------
# Each enumeration is matched case-insensitively and stored in the spec's spelling.
# [OR11] §2 and [OR12] "Vocabulary extensions": a value beginning with "ext:" extends an
# enumeration and is accepted as written.
EXT_PREFIX = "ext:"

# [OR11]/[OR12] StatusType. "inactive" is OneRoster 1.0's word; it is read as tobedeleted.
STATUSES = ("active", "tobedeleted")
OLD_STATUSES = {"inactive": "tobedeleted", "deleted": "tobedeleted"}

# [OR12-INFO] OrgType (the 1.1 list is the same)
ORG_TYPES = ("department", "school", "district", "local", "state", "national")

# [OR12-INFO] SessionType ([OR11] the same four)
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")

# [OR12-INFO] ClassType
CLASS_TYPES = ("homeroom", "scheduled")

# [OR12-INFO] RoleType (roles.csv)
ROLE_TYPES = ("primary", "secondary")

# [OR11] users.csv role: administrator, aide, guardian, parent, proctor, relative,
# student, teacher. [OR12-INFO] Role (roles.csv) splits administrator into district-,
# site- and systemAdministrator and adds counselor and principal. Waypoint accepts the
# union in both versions; 1.1's "administrator" is kept as is.
USER_ROLES = (
    "administrator",
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)

# [OR11]/[OR12-INFO] EnrollRole (enrollments.csv)
ENROLLMENT_ROLES = ("administrator", "proctor", "student", "teacher")

# Words SIS exports use for a role that the spec spells differently.
ROLE_ALIASES = {
    "learner": "student",
    "pupil": "student",
    "instructor": "teacher",
    "educator": "teacher",
    "admin": "administrator",
    "districtadmin": "districtAdministrator",
    "schooladministrator": "siteAdministrator",
    "schooladmin": "siteAdministrator",
}

# How Waypoint groups the roles (the next layer maps groups to its own user roles).
ROLE_GROUPS = {
    "student": "learner",
    "teacher": "teacher",
    "aide": "staff",
    "proctor": "staff",
    "counselor": "staff",
    "principal": "administrator",
    "administrator": "administrator",
    "siteAdministrator": "administrator",
    "districtAdministrator": "administrator",
    "systemAdministrator": "administrator",
    "guardian": "family",
    "parent": "family",
    "relative": "family",
}

# [OR11] demographics sex: male, female; [OR12-INFO] Sex adds other and unspecified.
SEXES = ("male", "female", "other", "unspecified")
SEX_ALIASES = {"m": "male", "f": "female", "x": "other", "u": "unspecified"}

# [CEDS] Entry Grade Level, as both bindings require for `grades`.
GRADES = (
    "IT",
    "PR",
    "PK",
    "TK",
    "KG",
    *(f"{n:02d}" for n in range(1, 14)),
    "PS",
    "UG",
    "Other",
)
GRADE_ALIASES = {
    "K": "KG",
    "0": "KG",
    "00": "KG",
    "KINDERGARTEN": "KG",
    "PREK": "PK",
    "PRE-K": "PK",
    "P": "PK",
    **{str(n): f"{n:02d}" for n in range(1, 14)},
}

# [OR11]/[OR12] "true" | "false"; exports also write these.
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})

# [OR11]/[OR12] manifest.csv: file.<name> values
FILE_MODES = ("absent", "bulk", "delta")


def required_columns(file: str, version: str) -> tuple[str, ...]:
    return tuple(c.name for c in COLUMNS[file] if version in c.required)
