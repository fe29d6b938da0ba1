"""Whose learners a table counts: a district, some of its schools, or some classes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from portal.auth.models import Role, User
from portal.roster.models import Enrollment, EnrollmentRole, Org, SchoolClass


@dataclass(frozen=True)
class Scope:
    district_id: int
    school_ids: tuple[int, ...] | None = None  # None: the whole district
    class_ids: tuple[int, ...] | None = None  # a class, or a teacher's classes
    # Learners in scope: active learners (role learner, active) of those schools,
    # or enrolled (as learners) in those classes.


def school_ids_stmt(scope: Scope) -> Select:
    """The ids of the schools in scope, always inside the scope's district."""
    stmt = select(Org.id).where(Org.parent_id == scope.district_id)
    if scope.school_ids is not None:
        stmt = stmt.where(Org.id.in_(scope.school_ids))
    return stmt


def learner_ids_stmt(scope: Scope, as_of: datetime) -> Select:
    """Active learners of the scope whose account existed at `as_of`.

    Whether a learner was active at a past date is not kept: the time machine counts
    the learners active now who already had an account then (docs/architecture.md).
    """
    stmt = select(User.id).where(
        User.role == Role.LEARNER,
        User.active.is_(True),
        User.created_at <= as_of,
        User.org_id.in_(school_ids_stmt(scope)),
    )
    if scope.class_ids is not None:
        stmt = stmt.where(
            User.id.in_(
                select(Enrollment.user_id)
                .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
                .where(
                    Enrollment.class_id.in_(scope.class_ids),
                    Enrollment.role == EnrollmentRole.LEARNER,
                    SchoolClass.school_id.in_(school_ids_stmt(scope)),
                )
            )
        )
    return stmt
