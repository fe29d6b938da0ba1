"""Goal changes: drafting, proposing, versioning and the status machine. Flush, never commit."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.auth.models import Role, User
from portal.conferences.models import GoalSignature, SignerRole
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import (
    Goal,
    GoalStatus,
    GoalTemplate,
    GoalTemplateTarget,
    GoalVersion,
    GoalVersionStrategy,
    GoalVersionTarget,
    Horizon,
    Strategy,
    Voice,
)
from portal.policy import Action

MAX_TARGETS = 4
MAX_STRATEGIES = 5

_SPACES = re.compile(r"[ \t]+")


def clean_text(text: str | None) -> str:
    """Trim, unify line ends and collapse runs of spaces: what makes two wordings "the same"."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in lines).strip()


@dataclass(frozen=True)
class GoalContent:
    """Everything a version holds; its hash is what a signature will be bound to."""

    statement: str
    target_ids: tuple[int, ...]
    target_level: int
    due_date: date | None
    strategies: tuple[tuple[int | None, str], ...] = ()  # (bank strategy id or None, text)
    supports: str = ""

    @classmethod
    def build(cls, statement, target_ids, target_level, due_date, strategies=(), supports=""):
        seen: set[int] = set()
        targets = tuple(t for t in target_ids if not (t in seen or seen.add(t)))
        steps = tuple((sid, clean_text(text)) for sid, text in strategies if clean_text(text))
        return cls(
            statement=clean_text(statement),
            target_ids=targets,
            target_level=int(target_level),
            due_date=due_date,
            strategies=steps,
            supports=clean_text(supports),
        )

    @classmethod
    def of(cls, version: GoalVersion) -> GoalContent:
        return cls.of_parts(version, version.targets, version.strategies)

    @classmethod
    def of_parts(cls, version: GoalVersion, targets, strategies) -> GoalContent:
        """What `version` holds, its targets and strategies (in order) loaded apart from it:
        anything with the `target_id`, and the `strategy_id` and `text`, of their rows."""
        return cls(
            statement=version.statement,
            target_ids=tuple(link.target_id for link in targets),
            target_level=version.target_level,
            due_date=version.due_date,
            strategies=tuple((s.strategy_id, s.text) for s in strategies),
            supports=version.supports or "",
        )

    def canonical_json(self) -> str:
        return json.dumps(
            {
                "statement": self.statement,
                "targets": sorted(self.target_ids),
                "level": self.target_level,
                "due": self.due_date.isoformat() if self.due_date else None,
                "strategies": [[sid, text] for sid, text in self.strategies],
                "supports": self.supports,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


class GoalError(Exception):
    """A change the goal's rules do not allow."""


# --- The status machine -------------------------------------------------------------

TRANSITIONS: dict[GoalStatus, frozenset[GoalStatus]] = {
    GoalStatus.DRAFT: frozenset({GoalStatus.PROPOSED, GoalStatus.ARCHIVED}),
    GoalStatus.PROPOSED: frozenset({GoalStatus.DRAFT, GoalStatus.ACTIVE, GoalStatus.ARCHIVED}),
    # An agreed goal whose content changes stays ACTIVE on its signed version until both
    # sign the new one (portal/conferences); ACTIVE -> PROPOSED is kept but no longer used.
    GoalStatus.ACTIVE: frozenset(
        {
            GoalStatus.PROPOSED,
            GoalStatus.MET,
            GoalStatus.NOT_MET,
            GoalStatus.REVISED,
            GoalStatus.ARCHIVED,
        }
    ),
    GoalStatus.MET: frozenset({GoalStatus.ARCHIVED}),
    GoalStatus.NOT_MET: frozenset({GoalStatus.ARCHIVED}),
    GoalStatus.REVISED: frozenset({GoalStatus.ARCHIVED}),
    GoalStatus.ARCHIVED: frozenset(),
}

# Who may ask for each target status (the policy decides who holds each action).
TRANSITION_ACTION: dict[GoalStatus, Action] = {
    GoalStatus.DRAFT: Action.EDIT_GOAL,
    GoalStatus.PROPOSED: Action.EDIT_GOAL,
    GoalStatus.ACTIVE: Action.SIGN_GOAL,  # reached only by co-signing (activate)
    GoalStatus.MET: Action.EDIT_GOAL,
    GoalStatus.NOT_MET: Action.EDIT_GOAL,
    GoalStatus.REVISED: Action.EDIT_GOAL,
    GoalStatus.ARCHIVED: Action.EDIT_GOAL,
}


def can_transition(goal: Goal, to: GoalStatus) -> bool:
    return to in TRANSITIONS[goal.status]


def transition(goal: Goal, to: GoalStatus, by: User) -> None:
    """Move the goal to another status, if the machine allows it."""
    if not can_transition(goal, to):
        raise GoalError(f"A {goal.status} goal cannot become {to}.")
    goal.status = to
    db.session.flush()


# --- Agreement: the co-signing rule ----------------------------------------------------
# A goal is agreed on a version when the learner and a teacher both signed that version
# and the content is still what they signed. The rule lives with the goal it changes;
# portal.conferences collects the signatures and calls activate() (and re-exports these).


def content_hash_of(version: GoalVersion) -> str:
    """The hash recomputed from what the version holds now."""
    return GoalContent.of(version).content_hash


def version_is_intact(version: GoalVersion) -> bool:
    return version.content_hash == content_hash_of(version)


def parts_are_intact(version: GoalVersion, targets, strategies) -> bool:
    """`version_is_intact` for a version whose targets and strategies were read as rows
    (in order; see `GoalContent.of_parts`)."""
    return version.content_hash == GoalContent.of_parts(version, targets, strategies).content_hash


def signature_is_valid(signature: GoalSignature, version: GoalVersion) -> bool:
    """Bound to this version, and the content is still what was signed."""
    return (
        signature.version_id == version.id
        and signature.content_hash == version.content_hash
        and version_is_intact(version)
    )


def signatures_for(version_ids: list[int]) -> dict[int, list[GoalSignature]]:
    found: dict[int, list[GoalSignature]] = {vid: [] for vid in version_ids}
    if version_ids:
        for sig in db.session.scalars(
            select(GoalSignature)
            .where(GoalSignature.version_id.in_(version_ids))
            .order_by(GoalSignature.signed_at, GoalSignature.id)
        ):
            found[sig.version_id].append(sig)
    return found


def is_co_signed(goal: Goal, version: GoalVersion, signatures=None) -> bool:
    """The learner and a teacher both signed this very version, and it is unchanged."""
    if signatures is None:
        signatures = signatures_for([version.id])[version.id]
    valid = [s for s in signatures if signature_is_valid(s, version)]
    learner = any(s.role is SignerRole.LEARNER and s.signer_id == goal.learner_id for s in valid)
    teacher = any(s.role is SignerRole.TEACHER for s in valid)
    return learner and teacher


def activate(goal: Goal, by: User) -> None:
    """Make the goal agreed on its current version, once the learner and a teacher signed it.

    Called by portal.conferences when the second signature lands; refuses otherwise,
    so no route can make a goal active on one person's say.
    """
    version = goal.current_version
    if version is None or not is_co_signed(goal, version):
        raise GoalError("A goal becomes agreed when the learner and a teacher both sign it.")
    if goal.status is GoalStatus.DRAFT:
        transition(goal, GoalStatus.PROPOSED, by)
    if goal.status is not GoalStatus.ACTIVE:
        transition(goal, GoalStatus.ACTIVE, by)
    goal.agreed_version = version
    db.session.flush()


def next_statuses(goal: Goal) -> list[GoalStatus]:
    """The statuses a person may move this goal to from the goal page (in display order)."""
    order = [
        GoalStatus.PROPOSED,
        GoalStatus.ACTIVE,
        GoalStatus.DRAFT,
        GoalStatus.MET,
        GoalStatus.NOT_MET,
        GoalStatus.REVISED,
        GoalStatus.ARCHIVED,
    ]
    # Agreeing happens by co-signing (portal.conferences), never by a button here.
    allowed = TRANSITIONS[goal.status] - {GoalStatus.ACTIVE}
    if goal.status is GoalStatus.ACTIVE:
        allowed = allowed - {GoalStatus.PROPOSED}
    return [s for s in order if s in allowed]


# --- Versions -------------------------------------------------------------------------


def voice_of(user: User) -> Voice:
    return Voice.LEARNER if user.role is Role.LEARNER else Voice.TEACHER


def _version_voice(author: User, statement: str, source: tuple[str, Voice] | None) -> Voice:
    """The words stay whoever wrote them until someone rewrites the statement."""
    if source is not None and clean_text(source[0]) == statement:
        return source[1]
    return voice_of(author)


def _add_version(goal: Goal, author: User, content: GoalContent, voice: Voice) -> GoalVersion:
    number = (goal.current_version.number if goal.current_version else 0) + 1
    version = GoalVersion(
        goal=goal,
        number=number,
        statement=content.statement,
        target_level=content.target_level,
        due_date=content.due_date,
        supports=content.supports or None,
        author_id=author.id,
        voice=voice,
        content_hash=content.content_hash,
        targets=[
            GoalVersionTarget(target_id=tid, position=i) for i, tid in enumerate(content.target_ids)
        ],
        strategies=[
            GoalVersionStrategy(strategy_id=sid, text=text, position=i)
            for i, (sid, text) in enumerate(content.strategies)
        ],
    )
    db.session.add(version)
    db.session.flush()
    goal.current_version = version
    return version


def create_goal(
    learner: User,
    author: User,
    content: GoalContent,
    *,
    horizon: Horizon = Horizon.SHORT,
    parent: Goal | None = None,
    template: GoalTemplate | None = None,
) -> Goal:
    """A new goal with its first version: a learner's draft, or a teacher's proposal."""
    _check_parent(learner, horizon, parent, None)
    proposing = author.id != learner.id
    goal = Goal(
        learner_id=learner.id,
        created_by_id=author.id,
        status=GoalStatus.PROPOSED if proposing else GoalStatus.DRAFT,
        horizon=horizon,
        parent_goal_id=parent.id if parent else None,
        template_id=template.id if template else None,
    )
    db.session.add(goal)
    db.session.flush()
    source = (template.statement, Voice.TEACHER) if template is not None else None
    _add_version(goal, author, content, _version_voice(author, content.statement, source))
    db.session.flush()
    return goal


def save_content(goal: Goal, author: User, content: GoalContent) -> GoalVersion | None:
    """Record changed content as a new version; unchanged content makes none."""
    current = goal.current_version
    if current is not None and current.content_hash == content.content_hash:
        return None
    # Claim the goal row first (the optimistic lock): a concurrent save then fails on
    # lock_version, before it could collide on the next version number.
    goal.updated_at = utcnow()
    db.session.flush()
    if goal.status is GoalStatus.ACTIVE and goal.agreed_version_id is None:
        goal.agreed_version = current  # agreed before co-signing existed: on this wording
    source = (current.statement, current.voice) if current is not None else None
    version = _add_version(goal, author, content, _version_voice(author, content.statement, source))
    # An agreed goal stays active on its signed version; the new one awaits both signatures
    # (Goal.changed_since_signed).
    db.session.flush()
    return version


def set_plan(goal: Goal, horizon: Horizon, parent: Goal | None) -> None:
    """Change the goal's horizon and the long-term goal it ladders up to."""
    _check_parent(goal.learner, horizon, parent, goal)
    goal.horizon = horizon
    goal.parent_goal_id = parent.id if parent else None
    db.session.flush()


def _check_parent(learner: User, horizon: Horizon, parent: Goal | None, goal: Goal | None):
    if parent is None:
        return
    if (
        parent.learner_id != learner.id
        or parent.horizon is not Horizon.LONG
        or horizon is not Horizon.SHORT
        or (goal is not None and parent.id == goal.id)
    ):
        raise GoalError(
            "A short-term goal ladders up only to one of the learner's long-term goals."
        )


# --- Templates ---------------------------------------------------------------------------


def create_template(
    teacher: User,
    class_id: int,
    *,
    title: str,
    statement: str,
    horizon: Horizon,
    target_level: int,
    target_ids: list[int],
    strategies: list[str],
) -> GoalTemplate:
    """A goal idea the teacher offers to one class."""
    template = GoalTemplate(
        teacher_id=teacher.id,
        class_id=class_id,
        title=clean_text(title),
        statement=clean_text(statement),
        horizon=horizon,
        target_level=target_level,
        strategies_text="\n".join(s for s in map(clean_text, strategies) if s) or None,
        targets=[GoalTemplateTarget(target_id=tid) for tid in dict.fromkeys(target_ids)],
    )
    db.session.add(template)
    db.session.flush()
    return template


def retire_template(template: GoalTemplate) -> None:
    """Stop offering a template; goals already made from it keep their link."""
    template.active = False
    db.session.flush()


# --- The school's strategy bank ------------------------------------------------------
# Entries are retired, never deleted: goal versions keep their own copy of the wording.


def add_strategy(school_id: int, text: str, text_es: str | None = None) -> Strategy:
    strategy = Strategy(
        school_id=school_id,
        text=clean_text(text),
        text_es=clean_text(text_es or "") or None,
        active=True,
    )
    db.session.add(strategy)
    db.session.flush()
    return strategy


def reword_strategy(strategy: Strategy, text: str, text_es: str | None = None) -> None:
    """New wording for goals written from now on; earlier versions keep theirs."""
    strategy.text = clean_text(text)
    strategy.text_es = clean_text(text_es or "") or None
    db.session.flush()


def set_strategy_active(strategy: Strategy, active: bool) -> None:
    """Retire (hide from learners drafting goals) or restore a bank entry."""
    strategy.active = active
    db.session.flush()


def update_template(
    template: GoalTemplate,
    *,
    title: str,
    statement: str,
    horizon: Horizon,
    target_level: int,
    target_ids: list[int],
    strategies: list[str],
) -> None:
    """Change a template; goals already started from it keep their own wording."""
    template.title = clean_text(title)
    template.statement = clean_text(statement)
    template.horizon = horizon
    template.target_level = target_level
    template.strategies_text = "\n".join(s for s in map(clean_text, strategies) if s) or None
    wanted = list(dict.fromkeys(target_ids))
    keep = [link for link in template.targets if link.target_id in wanted]
    have = {link.target_id for link in keep}
    template.targets = keep + [GoalTemplateTarget(target_id=t) for t in wanted if t not in have]
    db.session.flush()
