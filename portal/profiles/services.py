"""Reading and changing learner profiles. Writers flush, never commit: the route commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup, escape
from sqlalchemy import Select, func, select

from portal.audit.models import AccessLogEntry
from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.policy import family_section_condition
from portal.profiles.models import (
    Audience,
    ProfileEntry,
    ProfileEntryRevision,
    ProfileReviewRequest,
    ProfileSection,
    ProfileSectionDef,
)
from portal.profiles.prompts import BUILT_IN, SectionSpec, custom_spec

STALE_AFTER = timedelta(days=90)
MAX_TEXT = 4000


class SectionLocked(Exception):
    """The learner tried to share a section a school admin locked to staff."""


# --- Text ----------------------------------------------------------------------------


def plain_text_html(text: str | None) -> Markup:
    """Show user text as text: escape everything, then keep its line breaks."""
    if not text:
        return Markup("")
    escaped = escape(text.replace("\r\n", "\n").replace("\r", "\n"))
    return Markup("<br>\n").join(escaped.split("\n"))


# --- Sections ------------------------------------------------------------------------


def school_section_defs(school_id: int | None, include_retired: bool = False):
    query = select(ProfileSectionDef).where(ProfileSectionDef.school_id == school_id)
    if not include_retired:
        query = query.where(ProfileSectionDef.retired.is_(False))
    return list(
        db.session.scalars(query.order_by(ProfileSectionDef.position, ProfileSectionDef.id))
    )


def section_specs(learner: User) -> list[SectionSpec]:
    """The learner's sections in order: the built-in ones, then their school's extras."""
    return list(BUILT_IN) + [custom_spec(d) for d in school_section_defs(learner.org_id)]


def find_spec(learner: User, key: str) -> SectionSpec | None:
    return next((spec for spec in section_specs(learner) if spec.key == key), None)


@dataclass
class EntryView:
    entry: ProfileEntry
    revision: ProfileEntryRevision  # the current words
    revision_count: int
    comments: list[EntryView] = field(default_factory=list)

    @property
    def edited(self) -> bool:
        return self.revision_count > 1


@dataclass
class SectionView:
    spec: SectionSpec
    state: ProfileSection | None
    entries: list[EntryView] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def audience(self) -> Audience:
        return self.state.audience if self.state else Audience.STAFF

    @property
    def locked(self) -> bool:
        return bool(self.state and self.state.locked)

    @property
    def shared_with_family(self) -> bool:
        return bool(self.state and self.state.shared_with_family)

    @property
    def updated_at(self) -> datetime | None:
        return self.state.updated_at if self.state else None

    @property
    def is_empty(self) -> bool:
        return self.updated_at is None

    @property
    def is_stale(self) -> bool:
        return self.updated_at is not None and self.updated_at < utcnow() - STALE_AFTER


def _states(learner: User, keys: list[str], family_only: bool) -> dict[str, ProfileSection]:
    query = select(ProfileSection).where(
        ProfileSection.learner_id == learner.id, ProfileSection.key.in_(keys)
    )
    if family_only:
        query = query.where(family_section_condition())
    return {state.key: state for state in db.session.scalars(query)}


def _entries_by_section(learner: User, section_ids: list[int]) -> dict[int, list[EntryView]]:
    """Every entry of these sections with its current revision, in two levels (entry, comments).

    The learner's own entries come first: their voice leads the profile.
    """
    if not section_ids:
        return {}
    latest = (
        select(
            ProfileEntryRevision.entry_id,
            func.max(ProfileEntryRevision.id).label("revision_id"),
            func.count(ProfileEntryRevision.id).label("revisions"),
        )
        .group_by(ProfileEntryRevision.entry_id)
        .subquery()
    )
    rows = db.session.execute(
        select(ProfileEntry, ProfileEntryRevision, latest.c.revisions)
        .join(latest, latest.c.entry_id == ProfileEntry.id)
        .join(ProfileEntryRevision, ProfileEntryRevision.id == latest.c.revision_id)
        .where(ProfileEntry.section_id.in_(section_ids))
        .order_by(ProfileEntry.created_at, ProfileEntry.id)
    ).tuples()
    views = {entry.id: EntryView(entry, revision, count) for entry, revision, count in rows}
    grouped: dict[int, list[EntryView]] = {}
    for view in views.values():
        parent = views.get(view.entry.parent_id) if view.entry.parent_id else None
        if parent is not None:
            parent.comments.append(view)
        elif view.entry.parent_id is None:
            grouped.setdefault(view.entry.section_id, []).append(view)
    for entries in grouped.values():
        entries.sort(key=lambda v: v.entry.author_id != learner.id)  # stable: keeps time order
    return grouped


def profile_sections(
    learner: User, family_only: bool = False, keys: list[str] | None = None
) -> list[SectionView]:
    """The learner's sections with their entries.

    With family_only, only sections the learner shared with family and no admin
    locked; the filter runs in SQL, so nothing else is ever loaded.
    """
    specs = [s for s in section_specs(learner) if keys is None or s.key in keys]
    states = _states(learner, [s.key for s in specs], family_only)
    if family_only:
        specs = [s for s in specs if s.key in states]
    entries = _entries_by_section(learner, [state.id for state in states.values()])
    return [
        SectionView(
            spec,
            states.get(spec.key),
            entries.get(states[spec.key].id, []) if spec.key in states else [],
        )
        for spec in specs
    ]


def family_sections(learner: User) -> list[SectionView]:
    """What the learner's family may read: the family-shared, unlocked sections."""
    return profile_sections(learner, family_only=True)


@dataclass
class Completeness:
    total: int
    empty: list[SectionSpec]
    stale: list[tuple[SectionSpec, datetime]]
    last_update: datetime | None

    @property
    def filled(self) -> int:
        return self.total - len(self.empty)

    @property
    def percent(self) -> int:
        return round(100 * self.filled / self.total) if self.total else 0


def completeness(learner: User) -> Completeness:
    """How complete and how fresh the profile is: empty and stale (> 90 days) sections."""
    specs = section_specs(learner)
    updated = dict(
        db.session.execute(
            select(ProfileSection.key, ProfileSection.updated_at).where(
                ProfileSection.learner_id == learner.id,
                ProfileSection.key.in_([s.key for s in specs]),
                ProfileSection.updated_at.is_not(None),
            )
        )
        .tuples()
        .all()
    )
    stale_before = utcnow() - STALE_AFTER
    return Completeness(
        total=len(specs),
        empty=[s for s in specs if s.key not in updated],
        stale=[(s, updated[s.key]) for s in specs if updated.get(s.key, utcnow()) < stale_before],
        last_update=max(updated.values(), default=None),
    )


def section_state(learner: User, spec: SectionSpec) -> ProfileSection | None:
    return db.session.scalar(
        select(ProfileSection).where(
            ProfileSection.learner_id == learner.id, ProfileSection.key == spec.key
        )
    )


def ensure_section(learner: User, spec: SectionSpec) -> ProfileSection:
    state = section_state(learner, spec)
    if state is None:
        state = ProfileSection(
            learner_id=learner.id,
            key=spec.key,
            definition_id=spec.definition_id,
            audience=Audience.STAFF,
        )
        db.session.add(state)
        db.session.flush()
    return state


# --- Entries -------------------------------------------------------------------------


def _chips_value(spec: SectionSpec, chips: list[str] | None) -> str:
    allowed = [key for key, _label in spec.chips]
    return " ".join(key for key in allowed if key in (chips or []))


def add_entry(
    learner: User,
    spec: SectionSpec,
    author: User,
    text: str,
    chips: list[str] | None = None,
    parent: ProfileEntry | None = None,
) -> ProfileEntry:
    """Write a new entry (or a comment on `parent`) with its first revision."""
    state = ensure_section(learner, spec)
    now = utcnow()
    entry = ProfileEntry(
        section_id=state.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        created_at=now,
    )
    entry.revisions.append(
        ProfileEntryRevision(
            text=(text or "").strip(),
            chips=_chips_value(spec, chips) if parent is None else "",
            edited_by_id=author.id,
            created_at=now,
        )
    )
    db.session.add(entry)
    state.updated_at = now
    db.session.flush()
    return entry


def current_revision(entry: ProfileEntry) -> ProfileEntryRevision:
    return entry.revisions[-1]


def revise_entry(
    entry: ProfileEntry, spec: SectionSpec, editor: User, text: str, chips: list[str] | None
) -> bool:
    """Add a revision with the new words; the old ones stay. False when nothing changed."""
    text = (text or "").strip()
    chips_value = _chips_value(spec, chips) if entry.parent_id is None else ""
    current = current_revision(entry)
    if current.text == text and current.chips == chips_value:
        return False
    now = utcnow()
    entry.revisions.append(
        ProfileEntryRevision(text=text, chips=chips_value, edited_by_id=editor.id, created_at=now)
    )
    entry.section.updated_at = now
    db.session.flush()
    return True


# --- Audience and locks --------------------------------------------------------------


def set_audience(learner: User, spec: SectionSpec, audience: Audience) -> ProfileSection:
    state = ensure_section(learner, spec)
    if state.locked and audience is not Audience.STAFF:
        raise SectionLocked
    if state.audience is not audience:
        state.audience = audience
        state.audience_changed_at = utcnow()
    db.session.flush()
    return state


def set_lock(learner: User, spec: SectionSpec, locked: bool, by: User) -> ProfileSection:
    """Lock a section to staff and learner (unsharing it), or unlock it."""
    state = ensure_section(learner, spec)
    state.locked = locked
    state.locked_by_id = by.id if locked else None
    state.locked_at = utcnow() if locked else None
    if locked and state.audience is not Audience.STAFF:
        state.audience = Audience.STAFF
        state.audience_changed_at = utcnow()
    db.session.flush()
    return state


# --- Review requests -----------------------------------------------------------------


def open_review_requests(learner_ids: Select | list[int]) -> list[ProfileReviewRequest]:
    """Open "review my profile with my teacher" requests of these learners, oldest first.

    `learner_ids` is a list or a SELECT of ids (e.g. policy.visible_learner_ids(user)).
    """
    return list(
        db.session.scalars(
            select(ProfileReviewRequest)
            .where(
                ProfileReviewRequest.learner_id.in_(learner_ids),
                ProfileReviewRequest.resolved_at.is_(None),
            )
            .order_by(ProfileReviewRequest.created_at, ProfileReviewRequest.id)
        )
    )


def open_review_request(learner: User) -> ProfileReviewRequest | None:
    requests = open_review_requests([learner.id])
    return requests[0] if requests else None


def request_review(learner: User, note: str | None) -> ProfileReviewRequest:
    """Ask for a review; asking again while one is open updates its note."""
    request = open_review_request(learner)
    note = (note or "").strip() or None
    if request is None:
        request = ProfileReviewRequest(learner_id=learner.id, note=note)
        db.session.add(request)
    elif note:
        request.note = note
    db.session.flush()
    return request


def resolve_review(request: ProfileReviewRequest, by: User) -> None:
    request.resolved_at = utcnow()
    request.resolved_by_id = by.id
    db.session.flush()


# --- School-configured sections ------------------------------------------------------


def add_section_def(school_id: int, title: str, prompt: str | None) -> ProfileSectionDef:
    last = db.session.scalar(
        select(func.max(ProfileSectionDef.position)).where(ProfileSectionDef.school_id == school_id)
    )
    definition = ProfileSectionDef(
        school_id=school_id,
        title=title.strip(),
        prompt=(prompt or "").strip() or None,
        position=(last or 0) + 1,
    )
    db.session.add(definition)
    db.session.flush()
    return definition


def update_section_def(
    definition: ProfileSectionDef, title: str, prompt: str | None, retired: bool
) -> None:
    definition.title = title.strip()
    definition.prompt = (prompt or "").strip() or None
    definition.retired = retired
    db.session.flush()


# --- Access log ----------------------------------------------------------------------


def access_log(learner: User, page: int, per_page: int = 25):
    """One page of the staff reads of this learner's records, newest first, with the reader."""
    total = db.session.scalar(
        select(func.count(AccessLogEntry.id)).where(AccessLogEntry.learner_id == learner.id)
    )
    rows = db.session.execute(
        select(AccessLogEntry, User)
        .join(User, User.id == AccessLogEntry.actor_id)
        .where(AccessLogEntry.learner_id == learner.id)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).tuples()
    return list(rows), total
