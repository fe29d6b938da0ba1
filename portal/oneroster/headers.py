"""Header drift: understand the columns a real export wrote, and say how.

The bindings fix each file's header ([OR11] §2: "the header row MUST be present" with the
names and order of the tables; [OR12] the same). Exports drift: other case (`SourcedID`),
other order, `sourceID` for `sourcedId`, a singular list column (`termSourcedId`), a
1.0-era name. Waypoint matches each header by a normalised key (case, spaces, `_` and
`-` ignored), then by a few rewrites and aliases, and reports every column: understood
exactly, understood as another name, kept as extension data (`metadata.*`, [OR11] §2 and
[OR12] "Extensions to the CSV files": extra columns named `metadata.<name>` after the
spec's columns), or ignored. Only a missing required column refuses the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.oneroster import spec

EXACT = "exact"  # the spec's spelling
CASE = "case"  # the spec's name in other case or with spaces/underscores
ALIAS = "alias"  # another name the export uses for a spec column
METADATA = "metadata"  # a metadata.* extension column, kept in Record.metadata
UNKNOWN = "unknown"  # not a column of this file: ignored
DUPLICATE = "duplicate"  # a second column for a field already read: ignored
NOT_KEPT = "not kept"  # a spec column Waypoint deliberately drops (password)
OTHER_VERSION = "other version"  # a column of the other OneRoster version: read anyway

_KEY = re.compile(r"[\s_\-]+")

# Names exports use for a spec column, by normalised key, per file ("*" = every file).
_ALIASES: dict[str, dict[str, str]] = {
    "*": {
        "id": "sourcedId",
        "guid": "sourcedId",
        "datemodified": "dateLastModified",
        "lastmodified": "dateLastModified",
        "datelastmodifed": "dateLastModified",
    },
    "users": {
        "firstname": "givenName",
        "lastname": "familyName",
        "surname": "familyName",
        "preferredfirstname": "preferredGivenName",
        "preferredlastname": "preferredFamilyName",
        "emailaddress": "email",
        "agents": "agentSourcedIds",
        "orgs": "orgSourcedIds",
        "grade": "grades",
        "enabled": "enabledUser",
    },
    "classes": {"terms": "termSourcedIds", "coursesourcedids": "courseSourcedId"},
    "courses": {"orgsourcedids": "orgSourcedId", "schoolsourcedid": "orgSourcedId"},
    "demographics": {
        "gender": "sex",
        "dateofbirth": "birthDate",
        "dob": "birthDate",
        "hispaniclatinoethnicity": "hispanicOrLatinoEthnicity",
        "tworaces": "demographicRaceTwoOrMoreRaces",
        "twoormoreraces": "demographicRaceTwoOrMoreRaces",
    },
    "academicSessions": {"parent": "parentSourcedId", "year": "schoolYear"},
    "orgs": {"parent": "parentSourcedId", "orgtype": "type"},
}


def header_key(name: str) -> str:
    return _KEY.sub("", name.strip().lstrip("\ufeff")).lower()


@dataclass(frozen=True, slots=True)
class ColumnReading:
    """How one column of the file's header was understood."""

    position: int  # 1-based, as a spreadsheet's column A = 1
    header: str  # as written in the file
    field: str | None  # the spec's column name, or the metadata key, or None (ignored)
    how: str  # EXACT, CASE, ALIAS, METADATA, UNKNOWN, DUPLICATE, NOT_KEPT, OTHER_VERSION


@dataclass(frozen=True, slots=True)
class HeaderReport:
    """The header-drift report of one file."""

    file: str
    columns: tuple[ColumnReading, ...]
    missing_required: tuple[str, ...]
    missing_optional: tuple[str, ...]
    reordered: bool  # the understood columns are not in the spec's order

    @property
    def drifted(self) -> bool:
        """Anything other than the spec's header, exactly, in order."""
        return self.reordered or any(c.how not in (EXACT, NOT_KEPT) for c in self.columns)

    @property
    def ok(self) -> bool:
        return not self.missing_required

    def understood(self) -> dict[str, int]:
        """Spec column name -> 0-based index in the row."""
        return {
            c.field: c.position - 1
            for c in self.columns
            if c.field and c.how in (EXACT, CASE, ALIAS, OTHER_VERSION)
        }

    def metadata(self) -> dict[str, int]:
        """metadata key (without the `metadata.` prefix) -> 0-based index in the row."""
        return {c.field: c.position - 1 for c in self.columns if c.how == METADATA}

    def of(self, how: str) -> list[ColumnReading]:
        return [c for c in self.columns if c.how == how]


def read_header(file: str, entity: str, header: list[str], version: str) -> HeaderReport:
    """Match a file's header against the spec's columns for `entity` in `version`."""
    columns = spec.COLUMNS[entity]
    by_key = {header_key(c.name): c for c in columns}
    aliases = {**_ALIASES["*"], **_ALIASES.get(entity, {})}
    taken: set[str] = set()
    readings: list[ColumnReading] = []
    # Exact spellings win over drifted ones for the same field.
    exact_names = {name.strip().lstrip("\ufeff") for name in header}
    for position, raw in enumerate(header, start=1):
        written = raw.strip().lstrip("\ufeff")
        column, how = _match(written, by_key, aliases)
        if written.lower().startswith("metadata.") and len(written) > len("metadata."):
            readings.append(ColumnReading(position, raw, written[len("metadata.") :], METADATA))
            continue
        if column is None:
            readings.append(ColumnReading(position, raw, None, UNKNOWN))
            continue
        if column.name in taken or (how != EXACT and column.name in exact_names):
            readings.append(ColumnReading(position, raw, column.name, DUPLICATE))
            continue
        taken.add(column.name)
        if column.name in spec.NEVER_KEPT:
            how = NOT_KEPT
        elif version not in column.versions:
            how = OTHER_VERSION
        readings.append(ColumnReading(position, raw, column.name, how))
    missing_required = tuple(
        c.name for c in columns if version in c.required and c.name not in taken
    )
    missing_optional = tuple(
        c.name
        for c in columns
        if version in c.versions and version not in c.required and c.name not in taken
    )
    spec_order = [c.name for c in columns]
    seen_order = [
        r.field for r in readings if r.how in (EXACT, CASE, ALIAS, OTHER_VERSION, NOT_KEPT)
    ]
    reordered = seen_order != sorted(seen_order, key=spec_order.index)
    return HeaderReport(file, tuple(readings), missing_required, missing_optional, reordered)


def _match(written: str, by_key: dict, aliases: dict[str, str]):
    key = header_key(written)
    column = by_key.get(key)
    if column is not None:
        return column, EXACT if written == column.name else CASE
    for candidate in _rewrites(key):
        column = by_key.get(candidate)
        if column is not None:
            return column, ALIAS
    target = aliases.get(key)
    if target is not None:
        column = by_key.get(header_key(target))
        if column is not None:
            return column, ALIAS
    return None, UNKNOWN


def _rewrites(key: str):
    """`sourceid` -> `sourcedid`; a list column's singular or plural (`termsourcedid`)."""
    fixed = key.replace("sourceid", "sourcedid")
    if fixed != key:
        yield fixed
    for base in {key, fixed}:
        if base.endswith("sourcedids"):
            yield base[:-1]
        elif base.endswith("sourcedid"):
            yield base + "s"
