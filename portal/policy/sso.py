"""District sign-in providers: only the district admins of the provider's district reach one."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from portal.auth.models import Role
from portal.core.extensions import db
from portal.sso.models import SsoProvider


def sso_district_id() -> int:
    """The district whose sign-in providers the current user manages, or 403."""
    if current_user.role is not Role.DISTRICT_ADMIN or current_user.org_id is None:
        abort(403)
    return current_user.org_id


def load_sso_provider(provider_id: int) -> SsoProvider:
    """A provider of the current district admin's district, or 404."""
    found = db.session.get(SsoProvider, provider_id)
    if found is None or found.district_id != sso_district_id():
        abort(404)
    return found
