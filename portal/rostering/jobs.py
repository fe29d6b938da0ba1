"""The two background jobs of rostering: a dry run, and an apply with progress."""

from __future__ import annotations

import time
from pathlib import Path

from flask import current_app

from portal.auth.models import User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.roster.models import Org
from portal.rostering.apply import ImportRefused, apply_import, dry_run
from portal.rostering.plan import say


def remove_upload(path: str) -> None:
    """Delete an uploaded roster file kept under the upload folder (nothing else)."""
    file = Path(path)
    if file.parent.resolve() == uploads_folder().resolve():
        file.unlink(missing_ok=True)


def uploads_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "roster"


@jobs.every_minute
def remove_abandoned_uploads(now: float | None = None) -> int:
    """Uploads whose dry run was never confirmed are deleted after ROSTER_UPLOAD_KEEP_HOURS."""
    folder = uploads_folder()
    if not folder.is_dir():
        return 0
    cutoff = (now or time.time()) - current_app.config["ROSTER_UPLOAD_KEEP_HOURS"] * 3600
    old = [f for f in folder.glob("*.zip") if f.stat().st_mtime < cutoff]
    for file in old:
        file.unlink(missing_ok=True)
    return len(old)


def _load(scope_id: int, actor_id: int) -> tuple[Org, User]:
    scope, actor = db.session.get(Org, scope_id), db.session.get(User, actor_id)
    if scope is None or actor is None:
        raise jobs.JobError(say(_l("The school or the person of this import no longer exists.")))
    return scope, actor


@jobs.job("roster.dry_run", title=_l("Roster dry run"))
def roster_dry_run(progress, path: str, scope_id: int, actor_id: int, file_name: str = ""):
    """Read and plan; the plan is kept in a RosterImport row (state dry_run) and returned."""
    scope, actor = _load(scope_id, actor_id)
    plan, row = dry_run(
        path, scope=scope, actor=actor, file_name=file_name or None, progress=progress.step
    )
    db.session.commit()
    return {"import_id": row.id, "plan": plan.as_dict()}


@jobs.job("roster.apply", title=_l("Roster import"))
def roster_apply(
    progress,
    path: str,
    scope_id: int,
    actor_id: int,
    fingerprint: str,
    confirmed_guard: bool = False,
    file_name: str = "",
):
    """Apply (all or nothing); a refusal fails the job with its reason."""
    scope, actor = _load(scope_id, actor_id)
    try:
        result = apply_import(
            path,
            scope=scope,
            actor=actor,
            confirmed_guard=confirmed_guard,
            fingerprint=fingerprint,
            file_name=file_name or None,
            progress=progress.step,
        )
    except ImportRefused as refused:
        raise jobs.JobError(say(refused.message)) from None
    finally:
        # The upload holds a district's personal data: once applied (or refused), it goes.
        remove_upload(path)
    return {
        "import_id": result.import_id,
        "written": result.written,
        "counts": result.plan.counts_json(),
    }
