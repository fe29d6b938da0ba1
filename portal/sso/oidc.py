"""The OpenID Connect protocol, through Authlib: discovery, the authorization request with
PKCE (S256), the code exchange, and the ID token's verification (signature against the
provider's JWKS, issuer, audience, expiry, nonce) with joserfc, Authlib's JOSE library.

Outbound HTTP goes only to the configured issuer's discovery document and the endpoints
it names, which must be https (plain http only on loopback, for tests and local trials).
Discovery documents and key sets are cached per app (per process) for `SSO_METADATA_TTL`
seconds; an ID token signed by a key the cache does not know refetches the key set once,
so a provider's key rotation needs no restart.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

DISCOVERY_PATH = "/.well-known/openid-configuration"
SCOPES = "openid email profile"
LEEWAY_SECONDS = 30  # clock skew allowed on exp/iat
ALGORITHMS = ["RS256", "ES256", "PS256"]
HTTP_TIMEOUT = 8.0


class ProviderError(Exception):
    """The provider could not be reached, or answered something we cannot use."""


class TokenRejected(Exception):
    """The ID token failed a check: `reason` names which (signature, iss, aud, exp, nonce)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Client:
    """What the protocol needs of a provider (no model, so this module stays plumbing)."""

    issuer: str
    client_id: str
    client_secret: str
    also_issued_as: tuple[str, ...] = ()  # other spellings of the issuer its tokens carry


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_url(url: str) -> bool:
    """https anywhere, or http on loopback only."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(url))


def _cache() -> dict:
    return current_app.extensions.setdefault("sso_metadata", {})


def _tls() -> ssl.SSLContext:
    """One TLS context per app: building one reads the CA bundle (~0.1 s) each time."""
    found = current_app.extensions.get("sso_tls")
    if found is None:
        found = current_app.extensions["sso_tls"] = ssl.create_default_context(
            cafile=certifi.where()
        )
    return found


def _get_json(url: str) -> dict:
    if not allowed_url(url):
        raise ProviderError(f"refusing to fetch {url}: not https")
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT, follow_redirects=False, verify=_tls())
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderError(f"{url}: {type(exc).__name__}") from exc
    if not isinstance(body, dict):
        raise ProviderError(f"{url}: not a JSON object")
    return body


def _cached(key: tuple, fetch, *, fresh: bool = False):
    ttl = current_app.config.get("SSO_METADATA_TTL", 3600)
    now = time.monotonic()
    found = _cache().get(key)
    if found is not None and not fresh and now - found[0] < ttl:
        return found[1]
    value = fetch()
    _cache()[key] = (now, value)
    return value


def discovery(issuer: str) -> dict:
    """The provider's discovery document; its `issuer` must be exactly the configured one."""

    def fetch() -> dict:
        doc = _get_json(issuer.rstrip("/") + DISCOVERY_PATH)
        if doc.get("issuer") != issuer:
            raise ProviderError("the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(name), str) or not allowed_url(doc[name]):
                raise ProviderError(f"discovery: {name} missing or not https")
        return doc

    return _cached(("discovery", issuer), fetch)


def _key_set(issuer: str, *, fresh: bool = False) -> KeySet:
    uri = discovery(issuer)["jwks_uri"]

    def fetch() -> KeySet:
        try:
            return KeySet.import_key_set(_get_json(uri))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ProviderError("the provider's key set is unreadable") from exc

    return _cached(("jwks", uri), fetch, fresh=fresh)


def end_session_endpoint(issuer: str) -> str | None:
    """Where the provider ends its own session, if its discovery document says."""
    try:
        found = discovery(issuer).get("end_session_endpoint")
    except ProviderError:
        return None
    return found if isinstance(found, str) and allowed_url(found) else None


def _session(client: Client, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
        verify=_tls(),
    )


def authorization_url(
    client: Client,
    redirect_uri: str,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
    login_hint: str | None = None,
    extra: dict | None = None,
) -> str:
    """The provider's authorization URL for a code flow with PKCE (S256), state and nonce."""
    endpoint = discovery(client.issuer)["authorization_endpoint"]
    params = dict(extra or {})
    if login_hint:
        params["login_hint"] = login_hint
    with _session(client, redirect_uri) as oauth:
        url, _state = oauth.create_authorization_url(
            endpoint, state=state, nonce=nonce, code_verifier=code_verifier, **params
        )
    return url


def exchange_code(client: Client, redirect_uri: str, code: str, code_verifier: str) -> str:
    """Trade the code (with the PKCE verifier) for tokens; return the raw ID token only."""
    endpoint = discovery(client.issuer)["token_endpoint"]
    try:
        with _session(client, redirect_uri) as oauth:
            token = oauth.fetch_token(endpoint, code=code, code_verifier=code_verifier)
    except (AuthlibBaseError, httpx.HTTPError, ValueError) as exc:  # OAuthError included
        raise ProviderError(f"token endpoint: {type(exc).__name__}") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise ProviderError("the token response holds no ID token")
    return id_token


def verify_id_token(client: Client, id_token: str, nonce: str, now: float | None = None) -> dict:
    """The ID token's claims once signature, iss, aud (and azp), exp, iat and nonce hold."""
    keys = _key_set(client.issuer)
    try:
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except JoseError:
            # Perhaps a key the provider rotated in since we cached its key set.
            token = jwt.decode(id_token, _key_set(client.issuer, fresh=True), algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise TokenRejected("signature") from exc
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "values": [client.issuer, *client.also_issued_as]},
        aud={"essential": True, "value": client.client_id},
        exp={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        claim = getattr(exc, "claim", None) or str(exc)
        raise TokenRejected(_reason(claim, exc)) from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client.client_id:
        raise TokenRejected("aud")
    return claims


def _reason(claim: str, exc: Exception) -> str:
    if type(exc).__name__ == "ExpiredTokenError":
        return "exp"
    for name in ("iss", "aud", "exp", "nonce", "sub", "iat", "nbf"):
        if name in claim:
            return name
    return "claims"
