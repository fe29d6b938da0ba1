"""A request to correct one part of a learner's record (FERPA's right to ask for an amendment)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow

# The part's words are kept as a snapshot for context, not as a second copy of it.
PART_TEXT_MAX = 1000


class CorrectionStatus(enum.StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    CORRECTED = "corrected"
    DECLINED = "declined"


class PartKind(enum.StrEnum):
    """Which kind of record the request is about (OTHER: the requester says it in words)."""

    PROFILE_ENTRY = "profile_entry"
    GOAL_VERSION = "goal_version"
    PROGRESS_ENTRY = "progress_entry"
    FEEDBACK = "feedback"
    OTHER = "other"


class CorrectionRequest(db.Model):
    """A guardian's or learner's request, the school admin's answer, and who gave it when."""

    __tablename__ = "correction_requests"
    __stamp__ = stamps.NOTHING  # shown on uncached pages only (the queue, the requester's list)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    part_kind: Mapped[PartKind] = mapped_column(db.Enum(PartKind, native_enum=False, length=20))
    part_id: Mapped[int | None]
    # What the part said when the request was made, so the answer is read against it.
    part_text: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[CorrectionStatus] = mapped_column(
        db.Enum(CorrectionStatus, native_enum=False, length=20),
        default=CorrectionStatus.OPEN,
        index=True,
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    @property
    def is_closed(self) -> bool:
        return self.status in (CorrectionStatus.CORRECTED, CorrectionStatus.DECLINED)


