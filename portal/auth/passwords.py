"""argon2id hashing for passwords and PINs."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verifying against this keeps the timing of "no such user" like a real check.
_DUMMY_HASH = None


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_KIB"])


def hash_secret(secret: str) -> str:
    return _hasher().hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when secret matches; always spends the time of one verification."""
    global _DUMMY_HASH
    hasher = _hasher()
    if stored_hash is None:
        _DUMMY_HASH = _DUMMY_HASH or hasher.hash("not-a-real-secret")
        stored_hash = _DUMMY_HASH
        secret = secret + "\0"
    try:
        return hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
