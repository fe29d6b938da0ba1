"""argon2id hashing for passwords and PINs."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verifying against one of these keeps the timing of "no such user" like a real check.
# One per set of parameters: a dummy made under other parameters (another app in the
# same process, cheap test settings) would answer "no such user" fast.
_DUMMY_HASHES: dict[tuple[int, int], str] = {}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_KIB"])


def hash_secret(secret: str) -> str:
    return _hasher().hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when secret matches; always spends the time of one verification."""
    hasher = _hasher()
    if stored_hash is None:
        params = (hasher.time_cost, hasher.memory_cost)
        if params not in _DUMMY_HASHES:
            _DUMMY_HASHES[params] = hasher.hash("not-a-real-secret")
        stored_hash = _DUMMY_HASHES[params]
        secret = secret + "\0"
    try:
        return hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
