"""Writing the access log: staff reads of a learner's records."""

from flask import g, request

from portal.audit.models import AccessLogEntry
from portal.auth.models import User
from portal.core.database import writing
from portal.core.extensions import db
from portal.core.web import is_background_request

# Reads by the learner themself or by their own family are not staff reads.
_LOGGED = {"teacher", "former_teacher", "school_admin", "district_admin"}


def record_read(actor: User, learner: User, relation: str, record: str) -> None:
    """Note a staff member's read; it is written once the page has rendered successfully.

    Background polls of a page already open are not new reads.
    """
    if relation not in _LOGGED or is_background_request():
        return
    g.setdefault("access_log", []).append(
        AccessLogEntry(actor_id=actor.id, learner_id=learner.id, page=request.path, record=record)
    )


def flush_access_log(response):
    """after_request: persist the reads noted during a successful request."""
    rows = g.pop("access_log", None)
    if rows and response.status_code < 400:
        with writing():
            db.session.add_all(rows)
    return response
