"""Typed, frozen records of the OneRoster entities Waypoint uses, and how a row becomes one.

Every record has `sourced_id`, `status` ("active" | "tobedeleted"), `date_last_modified`
(naive UTC, or None), `metadata` (the row's `metadata.*` columns, prefix dropped) and
`row` (its spreadsheet row, for messages the applier writes later). Names are the spec's
in snake_case; lists are tuples; ids are strings.

Value rules, with their sources ([OR11]/[OR12] as in spec.py):
- strings are trimmed; an empty field is None (or an empty tuple for a list);
- lists ("List of GUID References", grades, subjects, periods): values separated by
  commas inside one quoted field, [OR11] §2 / [OR12] "Lists in a field";
- enumerations: the spec's values in any case, words exports use (`K` for `KG`,
  `learner` for `student`), or an `ext:` value (accepted as written);
- booleans: "true" / "false" (also TRUE, yes, 1...);
- dates: YYYY-MM-DD ([OR11] §2 "date", [OR12] "Date"); a date-time in a date field is
  read as its day; an impossible day (2026-02-30) is an error;
- date-times: YYYY-MM-DDTHH:MM:SS.SSSZ ([OR11]/[OR12] "DateTime"); also without
  seconds or fraction, with an offset instead of Z (converted to UTC), with a space for
  the T, or a bare date (midnight UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple

from portal.core.i18n import lazy_gettext as _l
from portal.oneroster import spec
from portal.oneroster.headers import HeaderReport
from portal.oneroster.problems import Problems

# --- records ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    sourced_id: str
    status: str  # "active" | "tobedeleted"
    date_last_modified: datetime | None
    row: int
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True, kw_only=True)
class Org(Record):
    name: str
    type: str  # spec.ORG_TYPES or ext:
    identifier: str | None = None
    parent_sourced_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcademicSession(Record):
    title: str
    type: str  # spec.SESSION_TYPES or ext:
    start_date: date
    end_date: date
    school_year: int
    parent_sourced_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Course(Record):
    title: str
    org_sourced_id: str
    school_year_sourced_id: str | None = None
    course_code: str | None = None
    grades: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    subject_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Class(Record):
    title: str
    course_sourced_id: str
    class_type: str  # spec.CLASS_TYPES or ext:
    school_sourced_id: str
    term_sourced_ids: tuple[str, ...]
    class_code: str | None = None
    location: str | None = None
    grades: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    subject_codes: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserId:
    """One `{type:identifier}` of users.csv userIds, e.g. ("Clever", "abc123")."""

    type: str
    identifier: str


@dataclass(frozen=True, slots=True, kw_only=True)
class User(Record):
    enabled_user: bool
    username: str
    given_name: str
    family_name: str
    user_ids: tuple[UserId, ...] = ()
    middle_name: str | None = None
    identifier: str | None = None
    email: str | None = None
    sms: str | None = None
    phone: str | None = None
    agent_sourced_ids: tuple[str, ...] = ()  # learners <-> guardians, both directions
    grades: tuple[str, ...] = ()
    # 1.1: the user's role and orgs live on users.csv (Package.roles() turns them into
    # Role records, so the applier reads roles the same way for both versions).
    role: str | None = None
    org_sourced_ids: tuple[str, ...] = ()
    # 1.2 only
    user_master_identifier: str | None = None
    preferred_given_name: str | None = None
    preferred_middle_name: str | None = None
    preferred_family_name: str | None = None
    primary_org_sourced_id: str | None = None
    pronouns: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Role(Record):
    """A user's role in an org: a roles.csv row (1.2), or made from users.csv (1.1)."""

    user_sourced_id: str
    role: str  # spec.USER_ROLES or ext:
    role_type: str  # "primary" | "secondary"
    org_sourced_id: str
    begin_date: date | None = None
    end_date: date | None = None
    user_profile_sourced_id: str | None = None
    derived: bool = False  # made from a 1.1 users.csv row (sourced_id is "user/org")

    @property
    def group(self) -> str:
        """learner, teacher, staff, administrator, family, or other (ext: roles)."""
        return role_group(self.role)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserProfile(Record):
    user_sourced_id: str
    profile_type: str
    vendor_id: str
    credential_type: str
    username: str
    application_id: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrollment(Record):
    class_sourced_id: str
    school_sourced_id: str
    user_sourced_id: str
    role: str  # spec.ENROLLMENT_ROLES or ext:
    primary: bool | None = None
    begin_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Demographics(Record):
    """A user's demographics (sourced_id is the user's). For leaders' subgroup analytics
    only: never shown to a teacher, guardian or learner."""

    birth_date: date | None = None
    sex: str | None = None
    american_indian_or_alaska_native: bool | None = None
    asian: bool | None = None
    black_or_african_american: bool | None = None
    native_hawaiian_or_other_pacific_islander: bool | None = None
    white: bool | None = None
    two_or_more_races: bool | None = None
    hispanic_or_latino_ethnicity: bool | None = None
    country_of_birth_code: str | None = None
    state_of_birth_abbreviation: str | None = None
    city_of_birth: str | None = None
    public_school_residence_status: str | None = None


class EnrollmentRef(NamedTuple):
    """What an import compares of an enrollments.csv row (`Package.enrollment_refs()`):
    the same values as the row's Enrollment record, without the rest of it."""

    sourced_id: str
    status: str
    row: int
    class_sourced_id: str
    user_sourced_id: str
    role: str

    @property
    def active(self) -> bool:
        return self.status == "active"


def status_of(raw: str) -> str:
    """A checked status field as the records hold it (empty: active; 1.0's words:
    tobedeleted)."""
    if not raw:
        return "active"
    lowered = raw.lower()
    return STATUSES.get(lowered) or spec.OLD_STATUSES[lowered]


def enrollment_role(raw: str) -> str:
    """A checked enrollment role in the spec's spelling (an ext: value as written)."""
    if raw.lower().startswith(spec.EXT_PREFIX):
        return raw
    return ENROLLMENT_ROLES[raw.lower().replace(" ", "")]


def role_group(role: str) -> str:
    return spec.ROLE_GROUPS.get(role, "other")


# --- values -------------------------------------------------------------------------


class Bad(Exception):
    """A value that cannot be read; `message` says why (a lazy string)."""

    def __init__(self, message):
        self.message = message


_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?"
)
_USER_ID = re.compile(r"\{\s*([^{}:]+?)\s*:\s*([^{}]*?)\s*\}")


@lru_cache(maxsize=4096)  # exports repeat the same few dates on every row
def parse_date(text: str) -> tuple[date, bool]:
    """A date, and whether it was written as a date-time (drift)."""
    match = _DATE.fullmatch(text)
    drifted = False
    if match is None:
        full = _DATETIME.fullmatch(text)
        if full is None:
            raise Bad(
                _l(
                    "'%(value)s' is not a date (write it as YYYY-MM-DD, e.g. 2026-08-24).",
                    value=text,
                )
            )
        match, drifted = full, True
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    try:
        return date(year, month, day), drifted
    except ValueError:
        raise Bad(_l("'%(value)s' is an impossible date.", value=text)) from None


@lru_cache(maxsize=4096)  # dateLastModified is often one moment for a whole export
def parse_datetime(text: str) -> datetime:
    """A moment as naive UTC (how Waypoint stores datetimes)."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise Bad(
            _l(
                "'%(value)s' is not a date-time (write it as YYYY-MM-DDTHH:MM:SSZ, e.g. "
                "2026-08-24T13:05:00Z).",
                value=text,
            )
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        raise Bad(_l("'%(value)s' is an impossible date or time.", value=text)) from None
    if zone and zone not in ("Z", "z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            raise Bad(_l("'%(value)s' has an impossible time zone offset.", value=text))
        moment = moment.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
        moment = moment.replace(tzinfo=None)
    return moment


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in spec.TRUE_WORDS:
        return True
    if lowered in spec.FALSE_WORDS:
        return False
    raise Bad(_l("'%(value)s' is not true or false.", value=text))


def split_list(text: str) -> tuple[str, ...]:
    if "," not in text:  # one value (or none): most lists in a real export
        stripped = text.strip()
        return (stripped,) if stripped else ()
    return tuple(part for part in (p.strip() for p in text.split(",")) if part)


def parse_user_ids(text: str) -> tuple[UserId, ...]:
    """`{Clever:abc},{LDAP:jdoe}` -> (UserId("Clever", "abc"), UserId("LDAP", "jdoe"))."""
    found = [UserId(t, i) for t, i in _USER_ID.findall(text)]
    rest = _USER_ID.sub("", text).replace(",", "").strip()
    if rest or not found:
        raise Bad(
            _l(
                "'%(value)s' is not a list of {type:identifier} pairs (e.g. "
                "{Clever:abc123},{LDAP:jdoe}).",
                value=text,
            )
        )
    return tuple(found)


def _vocabulary(values, aliases=None) -> dict[str, str]:
    table = {v.lower(): v for v in values}
    for alias, value in (aliases or {}).items():
        table.setdefault(alias.lower(), value)
    return table


ORG_TYPES = _vocabulary(spec.ORG_TYPES)
SESSION_TYPES = _vocabulary(
    spec.SESSION_TYPES, {"gradingperiod": "gradingPeriod", "year": "schoolYear"}
)
CLASS_TYPES = _vocabulary(spec.CLASS_TYPES)
ROLE_TYPES = _vocabulary(spec.ROLE_TYPES)
USER_ROLES = _vocabulary(spec.USER_ROLES, spec.ROLE_ALIASES)
ENROLLMENT_ROLES = _vocabulary(spec.ENROLLMENT_ROLES, spec.ROLE_ALIASES)
SEXES = _vocabulary(spec.SEXES, spec.SEX_ALIASES)
STATUSES = _vocabulary(spec.STATUSES)
GRADES = {g.upper(): g for g in spec.GRADES}


def normalise_role(text: str) -> str | None:
    """A role in either version's vocabulary (or an alias) in the spec's spelling."""
    if text.lower().startswith(spec.EXT_PREFIX):
        return text
    return USER_ROLES.get(text.lower().replace(" ", ""))


# --- rows ---------------------------------------------------------------------------


class RowReader:
    """Reads the fields of one file's rows by spec column name, reporting bad values.

    One instance per file pass; `start(row, fields)` before each row. Every bad value is
    an error on (file, row, column); `self.bad` says whether the row had any, and rows
    with errors are not yielded as records.
    """

    def __init__(self, file: str, header: HeaderReport, problems: Problems, mode: str):
        self.file = file
        self.problems = problems
        self.mode = mode
        self.index = header.understood()
        # The spec name of each position ("" + position for a column not understood).
        names = [f"\0{at}" for at in range(len(header.columns))]
        for name, at in self.index.items():
            names[at] = name
        self._names = tuple(names)
        self.values: dict[str, str] = {}
        self.meta = header.metadata()
        self.width = len(header.columns)
        self.row = 0
        self.fields: list[str] = []
        self.bad = False

    def start(self, row: int, fields: list[str]) -> None:
        self.row, self.fields, self.bad = row, fields, False
        # Each column's value, trimmed, once per row: the builders ask for a dozen of
        # them, and this is the reader's hot loop. A short row leaves the rest out ("").
        self.values = dict(zip(self._names, map(str.strip, fields), strict=False))

    def error(self, column: str | None, value: str | None, message) -> None:
        self.bad = True
        self.problems.error(self.file, self.row, column, value, message)

    def warn(self, key: str, message) -> None:
        self.problems.warn(self.file, message, row=self.row, key=key)

    # Raw access -----------------------------------------------------------------------
    def raw(self, name: str) -> str:
        return self.values.get(name, "")

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value:
            return value
        if required:
            self.error(name, None, _l("%(column)s is empty; it is required.", column=name))
        return None

    def ids(self, name: str, required: bool = False) -> tuple[str, ...]:
        value = split_list(self.raw(name))
        if not value and required:
            self.error(name, None, _l("%(column)s is empty; it is required.", column=name))
        return value

    def enum(self, name: str, vocabulary: dict[str, str], required: bool, what) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, None, _l("%(column)s is empty; it is required.", column=name))
            return None
        if value.lower().startswith(spec.EXT_PREFIX):
            return value  # [OR11] §2 / [OR12] vocabulary extensions
        found = vocabulary.get(value.lower().replace(" ", ""))
        if found is None:
            self.error(
                name,
                value,
                _l("%(column)s '%(value)s' is not %(what)s.", column=name, value=value, what=what),
            )
        return found

    def boolean(self, name: str, required: bool = False) -> bool | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, None, _l("%(column)s is empty; it is required.", column=name))
            return None
        try:
            return parse_bool(value)
        except Bad as bad:
            self.error(name, value, _l("%(column)s: %(why)s", column=name, why=bad.message))
            return None

    def date(self, name: str, required: bool = False) -> date | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, None, _l("%(column)s is empty; it is required.", column=name))
            return None
        try:
            day, drifted = parse_date(value)
        except Bad as bad:
            self.error(name, value, _l("%(column)s: %(why)s", column=name, why=bad.message))
            return None
        if drifted:
            self.warn(
                f"datetime-in-date:{name}",
                _l(
                    "%(column)s holds a date-time where the spec has a date; the day is kept.",
                    column=name,
                ),
            )
        return day

    def moment(self, name: str) -> datetime | None:
        value = self.raw(name)
        if not value:
            return None
        try:
            return parse_datetime(value)
        except Bad as bad:
            self.error(name, value, _l("%(column)s: %(why)s", column=name, why=bad.message))
            return None

    def grades(self, name: str = "grades") -> tuple[str, ...]:
        out = []
        for value in split_list(self.raw(name)):
            upper = value.upper()
            grade = GRADES.get(upper) or spec.GRADE_ALIASES.get(upper)
            if grade is None:
                if value.lower().startswith(spec.EXT_PREFIX):
                    grade = value
                else:
                    self.warn(
                        f"grade:{value}",
                        _l(
                            "grade '%(value)s' is not a CEDS grade level (such as KG or "
                            "01-12); it is kept as written.",
                            value=value,
                        ),
                    )
                    grade = value
            elif grade != value:
                self.warn(
                    f"grade-alias:{value}",
                    _l("grade '%(value)s' is read as %(grade)s.", value=value, grade=grade),
                )
            out.append(grade)
        return tuple(out)

    def metadata(self) -> dict[str, str]:
        if not self.meta:
            return {}
        out = {}
        for key, at in self.meta.items():
            if at < len(self.fields) and self.fields[at].strip():
                out[key] = self.fields[at].strip()
        return out

    # Common columns ---------------------------------------------------------------------
    def common(self) -> dict | None:
        """sourcedId, status and dateLastModified, checked for the file's mode."""
        sourced_id = self.text("sourcedId", required=True)
        raw_status = self.raw("status")
        status = "active"
        if raw_status:
            lowered = raw_status.lower()
            if lowered in STATUSES:
                status = STATUSES[lowered]
            elif lowered in spec.OLD_STATUSES:
                status = spec.OLD_STATUSES[lowered]
                self.warn(
                    f"old-status:{lowered}",
                    _l(
                        "status '%(value)s' is OneRoster 1.0's word; it is read as tobedeleted.",
                        value=raw_status,
                    ),
                )
            else:
                self.error(
                    "status",
                    raw_status,
                    _l(
                        "status '%(value)s' is not active or tobedeleted.",
                        value=raw_status,
                    ),
                )
        elif self.mode == "delta":
            # [OR11] §2 / [OR12] "Bulk and delta": in a delta file every row has a status.
            self.error(
                "status",
                None,
                _l("status is empty; a delta file needs active or tobedeleted on every row."),
            )
        modified = self.moment("dateLastModified")
        if modified is None and self.mode == "delta" and not self.raw("dateLastModified"):
            self.error(
                "dateLastModified",
                None,
                _l("dateLastModified is empty; a delta file needs it on every row."),
            )
        return {
            "sourced_id": sourced_id or "",
            "status": status,
            "date_last_modified": modified,
            "row": self.row,
            "metadata": self.metadata(),
        }
