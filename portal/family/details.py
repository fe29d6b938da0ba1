"""Statement 2 of the family page: the parts of the goals' versions (targets, strategies,
signatures, acknowledgements) and the goals' activity (the newest feedback for families,
shared entries and cheers), in one statement whatever the history.

The row types add up instead of multiplying: each is joined to its own row of a small
table of numbers (`kinds_table`): row `kind = 1` carries targets, `kind = 2` strategies,
and so on. The activity is ranked per goal in SQL, so only the rows the page shows come
back. Rows are read as plain tuples (`portal.family.rows`), never as ORM objects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import get_type_hints

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.auth.models import User
from portal.conferences.models import GoalAcknowledgement, GoalSignature
from portal.conferences.signing import Agreement, VersionSigning
from portal.core.extensions import db
from portal.core.i18n import reading_spanish
from portal.family.models import Cheer
from portal.family.rows import (
    FamilyAcknowledgement,
    FamilyCheer,
    FamilySignature,
    Person,
    SharedEntry,
    TeacherFeedback,
    VersionStrategy,
    VersionTarget,
)
from portal.goals.models import (
    Goal,
    GoalVersion,
    GoalVersionStrategy,
    GoalVersionTarget,
    Strategy,
)
from portal.goals.services import parts_are_intact
from portal.policy import family_entry_condition, family_feedback_condition
from portal.progress.models import Feedback, ProgressEntry
from portal.progress.tracker import Tracker
from portal.targets.models import Target

STARTER_ENTRIES = 20  # the newest shared entries the starters are drawn from
FEEDBACK_SHOWN, SHARED_SHOWN, CHEERS_SHOWN = 3, 3, 5


@dataclass
class GoalView:
    """One active goal on the family page: what `family/_goal.html` shows of it."""

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


def kinds_table(count: int):
    """A table of the numbers 1..count, one row each, to LEFT JOIN several row types onto."""
    numbers = [select(literal_column(str(n)).label("kind")) for n in range(1, count + 1)]
    return union_all(*numbers).subquery("kinds")


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


# The row types, in the order of their kinds (`kinds.c.kind`, 1-7), each with its columns;
# a type whose last field is a Person gets that person's names (an alias of users each).
TARGETS, STRATEGIES, SIGNATURES, ACKNOWLEDGEMENTS, FEEDBACK, ENTRIES, CHEERS = range(1, 8)


def _person(user) -> tuple:
    return (user.given_name, user.preferred_name, user.family_name)


_SIGNER, _GUARDIAN, _FEEDBACK_AUTHOR, _CHEER_AUTHOR = (aliased(User) for _ in range(4))
_LAYOUT = {
    TARGETS: (
        VersionTarget,
        (GoalVersionTarget.version_id, GoalVersionTarget.position, GoalVersionTarget.id,
         GoalVersionTarget.target_id, Target.statement, Target.family_statement,
         Target.family_statement_es),
    ),
    STRATEGIES: (
        VersionStrategy,
        (GoalVersionStrategy.version_id, GoalVersionStrategy.position, GoalVersionStrategy.id,
         GoalVersionStrategy.strategy_id, GoalVersionStrategy.text),
    ),
    SIGNATURES: (
        FamilySignature,
        (GoalSignature.version_id, GoalSignature.id, GoalSignature.role, GoalSignature.signer_id,
         GoalSignature.content_hash, GoalSignature.signed_at, *_person(_SIGNER)),
    ),
    ACKNOWLEDGEMENTS: (
        FamilyAcknowledgement,
        (GoalAcknowledgement.version_id, GoalAcknowledgement.id, GoalAcknowledgement.guardian_id,
         GoalAcknowledgement.acknowledged_at, *_person(_GUARDIAN)),
    ),
    FEEDBACK: (
        TeacherFeedback,
        (Feedback.id, Feedback.goal_id, Feedback.body, Feedback.created_at,
         *_person(_FEEDBACK_AUTHOR)),
    ),
    ENTRIES: (
        SharedEntry,
        (ProgressEntry.id, ProgressEntry.goal_id, ProgressEntry.created_at,
         ProgressEntry.strategy_text, ProgressEntry.reflection, ProgressEntry.link_url,
         ProgressEntry.file_key, ProgressEntry.file_type),
    ),
    CHEERS: (
        FamilyCheer,
        (Cheer.id, Cheer.goal_id, Cheer.body, Cheer.created_at, *_person(_CHEER_AUTHOR)),
    ),
}


def _spans() -> dict[int, tuple[type, int, int, bool]]:
    """Each kind's row type and where its columns sit in a details row (after the kind)."""
    spans, start = {}, 1
    for kind, (row_type, columns) in _LAYOUT.items():
        named = get_type_hints(row_type)[row_type._fields[-1]] is Person
        spans[kind] = (row_type, start, start + len(columns), named)
        start += len(columns)
    return spans


_SPANS = _spans()


def _row_of(kind: int, row: tuple):
    """The kind's row, or None where its outer join found nothing (its first column)."""
    row_type, start, stop, named = _SPANS[kind]
    if row[start] is None:
        return None
    if named:
        return row_type(*row[start : stop - 3], Person(*row[stop - 3 : stop]))
    return row_type(*row[start:stop])


def _details_statement():
    """Kinds 1-4: the parts of the versions `version_ids` (acknowledgements of
    `agreed_ids` only); kinds 5-7: the newest feedback, shared entries and cheers on the
    active goals `goal_ids`, newest first; each shared entry's strategy as the bank words
    it (the last two columns)."""
    kinds = kinds_table(7)
    versions = bindparam("version_ids", expanding=True)
    agreed = bindparam("agreed_ids", expanding=True)
    feedback = _ranked(Feedback, family_feedback_condition())
    entries = _ranked(ProgressEntry, family_entry_condition(), "overall")
    cheers = _ranked(Cheer, Cheer.hidden_at.is_(None))
    newest = func.coalesce(Feedback.created_at, ProgressEntry.created_at, Cheer.created_at)
    newest_id = func.coalesce(Feedback.id, ProgressEntry.id, Cheer.id)
    entry_strategy = aliased(GoalVersionStrategy)
    columns = [column for _type, group in _LAYOUT.values() for column in group]
    return (
        select(kinds.c.kind, *columns, Strategy.text, Strategy.text_es)
        .select_from(kinds)
        .outerjoin(
            GoalVersionTarget,
            and_(kinds.c.kind == TARGETS, GoalVersionTarget.version_id.in_(versions)),
        )
        .outerjoin(Target, Target.id == GoalVersionTarget.target_id)
        .outerjoin(
            GoalVersionStrategy,
            and_(kinds.c.kind == STRATEGIES, GoalVersionStrategy.version_id.in_(versions)),
        )
        .outerjoin(
            GoalSignature, and_(kinds.c.kind == SIGNATURES, GoalSignature.version_id.in_(versions))
        )
        .outerjoin(_SIGNER, _SIGNER.id == GoalSignature.signer_id)
        .outerjoin(
            GoalAcknowledgement,
            and_(kinds.c.kind == ACKNOWLEDGEMENTS, GoalAcknowledgement.version_id.in_(agreed)),
        )
        .outerjoin(_GUARDIAN, _GUARDIAN.id == GoalAcknowledgement.guardian_id)
        .outerjoin(feedback, and_(kinds.c.kind == FEEDBACK, feedback.c.rank <= FEEDBACK_SHOWN))
        .outerjoin(Feedback, Feedback.id == feedback.c.id)
        .outerjoin(_FEEDBACK_AUTHOR, _FEEDBACK_AUTHOR.id == Feedback.author_id)
        .outerjoin(
            entries,
            and_(
                kinds.c.kind == ENTRIES,
                or_(entries.c.rank <= SHARED_SHOWN, entries.c.overall <= STARTER_ENTRIES),
            ),
        )
        .outerjoin(ProgressEntry, ProgressEntry.id == entries.c.id)
        .outerjoin(cheers, and_(kinds.c.kind == CHEERS, cheers.c.rank <= CHEERS_SHOWN))
        .outerjoin(Cheer, Cheer.id == cheers.c.id)
        .outerjoin(_CHEER_AUTHOR, _CHEER_AUTHOR.id == Cheer.author_id)
        .outerjoin(entry_strategy, entry_strategy.id == ProgressEntry.strategy_id)
        .outerjoin(Strategy, Strategy.id == entry_strategy.strategy_id)
        .order_by(kinds.c.kind, newest.desc(), newest_id.desc())
    )


_DETAILS = _details_statement()


@dataclass
class VersionParts:
    """One version's targets, signatures and acknowledgements, and whether it is intact."""

    targets: list[VersionTarget] = field(default_factory=list)
    strategies: list[VersionStrategy] = field(default_factory=list)
    signatures: list[FamilySignature] = field(default_factory=list)
    acknowledgements: list[FamilyAcknowledgement] = field(default_factory=list)
    intact: bool = False


def load_details(goals: list[Goal], views: dict[int, GoalView]):
    """In one statement: the parts of the goals' versions (`VersionParts` by version id:
    acknowledgements of agreed versions only); each active goal's newest feedback,
    shared entries and cheers, put on its view; the newest shared entries (at least the
    `STARTER_ENTRIES` newest of all, newest first) and the bank's Spanish name of each
    one's strategy when it came unchanged from the bank (on a Spanish page only)."""
    versions = {}
    for goal in goals:
        for version in (goal.current_version, goal.agreed_version):
            if version is not None:
                versions[version.id] = version
    parts: dict[int, VersionParts] = defaultdict(VersionParts)
    shared, names = [], {}
    if versions:
        params = {
            "version_ids": list(versions),
            "agreed_ids": [g.agreed_version_id for g in goals if g.agreed_version_id],
            "goal_ids": list(views),
        }
        spanish = reading_spanish()
        for row in db.session.execute(_DETAILS, params).tuples():
            kind = row[0]
            item = _row_of(kind, row)
            if item is None:
                continue
            if kind <= ACKNOWLEDGEMENTS:
                _version_part(parts[item.version_id], kind).append(item)
            elif kind == FEEDBACK:
                _keep(views[item.goal_id].feedback, item, FEEDBACK_SHOWN)
            elif kind == CHEERS:
                _keep(views[item.goal_id].cheers, item, CHEERS_SHOWN)
            else:
                shared.append(item)
                _keep(views[item.goal_id].shared, item, SHARED_SHOWN)
                bank_text, bank_es = row[-2:]
                if spanish and bank_es and bank_text == item.strategy_text:
                    names[item.id] = bank_es
    for view in views.values():
        view.strategy_names = {e.id: names[e.id] for e in view.shared if e.id in names}
    return _in_order(versions, parts), shared, names


def _version_part(parts: VersionParts, kind: int) -> list:
    return {
        TARGETS: parts.targets,
        STRATEGIES: parts.strategies,
        SIGNATURES: parts.signatures,
        ACKNOWLEDGEMENTS: parts.acknowledgements,
    }[kind]


def _in_order(versions: dict, found: dict[int, VersionParts]) -> dict[int, VersionParts]:
    """Each version's parts in their order, and whether the version still holds what its
    hash says (`goals.services.version_is_intact`, from the parts read here)."""
    ordered = {}
    for vid, version in versions.items():
        loaded = found[vid]
        targets = sorted(loaded.targets, key=lambda t: (t.position, t.id))
        strategies = sorted(loaded.strategies, key=lambda s: (s.position, s.id))
        ordered[vid] = VersionParts(
            targets,
            strategies,
            sorted(loaded.signatures, key=lambda s: (s.signed_at, s.id)),
            sorted(loaded.acknowledgements, key=lambda a: (a.acknowledged_at, a.id)),
            intact=parts_are_intact(version, targets, strategies),
        )
    return ordered


def agreement_of(goal: Goal, parts: dict[int, VersionParts]) -> Agreement:
    """The goal's signing state (as `conferences.signing.agreements`), from loaded parts."""

    def signing(version):
        if version is None:
            return None
        loaded = parts[version.id]
        return VersionSigning(version, loaded.signatures, loaded.intact)

    agreed = goal.agreed_version
    return Agreement(
        goal,
        signing(goal.current_version),
        signing(agreed),
        list(parts[agreed.id].acknowledgements) if agreed is not None else [],
    )


def _keep(rows: list, row, keep: int) -> None:
    if len(rows) < keep:
        rows.append(row)


def _keep(rows: list, row, keep: int) -> None:
    if len(rows) < keep:
        rows.append(row)
