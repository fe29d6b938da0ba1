"""Family invites and their throttle, cheers (the family page is in page.py).

Services change state and at most flush(); the route commits.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.family.models import Cheer, FamilyInvite, InviteThrottle
from portal.goals.models import Goal, GoalVersion
from portal.policy import (
    family_goal_condition,
    family_version_id,
)
from portal.progress.models import ProgressEntry
from portal.roster.models import GuardianLink

# --- Invite codes ----------------------------------------------------------------------

# No 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B, Q: easy to read aloud and to type from paper.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 10  # 22**10 is about 2**44.6
INVITE_LIFETIME = timedelta(days=7)
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Split in two halves so it is easier to read aloud: ACDEF-HJKMN."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_code(raw: str | None) -> str:
    """What a guardian typed, without spaces, dashes or case."""
    return re.sub(r"[^A-Z0-9]", "", (raw or "").upper())


def code_hash(code: str) -> str:
    """A keyed hash: a copy of the database alone cannot be searched for the codes."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalize_code(code).encode(), hashlib.sha256).hexdigest()


def create_invite(learner: User, by: User) -> tuple[FamilyInvite, str]:
    """A new single-use code for learner; returns the row and the code (shown once)."""
    code = new_code()
    now = utcnow()
    invite = FamilyInvite(
        learner_id=learner.id,
        code_hash=code_hash(code),
        created_by_id=by.id,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    db.session.add(invite)
    db.session.flush()
    return invite, format_code(code)


def revoke_invite(invite: FamilyInvite, by: User) -> bool:
    """Revoke an unused, unexpired code so it can never be redeemed; False if it was not open.

    One conditional UPDATE: a code redeemed at the same moment stays redeemed.
    """
    now = utcnow()
    revoked = db.session.execute(
        update(FamilyInvite)
        .where(
            FamilyInvite.id == invite.id,
            FamilyInvite.used_at.is_(None),
            FamilyInvite.revoked_at.is_(None),
            FamilyInvite.expires_at > now,
        )
        .values(revoked_at=now, revoked_by_id=by.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    db.session.refresh(invite)
    return bool(revoked)


def invites_for(learner: User) -> list[FamilyInvite]:
    return list(
        db.session.scalars(
            select(FamilyInvite)
            .where(FamilyInvite.learner_id == learner.id)
            .options(
                selectinload(FamilyInvite.created_by),
                selectinload(FamilyInvite.used_by),
                selectinload(FamilyInvite.revoked_by),
            )
            .order_by(FamilyInvite.created_at.desc(), FamilyInvite.id.desc())
        )
    )


@dataclass
class RedeemResult:
    learner: User | None = None
    error: str | None = None  # "locked", "invalid", "already"
    retry_after: int = 0  # seconds, when locked


def _throttle(guardian: User) -> InviteThrottle:
    """The guardian's miss counter, made on first use by INSERT ... ON CONFLICT DO NOTHING:
    of two first tries at the same moment, the second waits for the first's row instead
    of failing on the key (the row is stamped NOTHING: no cached page shows it)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(InviteThrottle)
        .values(guardian_id=guardian.id, failures=0)
        .on_conflict_do_nothing(index_elements=["guardian_id"])
    )
    return db.session.get(InviteThrottle, guardian.id, populate_existing=True)


def _already_following(guardian: User, invite: FamilyInvite) -> RedeemResult | None:
    """This guardian redeemed this very code before (a double click, a retry): say so again."""
    if invite.used_by_id != guardian.id:
        return None
    link = db.session.scalar(
        select(GuardianLink).where(
            GuardianLink.guardian_id == guardian.id,
            GuardianLink.learner_id == invite.learner_id,
            GuardianLink.active.is_(True),
        )
    )
    if link is None:
        return None
    return RedeemResult(learner=db.session.get(User, invite.learner_id), error="already")


def _seconds_left(until: datetime | None, now: datetime) -> int:
    return math.ceil((until - now).total_seconds()) if until and until > now else 0


def redeem(guardian: User, raw_code: str) -> RedeemResult:
    """Link guardian to the invite's learner, once; count misses and lock after too many.

    The miss counter is part of the outcome: the route commits it even on failure.
    """
    now = utcnow()
    throttle = _throttle(guardian)
    if left := _seconds_left(throttle.locked_until, now):
        return RedeemResult(error="locked", retry_after=left)
    code = normalize_code(raw_code)
    invite = None
    if len(code) == CODE_LENGTH:
        invite = db.session.scalar(
            select(FamilyInvite).where(FamilyInvite.code_hash == code_hash(code))
        )
    if invite is not None and (again := _already_following(guardian, invite)) is not None:
        throttle.failures = 0
        db.session.flush()
        return again
    if invite is not None and (
        invite.used_at is not None or invite.revoked_at is not None or invite.expires_at <= now
    ):
        invite = None
    if invite is None:
        throttle.failures += 1
        if throttle.failures >= MAX_FAILURES:
            throttle.failures = 0
            throttle.locked_until = now + LOCK_FOR
        db.session.flush()
        if throttle.locked_until and throttle.locked_until > now:
            return RedeemResult(
                error="locked", retry_after=_seconds_left(throttle.locked_until, now)
            )
        return RedeemResult(error="invalid")
    learner = db.session.get(User, invite.learner_id)
    link = db.session.scalar(
        select(GuardianLink).where(
            GuardianLink.guardian_id == guardian.id, GuardianLink.learner_id == learner.id
        )
    )
    throttle.failures = 0
    if link is not None and link.active:
        db.session.flush()
        return RedeemResult(learner=learner, error="already")
    if link is not None:
        # The school paused this link (e.g. a custody restriction): a code handed out
        # later must not quietly undo that decision. Only an admin can restore it.
        db.session.flush()
        return RedeemResult(error="paused")
    # Claim the code atomically: of two simultaneous redemptions only one updates the row.
    claimed = db.session.execute(
        update(FamilyInvite)
        .where(
            FamilyInvite.id == invite.id,
            FamilyInvite.used_at.is_(None),
            FamilyInvite.revoked_at.is_(None),
        )
        .values(used_at=now, used_by_id=guardian.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        # Redeemed meanwhile; by this guardian in another request, it is the same answer.
        db.session.refresh(invite)
        db.session.flush()
        return _already_following(guardian, invite) or RedeemResult(error="invalid")
    try:
        with db.session.begin_nested():  # a savepoint: a clash undoes only the link
            db.session.add(
                GuardianLink(
                    guardian_id=guardian.id, learner_id=learner.id, relationship_label="family"
                )
            )
    except IntegrityError:
        # Another code for the same child linked them at the same moment: keep this one.
        db.session.execute(
            update(FamilyInvite)
            .where(FamilyInvite.id == invite.id)
            .values(used_at=None, used_by_id=None)
            .execution_options(synchronize_session=False)
        )
        db.session.flush()
        return RedeemResult(learner=learner, error="already")
    db.session.flush()
    return RedeemResult(learner=learner)


# --- Cheers ---------------------------------------------------------------------------

_SCHEMES = ("http://", "https://", "ftp://", "www.", "mailto:")
_TLDS = frozenset(
    {"com", "net", "org", "edu", "gov", "info", "biz", "io", "co", "me", "ly", "app", "dev"}
    | {"xyz", "site", "online", "link", "click", "shop", "store", "live", "tv", "gg", "us"}
    | {"uk", "ca", "mx", "es", "de", "fr", "ru", "cn", "tk", "ai"}
)
_NAME_RUN = re.compile(r"[a-z0-9.-]+")  # a run of the characters a domain name is made of


def contains_link(text: str) -> bool:
    """A web address, a domain name or an e-mail address anywhere in the text.

    Linear in the text: one pass for schemes, one over whitespace-separated words for
    e-mail addresses, one over runs of name characters for domains. (A single regex with
    nested repeats took 40 s on 100,000 characters of "a.a.a.".)
    """
    lowered = (text or "").lower()
    if any(scheme in lowered for scheme in _SCHEMES):
        return True
    return any(_is_email(word) for word in lowered.split()) or any(
        _is_domain(run) for run in _NAME_RUN.findall(lowered)
    )


def _is_email(word: str) -> bool:
    """Something, an @, something, a dot, something (as `\\S+@\\S+\\.\\S+` would find)."""
    at = word.find("@", 1)
    return at != -1 and word.find(".", at + 2, len(word) - 1) != -1


def _is_domain(run: str) -> bool:
    """A name with a known top-level domain after one of its dots: "example.com", "a.co.uk"."""
    labels = run.split(".")
    return any(labels[i - 1] and labels[i].split("-", 1)[0] in _TLDS for i in range(1, len(labels)))


def clean_cheer(body: str) -> str:
    """A cheer as kept: its words, single-spaced."""
    return " ".join(body.split())


def cheer_by_token(token: str | None) -> Cheer | None:
    if not token:
        return None
    return db.session.scalar(select(Cheer).where(Cheer.token == token))


def add_cheer(
    goal: Goal,
    author: User,
    body: str,
    entry: ProgressEntry | None = None,
    token: str | None = None,
) -> Cheer:
    cheer = Cheer(
        learner_id=goal.learner_id,
        goal_id=goal.id,
        entry_id=entry.id if entry else None,
        author_id=author.id,
        body=clean_cheer(body),
        token=token,
        created_at=utcnow(),
    )
    db.session.add(cheer)
    db.session.flush()
    return cheer


def set_hidden(cheer: Cheer, by: User, hidden: bool) -> None:
    cheer.hidden_at = utcnow() if hidden else None
    cheer.hidden_by_id = by.id if hidden else None
    db.session.flush()


def cheers_for_learner(
    learner_id: int, include_hidden: bool = False, limit: int = 20, family: bool = False
):
    """Cheers with their goal's wording; for a family (portal.policy), only on the goals
    they see and with the agreed wording."""
    params = {"learner_id": learner_id, "limit": limit}
    return list(db.session.execute(_cheers_statement(include_hidden, family), params).tuples())


@lru_cache(maxsize=4)
def _cheers_statement(include_hidden: bool, family: bool):
    # Built once per kind: the learner home asks on every view.
    version_id = family_version_id() if family else Goal.current_version_id
    query = (
        select(Cheer, GoalVersion.statement)
        .join(Goal, Goal.id == Cheer.goal_id)
        .join(GoalVersion, GoalVersion.id == version_id)
        .where(
            Cheer.learner_id == bindparam("learner_id"),
            family_goal_condition() if family else true(),
        )
        .order_by(Cheer.created_at.desc(), Cheer.id.desc())
        .limit(bindparam("limit"))
    )
    return query if include_hidden else query.where(Cheer.hidden_at.is_(None))
