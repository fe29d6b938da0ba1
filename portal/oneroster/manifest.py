"""manifest.csv: which OneRoster version, and which files are bulk, delta or absent.

[OR11] §3 "manifest.csv" and [OR12] "manifest.csv": two columns `propertyName,value`;
`manifest.version` is "1.0"; `oneroster.version` is "1.1" or "1.2"; one `file.<name>` row
per file with absent | bulk | delta; `source.systemName` / `source.systemCode` optional.
A file marked absent but present is ignored (and said); a file marked bulk or delta but
missing, or a file Waypoint uses that the manifest does not mention, is an error: without
the mode Waypoint cannot know whether a missing record means "deactivate" (bulk) or
"unchanged" (delta).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.core.i18n import lazy_gettext as _l
from portal.oneroster import spec
from portal.oneroster.problems import Problems
from portal.oneroster.source import CsvBroken, Source

MANIFEST = "manifest.csv"


@dataclass
class Manifest:
    version: str | None = None  # "1.1" or "1.2", None when it cannot be told
    version_written: str | None = None  # oneroster.version as the file has it
    manifest_version: str | None = None
    modes: dict[str, str] = field(default_factory=dict)  # "users" -> "bulk" | "delta" | "absent"
    properties: dict[str, str] = field(default_factory=dict)  # every row, as written
    listed: set[str] = field(default_factory=set)  # every file.<name> row, valid or not
    source_system_name: str | None = None
    source_system_code: str | None = None

    def mode(self, entity: str) -> str:
        """The file's mode: "bulk", "delta", or "absent" (also for a file not listed)."""
        return self.modes.get(entity, "absent")

    def is_bulk(self, entity: str) -> bool:
        return self.mode(entity) == "bulk"


def _version(value: str) -> str | None:
    text = value.strip().lower().removeprefix("v")
    for version in spec.VERSIONS:
        if text == version or text.startswith(version + "."):
            return version
    if text in {"1p1", "1p2"}:
        return "1." + text[-1]
    return None


def _entity_of(property_name: str, known: dict[str, str]) -> str:
    """`file.academicSessions` -> "academicSessions" (matched case-insensitively)."""
    name = property_name[len("file.") :]
    return known.get(name.lower(), name)


def read_manifest(source: Source, problems: Problems) -> Manifest | None:
    """Read and check manifest.csv; None when the package cannot be understood without it."""
    if not source.has(MANIFEST):
        problems.error(
            MANIFEST,
            None,
            None,
            None,
            _l(
                "the package has no manifest.csv, so Waypoint cannot tell OneRoster 1.1 from "
                "1.2, or a full (bulk) export from a delta. Export the whole OneRoster file "
                "set, manifest included."
            ),
        )
        return None
    try:
        rows = list(_manifest_rows(source, problems))
    except CsvBroken as exc:
        problems.error(MANIFEST, exc.row, None, None, exc.message)
        return None
    manifest = Manifest()
    known = {name.lower(): name for name in (*spec.COLUMNS, *spec.UNUSED_FILES)}
    for row, name, value in rows:
        _read_property(manifest, row, name, value, known, problems)
    if "oneroster.version" not in {k.lower() for k in manifest.properties}:
        problems.error(
            MANIFEST,
            None,
            "propertyName",
            None,
            _l(
                "manifest.csv has no oneroster.version row, so Waypoint cannot tell "
                "OneRoster 1.1 from 1.2."
            ),
        )
    _check_files(source, manifest, problems)
    return manifest


def _read_property(manifest: Manifest, row: int, name: str, value: str, known, problems) -> None:
    """One propertyName,value row into the manifest (a property given twice with
    different values is an error)."""
    if name in manifest.properties and manifest.properties[name] != value:
        problems.error(
            MANIFEST,
            row,
            "propertyName",
            name,
            _l(
                "%(name)s is given twice, with different values ('%(first)s' and '%(second)s').",
                name=name,
                first=manifest.properties[name],
                second=value,
            ),
        )
        return
    manifest.properties[name] = value
    lowered = name.lower()
    if lowered == "oneroster.version":
        _read_version(manifest, row, value, problems)
    elif lowered == "manifest.version":
        manifest.manifest_version = value
        if value.strip() != "1.0":
            problems.warn(
                MANIFEST,
                _l("manifest.version is '%(value)s'; the spec says 1.0. Read as 1.0.", value=value),
                row=row,
            )
    elif lowered == "source.systemname":
        manifest.source_system_name = value or None
    elif lowered == "source.systemcode":
        manifest.source_system_code = value or None
    elif lowered.startswith("file."):
        _read_file_mode(manifest, row, name, value, known, problems)


def _read_version(manifest: Manifest, row: int, value: str, problems: Problems) -> None:
    manifest.version_written = value
    manifest.version = _version(value)
    if manifest.version is None:
        problems.error(
            MANIFEST,
            row,
            "value",
            value,
            _l(
                "oneroster.version '%(value)s' is not a version Waypoint reads (1.1 or 1.2).",
                value=value,
            ),
        )


def _read_file_mode(manifest: Manifest, row: int, name: str, value: str, known, problems) -> None:
    """file.<name>: absent, bulk or delta."""
    entity = _entity_of(name, known)
    mode = value.strip().lower()
    manifest.listed.add(entity)
    if mode not in spec.FILE_MODES:
        problems.error(
            MANIFEST,
            row,
            "value",
            value,
            _l(
                "%(name)s is '%(value)s'; it must be absent, bulk or delta.", name=name, value=value
            ),
        )
        return
    manifest.modes[entity] = mode


def _manifest_rows(source: Source, problems: Problems):
    header_seen = False
    for row, fields in source.rows(MANIFEST):
        if not header_seen:
            header_seen = True
            names = [f.strip().lower() for f in fields]
            if names[:2] == ["propertyname", "value"]:
                if fields[:2] != ["propertyName", "value"]:
                    problems.warn(
                        MANIFEST,
                        _l("the header is read as propertyName,value."),
                        row=row,
                    )
                continue
            problems.warn(
                MANIFEST,
                _l("the first row is not the header propertyName,value; it is read as a property."),
                row=row,
            )
        if len(fields) < 2:
            problems.error(
                MANIFEST,
                row,
                "value",
                None,
                _l("the row has no value (a row is propertyName,value)."),
            )
            continue
        yield row, fields[0].strip(), fields[1].strip()


def _check_files(source: Source, manifest: Manifest, problems: Problems) -> None:
    version = manifest.version
    for entity, mode in manifest.modes.items():
        file_name = f"{entity}.csv"
        present = source.has(file_name)
        if mode == "absent" and present and entity in spec.COLUMNS:
            problems.warn(
                file_name,
                _l("the file is in the package but manifest.csv marks it absent: it is ignored."),
            )
        elif mode != "absent" and not present:
            problems.error(
                MANIFEST,
                None,
                f"file.{entity}",
                mode,
                _l(
                    "manifest.csv says %(file)s is %(mode)s, but the package has no %(file)s.",
                    file=file_name,
                    mode=mode,
                ),
            )
        elif mode != "absent" and version == spec.V11 and entity in spec.ONLY_12:
            problems.warn(
                file_name,
                _l(
                    "%(file)s belongs to OneRoster 1.2 and this is a 1.1 package: it is ignored.",
                    file=file_name,
                ),
            )
    for entity in spec.COLUMNS:
        file_name = f"{entity}.csv"
        if source.has(file_name) and entity not in manifest.listed:
            if version == spec.V11 and entity in spec.ONLY_12:
                continue
            problems.error(
                MANIFEST,
                None,
                f"file.{entity}",
                None,
                _l(
                    "%(file)s is in the package but manifest.csv does not say whether it is "
                    "bulk or delta (add the row file.%(entity)s,bulk or file.%(entity)s,delta).",
                    file=file_name,
                    entity=entity,
                ),
            )
