"""The append-only record of who looked at which learner's record."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow


class AccessLogEntry(db.Model):
    __tablename__ = "access_log"
    __stamp__ = stamps.NOTHING

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # What was read: the endpoint and the kind of record ("profile", "goals", ...).
    page: Mapped[str] = mapped_column(String(120))
    record: Mapped[str] = mapped_column(String(40))
