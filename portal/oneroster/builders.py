"""One row of each file -> its record (values checked; references are checked by the reader).

Each builder returns a record even when a value was bad (with None in its place), so the
reader can still note its sourcedId and check its references; `RowReader.bad` says whether
the row may be applied. Required values follow the tables of [OR11] §3 and [OR12].
"""

from __future__ import annotations

from portal.core.i18n import lazy_gettext as _l
from portal.oneroster import records as r
from portal.oneroster import spec

_WHAT = {
    "org type": _l("a OneRoster org type (district, school, ...)"),
    "session type": _l("a OneRoster session type (schoolYear, term, semester, gradingPeriod)"),
    "class type": _l("a OneRoster class type (homeroom or scheduled)"),
    "role": _l("a OneRoster role"),
    "enrollment role": _l("a OneRoster enrollment role (student, teacher, administrator, proctor)"),
    "role type": _l("primary or secondary"),
    "sex": _l("a OneRoster sex (male, female, other, unspecified)"),
}


def _order(row: r.RowReader, first: str, second: str, start, end) -> None:
    if start and end and end < start:
        row.error(
            second,
            end.isoformat(),
            _l(
                "%(second)s %(end)s is before %(first)s %(start)s.",
                second=second,
                end=end.isoformat(),
                first=first,
                start=start.isoformat(),
            ),
        )


def org(row: r.RowReader, version: str) -> r.Org:
    return r.Org(
        **row.common(),
        name=row.text("name", required=True),
        type=row.enum("type", r.ORG_TYPES, True, _WHAT["org type"]),
        identifier=row.text("identifier"),
        parent_sourced_id=row.text("parentSourcedId"),
    )


def academic_session(row: r.RowReader, version: str) -> r.AcademicSession:
    start = row.date("startDate", required=True)
    end = row.date("endDate", required=True)
    _order(row, "startDate", "endDate", start, end)
    year_text = row.text("schoolYear", required=True)
    year = None
    if year_text:
        if len(year_text) == 4 and year_text.isascii() and year_text.isdigit():
            year = int(year_text)
        else:
            row.error(
                "schoolYear",
                year_text,
                _l(
                    "schoolYear '%(value)s' is not a year (four digits, the year the school "
                    "year ends, e.g. 2027).",
                    value=year_text,
                ),
            )
    return r.AcademicSession(
        **row.common(),
        title=row.text("title", required=True),
        type=row.enum("type", r.SESSION_TYPES, True, _WHAT["session type"]),
        start_date=start,
        end_date=end,
        school_year=year,
        parent_sourced_id=row.text("parentSourcedId"),
    )


def course(row: r.RowReader, version: str) -> r.Course:
    return r.Course(
        **row.common(),
        title=row.text("title", required=True),
        org_sourced_id=row.text("orgSourcedId", required=True),
        school_year_sourced_id=row.text("schoolYearSourcedId"),
        course_code=row.text("courseCode"),
        grades=row.grades(),
        subjects=row.ids("subjects"),
        subject_codes=row.ids("subjectCodes"),
    )


def school_class(row: r.RowReader, version: str) -> r.Class:
    return r.Class(
        **row.common(),
        title=row.text("title", required=True),
        course_sourced_id=row.text("courseSourcedId", required=True),
        class_type=row.enum("classType", r.CLASS_TYPES, True, _WHAT["class type"]),
        school_sourced_id=row.text("schoolSourcedId", required=True),
        term_sourced_ids=row.ids("termSourcedIds", required=True),
        class_code=row.text("classCode"),
        location=row.text("location"),
        grades=row.grades(),
        subjects=row.ids("subjects"),
        subject_codes=row.ids("subjectCodes"),
        periods=row.ids("periods"),
    )


def user(row: r.RowReader, version: str) -> r.User:
    user_ids: tuple[r.UserId, ...] = ()
    raw_ids = row.raw("userIds")
    if raw_ids:
        try:
            user_ids = r.parse_user_ids(raw_ids)
        except r.Bad as bad:
            row.error("userIds", raw_ids, _l("userIds: %(why)s", why=bad.message))
    role = None
    org_ids: tuple[str, ...] = ()
    if version == spec.V11 or "role" in row.index:
        raw_role = row.raw("role")
        if raw_role:
            role = r.normalise_role(raw_role)
            if role is None:
                row.error(
                    "role",
                    raw_role,
                    _l("role '%(value)s' is not a OneRoster role.", value=raw_role),
                )
        elif version == spec.V11:
            row.error("role", None, _l("the user has no role (role is empty)."))
        org_ids = row.ids("orgSourcedIds", required=version == spec.V11)
    return r.User(
        **row.common(),
        enabled_user=row.boolean("enabledUser", required=True),
        username=row.text("username", required=True),
        given_name=row.text("givenName", required=True),
        family_name=row.text("familyName", required=True),
        user_ids=user_ids,
        middle_name=row.text("middleName"),
        identifier=row.text("identifier"),
        email=row.text("email"),
        sms=row.text("sms"),
        phone=row.text("phone"),
        agent_sourced_ids=row.ids("agentSourcedIds"),
        grades=row.grades(),
        role=role,
        org_sourced_ids=org_ids,
        user_master_identifier=row.text("userMasterIdentifier"),
        preferred_given_name=row.text("preferredGivenName"),
        preferred_middle_name=row.text("preferredMiddleName"),
        preferred_family_name=row.text("preferredFamilyName"),
        primary_org_sourced_id=row.text("primaryOrgSourcedId"),
        pronouns=row.text("pronouns"),
    )


def role(row: r.RowReader, version: str) -> r.Role:
    raw_role = row.raw("role")
    value = None
    if raw_role:
        value = r.normalise_role(raw_role)
        if value is None:
            row.error(
                "role", raw_role, _l("role '%(value)s' is not a OneRoster role.", value=raw_role)
            )
    else:
        row.error("role", None, _l("role is empty; it is required."))
    begin = row.date("beginDate")
    end = row.date("endDate")
    _order(row, "beginDate", "endDate", begin, end)
    return r.Role(
        **row.common(),
        user_sourced_id=row.text("userSourcedId", required=True),
        role=value,
        role_type=row.enum("roleType", r.ROLE_TYPES, True, _WHAT["role type"]),
        org_sourced_id=row.text("orgSourcedId", required=True),
        begin_date=begin,
        end_date=end,
        user_profile_sourced_id=row.text("userProfileSourcedId"),
    )


def user_profile(row: r.RowReader, version: str) -> r.UserProfile:
    return r.UserProfile(
        **row.common(),
        user_sourced_id=row.text("userSourcedId", required=True),
        profile_type=row.text("profileType", required=True),
        vendor_id=row.text("vendorId", required=True),
        credential_type=row.text("credentialType", required=True),
        username=row.text("username", required=True),
        application_id=row.text("applicationId"),
        description=row.text("description"),
    )


def enrollment(row: r.RowReader, version: str) -> r.Enrollment:
    begin = row.date("beginDate")
    end = row.date("endDate")
    _order(row, "beginDate", "endDate", begin, end)
    return r.Enrollment(
        **row.common(),
        class_sourced_id=row.text("classSourcedId", required=True),
        school_sourced_id=row.text("schoolSourcedId", required=True),
        user_sourced_id=row.text("userSourcedId", required=True),
        role=row.enum("role", r.ENROLLMENT_ROLES, True, _WHAT["enrollment role"]),
        primary=row.boolean("primary"),
        begin_date=begin,
        end_date=end,
    )


def demographics(row: r.RowReader, version: str) -> r.Demographics:
    return r.Demographics(
        **row.common(),
        birth_date=row.date("birthDate"),
        sex=row.enum("sex", r.SEXES, False, _WHAT["sex"]),
        american_indian_or_alaska_native=row.boolean("americanIndianOrAlaskaNative"),
        asian=row.boolean("asian"),
        black_or_african_american=row.boolean("blackOrAfricanAmerican"),
        native_hawaiian_or_other_pacific_islander=row.boolean(
            "nativeHawaiianOrOtherPacificIslander"
        ),
        white=row.boolean("white"),
        two_or_more_races=row.boolean("demographicRaceTwoOrMoreRaces"),
        hispanic_or_latino_ethnicity=row.boolean("hispanicOrLatinoEthnicity"),
        country_of_birth_code=row.text("countryOfBirthCode"),
        state_of_birth_abbreviation=row.text("stateOfBirthAbbreviation"),
        city_of_birth=row.text("cityOfBirth"),
        public_school_residence_status=row.text("publicSchoolResidenceStatus"),
    )


BUILDERS = {
    "orgs": org,
    "academicSessions": academic_session,
    "courses": course,
    "classes": school_class,
    "users": user,
    "roles": role,
    "userProfiles": user_profile,
    "enrollments": enrollment,
    "demographics": demographics,
}
