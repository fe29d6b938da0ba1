"""District sign-in through OpenID Connect: the providers a district connects, the sign-ins
they refused (for the admin to act on), flows under way, and the district's choice to
sign learners in only through its provider."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow


class SsoKind(enum.StrEnum):
    GOOGLE = "google"
    CLEVER = "clever"
    CLASSLINK = "classlink"
    OIDC = "oidc"


class MatchField(enum.StrEnum):
    """What a provider's claim is compared with in the roster."""

    IDENTIFIER = "identifier"  # a OneRoster userIds entry of `identifier_type`
    USERNAME = "username"
    EMAIL = "email"  # only with email_verified true


class SsoProvider(db.Model):
    """An OpenID Connect provider a district admin connected, for that district's people."""

    __tablename__ = "sso_providers"
    __stamp__ = stamps.NOTHING  # the sign-in and admin pages are never cached or polled

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[SsoKind] = mapped_column(db.Enum(SsoKind, native_enum=False, length=20))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    # Fernet token (portal/sso/crypto.py); the plain secret is never stored or shown.
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    match_claim: Mapped[str] = mapped_column(String(80))
    match_field: Mapped[MatchField] = mapped_column(
        db.Enum(MatchField, native_enum=False, length=20)
    )
    identifier_type: Mapped[str | None] = mapped_column(String(80))  # e.g. "Clever"
    google_domains: Mapped[str | None] = mapped_column(String(500))  # space-separated
    clever_district_id: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def domains(self) -> list[str]:
        return [d for d in (self.google_domains or "").lower().split() if d]


class SsoAttempt(db.Model):
    """A sign-in a provider vouched for that Waypoint refused, kept for the district admin.

    Holds what the admin needs to act (which rule refused it and the claim values it
    looked at), never a token, code or secret.
    """

    __tablename__ = "sso_attempts"
    __stamp__ = stamps.NOTHING

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("sso_providers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(255))  # the provider's `sub`
    match_value: Mapped[str | None] = mapped_column(String(255))  # the configured claim
    email: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(String(255))  # e.g. the `hd` or `district`

    provider: Mapped[SsoProvider] = relationship(lazy="joined")


class SsoFlow(db.Model):
    """A sign-in under way: the state, nonce and PKCE verifier, kept on the server.

    The browser holds only the state (in its session), so a callback must come from the
    browser that started it, and deleting the row when it is used makes it single-use.
    """

    __tablename__ = "sso_flows"
    __stamp__ = stamps.NOTHING

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("sso_providers.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SsoDistrictSettings(db.Model):
    """A district's sign-in choices: once SSO works, learners may be kept off passwords."""

    __tablename__ = "sso_district_settings"
    __stamp__ = stamps.NOTHING

    district_id: Mapped[int] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    learner_passwords_off: Mapped[bool] = mapped_column(default=False)
