"""Evidence files: checked by their content, stored outside static/ under a random name."""

from __future__ import annotations

import contextlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage

# What the content must be; the file name is never trusted.
ALLOWED_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
# Images a browser shows inline without running anything (no SVG).
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
HEAD_BYTES = 8192
_KEY = re.compile(r"^[0-9a-f]{32}$")


class EvidenceError(ValueError):
    """The upload is not acceptable; the message is for the learner."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    name: str
    mime: str
    size: int


def max_bytes() -> int:
    """MAX_UPLOAD_MB, the one upload limit (tests may set EVIDENCE_MAX_BYTES lower)."""
    cfg = current_app.config
    return int(cfg.get("EVIDENCE_MAX_BYTES") or cfg["MAX_UPLOAD_MB"] * 1024 * 1024)


def folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "evidence"


def clean_name(raw: str | None) -> str:
    """A display name only: no directories, no control characters, short."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.strip(" .")
    return name[:120] or "evidence"


def inspect(upload: FileStorage) -> tuple[bytes, str]:
    """Read the whole upload (bounded) and detect its type from the content."""
    limit = max_bytes()
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise EvidenceError("too_big")
    if not data:
        raise EvidenceError("empty")
    kind = filetype.guess(data[:HEAD_BYTES])
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        raise EvidenceError("type")
    return data, mime


def save(upload: FileStorage) -> StoredFile:
    """Check and store an upload; raise EvidenceError when it is not acceptable."""
    data, mime = inspect(upload)
    key = secrets.token_hex(16)
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    (target / key).write_bytes(data)
    return StoredFile(key=key, name=clean_name(upload.filename), mime=mime, size=len(data))


def path_of(key: str) -> Path:
    if not _KEY.match(key or ""):
        raise FileNotFoundError(key)
    return folder() / key


def remove(key: str) -> None:
    """Best effort: used when the transaction that referenced the file failed."""
    with contextlib.suppress(FileNotFoundError):
        path_of(key).unlink(missing_ok=True)
