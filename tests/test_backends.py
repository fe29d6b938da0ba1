"""The test fixtures themselves: every database test on both databases, each on a fresh one."""

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from tests.conftest import BACKENDS


def test_a_database_test_runs_on_each_backend(request, app, backend):
    assert request.node.callspec.params["backend"] == backend
    assert backend in BACKENDS
    assert db.engine.dialect.name == backend


@pytest.mark.both_backends
def test_the_old_marker_is_still_accepted(backend):
    assert backend in BACKENDS  # collected once per backend, not parametrized twice


@pytest.mark.sqlite_only("checks that the marker keeps a test off PostgreSQL")
def test_sqlite_only_keeps_a_test_off_postgresql(app, backend):
    assert backend == "sqlite"
    assert db.engine.dialect.name == "sqlite"


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_each_test_starts_on_an_empty_database_with_ids_from_one(app, make, round_):
    # On PostgreSQL the later rounds get a database an earlier test used, emptied.
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    first = make.learner()
    make.commit()
    assert first.id == 1
