"""`read_package(path)`: open a OneRoster file set, check all of it, and stream its records.

Reading happens in one checking pass over every file Waypoint uses, in dependency order
(orgs, academicSessions, courses, classes, users, userProfiles, roles, enrollments,
demographics), streaming each file; the only things kept are the sourcedIds of each file
(dict id -> row, for references, duplicates and bulk deactivation), a few counters, and
the errors and warnings. Afterwards `Package.users()` and the others stream the records
again from the zip or folder, for the dry run and the apply. Apply only when `package.ok`.

References ("classSourcedId 'c-99' is not in classes.csv"): a reference to a file that is
in the package as bulk must name a row of that file. A reference to a file that is delta
or absent may name a record Waypoint already has: pass `existing={"classes": ids, ...}`
(any container of sourcedIds) and it is checked against the package and those; without
`existing` such references are counted as unchecked and a warning says so.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from portal.core.i18n import lazy_gettext as _l
from portal.oneroster import records as r
from portal.oneroster import spec
from portal.oneroster.builders import BUILDERS
from portal.oneroster.headers import HeaderReport, read_header
from portal.oneroster.manifest import Manifest, read_manifest
from portal.oneroster.problems import MAX_ERRORS, Problems, RosterError, RosterWarning
from portal.oneroster.source import CsvBroken, Source, SourceError

# Which file each reference column points at, per file.
_REFERENCES = {
    "courses": (("orgSourcedId", "orgs"), ("schoolYearSourcedId", "academicSessions")),
    "classes": (
        ("courseSourcedId", "courses"),
        ("schoolSourcedId", "orgs"),
        ("termSourcedIds", "academicSessions"),
    ),
    "users": (("orgSourcedIds", "orgs"), ("primaryOrgSourcedId", "orgs")),
    "userProfiles": (("userSourcedId", "users"),),
    "roles": (
        ("userSourcedId", "users"),
        ("orgSourcedId", "orgs"),
        ("userProfileSourcedId", "userProfiles"),
    ),
    "enrollments": (
        ("classSourcedId", "classes"),
        ("userSourcedId", "users"),
        ("schoolSourcedId", "orgs"),
    ),
    "demographics": (("sourcedId", "users"),),
}
_SELF_REFERENCES = {
    "orgs": "parentSourcedId",
    "academicSessions": "parentSourcedId",
    "users": "agentSourcedIds",
}
_MUST_BE_SCHOOL = {("classes", "schoolSourcedId"), ("enrollments", "schoolSourcedId")}
_ATTRIBUTE = {
    "orgSourcedId": "org_sourced_id",
    "schoolYearSourcedId": "school_year_sourced_id",
    "courseSourcedId": "course_sourced_id",
    "schoolSourcedId": "school_sourced_id",
    "termSourcedIds": "term_sourced_ids",
    "orgSourcedIds": "org_sourced_ids",
    "primaryOrgSourcedId": "primary_org_sourced_id",
    "userSourcedId": "user_sourced_id",
    "userProfileSourcedId": "user_profile_sourced_id",
    "classSourcedId": "class_sourced_id",
    "sourcedId": "sourced_id",
    "parentSourcedId": "parent_sourced_id",
    "agentSourcedIds": "agent_sourced_ids",
}


_REF_COLUMNS = ("sourcedId", "status", "classSourcedId", "userSourcedId", "role")


@dataclass
class FileCount:
    rows: int = 0
    active: int = 0
    tobedeleted: int = 0
    rows_with_errors: int = 0


class Package:
    """A checked OneRoster file set. See the module docstring; fields:

    version ("1.1" | "1.2" | None), manifest, headers {entity: HeaderReport},
    errors [RosterError] (the first `max_errors`), error_count, warnings [RosterWarning],
    counts {entity: FileCount}, ids {entity: {sourcedId: row}}, unused_files [names],
    unchecked {entity: number of references not checked}.
    """

    def __init__(self, source: Source | None, problems: Problems):
        self.source = source
        self.problems = problems
        self.manifest: Manifest | None = None
        self.headers: dict[str, HeaderReport] = {}
        self.counts: dict[str, FileCount] = {}
        self.ids: dict[str, dict[str, int]] = {}
        self.unused_files: list[str] = []
        self.unchecked: dict[str, int] = {}
        self.existing: Mapping[str, Container[str]] | None = None
        self._readable: set[str] = set()  # entities read to the end
        self._org_types: dict[str, str] = {}
        self._users_with_roles: set[str] = set()
        self._inactive_users: set[str] = set()

    # --- results ------------------------------------------------------------------
    @property
    def version(self) -> str | None:
        return self.manifest.version if self.manifest else None

    @property
    def errors(self) -> list[RosterError]:
        return self.problems.errors

    @property
    def error_count(self) -> int:
        return self.problems.error_count

    @property
    def errors_left_off(self) -> int:
        return self.problems.errors_left_off

    @property
    def warnings(self) -> list[RosterWarning]:
        return self.problems.warnings

    @property
    def ok(self) -> bool:
        return self.problems.error_count == 0 and self.manifest is not None

    def mode(self, entity: str) -> str:
        """ "bulk", "delta" or "absent" for the entity's file (as Waypoint reads it)."""
        if self.manifest is None or entity not in self.headers:
            return "absent"
        return self.manifest.mode(entity)

    def used(self) -> list[str]:
        """The entities read from this package, in read order."""
        return [e for e in spec.READ_ORDER if e in self.headers]

    # --- records --------------------------------------------------------------------
    def records(self, entity: str) -> Iterator[r.Record]:
        """Stream the good records of one file (rows with errors are skipped)."""
        if entity == "roles" and self._roles_from_users():
            yield from self._derived_roles()
            return
        if entity not in self.headers or not self.headers[entity].ok:
            return
        quiet = Problems(max_errors=0)  # errors were reported by the checking pass
        for record, bad, _id in self._stream(entity, quiet):
            if not bad:
                yield record

    def orgs(self) -> Iterator[r.Org]:
        return self.records("orgs")

    def academic_sessions(self) -> Iterator[r.AcademicSession]:
        return self.records("academicSessions")

    def courses(self) -> Iterator[r.Course]:
        return self.records("courses")

    def classes(self) -> Iterator[r.Class]:
        return self.records("classes")

    def users(self) -> Iterator[r.User]:
        return self.records("users")

    def roles(self) -> Iterator[r.Role]:
        """roles.csv (1.2), or one Role per org of each users.csv row (1.1)."""
        return self.records("roles")

    def user_profiles(self) -> Iterator[r.UserProfile]:
        return self.records("userProfiles")

    def enrollments(self) -> Iterator[r.Enrollment]:
        return self.records("enrollments")

    def enrollment_refs(self) -> Iterator[r.EnrollmentRef]:
        """The good enrollments as EnrollmentRef (sourcedId, status, row, class, user,
        role): the values `enrollments()` gives, for the import's comparison of 400,000
        rows, without building whole records (their dates and booleans were checked by
        the checking pass). Read from the file's fields when the package is `ok` (every
        row is then good), else from the records."""
        if not self.ok or "enrollments" not in self._readable:
            for e in self.enrollments():
                yield r.EnrollmentRef(
                    e.sourced_id, e.status, e.row, e.class_sourced_id, e.user_sourced_id, e.role
                )
            return
        at = self.headers["enrollments"].understood()
        sid_at, status_at, class_at, user_at, role_at = (at.get(n) for n in _REF_COLUMNS)
        statuses: dict[str, str] = {}  # each distinct field read once (a handful)
        roles: dict[str, str] = {}
        rows = self.source.rows("enrollments.csv")
        next(rows, None)  # the header
        for row, fields in rows:
            # An ok file's rows are all as wide as the header (or wider, with empty
            # trailing fields), and its required columns are present.
            status = fields[status_at] if status_at is not None else ""
            if (found := statuses.get(status)) is None:
                found = statuses[status] = r.status_of(status.strip())
            role = fields[role_at]
            if (role_name := roles.get(role)) is None:
                role_name = roles[role] = r.enrollment_role(role.strip())
            yield r.EnrollmentRef(
                fields[sid_at].strip(),
                found,
                row,
                fields[class_at].strip(),
                fields[user_at].strip(),
                role_name,
            )

    def demographics(self) -> Iterator[r.Demographics]:
        return self.records("demographics")

    def summary(self) -> list[str]:
        """Lines for the CLI and the dry run: per file its mode and rows, then the rest."""
        lines = []
        version = self.version or "?"
        lines.append(str(_l("OneRoster %(version)s package.", version=version)))
        for entity in self.used():
            count = self.counts.get(entity, FileCount())
            lines.append(
                str(
                    _l(
                        "%(file)s (%(mode)s): %(rows)d rows, %(active)d active, "
                        "%(deleted)d to be deleted",
                        file=f"{entity}.csv",
                        mode=self.mode(entity),
                        rows=count.rows,
                        active=count.active,
                        deleted=count.tobedeleted,
                    )
                )
            )
        if self.unused_files:
            lines.append(
                str(
                    _l(
                        "Accepted and ignored (Waypoint does not use them): %(files)s",
                        files=", ".join(self.unused_files),
                    )
                )
            )
        lines.extend(str(w) for w in self.warnings)
        lines.extend(str(e) for e in self.errors)
        if self.errors_left_off:
            lines.append(str(_l("... and %(n)d more errors.", n=self.errors_left_off)))
        return lines

    def close(self) -> None:
        if self.source is not None:
            self.source.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading ------------------------------------------------------------------
    def _stream(self, entity: str, problems: Problems) -> Iterator[tuple]:
        """(record, bad, None) for every data row, or (None, True, sourcedId or None) for a
        row of the wrong width; raises CsvBroken when the file breaks."""
        file = f"{entity}.csv"
        header = self.headers[entity]
        mode = self.manifest.mode(entity)
        row_reader = r.RowReader(file, header, problems, mode)
        build = BUILDERS[entity]
        width = len(header.columns)
        id_at = header.understood().get("sourcedId")
        rows = self.source.rows(file)
        next(rows, None)  # the header, read already
        for row, fields in rows:
            if len(fields) != width and not _only_empty_extra(fields, width):
                sourced_id = (
                    fields[id_at].strip() if id_at is not None and id_at < len(fields) else None
                )
                problems.error(
                    file,
                    row,
                    None,
                    None,
                    (
                        _l(
                            "the row has %(got)d values but the header has %(want)d columns; "
                            "the row looks cut short or split.",
                            got=len(fields),
                            want=width,
                        )
                        if len(fields) < width
                        else _l(
                            "the row has %(got)d values but the header has only %(want)d "
                            "columns (an unquoted comma?).",
                            got=len(fields),
                            want=width,
                        )
                    ),
                )
                yield None, True, sourced_id
                continue
            row_reader.start(row, fields)
            record = build(row_reader, self.version)
            yield record, row_reader.bad, None

    def _roles_from_users(self) -> bool:
        """Roles come from users.csv: 1.1, or a 1.2 export whose users.csv has a role column
        while roles.csv is absent."""
        if "users" not in self.headers:
            return False
        if self.version == spec.V11:
            return True
        return "roles" not in self.headers and "role" in self.headers["users"].understood()

    def _derived_roles(self) -> Iterator[r.Role]:
        for user in self.records("users"):
            if not user.role:
                continue
            for position, org_id in enumerate(user.org_sourced_ids):
                yield r.Role(
                    sourced_id=f"{user.sourced_id}/{org_id}",
                    status=user.status,
                    date_last_modified=user.date_last_modified,
                    row=user.row,
                    user_sourced_id=user.sourced_id,
                    role=user.role,
                    role_type="primary" if position == 0 else "secondary",
                    org_sourced_id=org_id,
                    derived=True,
                )


def _only_empty_extra(fields: list[str], width: int) -> bool:
    """A row with trailing empty fields beyond the header (a trailing comma) is fine."""
    return len(fields) > width and not any(f.strip() for f in fields[width:])


def read_package(
    path: str | Path,
    *,
    existing: Mapping[str, Container[str]] | None = None,
    max_errors: int = MAX_ERRORS,
) -> Package:
    """Open and check the OneRoster file set at `path` (a .zip or a folder).

    Never raises for a bad package: every problem is in `package.errors`. Close the
    package (or use it as a context manager) when done with its records.
    """
    problems = Problems(max_errors=max_errors)
    try:
        source = Source(path)
    except SourceError as exc:
        problems.error(Path(path).name, None, None, None, exc.message)
        return Package(None, problems)
    package = Package(source, problems)
    package.existing = existing
    for entry in source.other_entries:
        problems.warn(
            entry,
            _l("not a CSV file at the root of the package: ignored."),
        )
    package.manifest = read_manifest(source, problems)
    if package.manifest is None:
        return package
    _note_files(package)
    if package.version is None:
        return package
    for entity in spec.READ_ORDER:
        if entity in package.headers:
            _check_file(package, entity)
    _check_roles_present(package)
    for entity, count in package.unchecked.items():
        problems.warn(
            f"{entity}.csv",
            _l(
                "%(n)d references to %(file)s were not checked: the file is delta or absent, "
                "so they may name records Waypoint already has.",
                n=count,
                file=f"{entity}.csv",
            ),
        )
    return package


def _note_files(package: Package) -> None:
    """Read each used file's header; list the files Waypoint ignores."""
    source, manifest, problems = package.source, package.manifest, package.problems
    known = {name.lower(): name for name in spec.COLUMNS}
    unused = {name.lower(): name for name in spec.UNUSED_FILES}
    for lowered, stored in sorted(source.files.items()):
        stem = lowered.removesuffix(".csv")
        if lowered == "manifest.csv":
            continue
        entity = known.get(stem)
        if entity is None:
            package.unused_files.append(stored)
            if stem not in unused:
                problems.warn(stored, _l("not a OneRoster file Waypoint knows: ignored."))
            continue
        if stored != f"{entity}.csv":
            problems.warn(
                stored,
                _l("read as %(file)s (file names are case-sensitive).", file=f"{entity}.csv"),
            )
        if manifest.mode(entity) == "absent" or package.version is None:
            continue
        if package.version == spec.V11 and entity in spec.ONLY_12:
            continue
        _read_header(package, entity)


def _read_header(package: Package, entity: str) -> None:
    file = f"{entity}.csv"
    problems = package.problems
    try:
        first = next(package.source.rows(file), None)
    except CsvBroken as exc:
        problems.error(file, exc.row, None, None, exc.message)
        return
    if first is None:
        problems.error(file, None, None, None, _l("the file is empty; it needs its header row."))
        return
    report = read_header(file, entity, first[1], package.version)
    package.headers[entity] = report
    for name in report.missing_required:
        problems.error(
            file,
            1,
            name,
            None,
            _l(
                "the header has no %(column)s column, which OneRoster %(version)s requires; "
                "the file cannot be read without it.",
                column=name,
                version=package.version,
            ),
        )


def _check_file(package: Package, entity: str) -> None:
    """The checking pass over one file: every row's values, duplicate sourcedIds and
    references; keeps the sourcedIds and the counts."""
    file = f"{entity}.csv"
    if not package.headers[entity].ok:
        return
    problems = package.problems
    package.ids[entity] = {}
    package.counts[entity] = FileCount()
    pending: list[tuple[int, str]] = []  # self-references seen before their target
    if entity == "users" and package.version == spec.V12 and package._roles_from_users():
        problems.warn(
            file,
            _l(
                "the package has no roles.csv; each user's role and orgs are read from the "
                "role and orgSourcedIds columns of users.csv (as in OneRoster 1.1)."
            ),
        )
    try:
        for item in package._stream(entity, problems):
            _check_row(package, entity, item, pending)
    except CsvBroken as exc:
        problems.error(file, exc.row, None, None, exc.message)
        problems.warn(
            file,
            _l(
                "the file could not be read past row %(row)d; references to its later rows "
                "were not checked.",
                row=exc.row,
            ),
        )
        return
    package._readable.add(entity)
    self_column = _SELF_REFERENCES.get(entity)
    for row, value in pending:
        _resolve(package, entity, self_column, entity, value, row)


def _check_row(package: Package, entity: str, item: tuple, pending: list) -> None:
    """One streamed row: counted, its sourcedId noted, its references resolved."""
    ids, count = package.ids[entity], package.counts[entity]
    record, bad, short_id = item
    count.rows += 1
    if record is None:  # a row of the wrong width: keep its id for references
        count.rows_with_errors += 1
        if short_id:
            ids.setdefault(short_id, 0)
        return
    if not _note_id(package, entity, record, ids):
        bad = True
    if record.status == "active":
        count.active += 1
    else:
        count.tobedeleted += 1
    if not _check_references(package, entity, record, ids, pending):
        bad = True
    if bad:
        count.rows_with_errors += 1


def _note_id(package: Package, entity: str, record, ids: dict[str, int]) -> bool:
    """Note the row's sourcedId; False (and an error) when an earlier row has it."""
    sourced_id = record.sourced_id
    if not sourced_id:
        return True
    first = ids.get(sourced_id)
    if first is not None:
        package.problems.error(
            f"{entity}.csv",
            record.row,
            "sourcedId",
            sourced_id,
            _l(
                "sourcedId '%(value)s' is a duplicate: row %(first)d has it too.",
                value=sourced_id,
                first=first,
            ),
        )
        return False
    ids[sourced_id] = record.row
    return True


def _check_references(package: Package, entity: str, record, ids, pending: list) -> bool:
    """Resolve the row's references (self-references once the file is read); note what
    later files need (org types, users with a role, inactive users). False if one fails."""
    ok = True
    row, sourced_id = record.row, record.sourced_id
    if entity == "orgs" and sourced_id and record.type:
        package._org_types[sourced_id] = record.type
    for column, target in _REFERENCES.get(entity, ()):
        values = getattr(record, _ATTRIBUTE[column])
        if not values:
            continue
        for value in values if isinstance(values, tuple) else (values,):
            if not _resolve(package, entity, column, target, value, row):
                ok = False
    self_column = _SELF_REFERENCES.get(entity)
    if self_column:
        values = getattr(record, _ATTRIBUTE[self_column])
        for value in values if isinstance(values, tuple) else (values,) if values else ():
            if value not in ids:
                pending.append((row, value))
    if entity == "roles" and record.user_sourced_id and record.status == "active":
        package._users_with_roles.add(record.user_sourced_id)
    if entity == "users" and record.status != "active":
        package._inactive_users.add(sourced_id)
    return ok


def _resolve(package: Package, entity: str, column: str, target: str, value: str, row: int) -> bool:
    """Is `value` a sourcedId of `target`? Reports the error and answers False if not."""
    file = f"{entity}.csv"
    target_file = f"{target}.csv"
    problems = package.problems
    ids = package.ids.get(target)
    if ids is not None and value in ids:
        if (entity, column) in _MUST_BE_SCHOOL:
            kind = package._org_types.get(value)
            if kind and kind != "school":
                problems.error(
                    file,
                    row,
                    column,
                    value,
                    _l(
                        "%(column)s '%(value)s' is a %(kind)s in orgs.csv, not a school.",
                        column=column,
                        value=value,
                        kind=kind,
                    ),
                )
                return False
        return True
    mode = package.mode(target)
    if target != entity and target in package.headers and target not in package._readable:
        package.unchecked[target] = package.unchecked.get(target, 0) + 1
        return True  # the target file could not be read; its own error says so
    if mode == "bulk" or target == entity and mode != "delta":
        problems.error(
            file,
            row,
            column,
            value,
            _l(
                "%(column)s '%(value)s' is not in %(target)s.",
                column=column,
                value=value,
                target=target_file,
            ),
        )
        return False
    existing = package.existing
    if existing is not None and target in existing:
        if value in existing[target]:
            return True
        problems.error(
            file,
            row,
            column,
            value,
            _l(
                "%(column)s '%(value)s' is not in %(target)s nor already in Waypoint.",
                column=column,
                value=value,
                target=target_file,
            ),
        )
        return False
    package.unchecked[target] = package.unchecked.get(target, 0) + 1
    return True


def _check_roles_present(package: Package) -> None:
    """A user with no role cannot be placed: in bulk, every active user needs one."""
    if "users" not in package._readable or package.mode("users") != "bulk":
        return
    problems = package.problems
    from_users = package._roles_from_users()
    if not from_users:
        if "roles" not in package.headers:
            if package.mode("roles") == "absent" and package.ids.get("users"):
                problems.error(
                    "users.csv",
                    None,
                    None,
                    None,
                    _l(
                        "the package has users but no roles.csv: in OneRoster 1.2 a user's "
                        "role (student, teacher, ...) is in roles.csv."
                    ),
                )
            return
        if package.mode("roles") != "bulk" or "roles" not in package._readable:
            return
    if from_users:
        return  # users.csv rows without a role were reported row by row
    with_roles, inactive = package._users_with_roles, package._inactive_users
    for sourced_id, row in package.ids["users"].items():
        if sourced_id in with_roles or sourced_id in inactive:
            continue
        problems.error(
            "users.csv",
            row,
            "sourcedId",
            sourced_id,
            _l(
                "user '%(value)s' has no role: roles.csv has no active row for them.",
                value=sourced_id,
            ),
        )
