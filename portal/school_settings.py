"""A school's settings, which many pages read: its mastery scale, how progress is computed,
its conference cycle and its extra profile sections.

Read together and kept per process (per app) as plain frozen values, keyed by school and
checked against the site change stamp (`portal.core.stamps`): every commit that changes
any of these settings bumps that stamp, so a page that read the stamp in one of its own
statements (`stamps.site_stamp_column()`) gets the school's settings without a query while
nothing changed, and two queries for every school it has not seen under that stamp. An
admin's edit in another worker moves the stamp, and the next page here reloads.

Features read these values (`for_schools`, `for_school`) and never write them; the forms
that change settings keep writing the models through their own services.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal.conferences.models import DEFAULT_CYCLE_DAYS, ConferenceSettings
from portal.core.extensions import db
from portal.core.i18n import in_locale
from portal.core.stamps import site_stamp_column
from portal.profiles.models import ProfileSectionDef
from portal.profiles.prompts import SectionSpec, custom_spec
from portal.progress.models import LevelMethod, ProgressSettings
from portal.progress.scales import default_scale
from portal.roster.models import Org
from portal.targets.models import MasteryLevel, MasteryScale

_MEMO = "school_settings"


@dataclass(frozen=True)
class Level:
    """One level of a school's scale (the fields of `MasteryLevel` pages read)."""

    id: int
    value: int
    label: str
    description: str | None
    label_es: str | None
    description_es: str | None
    is_mastery: bool

    @property
    def display_label(self) -> str:
        return in_locale(self.label, self.label_es)

    @property
    def display_description(self) -> str | None:
        return in_locale(self.description, self.description_es)


@dataclass(frozen=True)
class Scale:
    """A school's own scale: its levels, lowest first."""

    id: int
    levels: tuple[Level, ...]

    @property
    def mastery_level(self) -> Level | None:
        return next((level for level in self.levels if level.is_mastery), None)

    def level(self, value: int | None) -> Level | None:
        return next((level for level in self.levels if level.value == value), None)


@dataclass(frozen=True)
class Progress:
    """How the school computes a current level (the fields of `ProgressSettings`)."""

    method: LevelMethod
    n: int
    decay_percent: int
    revision: int


@dataclass(frozen=True)
class SchoolSettings:
    school_id: int
    scale: Scale | None  # None: the school has no scale yet; pages show the default levels
    progress: Progress | None  # None: the default method
    cycle_days: int
    section_specs: tuple[SectionSpec, ...]  # the school's extra profile sections, in order

    def scale_or_default(self):
        return self.scale or default_scale()


_SITE_STAMP = select(site_stamp_column())  # built once: every tracker poll that changed asks


def site_stamp() -> int:
    """The site stamp alone, for a caller that has not read it in one of its statements."""
    return db.session.scalar(_SITE_STAMP) or 0


def for_school(school_id: int, stamp: int | None = None) -> SchoolSettings:
    return for_schools({school_id}, stamp)[school_id]


def for_schools(school_ids, stamp: int | None = None) -> dict[int, SchoolSettings]:
    """The settings of these schools as of site stamp `stamp` (read here when None)."""
    school_ids = {sid for sid in school_ids if sid is not None}
    if not school_ids:
        return {}
    if stamp is None:
        stamp = site_stamp()
    memo: dict[int, tuple[int, SchoolSettings]] = current_app.extensions.setdefault(_MEMO, {})
    found, missing = {}, set()
    for sid in school_ids:
        kept = memo.get(sid)
        if kept is not None and kept[0] == stamp:
            found[sid] = kept[1]
        else:
            missing.add(sid)
    if missing:
        # The stamp was read before these rows: a change committed in between only makes
        # the next request load them again, never keeps old settings under a newer stamp.
        for sid, settings in _load(missing).items():
            memo[sid] = (stamp, settings)
            found[sid] = settings
    return found


def _load(school_ids: set[int]) -> dict[int, SchoolSettings]:
    """Two statements: each school with its one-row settings and its scale's levels (one
    row per level), then the schools' extra profile sections."""
    rows = db.session.execute(
        select(
            Org.id, ProgressSettings, ConferenceSettings.cycle_days, MasteryScale.id, MasteryLevel
        )
        .select_from(Org)
        .outerjoin(ProgressSettings, ProgressSettings.school_id == Org.id)
        .outerjoin(ConferenceSettings, ConferenceSettings.school_id == Org.id)
        .outerjoin(MasteryScale, MasteryScale.school_id == Org.id)
        .outerjoin(MasteryLevel, MasteryLevel.scale_id == MasteryScale.id)
        .where(Org.id.in_(school_ids))
        .order_by(Org.id, MasteryLevel.value)
    ).all()
    parts: dict[int, dict] = {}
    for sid, progress, cycle_days, scale_id, level in rows:
        part = parts.setdefault(
            sid,
            {
                "progress": progress
                and Progress(
                    progress.method, progress.n, progress.decay_percent, progress.revision
                ),
                "cycle_days": cycle_days or DEFAULT_CYCLE_DAYS,
                "scale_id": scale_id,
                "levels": [],
            },
        )
        if level is not None:
            part["levels"].append(
                Level(
                    level.id,
                    level.value,
                    level.label,
                    level.description,
                    level.label_es,
                    level.description_es,
                    level.is_mastery,
                )
            )
    specs: dict[int, list[SectionSpec]] = {}
    for definition in db.session.scalars(
        select(ProfileSectionDef)
        .where(ProfileSectionDef.school_id.in_(parts), ProfileSectionDef.retired.is_(False))
        .order_by(ProfileSectionDef.position, ProfileSectionDef.id)
    ):
        specs.setdefault(definition.school_id, []).append(custom_spec(definition))
    return {
        sid: SchoolSettings(
            school_id=sid,
            scale=Scale(p["scale_id"], tuple(p["levels"])) if p["scale_id"] else None,
            progress=p["progress"],
            cycle_days=p["cycle_days"],
            section_specs=tuple(specs.get(sid, ())),
        )
        for sid, p in parts.items()
    }
