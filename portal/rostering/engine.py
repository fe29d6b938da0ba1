"""The one comparison of a OneRoster package with the database, for the dry run and the apply.

`Run(package, scope, write=False)` streams the package entity by entity, in dependency
order, compares each record with what the database holds (maps of id -> small tuple,
loaded with one query per table), and counts what would happen (`Tally`), keeping a
few samples. With `write=True` the same pass also writes, in batches of executemany
statements on the tables (no ORM object per row), inside the caller's transaction: new
rows of one entity are inserted before the next entity is compared, and their ids read
back in one query, so the dry run and the apply decide exactly the same way.

The rules (docs/oneroster.md "Import"):
- Records are matched by sourcedId (`source_id`). People without one (typed in by hand)
  are matched by username or e-mail (case ignored) and adopted: shown as "matched",
  never duplicated. Enrollments and guardian links are matched by their pair
  (class, user) / (guardian, learner); a hand-made one is adopted the same way.
- Only what came from the SIS (source_id set) is ever deactivated. In a bulk file, a
  person missing from users.csv is deactivated (users.active = False), a guardian link
  missing from every agentSourcedIds is deactivated (active = False, deactivated_at), an
  enrollment missing from enrollments.csv is removed (an enrollment holds nothing of the
  learner's: goals and progress belong to the learner) unless its class's term has ended
  (last year's classes are history: kept), demographics missing from
  demographics.csv are removed. Orgs, sessions, courses and classes are never removed:
  missing ones are reported as kept. A record that comes back is reactivated.
- Delta: each row says active or tobedeleted; tobedeleted deactivates (or removes) as
  above; records not in the file are left alone.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from portal.auth.models import Role, User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import utcnow
from portal.oneroster import Package
from portal.oneroster.problems import Problems
from portal.oneroster.records import role_group
from portal.policy import ended_class_ids
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
from portal.roster.services import new_class_code
from portal.rostering.models import Demographics, UserIdentifier

BATCH = 1000
NEW, CHANGED, UNCHANGED, DEACTIVATED, REACTIVATED, MATCHED, KEPT = (
    "new",
    "changed",
    "unchanged",
    "deactivated",
    "reactivated",
    "matched",
    "kept",
)
OUTCOMES = (NEW, CHANGED, UNCHANGED, DEACTIVATED, REACTIVATED, MATCHED, KEPT)

# The entities of a plan, in order; people are counted by the role they get.
PEOPLE = {
    Role.LEARNER: "learners",
    Role.TEACHER: "teachers",
    Role.SCHOOL_ADMIN: "school_admins",
    Role.DISTRICT_ADMIN: "district_admins",
    Role.GUARDIAN: "guardians",
}
ENTITIES = (
    "orgs",
    "terms",
    "courses",
    "classes",
    *PEOPLE.values(),
    "enrollments",
    "guardian_links",
    "demographics",
    "user_identifiers",
)

GRADE_NUMBERS = {"IT": -1, "PR": -1, "PK": -1, "PS": -1, "TK": 0, "KG": 0}
ENROLLMENT_ROLES = {"student": EnrollmentRole.LEARNER, "teacher": EnrollmentRole.TEACHER}
DEMOGRAPHIC_FIELDS = (
    "birth_date",
    "sex",
    "american_indian_or_alaska_native",
    "asian",
    "black_or_african_american",
    "native_hawaiian_or_other_pacific_islander",
    "white",
    "two_or_more_races",
    "hispanic_or_latino_ethnicity",
    "country_of_birth_code",
    "state_of_birth_abbreviation",
    "city_of_birth",
    "public_school_residence_status",
    "programs",
)
CLASS_FIELDS = ("school_id", "course_id", "term_id", "title", "period")
USER_FIELDS = (
    "role",
    "org_id",
    "username",
    "email",
    "given_name",
    "family_name",
    "preferred_name",
    "grade",
    "active",
)


def grade_number(grades: tuple[str, ...]) -> int | None:
    """The first CEDS grade as Waypoint's number: KG/TK 0, pre-K -1, 01-13 as numbers."""
    for grade in grades:
        if grade in GRADE_NUMBERS:
            return GRADE_NUMBERS[grade]
        if grade.isdigit():
            return int(grade)
    return None


def grade_text(grade: int | None) -> str:
    if grade is None:
        return ""
    if grade < 0:
        return "PK"
    return "KG" if grade == 0 else f"{grade:02d}"


@dataclass
class Sample:
    key: str  # the sourcedId (or the pair)
    label: str
    changes: list[str] = field(default_factory=list)  # "email: a@x -> b@x"

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "changes": list(self.changes)}


@dataclass
class Tally:
    """Counts per outcome of one entity, and up to `limit` samples of each."""

    limit: int = 10
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))

    def add(self, outcome: str, key: str, label: str = "", changes=()) -> None:
        self.counts[outcome] += 1
        if len(self.samples[outcome]) < self.limit:
            self.samples[outcome].append(Sample(str(key), label, list(changes)))


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(getattr(value, "value", value))


def _changes(fields, old: tuple, new: tuple) -> list[str]:
    return [
        f"{name}: {_show(a)} -> {_show(b)}"
        for name, a, b in zip(fields, old, new, strict=True)
        if a != b
    ]


def _fetch(statement) -> Iterator[tuple]:
    """Every row of a Core select of columns as plain tuples, read from the DBAPI cursor:
    SQLAlchemy's Row objects and type processing cost more than the comparison itself
    on a district's 400,000 enrollments. Values are as the driver gives them (an enum
    as its name, on SQLite a boolean as 0/1): the caller converts what it compares."""
    result = db.session.connection().execute(statement)
    try:
        # Streamed from the cursor: the caller's map is built without a list of every
        # row beside it (400,000 enrollments' tuples twice would cost 60 MB more).
        while batch := result.cursor.fetchmany(10_000):
            yield from batch
    finally:
        result.close()


def _fetch_in(statement, column, values: list, size: int = 500) -> list[tuple]:
    """`_fetch` of the rows whose `column` is one of `values`, in chunks."""
    rows: list[tuple] = []
    for start in range(0, len(values), size):
        rows.extend(_fetch(statement.where(column.in_(values[start : start + size]))))
    return rows


class _Writer:
    """Batches of inserts, updates by id and deletes by id for one table (write mode)."""

    def __init__(self, table: Table, key: str = "id"):
        self.table = table
        self.key = table.c[key]
        self.inserts: list[dict] = []
        self.updates: list[dict] = []
        self.deletes: list[int] = []
        self.written = 0

    def insert(self, values: dict) -> None:
        self.inserts.append(values)
        if len(self.inserts) >= BATCH:
            self.flush()

    def update(self, row_id: int, values: dict) -> None:
        self.updates.append({"b_id": row_id, **{f"b_{k}": v for k, v in values.items()}})
        if len(self.updates) >= BATCH:
            self.flush()

    def delete(self, row_id: int) -> None:
        self.deletes.append(row_id)
        if len(self.deletes) >= BATCH:
            self.flush()

    def flush(self) -> None:
        session, table = db.session, self.table
        if self.inserts:
            session.execute(table.insert(), self.inserts)
            self.written += len(self.inserts)
            self.inserts = []
        if self.updates:
            # Rows of one batch may set different columns: one statement per column set.
            by_keys: dict[tuple, list[dict]] = defaultdict(list)
            for row in self.updates:
                by_keys[tuple(sorted(row))].append(row)
            for keys, rows in by_keys.items():
                names = [k[2:] for k in keys if k != "b_id"]
                statement = (
                    update(table)
                    .where(self.key == bindparam("b_id"))
                    .values({name: bindparam(f"b_{name}") for name in names})
                )
                session.execute(statement, rows)
            self.written += len(self.updates)
            self.updates = []
        if self.deletes:
            session.execute(delete(table).where(self.key.in_(self.deletes)))
            self.written += len(self.deletes)
            self.deletes = []


_UserRow = namedtuple("_UserRow", ("id", "source_id", *USER_FIELDS))

_LinkRow = namedtuple("_LinkRow", ("id", "source_id", "guardian_id", "learner_id", "active"))


def _user_rows(rows) -> list[_UserRow]:
    """users rows as read from the cursor -> _UserRow (the role as Role, active as bool)."""
    roles = {r.name: r for r in Role}
    return [
        _UserRow(
            i, sid, roles.get(role, role), org, name, mail, given, family, pref, grade, bool(on)
        )
        for i, sid, role, org, name, mail, given, family, pref, grade, on in rows
    ]


def _owners(people) -> tuple[dict[str, int], dict[str, int]]:
    """(lowered username -> user id, lowered e-mail -> user id) of (id, username, email)."""
    names: dict[str, int] = {}
    emails: dict[str, int] = {}
    for user_id, name, mail in people:
        names[name.lower()] = user_id
        if mail:
            emails[mail.lower()] = user_id
    return names, emails


@dataclass
class _People:
    """The people a users pass compares with (by sourcedId; typed in by hand, by
    username and e-mail), who owns which username and e-mail, and the guardians' links."""

    existing: dict[str, _UserRow]
    hand_by_name: dict[str, _UserRow]
    hand_by_email: dict[str, _UserRow]
    owner_of_name: dict[str, int]
    owner_of_email: dict[str, int]
    guardians_in_scope: set[int] = field(default_factory=set)
    linked: set[int] = field(default_factory=set)
    claimed: dict[int, int] = field(default_factory=dict)  # hand-typed id -> file row
    names_in_file: dict[str, int] = field(default_factory=dict)  # lowered -> file row


ProgressFn = Callable[[int, int | None, object], None]


class Run:
    """One pass over a package against the database (see the module docstring)."""

    def __init__(
        self,
        package: Package,
        scope: Org,
        *,
        write: bool = False,
        samples: int = 10,
        progress: ProgressFn | None = None,
        now: datetime | None = None,
    ):
        self.package = package
        self.scope = scope
        self.write = write
        self.now = now or utcnow()
        self.progress = progress
        self.problems = Problems()
        self.tallies = {entity: Tally(limit=samples) for entity in ENTITIES}
        self.active_before = dict.fromkeys(PEOPLE.values(), 0)
        self.written = 0
        self.rows_done = 0
        self.rows_total = sum(c.rows for c in package.counts.values())
        self._placeholders = 0

    # --- helpers ------------------------------------------------------------------
    def error(self, file: str, row: int | None, column, value, message) -> None:
        self.problems.error(file, row, column, value, message)

    def warn(self, file: str, message, row: int | None = None, key: str | None = None) -> None:
        self.problems.warn(file, message, row=row, key=key)

    def _tick(self, entity: str, message) -> None:
        self.rows_done += 1
        if self.progress is not None and self.rows_done % 1000 == 0:
            self.progress(self.rows_done, self.rows_total, message)

    def _placeholder(self) -> int:
        """An id for a row that a dry run would create (never equal to a real id)."""
        self._placeholders -= 1
        return self._placeholders

    def _writer(self, model, key: str = "id") -> _Writer | None:
        return _Writer(model.__table__, key) if self.write else None

    def _done(self, writer: _Writer | None) -> None:
        if writer is not None:
            writer.flush()
            self.written += writer.written

    def run(self) -> Run:
        self._scope_orgs()
        self.orgs()
        self.terms()
        self.courses()
        self.classes()
        self.users()
        self.guardian_links()
        self.enrollments()
        self.demographics()
        if self.write and self.written:
            # Core statements bypass the ORM's stamp bookkeeping: the roster changed, so
            # every page polled under the site stamp reloads.
            stamps.bump(db.session.connection(), stamps.SITE_SCOPE, [0])
        if self.progress is not None:
            self.progress(self.rows_total, self.rows_total, _l("Done."))
        return self

    # --- scope ----------------------------------------------------------------------
    def _scope_orgs(self) -> None:
        scope = self.scope
        if scope.type is OrgType.DISTRICT:
            self.district_id = scope.id
            self.school_scope = None
        else:
            self.district_id = scope.parent_id
            self.school_scope = scope.id
        rows = db.session.execute(
            select(Org.id, Org.source_id, Org.name, Org.type, Org.parent_id)
        ).all()
        self.org_rows = {r.id: r for r in rows}
        self.org_ids = {r.source_id: r.id for r in rows if r.source_id}
        self.org_types = {r.id: r.type for r in rows}
        schools = {r.id for r in rows if r.parent_id == self.district_id}
        self.scope_org_ids = {scope.id} if self.school_scope else {scope.id, *schools}

    def in_scope(self, org_id: int | None) -> bool:
        return org_id in self.scope_org_ids

    # --- orgs -------------------------------------------------------------------------
    def orgs(self) -> None:
        package, tally, file = self.package, self.tallies["orgs"], "orgs.csv"
        writer = self._writer(Org)
        district = self.org_rows.get(self.district_id)
        self._district_sid = district.source_id if district else None
        seen: set[int] = set()
        for org in package.orgs():
            self._tick("orgs", _l("Reading orgs.csv"))
            if org.type == "district":
                self._district_org(org, district, seen, tally, writer)
            elif org.type == "school":
                self._school_org(org, seen, tally, writer)
            else:
                self.warn(
                    file,
                    _l(
                        "orgs of type %(type)s are not imported: Waypoint has districts "
                        "and schools only.",
                        type=org.type,
                    ),
                    row=org.row,
                    key=f"org-type:{org.type}",
                )
        before = set(self.scope_org_ids)
        if writer is not None:
            self._done(writer)
            self._reload_orgs()
        if package.mode("orgs") == "bulk":
            for org_id in before - seen:
                row = self.org_rows.get(org_id)
                if row is not None and row.source_id:
                    tally.add(KEPT, row.source_id, row.name)

    def _district_org(self, org, district, seen: set, tally: Tally, writer) -> None:
        """The district row is the scope's district (typed in by hand, or this file's)."""
        if district is None or self._district_sid not in (None, org.sourced_id):
            self.error(
                "orgs.csv",
                org.row,
                "sourcedId",
                org.sourced_id,
                _l(
                    "district '%(id)s' (%(name)s) is not %(scope)s: this file is "
                    "another district's.",
                    id=org.sourced_id,
                    name=org.name,
                    scope=district.name if district else "",
                ),
            )
            return
        self.org_ids[org.sourced_id] = district.id
        seen.add(district.id)
        if self.school_scope:
            return  # a school admin's file names its district; it changes nothing
        self._org_row(org, district, None, writer, tally)
        self._district_sid = org.sourced_id

    def _school_org(self, org, seen: set, tally: Tally, writer) -> None:
        """A school of the scope's district (a school admin's file: their school only)."""
        file = "orgs.csv"
        existing_id = self.org_ids.get(org.sourced_id)
        existing = self.org_rows.get(existing_id) if existing_id else None
        if self.school_scope:
            school = self.org_rows[self.school_scope]
            if org.sourced_id != school.source_id and not (
                school.source_id is None and existing is None
            ):
                self._outside(file, org.row, "sourcedId", org.sourced_id)
                return
            existing = school
        elif existing is not None and existing.parent_id != self.district_id:
            self._outside(file, org.row, "sourcedId", org.sourced_id)
            return
        if org.parent_sourced_id and self.org_ids.get(org.parent_sourced_id) not in (
            self.district_id,
            None,
        ):
            self._outside(file, org.row, "parentSourcedId", org.parent_sourced_id)
            return
        if existing is not None:
            seen.add(existing.id)
        self._org_row(org, existing, self.district_id, writer, tally)

    def _outside(self, file: str, row: int, column: str, value: str) -> None:
        self.error(
            file,
            row,
            column,
            value,
            _l(
                "'%(value)s' is outside %(scope)s, which this import may change.",
                value=value,
                scope=self.scope.name,
            ),
        )

    def _org_row(self, org, existing, parent_id, writer, tally) -> None:
        fields = ("name",)
        new = (org.name[:160],)
        if existing is None:
            tally.add(NEW, org.sourced_id, org.name)
            self.org_ids[org.sourced_id] = self._placeholder()
            if writer:
                writer.insert(
                    {
                        "source_id": org.sourced_id,
                        "name": new[0],
                        "type": OrgType.SCHOOL,
                        "parent_id": parent_id,
                    }
                )
            return
        self.org_ids[org.sourced_id] = existing.id
        old = (existing.name,)
        outcome = UNCHANGED if old == new else CHANGED
        if existing.source_id is None:
            outcome = MATCHED
        tally.add(outcome, org.sourced_id, org.name, _changes(fields, old, new))
        if writer and outcome != UNCHANGED:
            writer.update(existing.id, {"name": new[0], "source_id": org.sourced_id})

    def _reload_orgs(self) -> None:
        rows = db.session.execute(
            select(Org.id, Org.source_id, Org.name, Org.type, Org.parent_id)
        ).all()
        self.org_rows = {r.id: r for r in rows}
        self.org_ids.update({r.source_id: r.id for r in rows if r.source_id})
        self.org_types = {r.id: r.type for r in rows}
        schools = {r.id for r in rows if r.parent_id == self.district_id}
        if not self.school_scope:
            self.scope_org_ids = {self.scope.id, *schools}

    # --- terms ------------------------------------------------------------------------
    def terms(self) -> None:
        package, tally = self.package, self.tallies["terms"]
        writer = self._writer(Term)
        rows = db.session.execute(
            select(Term.id, Term.source_id, Term.org_id, Term.title, Term.start_date, Term.end_date)
        ).all()
        existing = {r.source_id: r for r in rows if r.source_id}
        self.term_ids = {sid: r.id for sid, r in existing.items()}
        self.session_parents: dict[str, str | None] = {}
        fields = ("title", "start_date", "end_date")
        seen: set[str] = set()
        for session in package.academic_sessions():
            self._tick("terms", _l("Reading academicSessions.csv"))
            self.session_parents[session.sourced_id] = session.parent_sourced_id
            new = (session.title[:120], session.start_date, session.end_date)
            row = existing.get(session.sourced_id)
            seen.add(session.sourced_id)
            if row is None:
                tally.add(NEW, session.sourced_id, session.title)
                self.term_ids[session.sourced_id] = self._placeholder()
                if writer:
                    writer.insert(
                        {
                            "source_id": session.sourced_id,
                            "org_id": self.scope.id,
                            "title": new[0],
                            "start_date": new[1],
                            "end_date": new[2],
                        }
                    )
                continue
            if row.org_id not in self.scope_org_ids and row.org_id != self.district_id:
                self._outside("academicSessions.csv", session.row, "sourcedId", session.sourced_id)
                continue
            old = (row.title, row.start_date, row.end_date)
            if old == new:
                tally.add(UNCHANGED, session.sourced_id, session.title)
                continue
            tally.add(CHANGED, session.sourced_id, session.title, _changes(fields, old, new))
            if writer:
                writer.update(row.id, dict(zip(fields, new, strict=True)))
        self._done(writer)
        if writer:
            self.term_ids.update(
                dict(
                    db.session.execute(
                        select(Term.source_id, Term.id).where(Term.source_id.is_not(None))
                    ).all()
                )
            )
        if package.mode("academicSessions") == "bulk":
            for sid, row in existing.items():
                if sid not in seen and row.org_id in self.scope_org_ids:
                    tally.add(KEPT, sid, row.title)

    # --- courses ----------------------------------------------------------------------
    def courses(self) -> None:
        package, tally, file = self.package, self.tallies["courses"], "courses.csv"
        writer = self._writer(Course)
        rows = db.session.execute(
            select(Course.id, Course.source_id, Course.school_id, Course.title, Course.subject)
        ).all()
        existing = {r.source_id: r for r in rows if r.source_id}
        self.course_ids = {sid: r.id for sid, r in existing.items()}
        fields = ("school_id", "title", "subject")
        for course in package.courses():
            self._tick("courses", _l("Reading courses.csv"))
            school_id = self.org_ids.get(course.org_sourced_id)
            row = existing.get(course.sourced_id)
            if not self._org_ok(school_id) or (row and not self.in_scope(row.school_id)):
                self._outside(file, course.row, "orgSourcedId", course.org_sourced_id)
                continue
            subject = course.subjects[0][:80] if course.subjects else None
            new = (school_id, course.title[:160], subject)
            if row is None:
                tally.add(NEW, course.sourced_id, course.title)
                self.course_ids[course.sourced_id] = self._placeholder()
                if writer:
                    writer.insert(
                        {"source_id": course.sourced_id, **dict(zip(fields, new, strict=True))}
                    )
                continue
            old = (row.school_id, row.title, row.subject)
            if old == new:
                tally.add(UNCHANGED, course.sourced_id, course.title)
                continue
            tally.add(CHANGED, course.sourced_id, course.title, _changes(fields, old, new))
            if writer:
                writer.update(row.id, dict(zip(fields, new, strict=True)))
        self._done(writer)
        if writer:
            self.course_ids.update(
                dict(
                    db.session.execute(
                        select(Course.source_id, Course.id).where(Course.source_id.is_not(None))
                    ).all()
                )
            )

    def _org_ok(self, org_id) -> bool:
        """An org of the scope, or one this run would create (a negative placeholder)."""
        return org_id is not None and (org_id < 0 or org_id in self.scope_org_ids)

    # --- classes ----------------------------------------------------------------------
    def classes(self) -> None:
        package, tally, file = self.package, self.tallies["classes"], "classes.csv"
        writer = self._writer(SchoolClass)
        rows = db.session.execute(
            select(
                SchoolClass.id,
                SchoolClass.source_id,
                SchoolClass.school_id,
                SchoolClass.course_id,
                SchoolClass.term_id,
                SchoolClass.title,
                SchoolClass.period,
                SchoolClass.class_code,
            )
        ).all()
        existing = {r.source_id: r for r in rows if r.source_id}
        self.class_ids = {sid: r.id for sid, r in existing.items()}
        self.class_schools = {r.id: r.school_id for r in rows}
        taken = {r.class_code for r in rows}
        seen: set[str] = set()
        for cls in package.classes():
            self._tick("classes", _l("Reading classes.csv"))
            row = existing.get(cls.sourced_id)
            new = self._class_values(cls, row, file)
            if new is None:
                continue
            seen.add(cls.sourced_id)
            self._compare_class(cls, row, new, taken, tally, writer)
        self._done(writer)
        if writer:
            rows = db.session.execute(
                select(SchoolClass.source_id, SchoolClass.id, SchoolClass.school_id)
            ).all()
            self.class_ids.update({r.source_id: r.id for r in rows if r.source_id})
            self.class_schools = {r.id: r.school_id for r in rows}
        if package.mode("classes") == "bulk":
            for sid, row in existing.items():
                if sid not in seen and self.in_scope(row.school_id):
                    tally.add(KEPT, sid, row.title)

    def _class_values(self, cls, row, file: str) -> tuple | None:
        """CLASS_FIELDS of a classes.csv row, or None (outside the scope, unknown term)."""
        school_id = self.org_ids.get(cls.school_sourced_id)
        if not self._org_ok(school_id) or (row and not self.in_scope(row.school_id)):
            self._outside(file, cls.row, "schoolSourcedId", cls.school_sourced_id)
            return None
        term_sid = self._class_term(cls.term_sourced_ids)
        term_id = self.term_ids.get(term_sid)
        if term_id is None:
            self.error(
                file,
                cls.row,
                "termSourcedIds",
                term_sid,
                _l(
                    "term '%(id)s' is not in academicSessions.csv nor already in Waypoint.",
                    id=term_sid,
                ),
            )
            return None
        period = ",".join(cls.periods)[:40] or None
        course_id = self.course_ids.get(cls.course_sourced_id)
        return (school_id, course_id, term_id, cls.title[:160], period)

    def _compare_class(self, cls, row, new: tuple, taken: set, tally: Tally, writer) -> None:
        if row is None:
            tally.add(NEW, cls.sourced_id, cls.title)
            self.class_ids[cls.sourced_id] = self._placeholder()
            if writer:
                code = new_class_code(taken)
                taken.add(code)
                writer.insert(
                    {
                        "source_id": cls.sourced_id,
                        "class_code": code,
                        **dict(zip(CLASS_FIELDS, new, strict=True)),
                    }
                )
            return
        old = (row.school_id, row.course_id, row.term_id, row.title, row.period)
        if old == new:
            tally.add(UNCHANGED, cls.sourced_id, cls.title)
            return
        tally.add(CHANGED, cls.sourced_id, cls.title, _changes(CLASS_FIELDS, old, new))
        if writer:
            writer.update(row.id, dict(zip(CLASS_FIELDS, new, strict=True)))

    def _class_term(self, term_sids: tuple[str, ...]) -> str:
        """A class spanning several sessions links to their common parent (the school
        year) when they share one; otherwise to the first listed."""
        if len(term_sids) > 1:
            parents = {self.session_parents.get(t) for t in term_sids}
            if len(parents) == 1 and None not in parents and next(iter(parents)) in self.term_ids:
                return next(iter(parents))
        return term_sids[0]

    # --- users ------------------------------------------------------------------------
    def _roles(self) -> dict[str, tuple[str, str]]:
        """user sourcedId -> (OneRoster role, org sourcedId): the primary active role, else
        the first active one."""
        chosen: dict[str, tuple[str, str, bool]] = {}
        for role in self.package.roles():
            if not role.active:
                continue
            primary = role.role_type == "primary"
            found = chosen.get(role.user_sourced_id)
            if found is None or (primary and not found[2]):
                chosen[role.user_sourced_id] = (role.role, role.org_sourced_id, primary)
        return {user: (r, org) for user, (r, org, _p) in chosen.items()}

    def _waypoint_role(self, role: str, org_id: int | None) -> Role | None:
        group = {
            "learner": Role.LEARNER,
            "teacher": Role.TEACHER,
            "family": Role.GUARDIAN,
        }
        if role in ("student", "teacher", "guardian", "parent", "relative"):
            return group[role_group(role)]
        if role_group(role) == "administrator":
            if org_id is not None and self.org_types.get(org_id) is OrgType.DISTRICT:
                return Role.DISTRICT_ADMIN
            return Role.SCHOOL_ADMIN
        return None

    def users(self) -> None:
        """users.csv (+ roles) -> users rows, people counted by the role they get."""
        package = self.package
        mode = package.mode("users")
        everyone = self._needs_everyone()
        people = self._people = self._load_people(everyone)
        self._count_active_before()
        self.user_ids = {sid: r.id for sid, r in people.existing.items()}
        self.user_roles: dict[str, Role] = {sid: r.role for sid, r in people.existing.items()}
        self.agent_pairs: set[tuple[str, str]] = set()
        self.identifiers: dict[str, tuple] = {}
        self._new_people: list[str] = []
        roles = self._roles()
        writer = self._writer(User)
        seen: set[str] = set()
        for user in package.users():
            self._tick("users", _l("Reading users.csv"))
            seen.add(user.sourced_id)
            self._person(user, people, roles, mode, writer)
        if mode == "bulk":
            self._deactivate_missing_people(people, seen, writer)
        self._done(writer)
        # The maps of everyone are not kept past this step (the enrollments' map is the
        # import's memory peak).
        self._people = people = None
        if writer:
            self._read_back_new_people(everyone)
        self.user_identifiers(everyone)

    def _needs_everyone(self) -> bool:
        """Whether the pass needs every person Waypoint has: a bulk users file deactivates
        whoever it misses, and a bulk enrollments or demographics file names anyone. A
        delta needs only the people its files name (a 500-row delta, not 112,500 people)."""
        package = self.package
        return any(package.mode(e) == "bulk" for e in ("users", "enrollments", "demographics"))

    def _named_in_package(self) -> tuple[set[str], set[str], set[str]]:
        """The sourcedIds of the people the package's files name (users, their agents,
        enrollments, demographics), and the usernames and e-mails of users.csv, lowered."""
        package = self.package
        sids: set[str] = set()
        names: set[str] = set()
        emails: set[str] = set()
        for user in package.users():
            sids.add(user.sourced_id)
            sids.update(user.agent_sourced_ids)
            names.add(user.username.lower())
            if user.email:
                emails.add(user.email.lower())
        sids.update(e.user_sourced_id for e in package.enrollment_refs())
        sids.update(d.sourced_id for d in package.demographics())
        return sids, names, emails

    def _load_people(self, everyone: bool) -> _People:
        """The users rows to compare with: everyone, or the people the package names, the
        people typed in by hand (they may be matched), and the owners of the usernames
        and e-mails the file uses."""
        query = select(User.id, User.source_id, *(getattr(User, f) for f in USER_FIELDS))
        if everyone:
            rows = _user_rows(_fetch(query))
            owners = _owners((r.id, r.username, r.email) for r in rows)
        else:
            sids, names, emails = self._named_in_package()
            rows = _user_rows(_fetch_in(query, User.source_id, sorted(sids)))
            rows += _user_rows(_fetch(query.where(User.source_id.is_(None))))
            owner_query = select(User.id, User.username, User.email)
            found = _fetch_in(owner_query, func.lower(User.username), sorted(names))
            found += _fetch_in(owner_query, func.lower(User.email), sorted(emails))
            owners = _owners(sorted(found))  # in id order, as the whole table is read
        people = _People(
            existing={r.source_id: r for r in rows if r.source_id},
            hand_by_name={r.username.lower(): r for r in rows if not r.source_id},
            hand_by_email={r.email.lower(): r for r in rows if not r.source_id and r.email},
            owner_of_name=owners[0],
            owner_of_email=owners[1],
        )
        people.guardians_in_scope, people.linked = self._guardian_scope(rows, everyone)
        return people

    def _guardian_scope(self, rows: list[_UserRow], everyone: bool) -> tuple[set, set]:
        """(guardians linked to a learner of the scope, guardians linked to anyone), by
        their active links, for the guardians among `rows`."""
        links = select(GuardianLink.guardian_id, GuardianLink.learner_id).where(GuardianLink.active)
        if everyone:
            link_rows = list(_fetch(links))
            scope_learners = {
                r.id for r in rows if r.role is Role.LEARNER and self.in_scope(r.org_id)
            }
        else:
            guardians = sorted(r.id for r in rows if r.role is Role.GUARDIAN)
            link_rows = _fetch_in(links, GuardianLink.guardian_id, guardians)
            learners = select(User.id, User.org_id).where(User.role == Role.LEARNER)
            learner_ids = sorted({learner for _g, learner in link_rows})
            scope_learners = {
                i for i, org in _fetch_in(learners, User.id, learner_ids) if self.in_scope(org)
            }
        in_scope = {g for g, learner in link_rows if learner in scope_learners}
        return in_scope, {g for g, _learner in link_rows}

    def _count_active_before(self) -> None:
        """The active people of each kind in scope before the import (the deactivation
        guard's denominator), with one aggregate query."""
        scope = sorted(self.scope_org_ids)
        learner = aliased(User)
        link_in_scope = (
            select(GuardianLink.id)
            .join(learner, learner.id == GuardianLink.learner_id)
            .where(
                GuardianLink.guardian_id == User.id,
                GuardianLink.active,
                learner.role == Role.LEARNER,
                learner.org_id.in_(scope),
            )
            .exists()
        )
        any_link = (
            select(GuardianLink.id)
            .where(GuardianLink.guardian_id == User.id, GuardianLink.active)
            .exists()
        )
        guardian_placed = link_in_scope if self.school_scope else or_(link_in_scope, ~any_link)
        placed = or_(
            and_(User.role != Role.GUARDIAN, User.org_id.in_(scope)),
            and_(User.role == Role.GUARDIAN, guardian_placed),
        )
        counts = select(User.role, func.count()).where(User.active, placed).group_by(User.role)
        for role, n in db.session.execute(counts):
            if role in PEOPLE:  # PL specialists are the portal's own, not the SIS's
                self.active_before[PEOPLE[role]] += n

    def _person_in_scope(self, r: _UserRow) -> bool:
        """A guardian is in scope through a linked learner (or, for a district, with no
        link at all); anyone else through their org."""
        if r.role is Role.GUARDIAN:
            people = self._people
            return r.id in people.guardians_in_scope or (
                not self.school_scope and r.id not in people.linked
            )
        return self.in_scope(r.org_id)

    def _person(self, user, people: _People, roles: dict, mode: str, writer) -> None:
        """Compare (and write) one users.csv row."""
        found = self._match_hand_typed(user, people)
        if found is None:
            return
        row, matched = found
        placed = self._place(user, row, roles)
        if placed is None:
            return
        role, org_id = placed
        if row is not None and not self._person_in_scope(row) and not matched:
            self._outside("users.csv", user.row, "sourcedId", user.sourced_id)
            return
        if not self._names_free(user, row, people):
            return
        active = user.active and user.enabled_user
        if mode == "delta" and not user.active:
            active = False
        preferred = user.preferred_given_name
        new = (
            role,
            org_id,
            user.username,
            user.email,
            user.given_name[:80],
            user.family_name[:80],
            preferred[:80] if preferred else None,
            grade_number(user.grades) if role is Role.LEARNER else None,
            active,
        )
        self._note_person(user, role)
        if row is None:
            if not active and mode == "delta":
                return  # a tobedeleted row for someone Waypoint never had
            self._new_person(user, new, people, writer)
        else:
            self._compare_person(user, row, new, matched, writer)

    def _match_hand_typed(self, user, people: _People) -> tuple[_UserRow | None, bool] | None:
        """(the row this user is, whether it was typed in by hand and is adopted now), or
        None when the match is an error."""
        row = people.existing.get(user.sourced_id)
        if row is not None:
            return row, False
        by_name = people.hand_by_name.get(user.username.lower())
        by_email = people.hand_by_email.get(user.email.lower()) if user.email else None
        if by_name and by_email and by_name.id != by_email.id:
            self.error(
                "users.csv",
                user.row,
                "username",
                user.username,
                _l(
                    "this person matches two people typed in by hand: username "
                    "'%(name)s' is %(a)s and e-mail '%(email)s' is %(b)s. Merge or "
                    "correct them in Waypoint first.",
                    name=user.username,
                    a=f"{by_name.given_name} {by_name.family_name}",
                    email=user.email,
                    b=f"{by_email.given_name} {by_email.family_name}",
                ),
            )
            return None
        row = by_name or by_email
        if row is None:
            return None, False
        if row.id in people.claimed:
            self.error(
                "users.csv",
                user.row,
                "username",
                user.username,
                _l(
                    "this person and row %(other)d both match %(name)s, typed in by hand.",
                    other=people.claimed[row.id],
                    name=f"{row.given_name} {row.family_name}",
                ),
            )
            return None
        people.claimed[row.id] = user.row
        return row, True

    def _place(self, user, row: _UserRow | None, roles: dict) -> tuple[Role, int | None] | None:
        """(Waypoint role, org id) of a users.csv row, or None (a warning or an error)."""
        file = "users.csv"
        found_role = roles.get(user.sourced_id)
        if found_role is None:
            if row is not None:
                return row.role, row.org_id  # a delta row: the role Waypoint has
            self.error(
                file,
                user.row,
                "sourcedId",
                user.sourced_id,
                _l("user '%(id)s' has no role in this file nor in Waypoint.", id=user.sourced_id),
            )
            return None
        org_id = self.org_ids.get(found_role[1])
        role = self._waypoint_role(found_role[0], org_id)
        if role is None:
            self.warn(
                file,
                _l(
                    "people whose role is %(role)s are not imported: Waypoint has "
                    "learners, teachers, admins and guardians.",
                    role=found_role[0],
                ),
                row=user.row,
                key=f"role:{found_role[0]}",
            )
            return None
        if role is Role.GUARDIAN:
            return role, None
        if not self._org_ok(org_id):
            self._outside(file, user.row, "orgSourcedIds", found_role[1])
            return None
        return role, org_id

    def _names_free(self, user, row: _UserRow | None, people: _People) -> bool:
        """The username and e-mail are this person's alone (in the file and in Waypoint)
        and fit Waypoint's columns; else an error."""
        file, username, email = "users.csv", user.username, user.email
        lowered = username.lower()
        if lowered in people.names_in_file:
            self.error(
                file,
                user.row,
                "username",
                username,
                _l(
                    "username '%(name)s' is a duplicate: row %(row)d has it too.",
                    name=username,
                    row=people.names_in_file[lowered],
                ),
            )
            return False
        people.names_in_file[lowered] = user.row
        own_id = row.id if row is not None else None
        if people.owner_of_name.get(lowered, own_id) != own_id:
            self.error(
                file,
                user.row,
                "username",
                username,
                _l(
                    "username '%(name)s' already belongs to someone else in Waypoint.",
                    name=username,
                ),
            )
            return False
        if email and people.owner_of_email.get(email.lower(), own_id) != own_id:
            self.error(
                file,
                user.row,
                "email",
                email,
                _l("e-mail '%(email)s' already belongs to someone else in Waypoint.", email=email),
            )
            return False
        if len(username) > 80 or (email and len(email) > 255):
            self.error(
                file,
                user.row,
                "username",
                username,
                _l("the username or e-mail is too long for Waypoint."),
            )
            return False
        return True

    def _note_person(self, user, role: Role) -> None:
        """What later entities need of this person: guardian links, role, userIds."""
        if user.active:
            for agent in user.agent_sourced_ids:
                self.agent_pairs.add((user.sourced_id, agent))
        self.user_roles[user.sourced_id] = role
        self.identifiers[user.sourced_id] = tuple(
            sorted({(i.type[:80], i.identifier[:255]) for i in user.user_ids})
        )

    @staticmethod
    def _label(user) -> str:
        return f"{user.given_name} {user.family_name} ({user.username})"

    def _new_person(self, user, new: tuple, people: _People, writer) -> None:
        self.tallies[PEOPLE[new[0]]].add(NEW, user.sourced_id, self._label(user))
        self.user_ids[user.sourced_id] = self._placeholder()
        self._new_people.append(user.sourced_id)
        people.owner_of_name[user.username.lower()] = self.user_ids[user.sourced_id]
        if writer:
            writer.insert(
                {
                    "source_id": user.sourced_id,
                    **dict(zip(USER_FIELDS, new, strict=True)),
                    "created_at": self.now,
                }
            )

    def _compare_person(self, user, row: _UserRow, new: tuple, matched: bool, writer) -> None:
        self.user_ids[user.sourced_id] = row.id
        old = tuple(getattr(row, f) for f in USER_FIELDS)
        active = new[-1]
        if matched:
            outcome = MATCHED
        elif old == new:
            outcome = UNCHANGED
        elif not row.active and active:
            outcome = REACTIVATED
        elif row.active and not active:
            outcome = DEACTIVATED
        else:
            outcome = CHANGED
        kind = row.role if outcome == DEACTIVATED else new[0]
        changes = _changes(USER_FIELDS, old, new)
        self.tallies[PEOPLE[kind]].add(outcome, user.sourced_id, self._label(user), changes)
        if writer and (outcome != UNCHANGED):
            values = dict(zip(USER_FIELDS, new, strict=True))
            if matched:
                values["source_id"] = user.sourced_id
            if row.active != active:  # what the retention period counts from
                values["deactivated_at"] = None if active else self.now
            writer.update(row.id, values)

    def _deactivate_missing_people(self, people: _People, seen: set[str], writer) -> None:
        """A bulk users file: whoever came from the SIS and is missing is deactivated."""
        for sid, r in people.existing.items():
            if sid not in seen and r.active and self._person_in_scope(r):
                self.tallies[PEOPLE[r.role]].add(
                    DEACTIVATED,
                    sid,
                    f"{r.given_name} {r.family_name} ({r.username})",
                    ["active: yes -> no"],
                )
                if writer:
                    writer.update(r.id, {"active": False, "deactivated_at": self.now})

    def _read_back_new_people(self, everyone: bool) -> None:
        """The ids of the people just inserted (for links, enrollments, demographics)."""
        query = select(User.source_id, User.id)
        if everyone or len(self._new_people) > 5000:
            rows = _fetch(query.where(User.source_id.is_not(None)))
        else:
            rows = _fetch_in(query, User.source_id, self._new_people)
        self.user_ids.update(dict(rows))

    def user_identifiers(self, everyone: bool = True) -> None:
        """userIds -> user_identifiers rows, replaced per user when they differ."""
        tally = self.tallies["user_identifiers"]
        writer = self._writer(UserIdentifier)
        current: dict[int, list] = defaultdict(list)
        query = select(
            UserIdentifier.user_id,
            UserIdentifier.type,
            UserIdentifier.identifier,
            UserIdentifier.id,
        )
        if everyone:
            rows = _fetch(query)
        else:  # a delta: the identifiers of the people of its users.csv only
            named = (self.user_ids.get(sid) for sid in self.identifiers)
            rows = _fetch_in(query, UserIdentifier.user_id, sorted(i for i in named if i and i > 0))
        for uid, type_, ident, row_id in rows:
            current[uid].append((type_, ident, row_id))
        for sid, wanted in self.identifiers.items():
            user_id = self.user_ids.get(sid)
            if user_id is None:
                continue
            have = current.get(user_id, [])
            if tuple(sorted((t, i) for t, i, _ in have)) == wanted:
                if wanted:
                    tally.add(UNCHANGED, sid)
                continue
            tally.add(
                CHANGED if have else NEW,
                sid,
                "",
                [
                    f"userIds: {_show(','.join(f'{t}:{i}' for t, i, _ in have))} -> "
                    f"{_show(','.join(f'{t}:{i}' for t, i in wanted))}"
                ],
            )
            if writer:
                for *_rest, row_id in have:
                    writer.delete(row_id)
                for type_, ident in wanted:
                    writer.insert({"user_id": user_id, "type": type_, "identifier": ident})
        self.identifiers = {}
        self._done(writer)

    # --- guardian links ---------------------------------------------------------------
    def guardian_links(self) -> None:
        """agentSourcedIds (either direction) -> guardian links, matched by their pair."""
        tally = self.tallies["guardian_links"]
        mode = self.package.mode("users")
        if mode == "absent":
            return
        writer = self._writer(GuardianLink)
        wanted = self._wanted_links()
        existing = self._link_rows(None if mode == "bulk" else wanted)
        for pair, sid in wanted.items():
            self._compare_link(pair, sid, existing.get(pair), tally, writer)
        if mode == "bulk":
            self._deactivate_missing_links(existing, wanted, tally, writer)
        self._done(writer)

    def _wanted_links(self) -> dict[tuple[int, int], str]:
        """(guardian id, learner id) -> the link's sourcedId, from the users' agents."""
        wanted: dict[tuple[int, int], str] = {}
        for user_sid, agent_sid in self.agent_pairs:
            roles = (self.user_roles.get(user_sid), self.user_roles.get(agent_sid))
            if roles == (Role.LEARNER, Role.GUARDIAN):
                learner_sid, guardian_sid = user_sid, agent_sid
            elif roles == (Role.GUARDIAN, Role.LEARNER):
                guardian_sid, learner_sid = user_sid, agent_sid
            else:
                continue  # other agents (a teacher, someone not imported) link nothing
            guardian_id = self.user_ids.get(guardian_sid)
            learner_id = self.user_ids.get(learner_sid)
            if guardian_id is None or learner_id is None:
                continue
            wanted[(guardian_id, learner_id)] = f"{guardian_sid}|{learner_sid}"[:255]
        self.agent_pairs = set()
        return wanted

    @staticmethod
    def _link_rows(wanted: dict | None) -> dict[tuple[int, int], _LinkRow]:
        """The guardian links by pair: all of them, or those of the `wanted` guardians."""
        query = select(
            GuardianLink.id,
            GuardianLink.source_id,
            GuardianLink.guardian_id,
            GuardianLink.learner_id,
            GuardianLink.active,
        )
        if wanted is None:
            rows = _fetch(query)
        else:
            guardians = sorted({g for g, _learner in wanted if g > 0})
            rows = _fetch_in(query, GuardianLink.guardian_id, guardians)
        return {(r[2], r[3]): _LinkRow(*r[:4], bool(r[4])) for r in rows}

    def _compare_link(self, pair, sid: str, row: _LinkRow | None, tally: Tally, writer) -> None:
        label = sid.replace("|", " -> ")
        if row is None:
            tally.add(NEW, sid, label)
            if writer:
                writer.insert(
                    {
                        "source_id": sid,
                        "guardian_id": pair[0],
                        "learner_id": pair[1],
                        "relationship_label": "guardian",
                        "active": True,
                        "created_at": self.now,
                        "deactivated_at": None,
                    }
                )
        elif row.source_id is None:
            tally.add(MATCHED, sid, label)
            if writer:
                writer.update(row.id, {"source_id": sid, "active": True, "deactivated_at": None})
        elif not row.active:
            tally.add(REACTIVATED, sid, label, ["active: no -> yes"])
            if writer:
                writer.update(row.id, {"active": True, "deactivated_at": None})
        elif row.source_id != sid:
            tally.add(CHANGED, sid, "", [f"sourcedId: {row.source_id} -> {sid}"])
            if writer:
                writer.update(row.id, {"source_id": sid})
        else:
            tally.add(UNCHANGED, sid)

    def _deactivate_missing_links(self, existing: dict, wanted: dict, tally: Tally, writer) -> None:
        """A bulk users file: SIS links no agentSourcedIds names any more are deactivated
        (those of learners in scope)."""
        learner_orgs = dict(_fetch(select(User.id, User.org_id).where(User.role == Role.LEARNER)))
        for pair, row in existing.items():
            if (
                pair not in wanted
                and row.active
                and row.source_id
                and self.in_scope(learner_orgs.get(pair[1]))
            ):
                tally.add(
                    DEACTIVATED,
                    row.source_id,
                    row.source_id.replace("|", " -> "),
                    ["active: yes -> no"],
                )
                if writer:
                    writer.update(row.id, {"active": False, "deactivated_at": self.now})

    # --- enrollments ------------------------------------------------------------------
    def enrollments(self) -> None:
        """enrollments.csv -> enrollments (learners and teachers), matched by (class, user)."""
        package, tally = self.package, self.tallies["enrollments"]
        mode = package.mode("enrollments")
        if mode == "absent":
            return
        writer = self._writer(Enrollment)
        existing = self._enrollment_rows(mode)
        seen: set[tuple[int, int]] = set()
        for enrollment in package.enrollment_refs():
            self._tick("enrollments", _l("Reading enrollments.csv"))
            pair_role = self._enrollment_pair(enrollment)
            if pair_role is not None:
                self._compare_enrollment(enrollment, *pair_role, existing, seen, tally, writer)
        if mode == "bulk":
            self._remove_missing_enrollments(existing, seen, tally, writer)
        self._done(writer)

    def _enrollment_rows(self, mode: str) -> dict[tuple[int, int], tuple]:
        """(class id, user id) -> (id, role, sourcedId): every enrollment for a bulk file;
        for a delta only those of the people it names (not a district's 400,000)."""
        query = select(
            Enrollment.id,
            Enrollment.class_id,
            Enrollment.user_id,
            Enrollment.role,
            Enrollment.source_id,
        )
        if mode == "delta":
            wanted = {
                uid
                for e in self.package.enrollment_refs()
                if (uid := self.user_ids.get(e.user_sourced_id)) is not None and uid > 0
            }
            rows = _fetch_in(query, Enrollment.user_id, sorted(wanted))
        else:
            rows = _fetch(query)
        roles = {r.name: r for r in EnrollmentRole}
        return {(c, u): (i, roles.get(role, role), sid) for i, c, u, role, sid in rows}

    def _enrollment_pair(self, enrollment) -> tuple[tuple[int, int], EnrollmentRole] | None:
        """((class id, user id), role) of a row, or None (a warning or an error)."""
        file = "enrollments.csv"
        role = ENROLLMENT_ROLES.get(enrollment.role)
        if role is None:
            self.warn(
                file,
                _l(
                    "enrollments with the role %(role)s are not imported: Waypoint "
                    "enrolls learners and teachers.",
                    role=enrollment.role,
                ),
                row=enrollment.row,
                key=f"enrollment-role:{enrollment.role}",
            )
            return None
        class_id = self.class_ids.get(enrollment.class_sourced_id)
        user_id = self.user_ids.get(enrollment.user_sourced_id)
        if class_id is None or user_id is None:
            missing = "classSourcedId" if class_id is None else "userSourcedId"
            value = enrollment.class_sourced_id if class_id is None else enrollment.user_sourced_id
            self.error(
                file,
                enrollment.row,
                missing,
                value,
                _l("'%(value)s' was not imported (see its own row's message).", value=value),
            )
            return None
        if class_id > 0 and not self.in_scope(self.class_schools.get(class_id)):
            self._outside(file, enrollment.row, "classSourcedId", enrollment.class_sourced_id)
            return None
        return (class_id, user_id), role

    def _compare_enrollment(self, enrollment, pair, role, existing, seen, tally, writer) -> None:
        row = existing.get(pair)
        sid = enrollment.sourced_id
        label = f"{enrollment.user_sourced_id} in {enrollment.class_sourced_id}"
        if not enrollment.active:
            if row is not None and pair not in seen:
                tally.add(DEACTIVATED, sid, label, ["removed"])
                if writer:
                    writer.delete(row[0])
            seen.add(pair)
            return
        if pair in seen:
            return  # a second row for the same person in the same class
        seen.add(pair)
        if row is None:
            tally.add(NEW, sid, label)
            if writer:
                writer.insert(
                    {"source_id": sid, "class_id": pair[0], "user_id": pair[1], "role": role}
                )
            return
        row_id, old_role, old_sid = row
        if old_sid is None:
            outcome = MATCHED
        elif (old_role, old_sid) == (role, sid):
            outcome = UNCHANGED
        else:
            outcome = CHANGED
        changes = _changes(("role", "sourcedId"), (old_role, old_sid), (role, sid))
        tally.add(outcome, sid, label, changes if outcome != MATCHED else [])
        if writer and outcome != UNCHANGED:
            writer.update(row_id, {"role": role, "source_id": sid})

    def _remove_missing_enrollments(self, existing, seen, tally: Tally, writer) -> None:
        """A bulk file: SIS enrollments in scope it no longer lists are removed, except
        in last year's classes: they are history, and keep them (their teachers' grace
        read access hangs on them)."""
        ended = set(db.session.scalars(ended_class_ids()))
        for pair, (row_id, _role, sid) in existing.items():
            if pair not in seen and sid and self.in_scope(self.class_schools.get(pair[0])):
                if pair[0] in ended:
                    tally.add(KEPT, sid, sid)
                    continue
                tally.add(DEACTIVATED, sid, sid, ["removed"])
                if writer:
                    writer.delete(row_id)

    # --- demographics -----------------------------------------------------------------
    def demographics(self) -> None:
        """demographics.csv -> one demographics row per person (metadata.* as programs)."""
        package, tally, file = self.package, self.tallies["demographics"], "demographics.csv"
        mode = package.mode("demographics")
        if mode == "absent":
            return
        writer = self._writer(Demographics, key="user_id")
        existing = self._demographic_rows(mode)
        seen: set[int] = set()
        for record in package.demographics():
            self._tick("demographics", _l("Reading demographics.csv"))
            user_id = self.user_ids.get(record.sourced_id)
            if user_id is None:
                self.warn(
                    file,
                    _l("demographics of people not imported are skipped."),
                    row=record.row,
                    key="demographics-no-user",
                )
                continue
            seen.add(user_id)
            self._compare_demographics(record, user_id, existing.get(user_id), tally, writer)
        if mode == "bulk":
            self._remove_missing_demographics(existing, seen, tally, writer)
        self._done(writer)

    def _demographic_rows(self, mode: str) -> dict[int, tuple]:
        """user id -> DEMOGRAPHIC_FIELDS: every row for a bulk file, else those of the
        people the file names. Through the ORM's types (dates, JSON), as compared."""
        query = select(
            Demographics.user_id, *(getattr(Demographics, f) for f in DEMOGRAPHIC_FIELDS)
        )
        if mode == "bulk":
            return {r[0]: tuple(r[1:]) for r in db.session.execute(query)}
        named = (self.user_ids.get(d.sourced_id) for d in self.package.demographics())
        ids = sorted({i for i in named if i is not None and i > 0})
        existing: dict[int, tuple] = {}
        for start in range(0, len(ids), 500):
            chunk = query.where(Demographics.user_id.in_(ids[start : start + 500]))
            existing.update((r[0], tuple(r[1:])) for r in db.session.execute(chunk))
        return existing

    def _compare_demographics(self, record, user_id: int, old, tally: Tally, writer) -> None:
        if not record.active:
            if old is not None:
                tally.add(DEACTIVATED, record.sourced_id, "", ["removed"])
                if writer:
                    writer.delete(user_id)
            return
        new = tuple(
            (dict(record.metadata) if name == "programs" else getattr(record, name))
            for name in DEMOGRAPHIC_FIELDS
        )
        if old is None:
            tally.add(NEW, record.sourced_id)
            if writer:
                writer.insert(
                    {"user_id": user_id, **dict(zip(DEMOGRAPHIC_FIELDS, new, strict=True))}
                )
        elif old == new:
            tally.add(UNCHANGED, record.sourced_id)
        else:
            # The values are not sampled: a dry run shows that they change, not what.
            tally.add(CHANGED, record.sourced_id)
            if writer:
                writer.update(user_id, dict(zip(DEMOGRAPHIC_FIELDS, new, strict=True)))

    def _remove_missing_demographics(self, existing: dict, seen: set, tally: Tally, writer) -> None:
        """A bulk file: demographics of SIS people (not guardians) in scope that it no
        longer lists are removed."""
        sourced = dict(
            _fetch(
                select(User.id, User.org_id).where(
                    User.source_id.is_not(None), User.role != Role.GUARDIAN
                )
            )
        )
        for user_id in existing:
            if user_id not in seen and user_id in sourced and self.in_scope(sourced[user_id]):
                tally.add(DEACTIVATED, str(user_id), "", ["removed"])
                if writer:
                    writer.delete(user_id)
