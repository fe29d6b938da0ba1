"""What rostering adds to the schema: import history, demographics, sign-in identifiers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import stamps
from portal.core.extensions import db
from portal.core.timeutil import utcnow

DRY_RUN, APPLIED, FAILED = "dry_run", "applied", "failed"


class RosterImport(db.Model):
    """One OneRoster file set read (a dry run) or applied, and what came of it."""

    __tablename__ = "roster_imports"
    __stamp__ = stamps.NOTHING  # the import history page is never polled

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    scope_org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(8))
    modes: Mapped[dict] = mapped_column(JSON, default=dict)  # {"users": "bulk", ...}
    state: Mapped[str] = mapped_column(String(16), default=DRY_RUN)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # ImportPlan.counts_json()
    error_count: Mapped[int] = mapped_column(default=0)
    warning_count: Mapped[int] = mapped_column(default=0)
    # The row errors as CSV (file,row,column,value,message), for the SIS team to download.
    errors_csv: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)  # why an apply failed
    applied_at: Mapped[datetime | None]


class Demographics(db.Model):
    """A person's OneRoster demographics, for leaders' subgroup aggregates only.

    No teacher, guardian or learner page reads this table, and no page is polled under
    it (`__stamp__ = NOTHING`): a change here bumps no stamp and so reveals nothing.
    """

    __tablename__ = "demographics"
    __stamp__ = stamps.NOTHING

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(40))
    american_indian_or_alaska_native: Mapped[bool | None]
    asian: Mapped[bool | None]
    black_or_african_american: Mapped[bool | None]
    native_hawaiian_or_other_pacific_islander: Mapped[bool | None]
    white: Mapped[bool | None]
    two_or_more_races: Mapped[bool | None]
    hispanic_or_latino_ethnicity: Mapped[bool | None]
    country_of_birth_code: Mapped[str | None] = mapped_column(String(10))
    state_of_birth_abbreviation: Mapped[str | None] = mapped_column(String(10))
    city_of_birth: Mapped[str | None] = mapped_column(String(120))
    public_school_residence_status: Mapped[str | None] = mapped_column(String(80))
    # metadata.* columns of demographics.csv (program flags such as ell, iep, frl).
    programs: Mapped[dict] = mapped_column(JSON, default=dict)


class UserIdentifier(db.Model):
    """One `{type:identifier}` of a user's OneRoster userIds, kept for SSO matching later."""

    __tablename__ = "user_identifiers"
    __stamp__ = stamps.NOTHING  # no page shows them
    __table_args__ = (Index("ix_user_identifiers_type_identifier", "type", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(80))
    identifier: Mapped[str] = mapped_column(String(255))
