"""OpenID Connect providers on loopback for the sign-in tests, no internet needed.

- `MockProvider`: PyPI `oidc-provider-mock` (a real Authlib-based provider) served by
  werkzeug in a thread on 127.0.0.1; a test sets each user's claims (`set_user`) and
  signs in as them on its authorization form (`authorize`).
- `ForgingProvider`: a tiny provider whose key the test holds, for the ID tokens the mock
  will not issue (expired, for another client, signed by a stranger's key). It answers
  the authorization request at once with a code, and the token request with whatever
  claims the test asked for next.

Both speak real HTTP; nothing in the portal is mocked.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.wrappers import Request, Response


@contextmanager
def _serve(wsgi_app):
    server = werkzeug.serving.make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class MockProvider:
    def __init__(self, issuer: str):
        self.issuer = issuer
        self.http = httpx.Client(timeout=5)  # one client: each new one reads the CA bundle

    def set_user(self, sub: str, **claims) -> None:
        response = self.http.put(f"{self.issuer}/users/{sub}", json=claims)
        response.raise_for_status()

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign in as `sub` on the provider's form; the redirect back to the portal."""
        assert authorization_url.startswith(self.issuer + "/"), authorization_url
        form = self.http.get(authorization_url)
        assert form.status_code == 200, form.text[:500]
        answer = self.http.post(authorization_url, data={"sub": sub})
        assert answer.status_code in (302, 303), answer.text[:500]
        return answer.headers["Location"]


@contextmanager
def mock_provider():
    with _serve(oidc_provider_mock.app(require_nonce=True)) as issuer:
        provider = MockProvider(issuer)
        yield provider
        provider.http.close()


class ForgingProvider:
    """Issues ID tokens with the claims a test sets (`next_claims`), signed by its own key
    unless `sign_with` names another."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "forge-1"}, private=True)
        self.issuer = ""
        self.codes: dict[str, dict] = {}
        self.next_claims: dict = {}
        self.sign_with: RSAKey | None = None
        self.refuse_code = False  # answer the token request with invalid_grant
        self.http = httpx.Client(timeout=5)

    def wsgi(self, environ, start_response):
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        path = request.path
        if path == "/.well-known/openid-configuration":
            return _json(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )
        if path == "/jwks":
            return _json(KeySet([self.key]).as_dict(private=False))
        if path == "/authorize":
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": request.args["nonce"], "aud": request.args["client_id"]}
            query = urlencode({"code": code, "state": request.args["state"]})
            back = f"{request.args['redirect_uri']}?{query}"
            return Response(status=302, headers={"Location": back})
        if path == "/token" and request.method == "POST":
            grant = self.codes.pop(request.form.get("code", ""), None)
            if grant is None or not request.form.get("code_verifier") or self.refuse_code:
                return _json({"error": "invalid_grant"}, 400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": grant["aud"],
                "sub": "forged-sub",
                "iat": now,
                "exp": now + 300,
                "nonce": grant["nonce"],
                **self.next_claims,
            }
            key = self.sign_with or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
            return _json({"access_token": "x", "token_type": "Bearer", "id_token": id_token})
        return Response("not found", 404)

    def authorize(self, authorization_url: str) -> str:
        answer = self.http.get(authorization_url)
        assert answer.status_code == 302, answer.text[:300]
        return answer.headers["Location"]


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


@contextmanager
def forging_provider():
    forger = ForgingProvider()
    with _serve(forger.wsgi) as issuer:
        forger.issuer = issuer
        yield forger
        forger.http.close()


def portal_path(url: str) -> str:
    """The path and query of a redirect back to the portal, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
