"""A backup directory: its files, and the manifest that names each with its size and sha256.

    PATH/manifest.json          written last: a directory without one is not a backup
    PATH/database.sqlite        SQLite: the online backup API's copy (one file, no WAL)
    PATH/database.pgdump        PostgreSQL: pg_dump --format=custom
    PATH/uploads/...            UPLOAD_FOLDER, file by file

`verify` reads everything back before a restore touches anything: the manifest's format,
the set of files (none missing, none extra), each size (a truncated copy) and each sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "waypoint-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads"
CHUNK = 1024 * 1024


class BackupRefused(Exception):
    """The backup (or the target) is not fit for the command: nothing was changed."""


@dataclass
class FileRecord:
    sha256: str
    size: int


@dataclass
class Manifest:
    created_at: str
    backend: str
    alembic_revision: str | None
    app_version: str
    database: str
    files: dict[str, FileRecord] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "format_version": self.format_version,
            "created_at": self.created_at,
            "backend": self.backend,
            "alembic_revision": self.alembic_revision,
            "app_version": self.app_version,
            "database": self.database,
            "files": {
                name: {"sha256": rec.sha256, "size": rec.size}
                for name, rec in sorted(self.files.items())
            },
            "left_out": self.left_out,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise BackupRefused("manifest.json is not a Waypoint backup manifest.")
            version = data["format_version"]
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise BackupRefused(
                    f"The backup's format version {version} is newer than this Waypoint "
                    f"reads ({FORMAT_VERSION}): restore it with the version that made it."
                )
            files = {
                str(name): FileRecord(str(rec["sha256"]), int(rec["size"]))
                for name, rec in data["files"].items()
            }
            return cls(
                created_at=str(data["created_at"]),
                backend=str(data["backend"]),
                alembic_revision=data["alembic_revision"],
                app_version=str(data.get("app_version", "")),
                database=str(data["database"]),
                files=files,
                left_out=dict(data.get("left_out") or {}),
                format_version=version,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupRefused(f"manifest.json is damaged or incomplete ({error}).") from None


def sha256_of(path: Path) -> FileRecord:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileRecord(digest.hexdigest(), size)


def copy_hashed(source: Path, target: Path) -> FileRecord:
    """Copy one file, hashing what was written (one read of the source)."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    shutil.copystat(source, target)
    return FileRecord(digest.hexdigest(), size)


def files_under(root: Path) -> list[Path]:
    """Every regular file under root (relative paths, sorted); symlinks are not followed."""
    if not root.is_dir():
        return []
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root))
    return sorted(found)


def fsync_tree(root: Path) -> None:
    """Flush every directory's entries, so a power cut after `create` keeps the names too."""
    for folder, _dirs, _names in os.walk(root):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def verify(path: Path) -> Manifest:
    """The backup's manifest, once every file in it is present, whole and unchanged."""
    if not path.is_dir():
        raise BackupRefused(f"{path} is not a directory: a backup is the directory `create` made.")
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        raise BackupRefused(
            f"{path} has no {MANIFEST}: it is not a backup, or `create` did not finish."
        )
    manifest = Manifest.from_json(manifest_file.read_text(encoding="utf-8", errors="replace"))
    present = {p.as_posix() for p in files_under(path)} - {MANIFEST}
    listed = set(manifest.files)
    problems = [f"missing: {name}" for name in sorted(listed - present)]
    problems += [f"not in the manifest: {name}" for name in sorted(present - listed)]
    if manifest.database not in listed:
        problems.append(f"the manifest does not list its database file {manifest.database}")
    for name in sorted(listed & present):
        expected = manifest.files[name]
        file = path / name
        size = file.stat().st_size
        if size != expected.size:
            problems.append(f"wrong size (truncated or damaged): {name}: {size} bytes, "
                            f"the manifest says {expected.size}")
        elif sha256_of(file).sha256 != expected.sha256:
            problems.append(f"checksum mismatch (damaged): {name}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BackupRefused(f"The backup at {path} is damaged:\n  {shown}{more}")
    return manifest
