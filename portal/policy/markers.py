"""View markers: every route says who may call it (tests/test_policy_coverage.py checks)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from portal.auth.models import Role
from portal.core.extensions import login_manager


def public(view: Callable) -> Callable:
    """Mark a view as open to anyone, signed in or not."""
    view.access = "public"
    return view


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Require a signed-in user with one of the allowed roles (all roles if none given)."""
    allowed_set = frozenset(allowed) or frozenset(Role)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed_set:
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = ("roles", allowed_set)
        return wrapper

    return decorate
