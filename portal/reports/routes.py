"""Printable reports: ask for one (a background job renders it), then download it.

Who may print what is the policy's: the learner and their teacher print the profile and
a goal's conference report; a guardian prints their child's family progress report, in
the guardian's language (the job runs in its owner's locale).
"""

from __future__ import annotations

from flask import Blueprint, send_file, url_for
from flask_login import current_user
from werkzeug.utils import secure_filename

from portal.auth.models import Role
from portal.core import jobs
from portal.core.extensions import db
from portal.core.web import redirect_to, render
from portal.policy import Action, load_goal, load_job, load_learner, roles
from portal.reports import services
from portal.reports.jobs import KIND

bp = Blueprint("reports", __name__)


def _start(report: str, learner, goal=None):
    job = jobs.enqueue(
        KIND,
        current_user,
        report=report,
        owner_id=current_user.id,
        learner_id=learner.id,
        goal_id=goal.id if goal else None,
    )
    db.session.commit()
    return redirect_to(url_for("jobs.status", job_id=job.id))


@bp.post("/learners/<int:learner_id>/reports/profile")
@roles(Role.LEARNER, Role.TEACHER)
def profile(learner_id: int):
    """Start rendering the one-page profile PDF."""
    learner = load_learner(learner_id, Action.PRINT_PROFILE, record="report")
    return _start(services.PROFILE, learner)


@bp.post("/goals/<int:goal_id>/report")
@roles(Role.LEARNER, Role.TEACHER)
def goal(goal_id: int):
    """Start rendering a goal's conference report PDF."""
    found = load_goal(goal_id, Action.PRINT_GOAL_REPORT, record="report")
    return _start(services.GOAL, found.learner, found)


@bp.post("/learners/<int:learner_id>/reports/family")
@roles(Role.GUARDIAN)
def family(learner_id: int):
    """Start rendering my child's progress report, in my language."""
    learner = load_learner(learner_id, Action.PRINT_FAMILY_REPORT)
    return _start(services.FAMILY, learner)


@bp.get("/reports/<int:job_id>/pdf")
@roles()
def download(job_id: int):
    """Download a rendered report: its owner only, while it is kept."""
    job = load_job(job_id)
    result = job.result if job.kind == KIND and job.state == jobs.DONE else None
    path = services.path_of((result or {}).get("key"))
    if path is None:
        return render("reports/gone.html", status=410, job=job, hours=services.keep_hours())
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=secure_filename(result.get("file_name") or "report.pdf") or "report.pdf",
        max_age=0,
    )
