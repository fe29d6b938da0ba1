"""The family page's data: one child's agreed goals with trackers, shared work, feedback and
cheers, the conference card and the shared profile, in four statements whatever the data.

The route has authorized the child through `portal.policy` (the guardian's own children);
this module decides nothing about access beyond the family's SQL conditions, and gathers
what the page's templates read so that nothing queries while they render:

1. the family's goals, each with its current and agreed version, its progress summary
   and the site change stamp (under which the school's scale and progress settings
   usually cost no query: `portal.school_settings`);
2. the parts of those versions (targets, strategies, signatures, acknowledgements) and
   the goals' activity (the newest feedback for families, shared entries and cheers), as
   plain rows (`portal.family.details`);
3. the shared profile sections with their entries;
4. the newest held conferences with their shared notes and next steps.

Statements 2 and 4 load several row types at once by joining each to its own row of a
small table of numbers (`details.kinds_table`), so the types add up instead of
multiplying.

Each statement is built once per process with bind parameters: building one costs more
CPU than running it (about half of this module's time when each request built its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.orm import joinedload, lazyload

from portal.auth.models import User
from portal.conferences.history import FamilyNotes, HistoryItem
from portal.conferences.models import (
    Conference,
    ConferenceNote,
    ConferenceStatus,
    NextStep,
)
from portal.core.extensions import db
from portal.core.stamps import site_stamp_column
from portal.core.timeutil import utcnow
from portal.family.details import (
    STARTER_ENTRIES,
    GoalView,
    agreement_of,
    kinds_table,
    load_details,
)
from portal.family.rows import (
    SharedEntry,
)
from portal.goals.models import (
    Goal,
    GoalStatus,
)
from portal.policy import (
    family_goal_condition,
    family_section_condition,
)
from portal.profiles.models import (
    ProfileEntry,
    ProfileEntryRevision,
    ProfileSection,
    ProfileSectionDef,
)
from portal.profiles.prompts import BUILT_IN, custom_spec
from portal.profiles.services import EntryView, SectionView
from portal.progress.models import GoalProgress
from portal.progress.tracker import trackers_for

RECENT_DAYS = 21
STARTERS = 3
CONFERENCES_SHOWN = 3


@dataclass
class ChildView:
    learner: User
    goals: list[GoalView]
    reached: list[str]  # the reached goals' agreed wording
    starters: list[str]


@dataclass
class FamilyPage:
    """Everything the family page shows of one child."""

    child: ChildView
    conferences: FamilyNotes
    sections: list[SectionView]


def family_page(learner: User) -> FamilyPage:
    """The family page's data for one (authorized) child."""
    goals, summaries, stamp = _goals(learner)
    active = [g for g in goals if g.status is GoalStatus.ACTIVE]
    shown = {g.id: g.agreed_version or g.current_version for g in active}
    trackers = trackers_for(
        active,
        {learner.id: learner.org_id},
        versions=shown,
        summaries=summaries,
        site_stamp=stamp,
    )
    views = {
        goal.id: GoalView(goal, shown[goal.id], tracker)
        for goal, tracker in zip(active, trackers, strict=True)
    }
    parts, shared, names = load_details(goals, views)
    for view in views.values():
        view.family_targets = [vt.family_wording for vt in parts[view.version.id].targets]
    reached = [
        (g.agreed_version or g.current_version).statement
        for g in goals
        if g.status is GoalStatus.MET
    ]
    child = ChildView(learner, list(views.values()), reached, _starters(views, shared, names))
    agreed = sorted((g for g in active if g.agreed_version_id), key=lambda g: g.id)
    return FamilyPage(
        child,
        FamilyNotes([agreement_of(g, parts) for g in agreed], held_conferences(learner)),
        shared_sections(learner),
    )


# --- 1. Goals (2., their versions' parts and activity: portal.family.details) -----------

_GOALS = (
    select(Goal, GoalProgress, site_stamp_column())
    .outerjoin(GoalProgress, GoalProgress.goal_id == Goal.id)
    .where(
        Goal.learner_id == bindparam("learner_id"),
        Goal.current_version_id.is_not(None),
        family_goal_condition(),
    )
    .options(joinedload(Goal.current_version), joinedload(Goal.agreed_version))
    .order_by(Goal.created_at, Goal.id)
)


def _goals(learner: User) -> tuple[list[Goal], dict[int, GoalProgress], int]:
    """The goals the family sees, oldest first, with both versions and their summaries,
    and the site stamp (0 without goals: then no tracker needs the settings)."""
    rows = db.session.execute(_GOALS, {"learner_id": learner.id}).all()
    goals = [goal for goal, _summary, _stamp in rows]
    summaries = {goal.id: summary for goal, summary, _stamp in rows if summary is not None}
    return goals, summaries, (rows[0][2] or 0) if rows else 0


def _starters(
    views: dict[int, GoalView], shared: list[SharedEntry], names: dict[int, str]
) -> list[str]:
    """What the child tried lately in the entries they shared (newest first, on active
    goals): things to ask about at home; too few, and what the goals are about."""
    since = utcnow() - timedelta(days=RECENT_DAYS)
    recent = [e for e in shared if e.created_at >= since][:STARTER_ENTRIES]
    seen: dict[str, str] = {}
    for text in (names.get(e.id, e.strategy_text) for e in recent):
        key = text.strip().lower()
        if key and key not in seen:
            seen[key] = text.strip()
    starters = list(seen.values())[:STARTERS]
    for view in views.values():
        for wording in view.family_targets:
            if len(starters) < STARTERS and wording not in starters:
                starters.append(wording)
    return starters


# --- 3. The shared profile -----------------------------------------------------------------


def _sections_statement():
    learner_id = bindparam("learner_id")
    # The newest revision and the number of revisions of each of this learner's entries
    # (grouped over their own entries only, never the district's whole table).
    latest = (
        select(
            ProfileEntryRevision.entry_id,
            func.max(ProfileEntryRevision.id).label("revision_id"),
            func.count(ProfileEntryRevision.id).label("revisions"),
        )
        .join(ProfileEntry, ProfileEntry.id == ProfileEntryRevision.entry_id)
        .join(ProfileSection, ProfileSection.id == ProfileEntry.section_id)
        .where(ProfileSection.learner_id == learner_id)
        .group_by(ProfileEntryRevision.entry_id)
        .subquery()
    )
    builtin = [spec.key for spec in BUILT_IN]
    return (
        select(ProfileSection, ProfileSectionDef, ProfileEntry, ProfileEntryRevision)
        .add_columns(latest.c.revisions)
        .outerjoin(
            ProfileSectionDef,
            and_(
                ProfileSectionDef.id == ProfileSection.definition_id,
                ProfileSectionDef.school_id == bindparam("school_id"),
                ProfileSectionDef.retired.is_(False),
            ),
        )
        .outerjoin(ProfileEntry, ProfileEntry.section_id == ProfileSection.id)
        .outerjoin(latest, latest.c.entry_id == ProfileEntry.id)
        .outerjoin(ProfileEntryRevision, ProfileEntryRevision.id == latest.c.revision_id)
        .where(
            ProfileSection.learner_id == learner_id,
            family_section_condition(),
            or_(ProfileSection.key.in_(builtin), ProfileSectionDef.id.is_not(None)),
        )
        .order_by(ProfileEntry.created_at, ProfileEntry.id)
    )


_SECTIONS = _sections_statement()


def shared_sections(learner: User) -> list[SectionView]:
    """The sections the learner shared with family and no admin locked, with their entries
    (as `profiles.services.family_sections`), in one statement."""
    params = {"learner_id": learner.id, "school_id": learner.org_id}
    rows = db.session.execute(_SECTIONS, params).tuples()
    states, custom, entries = {}, {}, {}
    for state, definition, entry, revision, count in rows:
        if definition is not None:
            spec = custom_spec(definition)
            if spec.key != state.key:
                continue
            custom[state.key] = (definition.position, definition.id, spec)
        states[state.key] = state
        if entry is not None and revision is not None:
            entries[entry.id] = EntryView(entry, revision, count)
    grouped: dict[int, list[EntryView]] = {}
    for view in entries.values():
        parent = entries.get(view.entry.parent_id) if view.entry.parent_id else None
        if parent is not None:
            parent.comments.append(view)
        elif view.entry.parent_id is None:
            grouped.setdefault(view.entry.section_id, []).append(view)
    for listed in grouped.values():
        listed.sort(key=lambda v: v.entry.author_id != learner.id)  # stable: keeps time order
    specs = [s for s in BUILT_IN if s.key in states]
    specs += [spec for *_order, spec in sorted(custom.values(), key=lambda c: c[:2])]
    return [SectionView(s, states[s.key], grouped.get(states[s.key].id, [])) for s in specs]


# --- 4. Held conferences --------------------------------------------------------------------


def _conferences_statement():
    newest = (
        select(Conference.id)
        .where(
            Conference.learner_id == bindparam("learner_id"),
            Conference.status == ConferenceStatus.DONE,
        )
        .order_by(Conference.scheduled_at.desc(), Conference.id.desc())
        .limit(bindparam("shown"))
    )
    kinds = kinds_table(2)
    return (
        select(Conference, ConferenceNote, NextStep)
        .select_from(Conference)
        .join(kinds, true())
        .outerjoin(
            ConferenceNote,
            and_(
                kinds.c.kind == 1,
                ConferenceNote.conference_id == Conference.id,
                ConferenceNote.private.is_(False),
            ),
        )
        .outerjoin(NextStep, and_(kinds.c.kind == 2, NextStep.conference_id == Conference.id))
        .where(Conference.id.in_(newest))
        # The teacher's name is shown; not the teacher's school, nor who wrote a note.
        .options(
            joinedload(Conference.teacher).lazyload(User.org), lazyload(ConferenceNote.author)
        )
        .order_by(
            Conference.scheduled_at.desc(),
            Conference.id.desc(),
            kinds.c.kind,
            ConferenceNote.id,
            NextStep.id,
        )
    )


_CONFERENCES = _conferences_statement()


def held_conferences(learner: User, limit: int = CONFERENCES_SHOWN) -> list[HistoryItem]:
    """The newest held conferences with their shared notes (never private ones) and next
    steps, in one statement (the family card does not list the goals signed at each)."""
    params = {"learner_id": learner.id, "shown": limit}
    rows = db.session.execute(_CONFERENCES, params).tuples()
    items: dict[int, HistoryItem] = {}
    for conference, note, step in rows:
        item = items.get(conference.id)
        if item is None:
            item = items[conference.id] = HistoryItem(conference, [], [], [])
        if note is not None:
            item.notes.append(note)
        if step is not None:
            item.steps.append(step)
    return list(items.values())
