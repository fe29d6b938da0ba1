"""PL specialists' assigned schools: the only thing about them that is not a User row."""

from __future__ import annotations

from sqlalchemy import delete, select

from portal.auth.models import SpecialistSchool, User
from portal.core.extensions import db


def assigned_school_ids(person: User) -> list[int]:
    return list(
        db.session.scalars(
            select(SpecialistSchool.school_id).where(SpecialistSchool.user_id == person.id)
        )
    )


def set_schools(person: User, school_ids: set[int]) -> None:
    """Assign exactly these schools (the caller has checked they are the admin's)."""
    db.session.execute(delete(SpecialistSchool).where(SpecialistSchool.user_id == person.id))
    db.session.add_all(
        SpecialistSchool(user_id=person.id, school_id=school_id) for school_id in sorted(school_ids)
    )
    db.session.flush()
