"""The two background jobs of rostering: a dry run, and an apply with progress."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.auth.models import User
from portal.core import jobs
from portal.core.extensions import db
from portal.roster.models import Org
from portal.rostering.apply import ImportRefused, apply_import, dry_run
from portal.rostering.plan import say


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
    return {
        "import_id": result.import_id,
        "written": result.written,
        "counts": result.plan.counts_json(),
    }
