"""Readable differences between two versions of a goal, for the history page."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

from portal.goals.models import GoalVersion

_TOKENS = re.compile(r"\S+|\s+")


@dataclass(frozen=True)
class Chunk:
    """A run of words: "equal", "insert" (new words) or "delete" (words taken out)."""

    op: str
    text: str


def word_diff(old: str, new: str) -> list[Chunk]:
    """Word-level difference between two statements, whitespace kept as it was written."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    chunks: list[Chunk] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            chunks.append(Chunk("equal", "".join(b[j1:j2])))
            continue
        if tag in ("delete", "replace"):
            chunks.append(Chunk("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            chunks.append(Chunk("insert", "".join(b[j1:j2])))
    return chunks


@dataclass
class VersionDiff:
    statement: list[Chunk]
    statement_changed: bool
    targets_added: list = field(default_factory=list)  # Target rows
    targets_removed: list = field(default_factory=list)
    strategies_added: list[str] = field(default_factory=list)
    strategies_removed: list[str] = field(default_factory=list)
    level: tuple[int, int] | None = None  # (old, new) when it changed
    due_date: tuple[date | None, date | None] | None = None
    supports: tuple[str, str] | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.statement_changed
            or self.targets_added
            or self.targets_removed
            or self.strategies_added
            or self.strategies_removed
            or self.level
            or self.due_date
            or self.supports
        )


def version_diff(previous: GoalVersion | None, current: GoalVersion) -> VersionDiff:
    """What changed from previous to current (everything is "added" for the first version)."""
    if previous is None:
        return VersionDiff(
            statement=[Chunk("equal", current.statement)],
            statement_changed=False,
            targets_added=[link.target for link in current.targets],
            strategies_added=[s.text for s in current.strategies],
        )
    old_targets = {link.target_id: link.target for link in previous.targets}
    new_targets = {link.target_id: link.target for link in current.targets}
    old_strategies = [s.text for s in previous.strategies]
    new_strategies = [s.text for s in current.strategies]
    old_supports, new_supports = previous.supports or "", current.supports or ""
    return VersionDiff(
        statement=word_diff(previous.statement, current.statement),
        statement_changed=previous.statement != current.statement,
        targets_added=[t for tid, t in new_targets.items() if tid not in old_targets],
        targets_removed=[t for tid, t in old_targets.items() if tid not in new_targets],
        strategies_added=[s for s in new_strategies if s not in old_strategies],
        strategies_removed=[s for s in old_strategies if s not in new_strategies],
        level=(
            (previous.target_level, current.target_level)
            if previous.target_level != current.target_level
            else None
        ),
        due_date=(
            (previous.due_date, current.due_date) if previous.due_date != current.due_date else None
        ),
        supports=(old_supports, new_supports) if old_supports != new_supports else None,
    )


def history(versions: list[GoalVersion]) -> list[tuple[GoalVersion, VersionDiff]]:
    """Each version with its difference from the one before, newest first."""
    pairs = []
    previous = None
    for version in versions:
        pairs.append((version, version_diff(previous, version)))
        previous = version
    return list(reversed(pairs))
