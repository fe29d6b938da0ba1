"""Crawl the demo district as every demo role, on SQLite and PostgreSQL: never a 500.

The demo is seeded once per backend (`flask --app portal demo`) and shared by the
roles' crawls, which only GET. The pages reached per role and backend are printed
(`-s`) and written to test-artifacts/crawl.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.core.extensions import db
from portal.demo.district import PASSWORD, PIN, YOUNG_CLASS_CODE
from tests.conftest import TEST_CONFIG
from tests.crawl import ROLES, crawl_role, sign_in

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def demo_apps(tmp_path_factory):
    """backend -> an app on a database seeded with the demo district (built on first use)."""
    apps: dict[str, object] = {}
    cleanups = []

    def get(backend: str, request) -> object:
        if backend in apps:
            return apps[backend]
        if backend == "postgresql":
            server = request.getfixturevalue("pg_server")
            admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text('DROP DATABASE IF EXISTS "waypoint_crawl" WITH (FORCE)'))
                conn.execute(text('CREATE DATABASE "waypoint_crawl" TEMPLATE waypoint_template'))
            url = server.url("waypoint_crawl")

            def drop():
                with admin.connect() as conn:
                    conn.execute(text('DROP DATABASE IF EXISTS "waypoint_crawl" WITH (FORCE)'))
                admin.dispose()

            cleanups.append(drop)
        else:
            shutil_src = request.getfixturevalue("sqlite_template")
            path = tmp_path_factory.mktemp("crawl") / "demo.sqlite"
            path.write_bytes(Path(shutil_src).read_bytes())
            url = f"sqlite:///{path}"
        app = create_app(
            {
                **TEST_CONFIG,
                "SQLALCHEMY_DATABASE_URI": url,
                "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            }
        )
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        apps[backend] = app
        cleanups.insert(0, lambda: _dispose(app))
        return app

    yield get
    for cleanup in cleanups:
        cleanup()


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def reached():
    """(backend, role) -> pages reached; printed and written out when the module ends."""
    counts: dict[tuple[str, str], tuple[int, int, float]] = {}
    yield counts
    if not counts:
        return
    lines = ["pages reached per role (URLs, requests incl. htmx, seconds):"]
    lines += [
        f"  {backend:<10} {role:<15} {urls:>4} URLs {requests:>4} requests {secs:5.1f} s"
        for (backend, role), (urls, requests, secs) in sorted(counts.items())
    ]
    print("\n" + "\n".join(lines))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "crawl.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def crawled(demo_apps, reached):
    """(backend, role) -> that role's crawl, run once and checked by the tests below."""
    results = {}

    def get(backend: str, role: str, request):
        if (backend, role) not in results:
            app = demo_apps(backend, request)
            result = crawl_role(app, role, PASSWORD, PIN, YOUNG_CLASS_CODE)
            reached[(backend, role)] = (len(result.visited), result.requests, result.seconds)
            results[(backend, role)] = result
        return results[(backend, role)]

    return get


@pytest.mark.both_backends
@pytest.mark.parametrize("role", ROLES)
def test_crawl_finds_no_server_error(crawled, backend, role, request):
    """Every page and htmx block a role can reach answers without a 500."""
    result = crawled(backend, role, request)
    assert len(result.visited) > 10, f"{role} reached only {result.visited}"
    if result.server_errors:
        pytest.fail(
            f"{len(result.server_errors)} server errors on {backend}:\n\n"
            + "\n\n".join(str(p) for p in result.server_errors),
            pytrace=False,
        )
    if result.leaks:
        pytest.fail(
            f"pages of what {role} may not see did not answer 403/404 on {backend}:\n"
            + "\n".join(f"  {p.url} ({p.variant}) -> {p.status}" for p in result.leaks),
            pytrace=False,
        )


@pytest.mark.both_backends
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_without_sql(crawled, backend, role, request):
    """Routes gather a page's data: no template or block the crawl reaches runs SQL while
    it renders (no lazy load, no helper that asks the database), page and htmx alike."""
    result = crawled(backend, role, request)
    assert result.requests > 20
    if result.render_queries:
        pytest.fail(
            f"{len(result.render_queries)} responses ran SQL while rendering on {backend}:\n\n"
            + "\n\n".join(str(p) for p in result.render_queries),
            pytrace=False,
        )


@pytest.mark.both_backends
def test_live_conference_panel_opened_as_a_page_is_the_workspace(demo_apps, backend, request):
    """Found by the crawl: /conferences/<id>/live without HX-Request failed ('agenda' is
    undefined): the block's slim context was rendered as the whole page."""
    from sqlalchemy import select

    from portal.conferences.models import Conference

    app = demo_apps(backend, request)
    client = app.test_client()
    with app.app_context():
        user_id = sign_in(client, "learner", PASSWORD, PIN, YOUNG_CLASS_CODE)
        conference_id = db.session.scalar(
            select(Conference.id).where(Conference.learner_id == user_id).order_by(Conference.id)
        )
        db.session.remove()
    assert conference_id, "the demo learner has no conference"
    live, workspace = f"/conferences/{conference_id}/live", f"/conferences/{conference_id}"

    page = client.get(live)
    assert page.status_code == 303 and page.headers["Location"].endswith(workspace)
    followed = client.get(live, follow_redirects=True).get_data(as_text=True)
    assert "<html" in followed and 'id="conference-live"' in followed

    fragment = client.get(live, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code in (200, 286)
    assert "<html" not in html and 'id="conference-live"' in html


@pytest.mark.both_backends
def test_teacher_home_lists_classes_with_their_learner_counts(demo_apps, backend, request):
    """Found by the crawl: on PostgreSQL the teacher home failed (GROUP BY classes.id beside
    the eager-loaded term's columns)."""
    app = demo_apps(backend, request)
    client = app.test_client()
    with app.app_context():
        sign_in(client, "teacher", PASSWORD, PIN, YOUNG_CLASS_CODE)
        db.session.remove()
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Math 7" in html and "Grade 3 Homeroom" in html and "30 learners" in html
