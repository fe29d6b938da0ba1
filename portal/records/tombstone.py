"""What is left of a deleted learner's record: a tombstone with no personal data of theirs.

It says when, by whom (a staff account, or the command line) and under which records
request the record was deleted, and how many rows of each kind went: what the disposal
receipt prints. It names no learner: not their name, username, e-mail, sourcedId or id.
The school and district names are kept as text, so the receipt reads the same after an
org is renamed or removed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow

REFERENCE_MAX = 200


class RecordDeletion(db.Model):
    """One learner's record deleted on request (or at the end of its retention)."""

    __tablename__ = "record_deletions"
    __stamp__ = stamps.NOTHING  # no polled page shows it

    id: Mapped[int] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The staff member who confirmed it; None when it was done from the command line.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str] = mapped_column(String(200))
    # The learner's school at deletion: who may open the tombstone and its receipt.
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("orgs.id", ondelete="SET NULL"), index=True
    )
    school_name: Mapped[str] = mapped_column(String(160))
    district_name: Mapped[str | None] = mapped_column(String(160))
    # The free-text reference the admin typed, e.g. "Records request 2026-114".
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    # {table name: rows deleted, ...} plus "files" for uploaded files removed.
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # The disposal receipt, laid out once by the job worker (deletion_receipt.py).
    receipt_pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    receipt_made_at: Mapped[datetime | None]
