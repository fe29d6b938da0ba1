"""A background job's status page, and the progress partial it polls, for its owner only.

The page includes `jobs/_progress.html`; an htmx poll of the same URL gets that partial
alone, every second while the job is queued or running, and 286 (stop polling) with the
final state once it is done or failed. Without JS the partial carries a Refresh link.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

from portal.core import jobs
from portal.core.i18n import gettext as _
from portal.core.jobs import DONE, FAILED, QUEUED, Job
from portal.core.timeutil import utcnow
from portal.core.web import STOP_POLLING, render, render_partial, wants_fragment
from portal.policy import load_job, roles

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@dataclass(frozen=True)
class JobStatus:
    """Everything the page and the partial show of one job."""

    id: int
    title: str
    state: str  # queued, running, done, failed (a running job whose worker died: failed)
    state_label: str
    done: int
    total: int | None
    percent: int | None
    message: str
    error: str | None
    waiting_long: bool  # queued for longer than a worker would take to start it
    result_url: str | None
    created_at: object
    finished_at: object

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)


def job_status(row: Job) -> JobStatus:
    """The job as its owner sees it now (a stale heartbeat reads as a failure)."""
    now = utcnow()
    kind = jobs.KINDS.get(row.kind)
    state, error = row.state, row.error
    if jobs.is_stale(row, now):
        state, error = FAILED, str(jobs.STALE)
    percent = None
    if row.total:
        percent = max(0, min(100, round(100 * row.done / row.total)))
    elif state == DONE:
        percent = 100
    result_url = None
    if state == DONE and kind is not None and kind.result_url is not None:
        result_url = kind.result_url(row)
    labels = {
        QUEUED: _("Waiting to start"),
        jobs.RUNNING: _("Running"),
        DONE: _("Done"),
        FAILED: _("Failed"),
    }
    return JobStatus(
        id=row.id,
        title=str(kind.title) if kind else _("Background job"),
        state=state,
        state_label=labels.get(state, state),
        done=row.done,
        total=row.total,
        percent=percent,
        message=row.message or "",
        error=(error or str(jobs.CRASHED)) if state == FAILED else None,
        waiting_long=state == QUEUED and jobs.waited_long(row, now),
        result_url=result_url,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


@bp.get("/<int:job_id>")
@roles()
def status(job_id: int):
    """The job's page; for htmx, its progress partial (286 once the job is over)."""
    job = job_status(load_job(job_id))
    if wants_fragment():
        code = STOP_POLLING if job.finished else 200
        return render_partial("jobs/_progress.html", status=code, job=job)
    return render("jobs/status.html", job=job)
