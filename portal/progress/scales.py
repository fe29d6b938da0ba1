"""The mastery scale and progress settings of each school, in one query each.

A school without a scale of its own shows the default levels (never written).
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.core.extensions import db
from portal.core.i18n import in_locale
from portal.progress.models import ProgressSettings
from portal.targets.models import DEFAULT_LEVELS, DEFAULT_LEVELS_ES, MASTERY_VALUE, MasteryScale


def default_scale():
    """The default levels, used (never written) when a school has no scale yet."""
    levels = [
        SimpleNamespace(
            value=v,
            label=label,
            description=d,
            is_mastery=v == MASTERY_VALUE,
            display_label=in_locale(label, DEFAULT_LEVELS_ES[v][0]),
            display_description=in_locale(d, DEFAULT_LEVELS_ES[v][1]),
        )
        for v, label, d in DEFAULT_LEVELS
    ]
    return SimpleNamespace(
        levels=levels, level=lambda value: next((x for x in levels if x.value == value), None)
    )


def scales_for(school_ids: set[int]) -> dict[int, object]:
    found = {}
    if school_ids:
        found = {
            s.school_id: s
            for s in db.session.scalars(
                select(MasteryScale)
                .where(MasteryScale.school_id.in_(school_ids))
                .options(joinedload(MasteryScale.levels))
            ).unique()
        }
    return {sid: found.get(sid) or default_scale() for sid in school_ids}


def scale_for(school_id: int | None):
    return scales_for({school_id}).get(school_id) if school_id else default_scale()


def settings_for(school_ids: set[int]) -> dict[int, ProgressSettings]:
    if not school_ids:
        return {}
    return {
        s.school_id: s
        for s in db.session.scalars(
            select(ProgressSettings).where(ProgressSettings.school_id.in_(school_ids))
        )
    }
