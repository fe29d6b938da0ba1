"""Badges: print (a fresh secret per card), revoke, pick a picture, and read a scanned code.

A badge's secret is 192 random bits, shown once inside the QR code of the printed card and
stored only as its SHA-256 (a secret this long needs no slow hash). The QR code holds a
URL to the badge sign-in page with the secret after `#WPB1:`: the fragment never reaches
a server log, and a phone camera that opens the URL lands on the page that signs in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import segno
from markupsafe import Markup
from sqlalchemy import exists, inspect, select, update

from portal.auth.models import Role, User
from portal.badges.models import BadgeSymbol, SignInBadge
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import utcnow
from portal.policy import visible_learner_ids
from portal.roster.models import Enrollment, EnrollmentRole, SchoolClass

PREFIX = "WPB1:"
SECRET_BYTES = 24  # 192 bits
# What a scanned or typed code may hold: the whole URL, or the prefixed token alone.
_CODE = re.compile(r"(?:^|#)WPB1:([A-Za-z0-9_-]{32})$")

# A fixed set of friendly pictures; each learner gets one by id until a teacher picks another.
SYMBOLS: dict[str, tuple[str, str]] = {
    "fox": ("\U0001f98a", _l("fox")),
    "owl": ("\U0001f989", _l("owl")),
    "frog": ("\U0001f438", _l("frog")),
    "cat": ("\U0001f431", _l("cat")),
    "dog": ("\U0001f436", _l("dog")),
    "bear": ("\U0001f43b", _l("bear")),
    "rabbit": ("\U0001f430", _l("rabbit")),
    "turtle": ("\U0001f422", _l("turtle")),
    "bee": ("\U0001f41d", _l("bee")),
    "fish": ("\U0001f41f", _l("fish")),
    "star": ("\u2b50", _l("star")),
    "sun": ("\U0001f31e", _l("sun")),
    "moon": ("\U0001f319", _l("moon")),
    "tree": ("\U0001f333", _l("tree")),
    "flower": ("\U0001f338", _l("flower")),
    "apple": ("\U0001f34e", _l("apple")),
    "rocket": ("\U0001f680", _l("rocket")),
    "boat": ("\u26f5", _l("boat")),
    "kite": ("\U0001fa81", _l("kite")),
    "rainbow": ("\U0001f308", _l("rainbow")),
    "lion": ("\U0001f981", _l("lion")),
    "panda": ("\U0001f43c", _l("panda")),
    "penguin": ("\U0001f427", _l("penguin")),
    "butterfly": ("\U0001f98b", _l("butterfly")),
    "whale": ("\U0001f433", _l("whale")),
    "dinosaur": ("\U0001f995", _l("dinosaur")),
    "car": ("\U0001f697", _l("car")),
    "train": ("\U0001f682", _l("train")),
    "ball": ("\u26bd", _l("ball")),
    "heart": ("\u2764\ufe0f", _l("heart")),
    "cloud": ("\u2601\ufe0f", _l("cloud")),
    "leaf": ("\U0001f343", _l("leaf")),
}
_SYMBOL_KEYS = tuple(SYMBOLS)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_from_code(code: str | None) -> str | None:
    """The secret in what the camera read (the badge's URL or `WPB1:<secret>`), or None."""
    match = _CODE.search((code or "").strip()[:512])
    return match.group(1) if match else None


# --- The learners of a class and their badges -------------------------------------------


@dataclass
class BadgeRow:
    learner: User
    symbol: str  # a key of SYMBOLS
    badge: SignInBadge | None  # the live badge, if any

    @property
    def picture(self) -> str:
        return SYMBOLS[self.symbol][0]

    @property
    def picture_name(self) -> str:
        return str(SYMBOLS[self.symbol][1])


def class_learners(school_class: SchoolClass, viewer: User) -> list[User]:
    """The active learners of a class that `viewer` relates to (the policy's SQL), by
    first name, in one query."""
    return list(
        db.session.scalars(
            select(User)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(
                Enrollment.class_id == school_class.id,
                Enrollment.role == EnrollmentRole.LEARNER,
                User.role == Role.LEARNER,
                User.active.is_(True),
                User.id.in_(visible_learner_ids(viewer)),
            )
            .order_by(User.given_name, User.family_name, User.id)
        )
    )


def in_class(school_class: SchoolClass, learner: User) -> bool:
    """Is this active learner enrolled in the class (as a learner)?"""
    return learner.active and db.session.scalar(
        select(
            exists().where(
                Enrollment.class_id == school_class.id,
                Enrollment.user_id == learner.id,
                Enrollment.role == EnrollmentRole.LEARNER,
            )
        )
    )


def rows_for(learners: list[User]) -> list[BadgeRow]:
    """Each learner with their picture and live badge, in two queries."""
    ids = [learner.id for learner in learners]
    chosen = {
        learner_id: symbol
        for learner_id, symbol in db.session.execute(
            select(BadgeSymbol.learner_id, BadgeSymbol.symbol).where(
                BadgeSymbol.learner_id.in_(ids)
            )
        )
    }
    live = {
        badge.learner_id: badge
        for badge in db.session.scalars(
            select(SignInBadge).where(
                SignInBadge.learner_id.in_(ids), SignInBadge.revoked_at.is_(None)
            )
        )
    }
    return [
        BadgeRow(learner, _symbol_of(learner.id, chosen.get(learner.id)), live.get(learner.id))
        for learner in learners
    ]


def _symbol_of(learner_id: int, chosen: str | None) -> str:
    if chosen in SYMBOLS:
        return chosen
    return _SYMBOL_KEYS[learner_id % len(_SYMBOL_KEYS)]


def set_symbol(learner: User, symbol: str) -> None:
    if symbol not in SYMBOLS:
        raise ValueError(symbol)
    row = db.session.get(BadgeSymbol, learner.id)
    if row is None:
        db.session.add(BadgeSymbol(learner_id=learner.id, symbol=symbol))
    else:
        row.symbol = symbol
    db.session.flush()


# --- Printing and revoking ---------------------------------------------------------------


@dataclass
class PrintedCard:
    row: BadgeRow
    secret: str

    def payload(self, sign_in_url: str) -> str:
        return f"{sign_in_url}#{PREFIX}{self.secret}"

    def qr_svg(self, sign_in_url: str) -> Markup:
        """The QR code as inline SVG: made by segno from our own URL, so safe markup."""
        qr = segno.make(self.payload(sign_in_url), error="m")
        svg = qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="badge-qr")
        return Markup(svg)  # noqa: S704 (segno's own markup: path data, no text of ours)


def _revoke_all(learner_ids: list[int]) -> int:
    """Turn off the live badges of these learners, in one statement; how many there were."""
    done = db.session.execute(
        update(SignInBadge)
        .where(SignInBadge.learner_id.in_(learner_ids), SignInBadge.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return done.rowcount


def revoke(learner: User) -> bool:
    """Turn off the learner's live badge; False when there was none."""
    return bool(_revoke_all([learner.id]))


def issue(learners: list[User], by: User) -> list[PrintedCard]:
    """A new badge for each learner (their old one stops working): the secrets, once."""
    rows = rows_for(learners)
    _revoke_all([row.learner.id for row in rows])
    cards = []
    for row in rows:
        secret = secrets.token_urlsafe(SECRET_BYTES)
        row.badge = SignInBadge(
            learner_id=row.learner.id, secret_hash=secret_hash(secret), created_by_id=by.id
        )
        cards.append(PrintedCard(row, secret))
    db.session.add_all([card.row.badge for card in cards])
    db.session.flush()
    return cards


def reload_learners(cards: list[PrintedCard]) -> None:
    """After the commit, read the cards' learners back in one query (not one per card)."""
    ids = [inspect(card.row.learner).identity[0] for card in cards]  # reads nothing
    db.session.scalars(select(User).where(User.id.in_(ids))).all()


def learners_without_badge(learners: list[User]) -> list[User]:
    return [row.learner for row in rows_for(learners) if row.badge is None]


# --- Signing in with a scanned badge ------------------------------------------------------


@dataclass
class Scanned:
    """What a scanned code names: nothing known, or a badge (live or revoked) and its learner."""

    badge: SignInBadge | None = None
    learner: User | None = None

    @property
    def problem(self) -> str | None:
        """ "unknown", "revoked", "inactive", or None for a live badge of an active learner."""
        if self.badge is None or self.learner is None:
            return "unknown"
        if not self.badge.live:
            return "revoked"
        if not self.learner.active:
            return "inactive"
        return None


def find(secret: str | None) -> Scanned:
    if not secret:
        return Scanned()
    found = db.session.execute(
        select(SignInBadge, User)
        .join(User, User.id == SignInBadge.learner_id)
        .where(SignInBadge.secret_hash == secret_hash(secret))
    ).first()
    return Scanned(*found) if found else Scanned()
