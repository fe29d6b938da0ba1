"""Apply a OneRoster package: all of it in one transaction, or nothing.

`apply_import` reads the file again (the file is the truth, not a stored plan) and, in
ONE transaction, compares it with the database as it is now with writing on (batched
executemany statements): the dry run's comparison, deciding the same way. It commits
only when that plan has no errors, its fingerprint is the one the admin confirmed (the
file and the roster are as they were at the dry run) and the deactivation guard was
confirmed if needed; otherwise it rolls back and refuses. Any error, or a kill of the
process, leaves the roster as it was: the database rolls the transaction back. A file
that changes nothing writes nothing (no write lock is taken) and records its history
row only. A package the reader refuses is never compared at all.

One pass, not a read-only plan and then a writing one: the file is read and compared
once (twice as fast for a first import; an unchanged re-import costs a dry run). On
SQLite the job's progress is kept during the transaction and written at its end
(portal/core/jobs.py: one writer at a time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import utcnow
from portal.oneroster import read_package
from portal.roster.models import Org
from portal.rostering.engine import ProgressFn, Run
from portal.rostering.models import APPLIED, DRY_RUN, FAILED, RosterImport
from portal.rostering.plan import ImportPlan, build_plan, existing_ids, file_sha256, say

log = logging.getLogger(__name__)


class ImportRefused(Exception):
    """The import was not applied; `message` says why (a lazy string), `plan` what was read."""

    def __init__(self, message, plan: ImportPlan | None = None, import_id: int | None = None):
        super().__init__(say(message))
        self.message = message
        self.plan = plan
        self.import_id = import_id


@dataclass
class ImportResult:
    import_id: int  # the RosterImport row
    plan: ImportPlan  # what was applied (counts per entity and outcome)
    written: int  # rows inserted, updated or deleted (0 for a file that changes nothing)


def dry_run(
    path: str | Path,
    *,
    scope: Org,
    actor: User | None,
    file_name: str | None = None,
    progress: ProgressFn | None = None,
) -> tuple[ImportPlan, RosterImport]:
    """Plan the import and record it as a dry run (flushed; the caller commits)."""
    plan = read_and_plan(path, scope=scope, file_name=file_name, progress=progress)
    row = record(plan, scope=scope, actor=actor, state=DRY_RUN)
    return plan, row


def read_and_plan(
    path: str | Path,
    *,
    scope: Org,
    file_name: str | None = None,
    progress: ProgressFn | None = None,
    write: bool = False,
) -> ImportPlan:
    plan, _run = _plan(path, scope, file_name, progress, write=write)
    return plan


def _plan(path, scope, file_name, progress, *, write: bool):
    sha = file_sha256(path)
    with read_package(path, existing=existing_ids(scope)) as package:
        run = Run(
            package,
            scope,
            write=write,
            samples=current_app.config["ROSTER_SAMPLES"],
            progress=progress,
        )
        if package.ok:
            run.run()
        plan = build_plan(run, sha256=sha, file_name=file_name or Path(path).name)
    return plan, run


def record(plan: ImportPlan, *, scope: Org, actor: User | None, state: str, message=None):
    row = RosterImport(
        actor_id=actor.id if actor is not None else None,
        scope_org_id=scope.id,
        file_name=plan.file_name[:255],
        sha256=plan.sha256,
        version=plan.version,
        modes=plan.modes,
        state=state,
        fingerprint=plan.fingerprint,
        counts=plan.counts_json(),
        error_count=plan.error_count,
        warning_count=len(plan.warnings),
        errors_csv=plan.errors_csv() if plan.error_count else None,
        message=say(message) if message is not None else None,
        applied_at=utcnow() if state == APPLIED else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def apply_import(
    path: str | Path,
    *,
    scope: Org,
    actor: User | None,
    confirmed_guard: bool,
    fingerprint: str | None = None,
    file_name: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Apply the package at `path` to `scope` in one transaction, and commit it.

    `fingerprint` is the dry run's the admin confirmed (None: whatever the file says now,
    for the CLI). Raises ImportRefused (after recording a failed import) when the file
    has errors, its plan differs from the confirmed one, the deactivation guard is not
    confirmed, or writing failed; the roster is then exactly as it was.
    """
    scope_id, actor_id = scope.id, actor.id if actor is not None else None
    db.session.rollback()  # the caller's reads end: the import takes its own transaction
    scope = db.session.get(Org, scope_id)
    try:
        plan, run = _plan(path, scope, file_name, progress, write=True)
        refusal = _refusal(plan, fingerprint, confirmed_guard)
        if refusal is not None:
            raise ImportRefused(refusal, plan)
        actor = db.session.get(User, actor_id) if actor_id else None
        row = record(plan, scope=scope, actor=actor, state=APPLIED)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        raise _refuse(refused.message, refused.plan, scope_id, actor_id) from None
    except Exception as exc:
        db.session.rollback()
        log.exception("roster import of %s failed", path)
        raise _refuse(
            _l(
                "Writing the roster failed, so nothing was imported (%(why)s).",
                why=type(exc).__name__,
            ),
            _failed_plan(path, scope_id, file_name),
            scope_id,
            actor_id,
        ) from exc
    return ImportResult(import_id=row.id, plan=plan, written=run.written)


def _refusal(plan: ImportPlan, fingerprint: str | None, confirmed_guard: bool):
    """Why this plan may not be committed (a lazy message), or None."""
    if not plan.ok:
        return _l(
            "The file has %(n)d errors; nothing was imported. Correct them in the SIS "
            "and export again.",
            n=plan.error_count,
        )
    if fingerprint is not None and fingerprint != plan.fingerprint:
        return _l(
            "The file or the roster changed since the dry run you confirmed; nothing was "
            "imported. Look at the new dry run and confirm again."
        )
    if plan.needs_second_confirmation and not confirmed_guard:
        return _l(
            "This file would deactivate more than %(share)d%% of the active people of a "
            "kind; nothing was imported without a second confirmation.",
            share=round(plan.guard * 100),
        )
    return None


def _failed_plan(path, scope_id: int, file_name: str | None) -> ImportPlan | None:
    """What the file would do, for the history row of an import whose writing failed
    (None when even reading it fails now)."""
    try:
        return read_and_plan(path, scope=db.session.get(Org, scope_id), file_name=file_name)
    except Exception:
        db.session.rollback()
        log.exception("could not plan the failed roster import again")
        return None


def _refuse(message, plan: ImportPlan | None, scope_id: int, actor_id: int | None) -> ImportRefused:
    """Record the failed import in a transaction of its own and return the exception."""
    if plan is None:
        return ImportRefused(message, None, None)
    try:
        scope = db.session.get(Org, scope_id)
        actor = db.session.get(User, actor_id) if actor_id else None
        row = record(plan, scope=scope, actor=actor, state=FAILED, message=message)
        db.session.commit()
        import_id = row.id
    except Exception:
        db.session.rollback()
        log.exception("could not record the failed roster import")
        import_id = None
    return ImportRefused(message, plan, import_id)
