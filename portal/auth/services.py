"""Signing in and out: credentials, per-account throttling and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session
from sqlalchemy import DateTime, and_, bindparam, case, delete, func, or_, select, update

from portal.auth.models import LoginSession, Role, User
from portal.auth.passwords import verify_secret
from portal.database import writing
from portal.extensions import db
from portal.i18n import LOCALE_KEY
from portal.roster.models import Enrollment, EnrollmentRole, SchoolClass
from portal.timeutil import utcnow

SESSION_KEY = "sid"
# last_seen is refreshed at most this often, so busy pages do not write on every request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None
    retry_after: int = 0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_account(login: str) -> User | None:
    login = login.strip().lower()
    return db.session.scalar(
        select(User).where(or_(func.lower(User.username) == login, func.lower(User.email) == login))
    )


def seconds_locked(user: User) -> int:
    if user.throttled_until is None:
        return 0
    return max(0, int((user.throttled_until - utcnow()).total_seconds()) + 1)


def _note_failure(user: User) -> None:
    """Lock the account briefly after a few misses, doubling up to a short cap.

    The cap keeps a classmate who types wrong passwords from locking someone out
    for long, while still making guessing slow.
    """
    cfg = current_app.config
    user.failed_logins += 1
    over = user.failed_logins - cfg["LOGIN_FREE_ATTEMPTS"]
    if over >= 0:
        lock = min(cfg["LOGIN_MAX_LOCK_SECONDS"], 15 * 2**over)
        user.throttled_until = utcnow() + timedelta(seconds=lock)


def _check(user: User | None, secret: str, field: str) -> SignInResult:
    if user is not None and (wait := seconds_locked(user)):
        return SignInResult(error="throttled", retry_after=wait)
    stored = getattr(user, field) if user is not None else None
    if not verify_secret(stored, secret) or user is None or not user.active:
        if user is not None:
            _note_failure(user)
        return SignInResult(error="invalid")
    user.failed_logins = 0
    user.throttled_until = None
    return SignInResult(user=user)


def check_password(login: str, password: str) -> SignInResult:
    return _check(find_account(login), password, "password_hash")


def check_pin(learner: User | None, pin: str) -> SignInResult:
    return _check(learner, pin, "pin_hash")


def class_by_code(code: str) -> SchoolClass | None:
    return db.session.scalar(
        select(SchoolClass).where(func.upper(SchoolClass.class_code) == code.strip().upper())
    )


def pin_learners(school_class: SchoolClass) -> list[User]:
    """Learners of a class who have a PIN, for the pick-your-name step."""
    return list(
        db.session.scalars(
            select(User)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(
                Enrollment.class_id == school_class.id,
                Enrollment.role == EnrollmentRole.LEARNER,
                User.pin_hash.is_not(None),
                User.active.is_(True),
            )
            .order_by(User.given_name, User.family_name)
        )
    )


def current_session_token_hash() -> str | None:
    """The stored hash of this browser's session token (for queries that fold in sign-in)."""
    token = session.get(SESSION_KEY)
    return _token_hash(token) if token else None


def start_session(user: User, user_agent: str | None) -> None:
    """Rotate the session: drop everything the browser had, then bind a fresh token."""
    locale = session.get(LOCALE_KEY)  # the language picked on the sign-in page stays
    session.clear()
    if locale:
        session[LOCALE_KEY] = locale
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(token_hash=_token_hash(token), user_id=user.id, user_agent=user_agent)
    )
    session[SESSION_KEY] = token
    session.permanent = False


def end_session() -> None:
    if token := session.get(SESSION_KEY):
        db.session.execute(
            delete(LoginSession).where(LoginSession.token_hash == _token_hash(token))
        )
    session.clear()


# --- Which sessions are live: the one definition -----------------------------------------

# A sign-in session is live while its user is active and it was seen within that user's
# idle limit. One SQL condition on LoginSession joined to its User, with the parameters
# of `live_session_params`: `session_user` and the tracker's fast poll both use it, so
# no path can honour a session the other refuses.
LIVE_SESSION = and_(
    User.active.is_(True),
    LoginSession.last_seen
    >= case(
        (User.role == Role.LEARNER, bindparam("learner_seen_since", type_=DateTime())),
        else_=bindparam("staff_seen_since", type_=DateTime()),
    ),
)


def live_session_params(now=None) -> dict:
    cfg = current_app.config
    now = now or utcnow()
    return {
        "learner_seen_since": now - cfg["IDLE_TIMEOUT_LEARNER"],
        "staff_seen_since": now - cfg["IDLE_TIMEOUT_STAFF"],
    }


_SESSION_LOOKUP = (
    select(LoginSession, User, LIVE_SESSION.label("live"))
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.token_hash == bindparam("token_hash"))
)


def session_user(user_id: str, *, background: bool) -> User | None:
    """The user bound to this browser's session token, or None unless it is live."""
    token = session.get(SESSION_KEY)
    if not token:
        return None
    now = utcnow()
    row = db.session.execute(
        _SESSION_LOOKUP, {"token_hash": _token_hash(token), **live_session_params(now)}
    ).first()
    if row is None or str(row.LoginSession.user_id) != user_id:
        return None
    login, user, live = row
    if not live:  # idle too long, or the account was deactivated: the session ends here
        with writing():
            db.session.execute(delete(LoginSession).where(LoginSession.id == login.id))
        return None
    # A tracker poll is not the person doing something: it must not keep an
    # abandoned shared Chromebook signed in.
    if not background and now - login.last_seen > TOUCH_EVERY:
        with writing():
            db.session.execute(
                update(LoginSession).where(LoginSession.id == login.id).values(last_seen=now)
            )
    return user
