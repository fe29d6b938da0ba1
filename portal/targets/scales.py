"""A school's mastery scale: its default levels, reading it, and replacing its levels.

Every school always has a scale to rate on: `scale_for_school` creates the default one
the first time a school needs it (on a page, in a write of its own; otherwise flush only).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.core.database import in_read_request, writing
from portal.core.extensions import db
from portal.targets.models import (
    DEFAULT_LEVELS,
    DEFAULT_LEVELS_ES,
    MASTERY_VALUE,
    MasteryLevel,
    MasteryScale,
)


@dataclass(frozen=True)
class LevelSpec:
    value: int
    label: str
    description: str | None = None
    is_mastery: bool = False
    label_es: str | None = None
    description_es: str | None = None


DEFAULT_SPECS = [
    LevelSpec(value, label, description, value == MASTERY_VALUE, *DEFAULT_LEVELS_ES[value])
    for value, label, description in DEFAULT_LEVELS
]


def existing_scale(school_id: int) -> MasteryScale | None:
    return db.session.scalar(
        select(MasteryScale)
        .where(MasteryScale.school_id == school_id)
        .options(selectinload(MasteryScale.levels))
    )


def scale_for_school(school_id: int) -> MasteryScale:
    """The school's mastery scale with its levels; creates (flushes) the default one if none."""
    scale = existing_scale(school_id)
    if scale is not None:
        return scale
    if not in_read_request():
        return create_default_scale(school_id)
    # A page (GET) that is the first to need the school's scale: create it in a write of
    # its own. Two first views at once may both try; the loser reads the winner's scale.
    try:
        with writing():
            create_default_scale(school_id)
    except IntegrityError:
        pass
    return existing_scale(school_id)


def create_default_scale(school_id: int) -> MasteryScale:
    """Give a school the default 4-level scale (Proficient = mastery)."""
    scale = MasteryScale(school_id=school_id)
    scale.levels = [_level(spec) for spec in DEFAULT_SPECS]
    db.session.add(scale)
    db.session.flush()
    return scale


def save_scale(school_id: int, name: str, levels: list[LevelSpec]) -> MasteryScale:
    """Replace a school's levels with these (validated by the form: 2-7, unique, one mastery)."""
    scale = existing_scale(school_id)
    if scale is None:
        scale = MasteryScale(school_id=school_id)
        db.session.add(scale)
    scale.name = name
    # Old rows go first: (scale_id, value) is unique and a new level may reuse a value.
    scale.levels.clear()
    db.session.flush()
    scale.levels.extend(_level(spec) for spec in sorted(levels, key=lambda s: s.value))
    db.session.flush()
    return scale


def _level(spec: LevelSpec) -> MasteryLevel:
    return MasteryLevel(
        value=spec.value,
        label=spec.label,
        description=spec.description or None,
        is_mastery=spec.is_mastery,
        label_es=(spec.label_es or "").strip() or None,
        description_es=(spec.description_es or "").strip() or None,
    )
