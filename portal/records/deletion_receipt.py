"""The disposal receipt: a PDF made from the tombstone, by the job worker, kept with it.

Laying out a PDF takes about a second, so it is never done inside a request: confirming
a deletion queues `records.receipt`, whose owner (the admin who confirmed) watches it on
the job's status page; the finished PDF is stored on the tombstone and every admin of
the school downloads those same bytes from then on. The command line renders it directly.
"""

from __future__ import annotations

from flask import render_template, url_for

from portal.core import jobs
from portal.core.assets import STATIC
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.pdf import STYLESHEET, html_to_pdf
from portal.core.timeutil import utcnow
from portal.records.deletion import kind_label
from portal.records.tombstone import RecordDeletion

KIND = "records.receipt"
RECEIPT_CSS = STATIC / "css" / "receipt.css"  # after pdf.css: digits in DejaVu Sans


def render_receipt(tombstone: RecordDeletion) -> bytes:
    """The receipt's PDF, in the current language."""
    html = render_template(
        "records/deletion_receipt.html",
        tombstone=tombstone,
        kinds=[(kind_label(kind), n) for kind, n in tombstone.counts.items()],
        printed_at=utcnow(),
    )
    return html_to_pdf(html, stylesheets=(STYLESHEET, RECEIPT_CSS))


def _receipt_url(job) -> str | None:
    return url_for("records_deletion.receipt", deletion_id=job.params["deletion_id"])


@jobs.job(KIND, title=_l("Disposal receipt"), result_url=_receipt_url)
def make_receipt(progress, deletion_id: int):
    tombstone = db.session.get(RecordDeletion, deletion_id)
    if tombstone is None:
        raise jobs.JobError(str(_l("This deletion's record no longer exists.")))
    progress.step(0, 1, str(_l("Laying out the receipt")))
    tombstone.receipt_pdf = render_receipt(tombstone)
    tombstone.receipt_made_at = utcnow()
    progress.step(1, 1)
    return {"deletion_id": deletion_id}


def queue_receipt(tombstone: RecordDeletion, owner) -> jobs.Job:
    """Queue the receipt's job (the caller's commit sends it to the worker)."""
    return jobs.enqueue(KIND, owner, deletion_id=tombstone.id)
