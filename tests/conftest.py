"""Fixtures: a fresh database per test (SQLite file, or a real PostgreSQL), clients, factories."""

from __future__ import annotations

import itertools
import shutil
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text

from portal import create_app
from portal.extensions import db
from tests.factories import Factory
from tests.pg import PostgresServer, PostgresUnavailable

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 64,
    "SERVER_NAME": "localhost",
}
_db_numbers = itertools.count()


def pytest_generate_tests(metafunc):
    """Tests marked both_backends run once on SQLite and once on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_backends"
    ):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request):
    return getattr(request, "param", "sqlite")


def _build_schema(url: str) -> None:
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _build_schema(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"!!! PostgreSQL tests SKIPPED: {exc} !!!")
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE waypoint_template"))
    admin.dispose()
    _build_schema(server.url("waypoint_template"))
    yield server
    server.stop()


@contextmanager
def _pg_database(server):
    name = f"waypoint_test_{next(_db_numbers)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(f'CREATE DATABASE "{name}" TEMPLATE waypoint_template STRATEGY FILE_COPY')
        )
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(request, backend, tmp_path):
    if backend == "postgresql":
        server = request.getfixturevalue("pg_server")
        with _pg_database(server) as url:
            yield url
    else:
        path = tmp_path / "waypoint.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """Build rows with sensible defaults: make.learner(), make.school_class(), ..."""
    return Factory(db.session)


class Auth:
    """Sign a test client in as someone (the password is always the factory default)."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = Factory.PASSWORD):
        response = self.client.post("/signin", data={"login": user.username, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self.client.post("/signout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside a `with count_queries() as n:` block."""

    @contextmanager
    def counter():
        statements: list[str] = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)

    return counter
