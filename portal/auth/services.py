"""Signing in and out: credentials, throttling of wrong tries, device cookies, sessions."""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy import bindparam, delete, func, or_, select, update

from portal.auth.models import LoginFailure, LoginSession, Role, TrustedDevice, User
from portal.auth.passwords import verify_secret
from portal.core.database import reads_first, writing
from portal.core.extensions import db
from portal.core.i18n import LOCALE_KEY
from portal.core.timeutil import today, utcnow
from portal.roster.models import Enrollment, EnrollmentRole, SchoolClass

SESSION_KEY = "sid"
# last_seen is refreshed at most this often, so busy pages do not write on every request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class SignInResult:
    user: User | None = None
    # "invalid"; "throttled" (this account, or this browser, must wait); "class_throttled"
    # (too many wrong PINs in this class from devices without a device cookie).
    error: str | None = None
    retry_after: int = 0


@dataclass(frozen=True)
class Client:
    """The browser that is trying: a key for its pre-sign-in session and its device cookies.

    The default, no key and no cookies, is a try typed on someone else's screen (a
    learner's PIN on the teacher's device in a conference): only the account counts.
    """

    key: str | None = None
    device_tokens: tuple[str, ...] = ()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_account(login: str) -> User | None:
    login = _normal_login(login)
    return db.session.scalar(
        select(User).where(or_(func.lower(User.username) == login, func.lower(User.email) == login))
    )


def _normal_login(login: str) -> str:
    return login.strip().lower()


# --- Throttling -----------------------------------------------------------------------
#
# Every wrong password or PIN is a LoginFailure row, kept an hour. Four counts over
# sliding windows decide whether a try is even checked (docs/architecture.md, "Sign-in"):
#   * the account, over tries without a device cookie ("strangers"): LOGIN_FREE_ATTEMPTS
#     per LOGIN_WINDOW, then 15 s doubling to LOGIN_MAX_LOCK_SECONDS; the locks of one
#     account add up to at most LOGIN_LOCK_BUDGET_SECONDS an hour, after which a stranger's
#     wrong try holds the account for at most LOGIN_SLOW_SECONDS;
#   * a device cookie of that account: LOGIN_DEVICE_FREE_ATTEMPTS per window, then the same
#     doubling for that device only; a locked device cookie counts as none;
#   * the browser (its pre-sign-in session), over all accounts: LOGIN_CLIENT_FREE_ATTEMPTS;
#   * the class, on the class code + PIN path: LOGIN_CLASS_PIN_ATTEMPTS per LOGIN_CLASS_WINDOW.
# Unknown logins are counted under a keyed hash of what was typed, so they answer with the
# same messages at the same tries, and every try runs exactly one argon2 verification.

DEVICE_COOKIE = "waypoint_device"
CLIENT_KEY = "signin_client"
_HOUR = timedelta(hours=1)


def browser_client() -> Client:
    """This request's browser: its sign-in key (kept in the session) and device cookies."""
    ident = session.get(CLIENT_KEY)
    if not ident:
        ident = session[CLIENT_KEY] = secrets.token_urlsafe(16)
    cap = current_app.config["LOGIN_DEVICES_PER_BROWSER"]
    raw = request.cookies.get(DEVICE_COOKIE, "")[:4096]
    tokens = tuple(t for t in raw.split(".") if 32 <= len(t) <= 64)[:cap]
    return Client(key=_token_hash(ident), device_tokens=tokens)


def _account_key(user: User) -> str:
    return f"u{user.id}"


def _login_key(login: str) -> str:
    """What an unknown login is counted under: keyed, so the table holds no typed text."""
    secret = current_app.config["SECRET_KEY"].encode()
    return "n" + hmac.new(secret, _normal_login(login).encode(), "sha256").hexdigest()[:63]


def _until(moment: datetime, now: datetime) -> int:
    return max(0, math.ceil((moment - now).total_seconds()))


def _backoff(failures: int, free: int) -> int:
    """Seconds of lock after the latest of `failures`: 15 once `free` are used, doubling."""
    if failures < free:
        return 0
    return min(current_app.config["LOGIN_MAX_LOCK_SECONDS"], 15 * 2 ** min(failures - free, 16))


def _horizon() -> timedelta:
    cfg = current_app.config
    return max(_HOUR, cfg["LOGIN_WINDOW"], cfg["LOGIN_CLASS_WINDOW"])


def _stranger_failures(account_key: str, now: datetime) -> list[tuple[datetime, int]]:
    """(at, lock_seconds) of the account's failures without a device cookie, last hour."""
    return list(
        db.session.execute(
            select(LoginFailure.at, LoginFailure.lock_seconds)
            .where(
                LoginFailure.account_key == account_key,
                LoginFailure.device_hash.is_(None),
                LoginFailure.at > now - _HOUR,
            )
            .order_by(LoginFailure.at.desc())
        ).tuples()
    )


def _account_wait(stranger: list[tuple[datetime, int]], now: datetime) -> int:
    if not stranger:
        return 0
    at, lock = stranger[0]
    return _until(at + timedelta(seconds=lock), now)


def _stranger_lock(stranger: list[tuple[datetime, int]], now: datetime) -> int:
    """The lock a new wrong try puts on the account for strangers, within the hour's budget."""
    cfg = current_app.config
    in_window = 1 + sum(1 for at, _ in stranger if at > now - cfg["LOGIN_WINDOW"])
    wanted = _backoff(in_window, cfg["LOGIN_FREE_ATTEMPTS"])
    left = cfg["LOGIN_LOCK_BUDGET_SECONDS"] - sum(lock for _, lock in stranger)
    return min(wanted, max(left, cfg["LOGIN_SLOW_SECONDS"]))


def _stream_wait(condition, free: int, now: datetime) -> int:
    """Wait for a stream of failures (one device, one browser) with its own free tries."""
    times = db.session.scalars(
        select(LoginFailure.at)
        .where(condition, LoginFailure.at > now - current_app.config["LOGIN_WINDOW"])
        .order_by(LoginFailure.at.desc())
    ).all()
    if len(times) < free:
        return 0
    return _until(times[0] + timedelta(seconds=_backoff(len(times), free)), now)


def _class_wait(class_id: int, now: datetime) -> int:
    """A sliding-window limit on wrong PINs in one class from devices without a cookie."""
    cfg = current_app.config
    limit, window = cfg["LOGIN_CLASS_PIN_ATTEMPTS"], cfg["LOGIN_CLASS_WINDOW"]
    times = db.session.scalars(
        select(LoginFailure.at)
        .where(
            LoginFailure.class_id == class_id,
            LoginFailure.device_hash.is_(None),
            LoginFailure.at > now - window,
        )
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    ).all()
    return _until(times[-1] + window, now) if len(times) >= limit else 0


def _trusted_device(user: User | None, client: Client, now: datetime) -> str | None:
    """The hash of a valid device cookie this browser holds for the account, if any."""
    if user is None or not client.device_tokens:
        return None
    return db.session.scalar(
        select(TrustedDevice.token_hash)
        .where(
            TrustedDevice.user_id == user.id,
            TrustedDevice.token_hash.in_([_token_hash(t) for t in client.device_tokens]),
            TrustedDevice.expires_at > now,
        )
        .limit(1)
    )


def _attempt(
    user: User | None,
    account_key: str,
    matches: bool,
    client: Client | None,
    school_class: SchoolClass | None = None,
) -> SignInResult:
    """Throttle and record a sign-in whose secret was checked (`matches`) beforehand."""
    cfg, now, client = current_app.config, utcnow(), client or Client()
    device = _trusted_device(user, client, now)
    wait, error = 0, "throttled"
    if device is not None:
        device_rows = LoginFailure.device_hash == device
        if _stream_wait(device_rows, cfg["LOGIN_DEVICE_FREE_ATTEMPTS"], now):
            device = None  # a locked device cookie is worth no more than none
    stranger: list[tuple[datetime, int]] = []
    if device is None:
        stranger = _stranger_failures(account_key, now)
        wait = _account_wait(stranger, now)
        if client.key is not None:
            browser_rows = (LoginFailure.client_hash == client.key) & LoginFailure.device_hash.is_(
                None
            )
            wait = max(wait, _stream_wait(browser_rows, cfg["LOGIN_CLIENT_FREE_ATTEMPTS"], now))
        if not wait and school_class is not None and (wait := _class_wait(school_class.id, now)):
            error = "class_throttled"
    if wait:
        return SignInResult(error=error, retry_after=wait)
    if matches and user is not None and user.active:
        _forget_own_failures(account_key, device, client.key)
        return SignInResult(user=user)
    db.session.add(
        LoginFailure(
            account_key=account_key,
            device_hash=device,
            client_hash=client.key,
            class_id=school_class.id if school_class is not None else None,
            lock_seconds=_stranger_lock(stranger, now) if device is None else 0,
            at=now,
        )
    )
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - _horizon()))
    return SignInResult(error="invalid")


def _forget_own_failures(account_key: str, device: str | None, client_key: str | None) -> None:
    """A success forgets the misses made the same way (typos), not other people's."""
    if device is not None:
        same = LoginFailure.device_hash == device
    else:
        same = LoginFailure.device_hash.is_(None) & (
            LoginFailure.client_hash == client_key
            if client_key is not None
            else LoginFailure.client_hash.is_(None)
        )
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key, same))


def check_password(login: str, password: str, client: Client | None = None) -> SignInResult:
    with reads_first():
        user = find_account(login)
        stored = user.password_hash if user is not None else None
    matches = _verify(stored, password)
    key = _account_key(user) if user is not None else _login_key(login)
    return _attempt(user, key, matches, client)


def check_pin(
    learner: User, pin: str, client: Client | None = None, school_class: SchoolClass | None = None
) -> SignInResult:
    with reads_first():
        stored = learner.pin_hash
    matches = _verify(stored, pin)
    return _attempt(learner, _account_key(learner), matches, client, school_class)


def check_badge(
    learner: User | None, badge_key: str, live: bool, client: Client | None = None
) -> SignInResult:
    """A scanned badge, throttled like a PIN. `live`: the badge is live (the learner's
    activeness is checked as on every path). A refused badge (unknown, revoked) counts
    under its own `badge_key`, so a lost badge found by someone else locks nobody's PIN."""
    key = _account_key(learner) if learner is not None and live else badge_key
    return _attempt(learner if live else None, key, live, client)


def badge_key(secret_hash: str) -> str:
    """What a refused badge is counted under: keyed, like an unknown login."""
    return _login_key("badge:" + secret_hash)


def _verify(stored_hash: str | None, secret: str) -> bool:
    """Exactly one (slow) hash check on every path, locked, unknown or without a PIN alike,
    so the time of the answer tells nothing about the account. It runs with no transaction
    open (after `reads_first`), so a class signing in at once doesn't queue behind each
    other's checks holding SQLite's write lock."""
    return verify_secret(stored_hash, secret)


def seconds_locked(user: User) -> int:
    """How long a stranger (no device cookie) must wait before trying this account."""
    now = utcnow()
    return _account_wait(_stranger_failures(_account_key(user), now), now)


def recent_failures(user: User) -> int:
    """Wrong tries on this account (any device) within the sliding window."""
    since = utcnow() - current_app.config["LOGIN_WINDOW"]
    return db.session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.account_key == _account_key(user), LoginFailure.at > since
        )
    )


def remember_device(user: User, client: Client) -> str:
    """Issue a fresh device cookie for the account; return the browser's new cookie value.

    The browser keeps one token per account (several learners share a Chromebook), the
    newest first, at most LOGIN_DEVICES_PER_BROWSER; the one it had for this account is
    replaced, and tokens it drops or that expired are deleted.
    """
    cfg, now = current_app.config, utcnow()
    held = {_token_hash(t): t for t in client.device_tokens}
    db.session.execute(
        delete(TrustedDevice).where(
            TrustedDevice.user_id == user.id,
            or_(TrustedDevice.token_hash.in_(list(held)), TrustedDevice.expires_at <= now),
        )
    )
    valid = set(
        db.session.scalars(
            select(TrustedDevice.token_hash).where(
                TrustedDevice.token_hash.in_(list(held)), TrustedDevice.expires_at > now
            )
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        TrustedDevice(
            token_hash=_token_hash(token),
            user_id=user.id,
            expires_at=now + timedelta(days=cfg["LOGIN_DEVICE_DAYS"]),
        )
    )
    kept = [t for h, t in held.items() if h in valid]
    cap = cfg["LOGIN_DEVICES_PER_BROWSER"]
    if dropped := [_token_hash(t) for t in kept[cap - 1 :]]:
        db.session.execute(delete(TrustedDevice).where(TrustedDevice.token_hash.in_(dropped)))
    return ".".join([token, *kept[: cap - 1]])


def forget_devices(user: User) -> None:
    """Revoke every device cookie of the account (after a password or PIN reset)."""
    db.session.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user.id))


class ClassEnded(Exception):
    """The class's term is over: its code stays on record but signs no one in."""

    def __init__(self, school_class: SchoolClass):
        super().__init__(school_class.class_code)
        self.school_class = school_class


def class_by_code(code: str) -> SchoolClass | None:
    """The class this sign-in code names, or None; ClassEnded for last year's class."""
    found = db.session.scalar(
        select(SchoolClass).where(func.upper(SchoolClass.class_code) == code.strip().upper())
    )
    if found is not None and found.term.has_ended(today()):
        raise ClassEnded(found)
    return found


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


def idle_limit(role: Role) -> timedelta:
    """How long a session of someone with this role may sit idle."""
    cfg = current_app.config
    return cfg["IDLE_TIMEOUT_LEARNER"] if role is Role.LEARNER else cfg["IDLE_TIMEOUT_STAFF"]


def session_select(*columns):
    """This browser's session row by its token (`token_hash`), with what decides validity.

    Every query that authenticates starts here and adds its own `columns` (and joins):
    the sign-in lookup adds the User, the learner's fast poll their goal's change token.
    Whether the row found is a live session is then `session_state`'s decision alone.
    """
    return (
        select(
            LoginSession.user_id,
            LoginSession.last_seen,
            User.active,
            User.role,
            LoginSession.id.label("session_id"),
            *columns,
        )
        .select_from(LoginSession)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == bindparam("token_hash"))
    )


class SessionState(enum.Enum):
    NONE = "none"  # no such token, or bound to someone other than the user expected
    ENDED = "ended"  # idle too long, or the account was deactivated: the row must go
    LIVE = "live"


def session_state(row, user_id: str | None, now: datetime | None = None) -> SessionState:
    """THE rule for a session: the token's row exists, is bound to the user Flask-Login
    expects, its account is active, and it was seen within that role's idle limit.

    `row` is a row of `session_select` (or None when the token found nothing). The
    normal request path (`session_user`) and the learner's fast poll both decide here.
    """
    if row is None or user_id is None or str(row.user_id) != str(user_id):
        return SessionState.NONE
    if not row.active or (now or utcnow()) - row.last_seen > idle_limit(row.role):
        return SessionState.ENDED
    return SessionState.LIVE


_SESSION_LOOKUP = session_select(User)


def session_user(user_id: str, *, background: bool) -> User | None:
    """The user bound to this browser's session token, or None unless it is live."""
    token_hash = current_session_token_hash()
    if not token_hash:
        return None
    now = utcnow()
    row = db.session.execute(_SESSION_LOOKUP, {"token_hash": token_hash}).first()
    state = session_state(row, user_id, now)
    if state is SessionState.NONE:
        return None
    if state is SessionState.ENDED:
        with writing():
            db.session.execute(delete(LoginSession).where(LoginSession.id == row.session_id))
        return None
    user, limit, last_seen = row.User, idle_limit(row.role), row.last_seen
    # A tracker poll is not the person doing something: it must not keep an
    # abandoned shared Chromebook signed in. (A short timeout is touched more often,
    # or activity could never extend it.)
    if not background and now - last_seen > min(TOUCH_EVERY, limit / 4):
        with writing():
            db.session.execute(
                update(LoginSession).where(LoginSession.id == row.session_id).values(last_seen=now)
            )
        last_seen = now
    g.idle_deadline = last_seen + limit  # told to the page, which warns before it
    return user


def keep_alive(user: User) -> None:
    """The "Stay signed in" button: count now as activity, however recent the last touch."""
    if token := session.get(SESSION_KEY):
        now = utcnow()
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token))
            .values(last_seen=now)
        )
        g.idle_deadline = now + idle_limit(user.role)
