"""The family page's data: one child's agreed goals with trackers, shared work, feedback and
cheers, the conference card and the shared profile, in four statements whatever the data.

The route has authorized the child through `portal.policy` (the guardian's own children);
this module decides nothing about access beyond the family's SQL conditions, and gathers
what the page's templates read so that nothing queries while they render:

1. the family's goals, each with its current and agreed version, its progress summary
   and the site change stamp (under which the school's scale and progress settings
   usually cost no query: `portal.school_settings`);
2. the parts of those versions (targets, strategies, signatures, acknowledgements) and
   the goals' activity (the newest feedback for families, shared entries and cheers);
3. the shared profile sections with their entries;
4. the newest held conferences with their shared notes and next steps.

Statements 2 and 4 load several row types at once by joining each to its own row of a
small table of numbers (`_kinds`): row `kind = 1` carries targets, `kind = 2`
strategies, and so on, so the types add up instead of multiplying. Statement 2 keeps only
the activity the page shows (ranked per goal in SQL), so a long history costs no more.

Each statement is built once per process with bind parameters: building one costs more
CPU than running it (about half of this module's time when each request built its own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, true, union_all
from sqlalchemy.orm import aliased, defaultload, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from portal.auth.models import User, display_name_of
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
from portal.core.stamps import site_stamp_column
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
from portal.progress.models import Feedback, GoalProgress, ProgressEntry, is_image_type
from portal.progress.tracker import Tracker, trackers_for

RECENT_DAYS = 21
STARTERS = 3
STARTER_ENTRIES = 20  # the newest shared entries the starters are drawn from
FEEDBACK_SHOWN, SHARED_SHOWN, CHEERS_SHOWN = 3, 3, 5
CONFERENCES_SHOWN = 3


# The goals' activity as the page shows it: plain rows, not ORM objects (the page only
# reads them, and loading them as objects cost about half of the details statement).


class Person(NamedTuple):
    """Someone a row names, as `User.display_name` names them."""

    given_name: str
    preferred_name: str | None
    family_name: str

    @property
    def display_name(self) -> str:
        return display_name_of(self.given_name, self.preferred_name, self.family_name)


class TeacherFeedback(NamedTuple):
    """Feedback a teacher wrote for the family."""

    id: int
    goal_id: int
    body: str
    created_at: datetime
    author: Person


class SharedEntry(NamedTuple):
    """A progress entry the learner shared with family."""

    id: int
    goal_id: int
    created_at: datetime
    strategy_text: str
    reflection: str
    link_url: str | None
    file_key: str | None
    file_type: str | None

    @property
    def file_is_image(self) -> bool:
        return is_image_type(self.file_type)


class FamilyCheer(NamedTuple):
    """A cheer shown on its goal (what `family/_cheer.html` reads of a `Cheer`)."""

    id: int
    goal_id: int
    body: str
    created_at: datetime
    author: Person


@dataclass
class GoalView:
    goal: Goal
    version: GoalVersion  # the agreed wording (portal.policy.shown_version)
    tracker: Tracker | None
    feedback: list[TeacherFeedback] = field(default_factory=list)
    shared: list[SharedEntry] = field(default_factory=list)
    cheers: list[FamilyCheer] = field(default_factory=list)
    # Shared entries' strategies in the reader's language, by entry id (Spanish pages only).
    strategy_names: dict[int, str] = field(default_factory=dict)
    family_targets: list[str] = field(default_factory=list)  # plain words, never a bare code

    def strategy_of(self, entry: SharedEntry) -> str:
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
    parts, shared, names = _load_details(goals, views)
    for view in views.values():
        view.family_targets = [vt.target.family_wording for vt in view.version.targets]
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


# --- 1. Goals, 2. their versions' parts and activity -------------------------------------

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


def _ranked(model, condition, *overall):
    """The ids of `model`'s rows on the goals (`goal_ids`) that `condition` lets through,
    each with its rank among its goal's rows, newest first (and, for each of `overall`,
    its rank among all of them)."""
    newest = [model.created_at.desc(), model.id.desc()]
    ranks = [func.row_number().over(partition_by=model.goal_id, order_by=newest).label("rank")]
    ranks += [func.row_number().over(order_by=newest).label(name) for name in overall]
    return (
        select(model.id, *ranks)
        .where(model.goal_id.in_(bindparam("goal_ids", expanding=True)), condition)
        .subquery()
    )


def _details_statement():
    """Kinds 1-4: the parts of the versions `version_ids` (acknowledgements of
    `agreed_ids` only); kinds 5-7: the newest feedback, shared entries and cheers on the
    active goals `goal_ids`, newest first (the bank's words of each entry's strategy)."""
    kinds = _kinds(7)
    versions = bindparam("version_ids", expanding=True)
    agreed = bindparam("agreed_ids", expanding=True)
    feedback = _ranked(Feedback, family_feedback_condition())
    entries = _ranked(ProgressEntry, family_entry_condition(), "overall")
    cheers = _ranked(Cheer, Cheer.hidden_at.is_(None))
    newest = func.coalesce(Feedback.created_at, ProgressEntry.created_at, Cheer.created_at)
    newest_id = func.coalesce(Feedback.id, ProgressEntry.id, Cheer.id)
    entry_strategy = aliased(GoalVersionStrategy)
    feedback_author, cheer_author = aliased(User), aliased(User)
    return (
        select(
            GoalVersionTarget,
            GoalVersionStrategy,
            GoalSignature,
            GoalAcknowledgement,
            *_FEEDBACK_COLUMNS,
            *_person(feedback_author),
            *_ENTRY_COLUMNS,
            *_CHEER_COLUMNS,
            *_person(cheer_author),
            Strategy.text,
            Strategy.text_es,
        )
        .select_from(kinds)
        .outerjoin(
            GoalVersionTarget, and_(kinds.c.kind == 1, GoalVersionTarget.version_id.in_(versions))
        )
        .outerjoin(
            GoalVersionStrategy,
            and_(kinds.c.kind == 2, GoalVersionStrategy.version_id.in_(versions)),
        )
        .outerjoin(GoalSignature, and_(kinds.c.kind == 3, GoalSignature.version_id.in_(versions)))
        .outerjoin(
            GoalAcknowledgement,
            and_(kinds.c.kind == 4, GoalAcknowledgement.version_id.in_(agreed)),
        )
        .outerjoin(feedback, and_(kinds.c.kind == 5, feedback.c.rank <= FEEDBACK_SHOWN))
        .outerjoin(Feedback, Feedback.id == feedback.c.id)
        .outerjoin(feedback_author, feedback_author.id == Feedback.author_id)
        .outerjoin(
            entries,
            and_(
                kinds.c.kind == 6,
                or_(entries.c.rank <= SHARED_SHOWN, entries.c.overall <= STARTER_ENTRIES),
            ),
        )
        .outerjoin(ProgressEntry, ProgressEntry.id == entries.c.id)
        .outerjoin(cheers, and_(kinds.c.kind == 7, cheers.c.rank <= CHEERS_SHOWN))
        .outerjoin(Cheer, Cheer.id == cheers.c.id)
        .outerjoin(cheer_author, cheer_author.id == Cheer.author_id)
        .outerjoin(entry_strategy, entry_strategy.id == ProgressEntry.strategy_id)
        .outerjoin(Strategy, Strategy.id == entry_strategy.strategy_id)
        .order_by(kinds.c.kind, newest.desc(), newest_id.desc())
        # The people these rows name come with them; their schools are not shown here, nor
        # the bank entry a version's strategy came from (its words are the version's own).
        .options(
            *(defaultload(person).lazyload(User.org) for person in _NAMED),
            lazyload(GoalVersionStrategy.strategy),
        )
    )


def _person(user) -> tuple:
    return (user.given_name, user.preferred_name, user.family_name)


# The activity's columns, in the order of the row types above (without their Person).
_FEEDBACK_COLUMNS = (Feedback.id, Feedback.goal_id, Feedback.body, Feedback.created_at)
_ENTRY_COLUMNS = (
    ProgressEntry.id,
    ProgressEntry.goal_id,
    ProgressEntry.created_at,
    ProgressEntry.strategy_text,
    ProgressEntry.reflection,
    ProgressEntry.link_url,
    ProgressEntry.file_key,
    ProgressEntry.file_type,
)
_CHEER_COLUMNS = (Cheer.id, Cheer.goal_id, Cheer.body, Cheer.created_at)
# Where each part of a details row starts: 4 parts, then feedback, entry, cheer, bank words.
_F = 4
_E = _F + len(_FEEDBACK_COLUMNS) + 3
_C = _E + len(_ENTRY_COLUMNS)
_B = _C + len(_CHEER_COLUMNS) + 3

# The people the parts show by name: signers, and guardians who saw a goal.
_NAMED = (GoalSignature.signer, GoalAcknowledgement.guardian)
_DETAILS = _details_statement()


def _load_details(goals: list[Goal], views: dict[int, GoalView]):
    """In one statement: load the targets and strategies of the goals' versions onto them
    and return each version's signatures and (agreed versions only) acknowledgements; put
    each active goal's newest feedback, shared entries and cheers on its view; return the
    newest shared entries (at least the `STARTER_ENTRIES` newest of all, newest first)
    and the bank's Spanish name of each one's strategy when it came unchanged from the
    bank (on a Spanish page only)."""
    versions = {}
    for goal in goals:
        for version in (goal.current_version, goal.agreed_version):
            if version is not None:
                versions[version.id] = version
    found = defaultdict(lambda: ([], [], [], []))
    shared, names = [], {}
    if versions:
        params = {
            "version_ids": list(versions),
            "agreed_ids": [g.agreed_version_id for g in goals if g.agreed_version_id],
            "goal_ids": list(views),
        }
        spanish = reading_spanish()
        for row in db.session.execute(_DETAILS, params).tuples():
            for slot, part in enumerate(row[:_F]):
                if part is not None:
                    found[part.version_id][slot].append(part)
            if row[_F] is not None:
                feedback = TeacherFeedback(*row[_F : _F + 4], Person(*row[_F + 4 : _E]))
                _keep(views[feedback.goal_id].feedback, feedback, FEEDBACK_SHOWN)
            if row[_C] is not None:
                cheer = FamilyCheer(*row[_C : _C + 4], Person(*row[_C + 4 : _B]))
                _keep(views[cheer.goal_id].cheers, cheer, CHEERS_SHOWN)
            if row[_E] is not None:
                entry = SharedEntry(*row[_E:_C])
                shared.append(entry)
                _keep(views[entry.goal_id].shared, entry, SHARED_SHOWN)
                bank_text, bank_es = row[_B:]
                if spanish and bank_es and bank_text == entry.strategy_text:
                    names[entry.id] = bank_es
    for view in views.values():
        view.strategy_names = {e.id: names[e.id] for e in view.shared if e.id in names}
    return _signing(versions, found), shared, names


def _signing(versions: dict, found) -> dict[int, tuple[list, list]]:
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


def _keep(rows: list, row, keep: int) -> None:
    if len(rows) < keep:
        rows.append(row)


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
    kinds = _kinds(2)
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
