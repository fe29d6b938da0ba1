"""District sign-in: providers, the flow's server-side half, and who a provider's claims are.

Routes call these and commit; nothing here commits. Matching never creates an account:
a provider's ID token names a person only if it matches exactly one rostered user of
the provider's district by the provider's rule (README, "Connecting Google, Clever or
ClassLink"):

- google: `hd` is one of the district's domains AND `email_verified` is true, then the
  configured claim (default `email`) against the roster;
- clever: the `district` claim is the configured Clever district id, then the Clever user
  id (`sub`) against the roster's userIds of type "Clever"; never e-mail alone;
- classlink / oidc: the configured claim against userIds (of the configured type),
  username or e-mail.

Matching on e-mail always needs `email_verified` true.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session, url_for
from sqlalchemy import delete, func, or_, select

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.roster.models import Org, OrgType
from portal.rostering.models import UserIdentifier
from portal.sso import crypto, oidc
from portal.sso.models import (
    MatchField,
    SsoAttempt,
    SsoDistrictSettings,
    SsoFlow,
    SsoKind,
    SsoProvider,
)

STATE_KEY = "sso_state"  # the browser's half of a flow under way: its state only
SIGNED_IN_WITH = "sso_provider"  # set on a session that an SSO sign-in started
FLOW_TTL = timedelta(minutes=10)
ATTEMPTS_SHOWN = 50
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")

DEFAULT_ISSUERS = {
    SsoKind.GOOGLE: "https://accounts.google.com",
    SsoKind.CLEVER: "https://clever.com",
    SsoKind.CLASSLINK: "https://launchpad.classlink.com",
}
# Google's ID tokens may name their issuer without the scheme (Google's OIDC docs).
GOOGLE_BARE_ISSUER = ("accounts.google.com",)
# Where a person ends the provider's own session when discovery names no end_session_endpoint.
KNOWN_SIGN_OUT = {
    SsoKind.GOOGLE: "https://accounts.google.com/Logout",
    SsoKind.CLEVER: "https://clever.com/logout",
    SsoKind.CLASSLINK: "https://launchpad.classlink.com/logout",
}
# kind -> (claim, field, identifier type) unless the admin says otherwise.
DEFAULT_MATCH = {
    SsoKind.GOOGLE: ("email", MatchField.EMAIL, None),
    SsoKind.CLEVER: ("sub", MatchField.IDENTIFIER, "Clever"),
    SsoKind.CLASSLINK: ("sub", MatchField.IDENTIFIER, "ClassLink"),
    SsoKind.OIDC: ("email", MatchField.EMAIL, None),
}

# Reason codes of refused sign-ins (SsoAttempt.reason); their words are in routes.py.
UNKNOWN = "unknown"
DEACTIVATED = "deactivated"
WRONG_DOMAIN = "wrong_domain"
WRONG_DISTRICT = "wrong_district"
EMAIL_UNVERIFIED = "email_unverified"
NO_CLAIM = "no_claim"
AMBIGUOUS = "ambiguous"
STATE = "state"
TOKEN = "token"  # noqa: S105 (a reason code) signature, issuer, audience, expiry or nonce
PROVIDER = "provider"  # unreachable, or refused the code


class Invalid(ValueError):
    """A provider's settings do not make sense; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# --- Providers ------------------------------------------------------------------------


@dataclass
class ProviderInput:
    name: str
    kind: SsoKind
    district_id: int
    client_id: str
    client_secret: str
    issuer: str | None = None
    slug: str | None = None
    match_claim: str | None = None
    match_field: MatchField | None = None
    identifier_type: str | None = None
    google_domains: str | None = None
    clever_district_id: str | None = None


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "provider"


def add_provider(data: ProviderInput) -> SsoProvider:
    """Check and store a provider; its secret is encrypted here and never comes back."""
    district = db.session.get(Org, data.district_id)
    if district is None or district.type is not OrgType.DISTRICT:
        raise Invalid("district_id", "There is no district with that id.")
    kind = SsoKind(data.kind)
    issuer = (data.issuer or DEFAULT_ISSUERS.get(kind) or "").strip()
    if not issuer or not oidc.allowed_url(issuer) or (
        # A provider on this machine is for tests and trials: elsewhere it would let an
        # admin make the server fetch from its own loopback services.
        oidc.is_loopback(issuer) and not _loopback_allowed()
    ):
        raise Invalid("issuer", "The issuer must be an https URL.")
    slug = (data.slug or slugify(data.name)).strip().lower()
    if not SLUG_RE.match(slug):
        raise Invalid("slug", "Use lowercase letters, digits and dashes.")
    if db.session.scalar(select(SsoProvider.id).where(SsoProvider.slug == slug)):
        raise Invalid("name", "Another provider already has that name.")
    if not data.client_id.strip() or not data.client_secret:
        raise Invalid("client_id", "Both the client id and the client secret are needed.")
    claim, field, id_type = DEFAULT_MATCH[kind]
    claim = (data.match_claim or claim).strip()
    field = MatchField(data.match_field or field)
    id_type = (data.identifier_type or id_type or "").strip() or None
    if kind is SsoKind.CLEVER and field is not MatchField.IDENTIFIER:
        raise Invalid("match_field", "Clever sign-ins match the Clever id in the roster.")
    if field is MatchField.IDENTIFIER and not id_type:
        raise Invalid("identifier_type", "Say which userIds type holds the id (e.g. Clever).")
    domains = " ".join((data.google_domains or "").replace(",", " ").lower().split()) or None
    if kind is SsoKind.GOOGLE and not domains:
        raise Invalid("google_domains", "Give the district's Google Workspace domain(s).")
    clever_district = (data.clever_district_id or "").strip() or None
    if kind is SsoKind.CLEVER and not clever_district:
        raise Invalid("clever_district_id", "Give the district's Clever district id.")
    provider = SsoProvider(
        district_id=district.id,
        slug=slug,
        name=data.name.strip(),
        kind=kind,
        issuer=issuer,
        client_id=data.client_id.strip(),
        client_secret_encrypted=crypto.encrypt(data.client_secret),
        match_claim=claim,
        match_field=field,
        identifier_type=id_type if field is MatchField.IDENTIFIER else None,
        google_domains=domains,
        clever_district_id=clever_district,
    )
    db.session.add(provider)
    db.session.flush()
    return provider


def _loopback_allowed() -> bool:
    return bool(current_app.testing or current_app.config.get("SSO_ALLOW_LOOPBACK"))


def remove_provider(provider: SsoProvider) -> None:
    db.session.execute(delete(SsoAttempt).where(SsoAttempt.provider_id == provider.id))
    db.session.execute(delete(SsoFlow).where(SsoFlow.provider_id == provider.id))
    db.session.delete(provider)
    db.session.flush()


def provider_by_slug(slug: str) -> SsoProvider | None:
    return db.session.scalar(select(SsoProvider).where(SsoProvider.slug == slug))


def providers_of(district_id: int) -> list[SsoProvider]:
    return list(
        db.session.scalars(
            select(SsoProvider)
            .where(SsoProvider.district_id == district_id)
            .order_by(SsoProvider.name)
        )
    )


def all_providers() -> list[SsoProvider]:
    return list(db.session.scalars(select(SsoProvider).order_by(SsoProvider.slug)))


def sign_in_choices(district_id: int | None) -> list[SsoProvider]:
    """The buttons for the sign-in page: that district's enabled providers; without a
    district, every enabled provider when they all belong to one district, else none."""
    query = select(SsoProvider).where(SsoProvider.enabled.is_(True)).order_by(SsoProvider.name)
    if district_id is not None:
        return list(db.session.scalars(query.where(SsoProvider.district_id == district_id)))
    found = list(db.session.scalars(query))
    return found if len({p.district_id for p in found}) == 1 else []


def recent_attempts(district_id: int) -> list[SsoAttempt]:
    return list(
        db.session.scalars(
            select(SsoAttempt)
            .join(SsoProvider, SsoProvider.id == SsoAttempt.provider_id)
            .where(SsoProvider.district_id == district_id)
            .order_by(SsoAttempt.at.desc(), SsoAttempt.id.desc())
            .limit(ATTEMPTS_SHOWN)
        )
    )


def district_settings(district_id: int) -> SsoDistrictSettings:
    found = db.session.get(SsoDistrictSettings, district_id)
    if found is None:
        found = SsoDistrictSettings(district_id=district_id, learner_passwords_off=False)
    return found


def set_learner_passwords_off(district_id: int, off: bool) -> None:
    found = db.session.get(SsoDistrictSettings, district_id)
    if found is None:
        found = SsoDistrictSettings(district_id=district_id)
        db.session.add(found)
    found.learner_passwords_off = off
    db.session.flush()


def district_of(user: User) -> int | None:
    """The district a user belongs to (through their school, or directly for district staff)."""
    if user.org is None:
        return None
    return user.org.id if user.org.type is OrgType.DISTRICT else user.org.parent_id


def password_refused(user: User) -> bool:
    """Is this learner's district signing its learners in only through its provider?"""
    if user.role is not Role.LEARNER:
        return False
    district_id = district_of(user)
    if district_id is None:
        return False
    return bool(
        db.session.scalar(
            select(SsoDistrictSettings.learner_passwords_off).where(
                SsoDistrictSettings.district_id == district_id
            )
        )
    )


# --- The flow -------------------------------------------------------------------------


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def redirect_uri(provider: SsoProvider) -> str:
    """The callback URL the district registers with its provider."""
    return url_for("sso.callback", slug=provider.slug, _external=True)


def initiate_uri(provider: SsoProvider) -> str:
    """The URL a provider's portal opens to start a sign-in (third-party initiated login)."""
    return url_for("sso.initiate", slug=provider.slug, _external=True)


def client_of(provider: SsoProvider) -> oidc.Client:
    also = GOOGLE_BARE_ISSUER if provider.issuer == DEFAULT_ISSUERS[SsoKind.GOOGLE] else ()
    return oidc.Client(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=crypto.decrypt(provider.client_secret_encrypted),
        also_issued_as=also,
    )


def start(provider: SsoProvider, next_url: str | None, login_hint: str | None = None) -> str:
    """Begin a sign-in: keep state, nonce and PKCE verifier here; return the provider URL.

    Call inside `writing()` (it writes in a GET request)."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    # The provider's discovery document is fetched (or cached) before anything is written,
    # so no database lock is held while the provider answers.
    url = oidc.authorization_url(
        client_of(provider),
        redirect_uri(provider),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        login_hint=login_hint,
        extra={"hd": provider.domains[0]} if provider.kind is SsoKind.GOOGLE else None,
    )
    now = utcnow()
    db.session.execute(delete(SsoFlow).where(SsoFlow.created_at < now - FLOW_TTL))
    db.session.add(
        SsoFlow(
            state_hash=_hash(state),
            provider_id=provider.id,
            nonce=nonce,
            code_verifier=verifier,
            next_url=next_url,
            created_at=now,
        )
    )
    session[STATE_KEY] = state
    return url


def take_flow(provider: SsoProvider, state: str | None) -> SsoFlow | None:
    """The flow this callback finishes, used up; None for a missing, tampered, replayed,
    stale or other browser's state."""
    held = session.pop(STATE_KEY, None)
    if not state or not held or not secrets.compare_digest(state, held):
        return None
    flow = db.session.scalar(select(SsoFlow).where(SsoFlow.state_hash == _hash(state)))
    if flow is None:
        return None
    db.session.delete(flow)
    db.session.flush()
    if flow.provider_id != provider.id or utcnow() - flow.created_at > FLOW_TTL:
        return None
    return flow


def finish(provider: SsoProvider, flow: SsoFlow, code: str) -> dict:
    """Exchange the code and verify the ID token; its claims (raises ProviderError,
    TokenRejected)."""
    client = client_of(provider)
    id_token = oidc.exchange_code(client, redirect_uri(provider), code, flow.code_verifier)
    return oidc.verify_id_token(client, id_token, flow.nonce)


# --- Who the claims name ----------------------------------------------------------------


@dataclass
class Match:
    user: User | None = None
    reason: str | None = None  # a refusal code when user is None


def _text(value) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)[:255]
    return None


def match(provider: SsoProvider, claims: dict) -> Match:
    """The active rostered person of the provider's district these claims name, or why not."""
    if provider.kind is SsoKind.GOOGLE:
        hd = _text(claims.get("hd"))
        if hd is None or hd.lower() not in provider.domains:
            return Match(reason=WRONG_DOMAIN)
        if claims.get("email_verified") is not True:
            return Match(reason=EMAIL_UNVERIFIED)
    if provider.kind is SsoKind.CLEVER and (
        _text(claims.get("district")) != provider.clever_district_id
    ):
        return Match(reason=WRONG_DISTRICT)
    value = _text(claims.get(provider.match_claim))
    if not value:
        return Match(reason=NO_CLAIM)
    if provider.match_field is MatchField.EMAIL and claims.get("email_verified") is not True:
        return Match(reason=EMAIL_UNVERIFIED)
    in_district = or_(
        User.org_id == provider.district_id,
        User.org_id.in_(select(Org.id).where(Org.parent_id == provider.district_id)),
    )
    query = select(User).where(in_district)
    if provider.match_field is MatchField.IDENTIFIER:
        query = query.join(UserIdentifier, UserIdentifier.user_id == User.id).where(
            UserIdentifier.type == provider.identifier_type,
            UserIdentifier.identifier == value,
        )
    elif provider.match_field is MatchField.USERNAME:
        query = query.where(func.lower(User.username) == value.lower())
    else:
        query = query.where(func.lower(User.email) == value.lower())
    found = list(db.session.scalars(query.distinct().limit(2)))
    if not found:
        return Match(reason=UNKNOWN)
    if len(found) > 1:
        return Match(reason=AMBIGUOUS)
    if not found[0].active:
        return Match(reason=DEACTIVATED)
    return Match(user=found[0])


def log_attempt(provider: SsoProvider, reason: str, claims: dict | None = None) -> None:
    """Keep a refused sign-in for the admin: the rule and the claim values, no token."""
    claims = claims or {}
    detail = claims.get("hd") if provider.kind is SsoKind.GOOGLE else claims.get("district")
    db.session.add(
        SsoAttempt(
            provider_id=provider.id,
            at=utcnow(),
            reason=reason,
            subject=_text(claims.get("sub")),
            match_value=_text(claims.get(provider.match_claim)),
            email=_text(claims.get("email")),
            detail=_text(detail),
        )
    )


def sign_out_url(provider_slug: str | None) -> tuple[SsoProvider | None, str | None]:
    """The provider a session was started with, and where its own session ends."""
    provider = provider_by_slug(provider_slug) if provider_slug else None
    if provider is None:
        return None, None
    url = oidc.end_session_endpoint(provider.issuer) or KNOWN_SIGN_OUT.get(provider.kind)
    return provider, url
