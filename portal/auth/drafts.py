"""Forms sent after a session ended, kept on the server until their sender signs in again.

Without JavaScript a learner who types a long reflection on a shared Chromebook and
submits it after the idle timeout would lose it: the POST can only answer "sign in".
Instead the fields are kept for the person whose session it was (the signed session
cookie still names them), and after they sign in again the portal offers the same form
back, ready to send, with a fresh CSRF token. The route that receives it validates it as
it would any post, so a 422 re-renders the original form with the words in it.
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app, request, session
from flask_login import current_user
from sqlalchemy import delete, select

from portal.auth.models import PendingWrite, User
from portal.core.extensions import db
from portal.core.timeutil import utcnow

RESUME_FIELD = "_pending_write"
# Secrets and tokens are never kept; the new form gets its own CSRF token.
SKIPPED_FIELDS = frozenset({"csrf_token", "password", "pin", "current_password", RESUME_FIELD})
MAX_BYTES = 200_000
FLASK_LOGIN_USER_KEY = "_user_id"


def stash_ended_post() -> bool:
    """Keep this POST's text fields for the person whose session just ended; True if kept."""
    user_id = session.get(FLASK_LOGIN_USER_KEY)
    if request.method != "POST" or not user_id or not str(user_id).isdecimal():
        return False
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in SKIPPED_FIELDS and value.strip()
    ]
    payload = json.dumps(fields, ensure_ascii=False)
    if not fields or len(payload.encode()) > MAX_BYTES:
        return False
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return False
    db.session.execute(delete(PendingWrite).where(PendingWrite.user_id == user.id))
    db.session.add(PendingWrite(user_id=user.id, action=request.path, fields=payload))
    db.session.commit()
    return True


def waiting_for(user: User) -> PendingWrite | None:
    """The form this person sent while signed out, if it is recent enough to offer back."""
    hours = current_app.config["PENDING_WRITE_HOURS"]
    return db.session.scalar(
        select(PendingWrite).where(
            PendingWrite.user_id == user.id,
            PendingWrite.created_at > utcnow() - timedelta(hours=hours),
        )
    )


def fields_of(pending: PendingWrite) -> list[tuple[str, str]]:
    return [(name, value) for name, value in json.loads(pending.fields)]


def forget(user_id: int) -> None:
    """Drop what was kept for this person (used, discarded, or signing out)."""
    db.session.execute(delete(PendingWrite).where(PendingWrite.user_id == user_id))


def consume_resent() -> None:
    """A form sent again from the resume page: what was kept has done its job.

    Runs before the view, so whatever the view answers (saved, or the form with its
    errors and the words in it) the kept copy is gone.
    """
    if request.method != "POST" or RESUME_FIELD not in request.form:
        return
    if current_user.is_authenticated and waiting_for(current_user) is not None:
        forget(current_user.id)
        db.session.commit()  # on its own: the view may answer 422 and commit nothing
