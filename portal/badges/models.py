"""Picture sign-in badges: a printed card whose QR code holds a long random secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow


class SignInBadge(db.Model):
    """One printed badge of a learner. Only a hash of its secret is kept: the secret itself
    exists on paper, inside the QR code. At most one badge per learner is live (not
    revoked); printing a new one revokes the old in the same transaction."""

    __tablename__ = "sign_in_badges"
    __stamp__ = stamps.NOTHING  # no polled page shows badges
    __table_args__ = (
        Index(
            "uq_sign_in_badges_live_learner",
            "learner_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def live(self) -> bool:
        return self.revoked_at is None


class BadgeSymbol(db.Model):
    """The picture a teacher chose for a learner's badge (without a row: one by id)."""

    __tablename__ = "badge_symbols"
    __stamp__ = stamps.NOTHING

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    symbol: Mapped[str] = mapped_column(String(20))
