"""Client secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key from config.

The key is `SSO_SECRET_KEY` (a Fernet key: 32 url-safe base64 bytes) when set, else
derived from SECRET_KEY with HKDF-SHA256, so a database dump alone reveals no secret.
Rotating SECRET_KEY without setting SSO_SECRET_KEY makes the stored secrets unreadable:
the providers then have to be entered again (docs/architecture.md).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_INFO = b"waypoint sso client secrets v1"


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another key."""


def _fernet() -> Fernet:
    configured = current_app.config.get("SSO_SECRET_KEY")
    if configured:
        return Fernet(configured)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        current_app.config["SECRET_KEY"].encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable from exc
