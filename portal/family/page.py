"""The family page's data: one child's agreed goals with trackers, shared work, feedback and
cheers, the conference card and the shared profile, in six statements whatever the data.

The route has authorized the child through `portal.policy` (the guardian's own children);
this module decides nothing about access beyond the family's SQL conditions, and gathers
what the page's templates read so that nothing queries while they render:

1. the family's goals, each with its current and agreed version and its progress summary;
2. the parts of those versions: targets, strategies, signatures, acknowledgements;
3. the school's mastery scale and progress settings;
4. the goals' activity: feedback for families, shared entries, cheers;
5. the shared profile sections with their entries;
6. the newest held conferences with their shared notes and next steps.

Statements 2, 4 and 6 load several row types at once by joining each to its own row of
a small table of numbers (`_kinds`): row `kind = 1` carries targets, `kind = 2`
strategies, and so on, so the types add up instead of multiplying.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, func, literal_column, or_, select, true, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.auth.models import User
from portal.conferences.history import FamilyNotes, HistoryItem
from portal.conferences.models import (
    Conference,
    ConferenceNote,
    ConferenceStatus,
    GoalAcknowledgement,
    GoalSignature,
    NextStep,
)
from portal.conferences.signing import Agreement, VersionSigning
from portal.core.extensions import db
from portal.core.i18n import reading_spanish
from portal.core.timeutil import utcnow
from portal.family.models import Cheer
from portal.goals.models import (
    Goal,
    GoalStatus,
    GoalVersion,
    GoalVersionStrategy,
    GoalVersionTarget,
    Strategy,
)
from portal.goals.services import version_is_intact
from portal.policy import (
    family_entry_condition,
    family_feedback_condition,
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
from portal.progress.live import goal_token
from portal.progress.mastery import Method, current_level
from portal.progress.models import Feedback, GoalProgress, ProgressEntry, ProgressSettings
from portal.progress.scales import default_scale
from portal.progress.tracker import Tracker, decoded_points
from portal.targets.models import MasteryScale

RECENT_DAYS = 21
STARTERS = 3
STARTER_ENTRIES = 20  # the newest shared entries the starters are drawn from
FEEDBACK_SHOWN, SHARED_SHOWN, CHEERS_SHOWN = 3, 3, 5
CONFERENCES_SHOWN = 3


@dataclass
class GoalView:
    goal: Goal
    version: GoalVersion  # the agreed wording (portal.policy.shown_version)
    tracker: Tracker | None
    feedback: list[Feedback] = field(default_factory=list)
    shared: list[ProgressEntry] = field(default_factory=list)
    cheers: list[Cheer] = field(default_factory=list)
    # Shared entries' strategies in the reader's language, by entry id (Spanish pages only).
    strategy_names: dict[int, str] = field(default_factory=dict)
    family_targets: list[str] = field(default_factory=list)  # plain words, never a bare code

    def strategy_of(self, entry: ProgressEntry) -> str:
        return self.strategy_names.get(entry.id, entry.strategy_text)


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
    goals, summaries = _goals(learner)
    parts = _load_parts(goals)
    scale, settings = school_settings(learner.org_id)
    active = [g for g in goals if g.status is GoalStatus.ACTIVE]
    views = {}
    for goal in active:
        version = goal.agreed_version or goal.current_version
        tracker = family_tracker(goal, version, summaries.get(goal.id), scale, settings)
        views[goal.id] = GoalView(
            goal,
            version,
            tracker,
            family_targets=[vt.target.family_wording for vt in version.targets],
        )
    shared, names = _load_activity(views)
    reached = [
        (g.agreed_version or g.current_version).statement
        for g in goals
        if g.status is GoalStatus.MET
    ]
    child = ChildView(learner, list(views.values()), reached, _starters(views, shared, names))
    agreed = sorted((g for g in active if g.agreed_version_id), key=lambda g: g.id)
    return FamilyPage(
        child,
        FamilyNotes([_agreement(g, parts) for g in agreed], held_conferences(learner)),
        shared_sections(learner),
    )


def _kinds(count: int):
    """A table of the numbers 1..count, one row each, to LEFT JOIN several row types onto."""
    numbers = [select(literal_column(str(n)).label("kind")) for n in range(1, count + 1)]
    return union_all(*numbers).subquery("kinds")


# --- 1. Goals, 2. their versions' parts --------------------------------------------------


def _goals(learner: User) -> tuple[list[Goal], dict[int, GoalProgress]]:
    """The goals the family sees, oldest first, with both versions and their summaries."""
    rows = db.session.execute(
        select(Goal, GoalProgress)
        .outerjoin(GoalProgress, GoalProgress.goal_id == Goal.id)
        .where(
            Goal.learner_id == learner.id,
            Goal.current_version_id.is_not(None),
            family_goal_condition(),
        )
        .options(joinedload(Goal.current_version), joinedload(Goal.agreed_version))
        .order_by(Goal.created_at, Goal.id)
    ).tuples()
    goals, summaries = [], {}
    for goal, summary in rows:
        goals.append(goal)
        if summary is not None:
            summaries[goal.id] = summary
    return goals, summaries


def _load_parts(goals: list[Goal]) -> dict[int, tuple[list, list]]:
    """Load the targets and strategies of the goals' versions onto them, and return each
    version's signatures and (agreed versions only) acknowledgements, in one statement."""
    versions = {}
    for goal in goals:
        for version in (goal.current_version, goal.agreed_version):
            if version is not None:
                versions[version.id] = version
    agreed_ids = [g.agreed_version_id for g in goals if g.agreed_version_id]
    found = defaultdict(lambda: ([], [], [], []))
    if versions:
        ids = list(versions)
        kinds = _kinds(4)
        rows = db.session.execute(
            select(GoalVersionTarget, GoalVersionStrategy, GoalSignature, GoalAcknowledgement)
            .select_from(kinds)
            .outerjoin(
                GoalVersionTarget,
                and_(kinds.c.kind == 1, GoalVersionTarget.version_id.in_(ids)),
            )
            .outerjoin(
                GoalVersionStrategy,
                and_(kinds.c.kind == 2, GoalVersionStrategy.version_id.in_(ids)),
            )
            .outerjoin(GoalSignature, and_(kinds.c.kind == 3, GoalSignature.version_id.in_(ids)))
            .outerjoin(
                GoalAcknowledgement,
                and_(kinds.c.kind == 4, GoalAcknowledgement.version_id.in_(agreed_ids)),
            )
        ).tuples()
        for row in rows:
            for slot, part in enumerate(row):
                if part is not None:
                    found[part.version_id][slot].append(part)
    signing = {}
    for vid, version in versions.items():
        targets, strategies, signatures, acks = found[vid]
        # Loaded, not changed: no history, nothing for the session to flush.
        set_committed_value(version, "targets", sorted(targets, key=lambda t: (t.position, t.id)))
        set_committed_value(
            version, "strategies", sorted(strategies, key=lambda s: (s.position, s.id))
        )
        signing[vid] = (
            sorted(signatures, key=lambda s: (s.signed_at, s.id)),
            sorted(acks, key=lambda a: (a.acknowledged_at, a.id)),
        )
    return signing


def _agreement(goal: Goal, parts: dict[int, tuple[list, list]]) -> Agreement:
    """The goal's signing state (as `conferences.signing.agreements`), from loaded parts."""

    def signing(version):
        if version is None:
            return None
        return VersionSigning(version, parts[version.id][0], version_is_intact(version))

    agreed = goal.agreed_version
    return Agreement(
        goal,
        signing(goal.current_version),
        signing(agreed),
        list(parts[agreed.id][1]) if agreed is not None else [],
    )


# --- 3. The school's scale and settings, and the trackers --------------------------------


def school_settings(school_id: int | None) -> tuple[object, ProgressSettings | None]:
    """The school's mastery scale (or the default levels) and progress settings, in one
    statement (`progress.scales.scales_for` and `settings_for` take one each)."""
    if school_id is None:
        return default_scale(), None
    kinds = _kinds(2)
    rows = (
        db.session.execute(
            select(MasteryScale, ProgressSettings)
            .select_from(kinds)
            .outerjoin(MasteryScale, and_(kinds.c.kind == 1, MasteryScale.school_id == school_id))
            .outerjoin(
                ProgressSettings, and_(kinds.c.kind == 2, ProgressSettings.school_id == school_id)
            )
            .options(joinedload(MasteryScale.levels))
        )
        .unique()
        .tuples()
        .all()
    )
    scale = next((s for s, _ in rows if s is not None), None)
    settings = next((p for _, p in rows if p is not None), None)
    return scale or default_scale(), settings


def family_tracker(goal, version, summary, scale, settings) -> Tracker:
    """The tracker `progress.tracker.trackers_for` builds, from rows already loaded
    (tests/test_family_page.py checks that the two agree)."""
    method = Method.of(settings)
    raw, values = decoded_points(summary.points_json if summary else None)
    return Tracker(
        goal=goal,
        version=version,
        scale=scale,
        method=method,
        summary=summary,
        token=goal_token(goal, summary, settings),
        raw_points=raw,
        values=values,
        current=current_level(values, method, summary.max_value if summary else None),
    )


# --- 4. Feedback, shared entries, cheers --------------------------------------------------


def _load_activity(views: dict[int, GoalView]) -> tuple[list[ProgressEntry], dict[int, str]]:
    """Put each goal's newest feedback, shared entries and cheers on its view; return every
    shared entry, newest first, and the bank's Spanish name of each one's strategy when it
    came unchanged from the bank (on a Spanish page only)."""
    if not views:
        return [], {}
    ids = list(views)
    kinds = _kinds(3)
    newest = func.coalesce(Feedback.created_at, ProgressEntry.created_at, Cheer.created_at)
    newest_id = func.coalesce(Feedback.id, ProgressEntry.id, Cheer.id)
    rows = db.session.execute(
        select(Feedback, ProgressEntry, Cheer, Strategy.text, Strategy.text_es)
        .select_from(kinds)
        .outerjoin(
            Feedback,
            and_(kinds.c.kind == 1, Feedback.goal_id.in_(ids), family_feedback_condition()),
        )
        .outerjoin(
            ProgressEntry,
            and_(kinds.c.kind == 2, ProgressEntry.goal_id.in_(ids), family_entry_condition()),
        )
        .outerjoin(
            Cheer, and_(kinds.c.kind == 3, Cheer.goal_id.in_(ids), Cheer.hidden_at.is_(None))
        )
        .outerjoin(GoalVersionStrategy, GoalVersionStrategy.id == ProgressEntry.strategy_id)
        .outerjoin(Strategy, Strategy.id == GoalVersionStrategy.strategy_id)
        .order_by(kinds.c.kind, newest.desc(), newest_id.desc())
    ).tuples()
    spanish = reading_spanish()
    shared, names = [], {}
    for feedback, entry, cheer, bank_text, bank_es in rows:
        if feedback is not None:
            _keep(views[feedback.goal_id].feedback, feedback, FEEDBACK_SHOWN)
        if cheer is not None:
            _keep(views[cheer.goal_id].cheers, cheer, CHEERS_SHOWN)
        if entry is None:
            continue
        shared.append(entry)
        _keep(views[entry.goal_id].shared, entry, SHARED_SHOWN)
        if spanish and bank_es and bank_text == entry.strategy_text:
            names[entry.id] = bank_es
    for view in views.values():
        view.strategy_names = {e.id: names[e.id] for e in view.shared if e.id in names}
    return shared, names


def _keep(rows: list, row, keep: int) -> None:
    if len(rows) < keep:
        rows.append(row)


def _starters(
    views: dict[int, GoalView], shared: list[ProgressEntry], names: dict[int, str]
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


# --- 5. The shared profile -----------------------------------------------------------------


def shared_sections(learner: User) -> list[SectionView]:
    """The sections the learner shared with family and no admin locked, with their entries
    (as `profiles.services.family_sections`), in one statement."""
    latest = (
        select(
            ProfileEntryRevision.entry_id,
            func.max(ProfileEntryRevision.id).label("revision_id"),
            func.count(ProfileEntryRevision.id).label("revisions"),
        )
        .group_by(ProfileEntryRevision.entry_id)
        .subquery()
    )
    builtin = [spec.key for spec in BUILT_IN]
    rows = db.session.execute(
        select(ProfileSection, ProfileSectionDef, ProfileEntry, ProfileEntryRevision)
        .add_columns(latest.c.revisions)
        .outerjoin(
            ProfileSectionDef,
            and_(
                ProfileSectionDef.id == ProfileSection.definition_id,
                ProfileSectionDef.school_id == learner.org_id,
                ProfileSectionDef.retired.is_(False),
            ),
        )
        .outerjoin(ProfileEntry, ProfileEntry.section_id == ProfileSection.id)
        .outerjoin(latest, latest.c.entry_id == ProfileEntry.id)
        .outerjoin(ProfileEntryRevision, ProfileEntryRevision.id == latest.c.revision_id)
        .where(
            ProfileSection.learner_id == learner.id,
            family_section_condition(),
            or_(ProfileSection.key.in_(builtin), ProfileSectionDef.id.is_not(None)),
        )
        .order_by(ProfileEntry.created_at, ProfileEntry.id)
    ).tuples()
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


# --- 6. Held conferences --------------------------------------------------------------------


def held_conferences(learner: User, limit: int = CONFERENCES_SHOWN) -> list[HistoryItem]:
    """The newest held conferences with their shared notes (never private ones) and next
    steps, in one statement (the family card does not list the goals signed at each)."""
    newest = (
        select(Conference.id)
        .where(Conference.learner_id == learner.id, Conference.status == ConferenceStatus.DONE)
        .order_by(Conference.scheduled_at.desc(), Conference.id.desc())
        .limit(limit)
    )
    kinds = _kinds(2)
    rows = db.session.execute(
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
        .options(joinedload(Conference.teacher))
        .order_by(
            Conference.scheduled_at.desc(),
            Conference.id.desc(),
            kinds.c.kind,
            ConferenceNote.id,
            NextStep.id,
        )
    ).tuples()
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
