"""Deleting a learner's record on request: confirm, delete, the receipt; the retention list.

A district or school admin of the learner's school opens the learner's page, follows
"Delete this learner's record", sees what would be deleted (counts per kind), types the
request's reference and the learner's username or name, and confirms. The result page
offers the disposal receipt (PDF) for the district to send as its written notice.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import ADMIN_ROLES
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.jobs import Job
from portal.core.web import redirect_to, render
from portal.policy import (
    Action,
    authorize,
    load_learner_for_admin,
    load_record_deletion,
    roles,
)
from portal.records import deletion, retention
from portal.records.deletion_forms import DeleteRecordForm, PrepareReceiptForm, names_match
from portal.records.deletion_receipt import KIND as RECEIPT_JOB
from portal.records.deletion_receipt import queue_receipt

bp = Blueprint("records_deletion", __name__, url_prefix="/records")

CHANGED_MEANWHILE = _l(
    "Something was written to this record while it was being deleted, so nothing was "
    "deleted. Please try again."
)


def _labelled(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(deletion.kind_label(kind), n) for kind, n in counts.items()]


def _confirm_page(learner, form, status: int = 200, error: str | None = None):
    found = deletion.plan(learner)
    return render(
        "records/deletion_confirm.html",
        "deletion_form",
        status=status,
        learner=learner,
        form=form,
        kinds=_labelled(found.counts()),
        total=found.total + len(found.file_keys),
        error=error,
    )


@bp.route("/learners/<int:learner_id>/delete", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def delete_learner(learner_id: int):
    """Show what deleting this learner's record removes; delete it once confirmed."""
    learner = load_learner_for_admin(learner_id)
    authorize(learner, Action.DELETE_RECORD)
    form = DeleteRecordForm()
    if request.method == "GET":
        return _confirm_page(learner, form)
    if not form.validate_on_submit():
        return _confirm_page(learner, form, status=422)
    if not names_match(learner, form.confirm_name.data):
        form.confirm_name.errors.append(
            _("That is not this learner's username or full name: nothing was deleted.")
        )
        return _confirm_page(learner, form, status=422)
    try:
        tombstone = deletion.delete_record(
            learner, reference=form.reference.data, actor=current_user
        )
        queue_receipt(tombstone, current_user)
        db.session.commit()
    except deletion.DeletionRefused as refused:
        db.session.rollback()
        form.reference.errors.append(str(refused))
        return _confirm_page(learner, form, status=422)
    except IntegrityError:
        # Someone wrote to the record between finding its rows and deleting them.
        db.session.rollback()
        learner = load_learner_for_admin(learner_id)
        return _confirm_page(learner, form, status=409, error=CHANGED_MEANWHILE)
    return redirect_to(url_for("records_deletion.deleted", deletion_id=tombstone.id))


def _receipt_job(tombstone) -> Job | None:
    """The current user's latest receipt job for this deletion (its status page is theirs)."""
    return db.session.scalars(
        select(Job)
        .where(
            Job.kind == RECEIPT_JOB,
            Job.owner_id == current_user.id,
            Job.params["deletion_id"].as_integer() == tombstone.id,
        )
        .order_by(Job.id.desc())
        .limit(1)
    ).first()


@bp.route("/deletions/<int:deletion_id>")
@roles(*ADMIN_ROLES)
def deleted(deletion_id: int):
    """What a deletion removed, with its receipt to download."""
    tombstone = load_record_deletion(deletion_id)
    job = None if tombstone.receipt_made_at else _receipt_job(tombstone)
    return render(
        "records/deletion_done.html",
        tombstone=tombstone,
        kinds=_labelled(tombstone.counts),
        job=job,
        form=PrepareReceiptForm(),
    )


@bp.route("/deletions/<int:deletion_id>/receipt.pdf")
@roles(*ADMIN_ROLES)
def receipt(deletion_id: int):
    """The disposal receipt: a one-page PDF for the district's written notice."""
    tombstone = load_record_deletion(deletion_id)
    if tombstone.receipt_made_at is None:
        flash(_("The receipt is not ready yet."), "info")
        return redirect_to(url_for("records_deletion.deleted", deletion_id=tombstone.id))
    response = make_response(tombstone.receipt_pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="disposal-receipt-{tombstone.id}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/deletions/<int:deletion_id>/receipt", methods=["POST"])
@roles(*ADMIN_ROLES)
def prepare_receipt(deletion_id: int):
    """Lay out the receipt again (its job failed, or another admin wants to follow it)."""
    tombstone = load_record_deletion(deletion_id)
    if not PrepareReceiptForm().validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return redirect_to(url_for("records_deletion.deleted", deletion_id=tombstone.id))
    job = queue_receipt(tombstone, current_user)
    db.session.commit()
    return redirect_to(url_for("jobs.status", job_id=job.id))


@bp.route("/due")
@roles(*ADMIN_ROLES)
def due():
    """Learners past their retention period, waiting for an admin's decision; past deletions."""
    return render(
        "records/deletion_due.html",
        due=retention.due_for(current_user),
        days=retention.retention_days(),
        deletions=retention.deletions_for(current_user),
    )

