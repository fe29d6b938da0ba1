"""The background job that renders a printable report for the user who asked for it."""

from __future__ import annotations

from flask import url_for

from portal.auth.models import User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.goals.models import Goal
from portal.policy import Action, can
from portal.records import deletion
from portal.reports import services

KIND = "reports.pdf"
ACTIONS = {
    services.PROFILE: Action.PRINT_PROFILE,
    services.GOAL: Action.PRINT_GOAL_REPORT,
    services.FAMILY: Action.PRINT_FAMILY_REPORT,
}


def _download_url(job) -> str:
    return url_for("reports.download", job_id=job.id)


@jobs.job(KIND, title=_l("Printable report (PDF)"), result_url=_download_url)
def render_report(progress, report: str, owner_id: int, learner_id: int, goal_id=None):
    """Render one report as its owner may read it now, and keep the file for them."""
    owner, learner = db.session.get(User, owner_id), db.session.get(User, learner_id)
    goal = db.session.get(Goal, goal_id) if goal_id is not None else None
    # Asked again here: a teacher who left the class since asking gets nothing.
    if (
        report not in ACTIONS
        or owner is None
        or learner is None
        or not can(ACTIONS[report], learner, owner)
        or (report == services.GOAL and (goal is None or goal.learner_id != learner.id))
    ):
        raise jobs.JobError(_("This report can no longer be printed: you no longer have access."))
    progress.step(1, 3, _("Gathering the record"))
    if report == services.PROFILE:
        context = services.profile_context(learner)
    elif report == services.GOAL:
        context = services.goal_context(goal)
    else:
        context = services.family_context(learner)
    progress.step(2, 3, _("Laying out the pages"))
    key = services.save(services.render_pdf(report, context))
    progress.step(3, 3, _("Ready"))
    name = (learner.preferred_name or learner.given_name).lower()
    return {"key": key, "file_name": f"{report}-report-{name}.pdf"}


def _report_file(result: dict):
    """Where a finished report's PDF is (or was): deleting the learner deletes it too."""
    key = result.get("key")
    return services.path_of(key) if isinstance(key, str) else None


deletion.job_makes_files(KIND, _report_file)
