"""GET requests only read (in autocommit on PostgreSQL); writing() still gets a transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core.database import writing
from portal.core.extensions import db
from portal.roster.models import Org, OrgType


def _in_transaction() -> bool:
    """Whether the database itself has a transaction open on this request's connection."""
    raw = db.session.connection().connection.driver_connection
    if hasattr(raw, "info"):  # psycopg: a server-side transaction, or none in autocommit
        return raw.info.transaction_status.name != "IDLE"
    return raw.in_transaction  # sqlite3


@pytest.mark.both_backends
def test_a_get_reads_outside_a_transaction(app, make):
    make.school()
    make.commit()
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        assert db.session.scalar(select(Org.id).limit(1)) is not None
        assert not _in_transaction()
        db.session.remove()
    with app.test_request_context("/", method="POST"):
        assert db.session.scalar(select(Org.id).limit(1)) is not None
        assert _in_transaction()
        db.session.remove()


@pytest.mark.both_backends
def test_writing_inside_a_get_is_one_transaction(app, backend, make):
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(Org.id).limit(1))
        with pytest.raises(ValueError), writing() as session:
            session.add(Org(name="Half-written", type=OrgType.SCHOOL))
            session.flush()
            assert _in_transaction()
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
