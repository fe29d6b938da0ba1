"""The roster import pages: upload a OneRoster zip, read its dry run, confirm, watch it apply.

District admins import for their district (or one of its schools), school admins for
their own school. The work runs as background jobs (portal/rostering/jobs.py): the upload
starts a `roster.dry_run`, its confirmation a `roster.apply`. One page follows a run
(`run`): while the job works its block polls itself every second and stops (286) by
rendering the final state, the dry-run summary or the result, without a trigger; with
JS off, its Refresh link reloads the same page. The import history lists what was read
and applied, with each import's row errors as a CSV for the SIS team.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask import Blueprint, Response, abort, request, url_for
from flask_babel import format_decimal, format_percent
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from portal.auth.models import ADMIN_ROLES, User
from portal.core import jobs
from portal.core.config import request_limit
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.i18n import ngettext
from portal.core.inputs import parse_number, scrub
from portal.core.jobs import DONE, Job
from portal.core.web import STOP_POLLING, redirect_to, render, wants_fragment
from portal.jobs.routes import JobStatus, job_status
from portal.policy import (
    load_roster_import,
    load_roster_run,
    load_roster_scope,
    roles,
    roster_scope_ids,
)
from portal.roster.models import Org, OrgType
from portal.rostering.forms import ConfirmForm, UploadForm, too_large, upload_limit_mb
from portal.rostering.jobs import uploads_folder
from portal.rostering.models import APPLIED, DRY_RUN, RosterImport

bp = Blueprint("rostering", __name__, url_prefix="/admin/roster")
DRY_RUN_JOB, APPLY_JOB = "roster.dry_run", "roster.apply"
HISTORY_PER_PAGE = 25
ERRORS_SHOWN = 200  # the plan keeps the first 200 of each kind; all are in the CSV

OUTCOME_ORDER = ("new", "changed", "unchanged", "deactivated", "reactivated", "matched", "kept")


def _entity_labels() -> dict[str, str]:
    return {
        "orgs": _("District and schools"),
        "terms": _("School years and terms"),
        "courses": _("Courses"),
        "classes": _("Classes"),
        "learners": _("Learners"),
        "teachers": _("Teachers"),
        "school_admins": _("School admins"),
        "district_admins": _("District admins"),
        "guardians": _("Guardians"),
        "enrollments": _("Enrollments"),
        "guardian_links": _("Guardian links"),
        "demographics": _("Demographics"),
        "user_identifiers": _("Sign-in identifiers"),
    }


def _outcome_labels() -> dict[str, str]:
    return {
        "new": _("New"),
        "changed": _("Changed"),
        "unchanged": _("Unchanged"),
        "deactivated": _("Deactivated"),
        "reactivated": _("Reactivated"),
        "matched": _("Matched (typed in by hand)"),
        "kept": _("Kept (not in the file)"),
    }


def _state_labels() -> dict[str, str]:
    return {DRY_RUN: _("Dry run"), APPLIED: _("Applied"), "failed": _("Failed")}


def deactivation_line(kind: str, n: int) -> str:
    """'This file would deactivate 4,812 learners.' for one kind of people."""
    count = format_decimal(n)
    messages = {
        "learners": ngettext(
            "This file would deactivate %(count)s learner.",
            "This file would deactivate %(count)s learners.",
            n,
            count=count,
        ),
        "teachers": ngettext(
            "This file would deactivate %(count)s teacher.",
            "This file would deactivate %(count)s teachers.",
            n,
            count=count,
        ),
        "school_admins": ngettext(
            "This file would deactivate %(count)s school admin.",
            "This file would deactivate %(count)s school admins.",
            n,
            count=count,
        ),
        "district_admins": ngettext(
            "This file would deactivate %(count)s district admin.",
            "This file would deactivate %(count)s district admins.",
            n,
            count=count,
        ),
        "guardians": ngettext(
            "This file would deactivate %(count)s guardian.",
            "This file would deactivate %(count)s guardians.",
            n,
            count=count,
        ),
    }
    return messages[kind]


PEOPLE_KINDS = ("learners", "teachers", "school_admins", "district_admins", "guardians")


# --- View models: what the pages show, gathered before rendering ---------------------------


@dataclass
class OutcomeView:
    outcome: str
    label: str
    count: int
    samples: list[dict]  # {"key", "label", "changes": [...]}


@dataclass
class EntityView:
    name: str
    label: str
    counts: dict[str, int]
    outcomes: list[OutcomeView]  # only those with a count

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class PlanView:
    """A dry run's plan (ImportPlan.as_dict(), the job's result) as the summary shows it."""

    import_id: int | None
    file_name: str
    version: str | None
    modes: dict[str, str]
    entities: list[EntityView]
    deactivations: list[str]  # "This file would deactivate 4,812 learners."
    guard_lines: list[str]  # the kinds over the guard, with their share
    needs_second_confirmation: bool
    errors: list[dict]
    error_count: int
    warnings: list[str]
    header_drift: dict[str, list[str]]
    unused_files: list[str]
    notes: list[str]
    fingerprint: str

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def changes_anything(self) -> bool:
        quiet = {"unchanged", "kept"}
        return any(c for e in self.entities for o, c in e.counts.items() if o not in quiet)


def entity_views(
    counts: dict[str, dict[str, int]], samples: dict | None = None
) -> list[EntityView]:
    labels, outcome_labels = _entity_labels(), _outcome_labels()
    views = []
    for name, label in labels.items():
        entity_counts = {o: int(counts.get(name, {}).get(o, 0)) for o in OUTCOME_ORDER}
        entity_samples = (samples or {}).get(name, {})
        outcomes = [
            OutcomeView(o, outcome_labels[o], entity_counts[o], entity_samples.get(o, []))
            for o in OUTCOME_ORDER
            if entity_counts[o]
        ]
        views.append(EntityView(name, label, entity_counts, outcomes))
    return views


def plan_view(result: dict) -> PlanView:
    plan = result.get("plan") or {}
    entities = plan.get("entities") or {}
    counts = {name: e.get("counts", {}) for name, e in entities.items()}
    samples = {name: e.get("samples", {}) for name, e in entities.items()}
    guard = float(plan.get("guard") or 0)
    share = plan.get("deactivation_share") or {}
    deactivations = [
        deactivation_line(kind, n)
        for kind in PEOPLE_KINDS
        if (n := int(counts.get(kind, {}).get("deactivated", 0)))
    ]
    labels = _entity_labels()
    guard_lines = [
        _(
            "%(people)s: %(share)s of the active ones (the limit without a second "
            "confirmation is %(guard)s).",
            people=labels[kind],
            share=format_percent(share[kind]),
            guard=format_percent(guard),
        )
        for kind in PEOPLE_KINDS
        if share.get(kind, 0) > guard
    ]
    drift = plan.get("header_drift") or {}
    warnings = list(plan.get("warnings") or [])[len(drift) :]  # the drift lines come first
    return PlanView(
        import_id=result.get("import_id"),
        file_name=plan.get("file_name") or "",
        version=plan.get("version"),
        modes=plan.get("modes") or {},
        entities=entity_views(counts, samples),
        deactivations=deactivations,
        guard_lines=guard_lines,
        needs_second_confirmation=bool(plan.get("needs_second_confirmation")),
        errors=list(plan.get("errors") or [])[:ERRORS_SHOWN],
        error_count=int(plan.get("error_count") or 0),
        warnings=warnings,
        header_drift=drift,
        unused_files=list(plan.get("unused_files") or []),
        notes=list(plan.get("notes") or []),
        fingerprint=plan.get("fingerprint") or "",
    )


@dataclass
class RunView:
    """One roster job: its progress, then its dry-run summary or its result."""

    id: int
    kind: str
    status: JobStatus
    scope_name: str
    file_name: str
    plan: PlanView | None = None  # a finished dry run
    applied: list[EntityView] = field(default_factory=list)  # a finished apply
    written: int = 0
    import_id: int | None = None

    @property
    def is_dry_run(self) -> bool:
        return self.kind == DRY_RUN_JOB


def run_view(run: Job) -> RunView:
    status = job_status(run)
    params = run.params or {}
    scope = db.session.get(Org, params.get("scope_id"))
    view = RunView(
        id=run.id,
        kind=run.kind,
        status=status,
        scope_name=scope.name if scope else "",
        file_name=params.get("file_name") or "",
    )
    result = run.result if isinstance(run.result, dict) else {}
    if status.state == DONE and run.kind == DRY_RUN_JOB:
        view.plan = plan_view(result)
        view.import_id = view.plan.import_id
    elif status.state == DONE:
        counts = (result.get("counts") or {}).get("entities") or {}
        view.applied = entity_views(counts)
        view.written = int(result.get("written") or 0)
        view.import_id = result.get("import_id")
    return view


# --- Upload ---------------------------------------------------------------------------------


@bp.url_value_preprocessor
def _upload_limit(endpoint, values) -> None:
    # Before any before_request (the CSRF check reads the form): the roster upload takes
    # bigger files than the rest of the site.
    if endpoint == "rostering.upload":
        request.max_content_length = request_limit(upload_limit_mb())


def _scope_choices() -> list[tuple[int, str]]:
    orgs = db.session.scalars(
        select(Org).where(Org.id.in_(roster_scope_ids(current_user))).order_by(Org.type, Org.name)
    ).all()
    district = [o for o in orgs if o.type is OrgType.DISTRICT]
    schools = [o for o in orgs if o.type is not OrgType.DISTRICT]
    choices = [(o.id, _("%(name)s (the whole district)", name=o.name)) for o in district]
    return choices + [(o.id, o.name) for o in schools]


def _upload_page(form: UploadForm, status: int = 200):
    return render(
        "rostering/upload.html",
        "upload_form",
        status=status,
        form=form,
        limit_mb=upload_limit_mb(),
    )


def _stored_name(filename: str | None) -> str:
    """What the admin called the file, for the history (never used as a path)."""
    name = (filename or "").replace("\\", "/")
    return scrub(PurePosixPath(name).name or "roster.zip")[:255]


def upload_folder() -> Path:
    folder = uploads_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@bp.route("/import", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def upload():
    """Upload a OneRoster zip; its dry run starts in the background."""
    form = UploadForm()
    form.scope_id.choices = _scope_choices()
    if request.method == "GET" and form.scope_id.choices:
        form.scope_id.data = form.scope_id.choices[0][0]
    if not form.validate_on_submit():
        return _upload_page(form, status=422 if form.is_submitted() else 200)
    scope = load_roster_scope(form.scope_id.data)
    path = upload_folder() / f"{secrets.token_hex(16)}.zip"
    form.package.data.save(path)
    job = jobs.enqueue(
        DRY_RUN_JOB,
        current_user,
        path=str(path),
        scope_id=scope.id,
        actor_id=current_user.id,
        file_name=_stored_name(form.package.data.filename),
    )
    db.session.commit()
    return redirect_to(url_for("rostering.run", run_id=job.id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A file over ROSTER_UPLOAD_MB: the upload form again, with the limit in words."""
    if request.endpoint != "rostering.upload":
        return error
    form = UploadForm(formdata=None)
    form.scope_id.choices = _scope_choices()
    form.package.errors = [str(too_large())]
    return _upload_page(form, status=413)


# --- A run: progress, then the dry run's summary or the apply's result ---------------------


def _run_page(view: RunView, form: ConfirmForm | None = None, status: int = 200):
    if form is None and view.plan is not None:
        form = ConfirmForm(formdata=None, fingerprint=view.plan.fingerprint)
    if wants_fragment() and request.method == "GET" and view.status.finished:
        status = STOP_POLLING
    return render("rostering/run.html", "run", status=status, run=view, form=form)


@bp.get("/runs/<int:run_id>")
@roles(*ADMIN_ROLES)
def run(run_id: int):
    """A dry run or an import: live progress, then the summary (with Confirm) or the result."""
    return _run_page(run_view(load_roster_run(run_id)))


@bp.post("/runs/<int:run_id>/confirm")
@roles(*ADMIN_ROLES)
def confirm(run_id: int):
    """Apply the dry run the admin read: a `roster.apply` job for exactly that plan."""
    dry = load_roster_run(run_id)
    if dry.kind != DRY_RUN_JOB:
        abort(404)
    view = run_view(dry)
    form = ConfirmForm()
    if view.plan is None:
        return _run_page(view, form, status=409)  # still reading, or failed: nothing to confirm
    plan = view.plan
    if not form.validate_on_submit():
        return _run_page(view, form, status=422)
    if form.fingerprint.data != plan.fingerprint:
        form.fingerprint.errors.append(
            _(
                "This confirmation is for another dry run. Read this dry run's summary "
                "and confirm it again."
            )
        )
        return _run_page(view, form, status=409)
    if not plan.ok:
        form.fingerprint.errors.append(
            _("The file has errors, so it cannot be imported. Correct them in the SIS first.")
        )
        return _run_page(view, form, status=422)
    if plan.needs_second_confirmation and not form.deactivate.data:
        form.deactivate.errors.append(
            _(
                "This file would deactivate many people. Tick the box to confirm that "
                "it is the complete roster, or correct the export."
            )
        )
        return _run_page(view, form, status=422)
    params = dry.params or {}
    if not Path(params.get("path") or "").is_file():
        form.fingerprint.errors.append(
            _("The uploaded file is no longer on the server. Upload it again.")
        )
        return _run_page(view, form, status=410)
    job = jobs.enqueue(
        APPLY_JOB,
        current_user,
        path=params["path"],
        scope_id=params["scope_id"],
        actor_id=current_user.id,
        fingerprint=plan.fingerprint,
        confirmed_guard=bool(plan.needs_second_confirmation and form.deactivate.data),
        file_name=params.get("file_name") or "",
    )
    db.session.commit()
    return redirect_to(url_for("rostering.run", run_id=job.id))


# --- History --------------------------------------------------------------------------------


@dataclass
class ImportRow:
    id: int
    created_at: object
    actor: str
    scope: str
    file_name: str
    state: str
    state_label: str
    totals: dict[str, int]  # new, changed, deactivated over every entity
    error_count: int
    warning_count: int
    has_error_csv: bool


def _import_rows(rows) -> list[ImportRow]:
    labels = _state_labels()
    found = []
    for record, given, family, scope in rows:
        entities = (record.counts or {}).get("entities") or {}
        totals = {
            o: sum(int(c.get(o, 0)) for c in entities.values())
            for o in ("new", "changed", "deactivated")
        }
        found.append(
            ImportRow(
                id=record.id,
                created_at=record.created_at,
                actor=" ".join(p for p in (given, family) if p) or _("the command line"),
                scope=scope or "",
                file_name=record.file_name,
                state=record.state,
                state_label=labels.get(record.state, record.state),
                totals=totals,
                error_count=record.error_count,
                warning_count=record.warning_count,
                has_error_csv=bool(record.error_count),
            )
        )
    return found


def _history_query():
    return (
        select(RosterImport, User.given_name, User.family_name, Org.name)
        .outerjoin(User, User.id == RosterImport.actor_id)
        .join(Org, Org.id == RosterImport.scope_org_id)
        .where(RosterImport.scope_org_id.in_(roster_scope_ids(current_user)))
    )


@bp.get("/imports")
@roles(*ADMIN_ROLES)
def history():
    """Every roster import of the admin's district or school, newest first."""
    total = db.session.scalar(select(func.count()).select_from(_history_query().subquery()))
    pages = max(1, -(-total // HISTORY_PER_PAGE))
    page = min(parse_number(request.args.get("page"), 1) or 1, pages)
    rows = db.session.execute(
        _history_query()
        .order_by(RosterImport.created_at.desc(), RosterImport.id.desc())
        .limit(HISTORY_PER_PAGE)
        .offset((page - 1) * HISTORY_PER_PAGE)
    ).all()
    return render(
        "rostering/history.html",
        "history",
        imports=_import_rows(rows),
        page=page,
        pages=pages,
    )


@bp.get("/imports/<int:import_id>")
@roles(*ADMIN_ROLES)
def import_detail(import_id: int):
    """One import: who, when, which file, its counts per entity, why it failed."""
    record = load_roster_import(import_id)
    row = db.session.execute(_history_query().where(RosterImport.id == record.id)).one()
    entities = (record.counts or {}).get("entities") or {}
    return render(
        "rostering/import.html",
        entry=_import_rows([row])[0],
        message=record.message,
        entities=entity_views(entities),
        modes=record.modes or {},
    )


@bp.get("/imports/<int:import_id>/errors.csv")
@roles(*ADMIN_ROLES)
def errors_csv(import_id: int):
    """The import's row errors (file, row, column, value, message) for the SIS team."""
    record = load_roster_import(import_id)
    if not record.errors_csv:
        abort(404)
    return Response(
        "\ufeff" + record.errors_csv,  # a BOM: spreadsheet programs then read UTF-8
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="roster-import-{record.id}-errors.csv"'
        },
    )
