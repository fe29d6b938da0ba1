"""Apply a OneRoster package: all of it in one transaction, or nothing.

`apply_import` reads the file again (the file is the truth, not a stored plan), plans
against the database as it is now, and refuses when that plan's fingerprint is not the
one the admin confirmed, or when the deactivation guard was not confirmed. Then, in ONE
transaction, the same comparison runs again with writing on (batched executemany
statements), and is committed only if it decided exactly what the plan said. Any error,
or a kill of the process, leaves the roster as it was: the database rolls the
transaction back.

The reading pass ends its transaction before the writing one begins, so on SQLite the
job's progress is written while the file is read; during the writing transaction it is
kept and written at its end (portal/core/jobs.py: one writer at a time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auth.models import User
from portal.core.extensions import db
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
    plan = read_and_plan(path, scope=scope, file_name=file_name, progress=progress)
    db.session.rollback()  # the reads' transaction ends: the write takes its own
    refusal = None
    if not plan.ok:
        refusal = _l(
            "The file has %(n)d errors; nothing was imported. Correct them in the SIS "
            "and export again.",
            n=plan.error_count,
        )
    elif fingerprint is not None and fingerprint != plan.fingerprint:
        refusal = _l(
            "The file or the roster changed since the dry run you confirmed; nothing was "
            "imported. Look at the new dry run and confirm again."
        )
    elif plan.needs_second_confirmation and not confirmed_guard:
        refusal = _l(
            "This file would deactivate more than %(share)d%% of the active people of a "
            "kind; nothing was imported without a second confirmation.",
            share=round(plan.guard * 100),
        )
    if refusal is not None:
        raise _refuse(refusal, plan, scope_id, actor_id)
    if progress is not None:
        progress(0, None, _l("Writing the roster…"))
    try:
        scope = db.session.get(Org, scope_id)
        written_plan, run = _plan(path, scope, file_name, progress, write=True)
        if written_plan.fingerprint != plan.fingerprint:
            raise ImportRefused(
                _l(
                    "The roster changed while the import was being written; nothing was "
                    "imported. Run it again."
                ),
                written_plan,
            )
        actor = db.session.get(User, actor_id) if actor_id else None
        row = record(written_plan, scope=scope, actor=actor, state=APPLIED)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        raise _refuse(refused.message, refused.plan or plan, scope_id, actor_id) from None
    except Exception as exc:
        db.session.rollback()
        log.exception("roster import of %s failed", path)
        raise _refuse(
            _l(
                "Writing the roster failed, so nothing was imported (%(why)s).",
                why=type(exc).__name__,
            ),
            plan,
            scope_id,
            actor_id,
        ) from exc
    return ImportResult(import_id=row.id, plan=written_plan, written=run.written)


def _refuse(message, plan: ImportPlan, scope_id: int, actor_id: int | None) -> ImportRefused:
    """Record the failed import in a transaction of its own and return the exception."""
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
