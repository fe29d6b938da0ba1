"""The record export page, starting an export, and downloading the finished zip.

Who may: the learner for themselves, each guardian for a linked child, and the school's
or district's admins for a records request (`Action.EXPORT_RECORD`); an admin's request
and download are written to the access log. The zip is built by a background job whose
status page shows the progress; the download is the job owner's alone, for
RECORD_EXPORT_HOURS, and refused after that with a page that says so.
"""

from __future__ import annotations

from flask import Blueprint, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.auth.models import ADMIN_ROLES, Role
from portal.core import jobs
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.web import redirect_to, render
from portal.policy import Action, load_learner, load_record_export, roles
from portal.records import export

bp = Blueprint("record_export", __name__, url_prefix="/records")

EXPORTERS = (Role.LEARNER, Role.GUARDIAN, *sorted(ADMIN_ROLES))
RECENT = 20
WAITING = (jobs.QUEUED, jobs.RUNNING)


def _recent_exports(learner_id: int) -> list[dict]:
    """This user's latest exports of this learner's record, newest first."""
    rows = db.session.scalars(
        select(Job)
        .where(Job.owner_id == current_user.id, Job.kind == export.KIND)
        .order_by(Job.id.desc())
        .limit(RECENT)
    )
    return [
        {"job": row, "ready": export.export_file(row) is not None}
        for row in rows
        if (row.params or {}).get("learner_id") == learner_id
    ]


@bp.get("/learners/<int:learner_id>/export")
@roles(*EXPORTERS)
def page(learner_id: int):
    """What the record download holds, and the button that prepares it."""
    learner = load_learner(learner_id, Action.EXPORT_RECORD)
    return render(
        "records/export.html",
        learner=learner,
        exports=_recent_exports(learner.id),
        hours=export.keep_hours(),
    )


@bp.post("/learners/<int:learner_id>/export")
@roles(*EXPORTERS)
def start(learner_id: int):
    """Start building the learner's record; its progress shows on the job's page."""
    learner = load_learner(learner_id, Action.EXPORT_RECORD, record="record_export")
    # CSRFProtect has checked the token (a refusal says so on its own page).
    pending = next(
        (e["job"] for e in _recent_exports(learner.id) if e["job"].state in WAITING), None
    )
    if pending is not None:  # a double click, or asking again while it is being built
        return redirect_to(url_for("jobs.status", job_id=pending.id))
    job = jobs.enqueue(
        export.KIND, current_user, learner_id=learner.id, requester_id=current_user.id
    )
    db.session.commit()
    return redirect_to(url_for("jobs.status", job_id=job.id))


@bp.get("/exports/<int:job_id>/record.zip")
@roles(*EXPORTERS)
def download(job_id: int):
    """The finished zip, for the person who asked for it, until it expires."""
    job, learner = load_record_export(job_id)
    path = export.export_file(job)
    if path is None:
        return render(
            "records/export_gone.html",
            status=410,
            learner=learner,
            job=job,
            hours=export.keep_hours(),
            failed=job.state == jobs.FAILED,
            pending=job.state in WAITING,
        )
    day = (job.finished_at or job.created_at).date().isoformat()
    response = send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"waypoint-record-{learner.id}-{day}.zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store, private"
    return response
