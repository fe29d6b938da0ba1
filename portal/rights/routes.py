"""Who has looked at a learner's record, and corrections: asked by family, answered by admins."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from portal.auth.models import ADMIN_ROLES, Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.web import redirect_to, render, render_invalid
from portal.policy import Action, load_correction, load_correction_part, load_learner, roles
from portal.rights import services
from portal.rights.forms import AnswerForm, CorrectionForm
from portal.rights.models import CorrectionStatus

bp = Blueprint("rights", __name__)

REQUESTERS = (Role.LEARNER, Role.GUARDIAN)


@bp.get("/learners/<int:learner_id>/who-has-looked")
@roles(*REQUESTERS)
def who_has_looked(learner_id: int):
    """Show the learner or their family which staff read the record, when and what part."""
    learner = load_learner(learner_id, Action.SEE_WHO_LOOKED)
    page = request.args.get("page", 1, type=int) or 1
    looks, page, pages = services.who_has_looked(learner, page)
    return render(
        "rights/who_has_looked.html",
        "looks",
        learner=learner,
        looks=looks,
        page=page,
        pages=pages,
    )


# --- Asking for a correction ---------------------------------------------------------


def _corrections_page(learner, form, status: int = 200):
    form.part.choices = services.part_choices(learner)
    context = dict(
        learner=learner,
        form=form,
        corrections=services.own_corrections(learner),
        status_words=services.STATUS_WORDS,
        kind_words=services.KIND_WORDS,
    )
    if status != 200:
        return render_invalid("rights/corrections.html", "ask", **context)
    return render("rights/corrections.html", **context)


@bp.route("/learners/<int:learner_id>/corrections", methods=["GET", "POST"])
@roles(*REQUESTERS)
def corrections(learner_id: int):
    """Ask for a correction of a part of the record; see the answers to earlier requests."""
    learner = load_learner(learner_id, Action.ASK_CORRECTION)
    form = CorrectionForm()
    if request.method == "GET":
        form.part.data = request.args.get("part")
        return _corrections_page(learner, form)
    if not form.validate_on_submit():
        return _corrections_page(learner, form, status=422)
    part = services.parse_part(form.part.data)
    if part is None:
        form.part.errors = [_("Pick the part of the record that is wrong.")]
        return _corrections_page(learner, form, status=422)
    part_text = load_correction_part(learner, *part)
    services.ask_correction(learner, current_user, part, part_text, form.message.data)
    db.session.commit()
    flash(_("Your request was sent to the school. Its answer will show here."))
    return redirect_to(url_for("rights.corrections", learner_id=learner.id))


# --- The school admins' queue --------------------------------------------------------


@bp.get("/admin/corrections")
@roles(*ADMIN_ROLES)
def queue():
    """List correction requests about the learners I manage, filtered by status."""
    raw = request.args.get("status", CorrectionStatus.OPEN.value)
    status = None if raw == "all" else _status_or_open(raw)
    page = request.args.get("page", 1, type=int) or 1
    return render(
        "rights/queue.html",
        "queue",
        pagination=services.queue(current_user, status, page),
        shown_status=status.value if status else "all",
        status_words=services.STATUS_WORDS,
        kind_words=services.KIND_WORDS,
    )


def _status_or_open(raw: str) -> CorrectionStatus:
    try:
        return CorrectionStatus(raw)
    except ValueError:
        return CorrectionStatus.OPEN


@bp.route("/admin/corrections/<int:correction_id>", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def answer(correction_id: int):
    """Read a correction request and answer it."""
    correction = load_correction(correction_id)
    form = AnswerForm(obj=None if request.method == "POST" else correction)
    if request.method == "GET" and correction.status is CorrectionStatus.OPEN:
        form.status.data = CorrectionStatus.IN_REVIEW.value
    context = dict(
        correction=correction,
        form=form,
        status_words=services.STATUS_WORDS,
        kind_words=services.KIND_WORDS,
    )
    if request.method == "GET":
        return render("rights/answer.html", **context)
    if not form.validate_on_submit():
        return render_invalid("rights/answer.html", "answer_form", **context)
    services.answer_correction(
        correction, current_user, CorrectionStatus(form.status.data), form.answer.data or ""
    )
    db.session.commit()
    flash(_("Answer saved. The requester sees it on their corrections page."))
    return redirect_to(url_for("rights.queue", status=form.status.data))
