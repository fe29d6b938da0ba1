"""Demo insights: learners rostered at the start of the term, and the facts precomputed.

The demo's people are created at seeding time, but their goals, entries and signatures
go back weeks: without this, the time machine (which counts learners whose account
existed then) would show empty past cycles. The term start is when a real roster import
would have made the accounts.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import update

from portal.auth.models import User

from .snapshots import refresh


def seed(demo) -> None:
    """Date the demo learners' accounts from the term's start; compute the insights."""
    rostered = datetime.combine(demo.term.start_date, time(8))
    demo.session.execute(
        update(User)
        .where(User.id.in_([learner.id for learner in demo.learners]))
        .values(created_at=rostered)
    )
    demo.session.flush()
    refresh(demo.district.id)
