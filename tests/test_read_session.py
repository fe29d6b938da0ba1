"""GET requests only read (in autocommit on PostgreSQL); writing() still gets a transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.database import writing
from portal.extensions import db
from portal.roster.models import Org, OrgType


def _autocommit() -> bool:
    raw = db.session.connection().connection.driver_connection
    return getattr(raw, "autocommit", False) is True


@pytest.mark.both_backends
def test_a_get_reads_in_autocommit_on_postgresql_only(app, backend, make):
    make.school()
    make.commit()
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        assert db.session.scalar(select(Org.id).limit(1)) is not None
        assert _autocommit() is (backend == "postgresql")
        db.session.remove()
    with app.test_request_context("/", method="POST"):
        assert not _autocommit()
        db.session.remove()


@pytest.mark.both_backends
def test_writing_inside_a_get_is_one_transaction(app, backend, make):
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(Org.id).limit(1))
        with pytest.raises(ValueError), writing() as session:
            assert not _autocommit()
            session.add(Org(name="Half-written", type=OrgType.SCHOOL))
            session.flush()
            raise ValueError("something failed after the first row")
        with writing() as session:
            session.add(Org(name="Written", type=OrgType.SCHOOL))
        db.session.remove()
    names = set(db.session.scalars(select(Org.name)))
    assert "Written" in names and "Half-written" not in names


def test_a_get_that_writes_outside_writing_fails_loudly(app, make):
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        db.session.add(Org(name="Sneaky", type=OrgType.SCHOOL))
        with pytest.raises(RuntimeError, match="outside database.writing"):
            db.session.flush()
        db.session.rollback()
        db.session.remove()
