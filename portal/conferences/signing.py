"""Co-signing in a conference: signatures, the family's acknowledgement, and the signing
state a goal page shows.

Co-signing rule: a goal is agreed on a version when the learner and a teacher of
that learner have both signed *that* version, and each signature's stored hash
still equals the version's stored hash and the hash recomputed from its content.
A later edit makes a newer version with no signatures; the goal stays ACTIVE on
its agreed version (`Goal.agreed_version`) and shows "changed since signed" until
both sign the new one.

Writes here only flush; the route commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.auth.services import check_password, check_pin
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals import services as goal_services
from portal.goals.models import Goal, GoalVersion
from portal.goals.services import is_co_signed, signatures_for, version_is_intact

from .models import Conference, GoalAcknowledgement, GoalSignature, SignerRole, SignMethod


class SignError(Exception):
    """A signature the rules do not allow (stale version, tampered content)."""


# --- Signatures ------------------------------------------------------------------------
# When signatures agree a goal (is_co_signed and the rest) is the goal's rule, kept in
# portal.goals.services next to activate(); here signatures are made and shown.


def sign(
    goal: Goal,
    version_id: int,
    signer: User,
    *,
    method: SignMethod = SignMethod.SESSION,
    witness: User | None = None,
    conference: Conference | None = None,
) -> tuple[GoalSignature, bool]:
    """Sign the goal's current version; returns the signature and whether the goal became agreed.

    The caller has checked that `signer` may sign (Action.SIGN_GOAL). Signing twice
    returns the first signature.

    The goal's row is locked first (FOR NO KEY UPDATE, which foreign-key checks do not
    wait for; SQLite's write transactions queue anyway), so signatures of one goal land
    one at a time: a second click finds the first signature, and when learner and
    teacher sign at the same moment the later one sees the earlier and the goal becomes
    agreed.
    """
    db.session.refresh(goal, with_for_update={"key_share": True})
    version = goal.current_version
    if version is None or version.id != version_id:
        raise SignError("stale")
    if not version_is_intact(version):
        raise SignError("tampered")
    role = SignerRole.LEARNER if signer.id == goal.learner_id else SignerRole.TEACHER
    existing = db.session.scalar(
        select(GoalSignature).where(
            GoalSignature.version_id == version.id, GoalSignature.signer_id == signer.id
        )
    )
    signature = existing or GoalSignature(
        goal_id=goal.id,
        version_id=version.id,
        learner_id=goal.learner_id,
        signer_id=signer.id,
        role=role,
        content_hash=version.content_hash,
        method=method,
        witness_id=witness.id if witness else None,
        conference_id=conference.id if conference else None,
        signed_at=utcnow(),
    )
    if existing is None:
        db.session.add(signature)
        db.session.flush()
    activated = False
    if goal.agreed_version_id != version.id and goal.is_open and is_co_signed(goal, version):
        goal_services.activate(goal, signer)
        activated = True
    if conference is not None:
        conference.touch()
    db.session.flush()
    return signature, activated


def verify_learner(learner: User, secret: str):
    """Check the learner's own PIN (or password) typed on a teacher's screen, throttled.

    The same failure counting and lock as signing in (portal.auth.services).
    """
    if learner.pin_hash:
        return check_pin(learner, secret)
    return check_password(learner.username, secret)


def acknowledge(goal: Goal, guardian: User) -> GoalAcknowledgement | None:
    """Record "seen by family" for the goal's agreed version; None if nothing is agreed."""
    version_id = goal.agreed_version_id
    if version_id is None:
        return None
    found = db.session.scalar(
        select(GoalAcknowledgement).where(
            GoalAcknowledgement.version_id == version_id,
            GoalAcknowledgement.guardian_id == guardian.id,
        )
    )
    if found is None:
        found = GoalAcknowledgement(goal_id=goal.id, version_id=version_id, guardian_id=guardian.id)
        db.session.add(found)
        db.session.flush()
    return found


@dataclass
class VersionSigning:
    """One version with its signatures, for display."""

    version: GoalVersion
    signatures: list[GoalSignature]
    intact: bool

    def valid(self, sig: GoalSignature) -> bool:
        return self.intact and sig.content_hash == self.version.content_hash

    @property
    def learner_signed(self) -> bool:
        return any(s.role is SignerRole.LEARNER and self.valid(s) for s in self.signatures)

    @property
    def teacher_signed(self) -> bool:
        return any(s.role is SignerRole.TEACHER and self.valid(s) for s in self.signatures)

    @property
    def invalid(self) -> list[GoalSignature]:
        return [s for s in self.signatures if not self.valid(s)]

    def signed_by(self, user_id: int) -> bool:
        return any(s.signer_id == user_id and self.valid(s) for s in self.signatures)


@dataclass
class Agreement:
    """What a goal page shows about co-signing: the current and the agreed version."""

    goal: Goal
    current: VersionSigning | None
    agreed: VersionSigning | None
    acknowledgements: list[GoalAcknowledgement] = field(default_factory=list)

    @property
    def changed_since_signed(self) -> bool:
        return self.goal.changed_since_signed

    def acknowledged_by(self, user_id: int) -> bool:
        return any(a.guardian_id == user_id for a in self.acknowledgements)


def agreements(goals: list[Goal]) -> dict[int, Agreement]:
    """Signing state for several goals in a fixed number of queries."""
    goals = [g for g in goals if g.current_version is not None]
    ids: set[int] = set()
    for g in goals:
        ids.add(g.current_version_id)
        if g.agreed_version_id:
            ids.add(g.agreed_version_id)
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(GoalVersion)
            .where(GoalVersion.id.in_(ids or [0]))
            .options(selectinload(GoalVersion.targets), selectinload(GoalVersion.strategies))
        )
    }
    sigs = signatures_for(list(ids))
    acks: dict[int, list[GoalAcknowledgement]] = {}
    agreed_ids = [g.agreed_version_id for g in goals if g.agreed_version_id]
    if agreed_ids:
        for ack in db.session.scalars(
            select(GoalAcknowledgement)
            .where(GoalAcknowledgement.version_id.in_(agreed_ids))
            .order_by(GoalAcknowledgement.acknowledged_at)
        ):
            acks.setdefault(ack.version_id, []).append(ack)

    def signing(vid):
        if vid is None or vid not in versions:
            return None
        v = versions[vid]
        return VersionSigning(v, sigs.get(vid, []), version_is_intact(v))

    return {
        g.id: Agreement(
            g,
            signing(g.current_version_id),
            signing(g.agreed_version_id),
            acks.get(g.agreed_version_id, []),
        )
        for g in goals
    }


def agreement(goal: Goal) -> Agreement | None:
    return agreements([goal]).get(goal.id)
