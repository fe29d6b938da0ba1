"""Fixtures: a fresh database per test (SQLite file, or a real PostgreSQL), clients, factories."""

from __future__ import annotations

import itertools
import shutil
from contextlib import contextmanager
from datetime import timedelta

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, text
from werkzeug.routing import Rule

from portal import create_app
from portal.auth import services as auth_services
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from tests.fixtures.factories import Factory
from tests.oidc_provider import forging_provider, mock_provider
from tests.pg import DatabasePool, PostgresServer, PostgresUnavailable
from tests.redis_server import RedisServer, RedisUnavailable

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 64,
    "SERVER_NAME": "localhost",
}


BACKENDS = ("sqlite", "postgresql")
_extra_numbers = itertools.count()


def pytest_generate_tests(metafunc):
    """Every test that uses the database runs once on SQLite and once on PostgreSQL.

    A test reaches the database through the `backend` fixture (`app`, `database_url`,
    `client`, `make`, ... all depend on it), so that is what is parametrized. A test of
    a SQLite-only code path opts out with `@pytest.mark.sqlite_only("why")`. The older
    `both_backends` marker is still accepted; it is now the default and changes nothing.
    A test that parametrizes `backend` itself is left alone.
    """
    if "backend" not in metafunc.fixturenames:
        return
    if any("backend" in _argnames(m) for m in metafunc.definition.iter_markers("parametrize")):
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", ["sqlite"], indirect=True)
    else:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def _argnames(marker) -> list[str]:
    names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
    if isinstance(names, str):
        return [name.strip() for name in names.split(",")]
    return list(names)


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None and not (marker.args or marker.kwargs.get("reason")):
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs a reason")
        # Two workers (`-n 2 --dist loadgroup`): a module's tests stay together, so its
        # module fixtures (the crawl's seeded demo, the route matrix) are built once; the
        # browser tests share one worker, so the live demo is seeded once.
        group = "browser" if item.get_closest_marker("browser") else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))


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


@pytest.fixture(scope="session")
def redis_server():
    """Debian's redis-server on a free loopback port, for the job queue's Redis tests."""
    try:
        server = RedisServer().start()
    except RedisUnavailable as exc:
        pytest.skip(f"!!! Redis tests SKIPPED: {exc} !!!")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_mock():
    """A real OpenID Connect provider (oidc-provider-mock) on 127.0.0.1, for the session."""
    with mock_provider() as provider:
        yield provider


@pytest.fixture(scope="session")
def oidc_forger():
    """A loopback provider that signs the ID tokens a test asks for (expired, other audience)."""
    with forging_provider() as provider:
        yield provider


@pytest.fixture(scope="session")
def pg_pool(pg_server):
    """Copies of the template lent to tests one at a time (see DatabasePool)."""
    pool = DatabasePool(pg_server, "waypoint_template")
    yield pool
    pool.close()


@contextmanager
def _pg_database(server):
    """A database of its own (a copy of the template), for a test that needs a second one."""
    name = f"waypoint_extra_{next(_extra_numbers)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE waypoint_template'))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(request, backend, tmp_path):
    if backend == "postgresql":
        pool = request.getfixturevalue("pg_pool")
        name = pool.acquire()
        try:
            yield pool.server.url(name)
        finally:
            pool.release(name)
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
        # Each test's job queue is its own file (opened only if the test starts a job).
        "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        # Record exports are written per test too, never into the checkout's instance/.
        "RECORD_EXPORT_FOLDER": str(tmp_path / "record-exports"),
    }


class _CompiledTemplates(BytecodeCache):
    """Compiled templates shared by every test's app, in memory.

    Each test builds a new app, and each app a new Jinja environment that would
    compile every template it renders again: most of a short test's time. Jinja
    checks each template's source checksum, so an edited template is recompiled.
    (Every test app has the same Jinja settings and extensions: the code is the same.)
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


# Each test app compiles its ~170 URL rules again: Werkzeug turns every rule into two URL
# builder functions through `ast` and `compile()`, about 80% of `create_app`'s 0.1 s,
# paid some 3,000 times a run. A builder is a plain function of the rule's text, its parsed
# trace and its defaults (the rule instance is passed in when it is called), so test apps
# share them, as they share compiled templates. Only the test suite does this.
_url_builders: dict[tuple, object] = {}
_compile_url_builder = Rule._compile_builder


def _shared_url_builder(self, append_unknown: bool = True):
    key = (
        self.rule,
        self.subdomain,
        self.host,
        tuple(self._trace),
        repr(sorted((self.defaults or {}).items())),
        append_unknown,
    )
    builder = _url_builders.get(key)
    if builder is None:
        builder = _url_builders[key] = _compile_url_builder(self, append_unknown)
    return builder


Rule._compile_builder = _shared_url_builder


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = _compiled_templates
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


class Clock:
    """A clock a test moves by hand, in place of `utcnow` where sign-in reads the time."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    """Sign-in's clock (`portal.auth.services.utcnow`), moved by the test: `clock.advance(60)`."""
    clock = Clock()
    monkeypatch.setattr(auth_services, "utcnow", clock)
    return clock
