"""The roster import pages, end to end with a real job worker: upload, dry-run summary,
confirm, progress, result and history; the guard's second confirmation; errors with their
exact messages and nothing written; who may see what. Both database backends.
"""

from __future__ import annotations

import io
import re
import signal
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from flask import request, request_finished
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import create_app
from portal.auth.models import User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.demo.district import PASSWORD, PIN, YOUNG_CLASS_CODE
from portal.rostering.apply import apply_import
from portal.rostering.jobs import remove_abandoned_uploads, uploads_folder
from portal.rostering.models import Demographics, RosterImport
from tests.conftest import TEST_CONFIG
from tests.crawl import ROLES, USERNAMES, crawl_role
from tests.rostering_kit import Kit, district_and_admin, org
from tests.sql_guard import sql_while_rendering

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_HEARTBEAT_SECONDS": 0.2, "JOBS_PROGRESS_SECONDS": 0}


class _Client(FlaskClient):
    """Ends the test's transaction around each request (they share its session): on SQLite
    outside a request a transaction holds the write lock the worker needs."""

    def open(self, *args, **kwargs):
        db.session.commit()
        try:
            return super().open(*args, **kwargs)
        finally:
            db.session.commit()


@pytest.fixture
def client(app):
    app.test_client_class = _Client
    return app.test_client()


@pytest.fixture
def worker(app):
    """A real Huey consumer (one worker thread) on the test app's queue (tests/test_jobs.py)."""
    consumer = jobs.create_consumer(
        app,
        workers=1,
        periodic=False,
        initial_delay=0.02,
        backoff=1.1,
        max_delay=0.1,
        check_worker_health=False,
    )
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    for sig, handler in kept.items():
        signal.signal(sig, handler)
    yield consumer
    consumer.stop(graceful=True)
    jobs.huey_for(app).flush()


@pytest.fixture
def kit(tmp_path):
    return Kit(tmp_path / "package")


def zipped(kit: Kit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for file in sorted(Path(kit.path).iterdir()):
            archive.write(file, file.name)
    return out.getvalue()


def upload(client, data: bytes, name: str = "sis-export.zip", **fields):
    body = {"package": (io.BytesIO(data), name), **fields}
    return client.post("/admin/roster/import", data=body, content_type="multipart/form-data")


def run_id_of(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/runs/(\d+)$", response.headers["Location"]).group(1))


def finished_page(client, run_id: int, timeout: float = 60) -> str:
    """Reload the run's page (as a browser without JS would) until its job is over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.commit()
        with db.engine.connect() as conn:
            state = conn.execute(select(Job.state).where(Job.id == run_id)).scalar()
        if state in ("done", "failed"):
            response = client.get(f"/admin/roster/runs/{run_id}")
            assert response.status_code == 200
            return response.get_data(as_text=True)
        time.sleep(0.05)
    raise AssertionError(f"job {run_id} did not finish")


def fingerprint_in(html: str) -> str:
    return re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]{64})"', html).group(1)


def scalar(statement):
    """One value, read in a transaction that ends at once."""
    db.session.commit()
    value = db.session.scalar(statement)
    db.session.commit()
    return value


def count(model, *where) -> int:
    return scalar(select(func.count()).select_from(model).where(*where))


def learner(source_id: str) -> tuple:
    db.session.commit()
    row = db.session.execute(
        select(User.grade, User.active).where(User.source_id == source_id)
    ).one_or_none()
    db.session.commit()
    return row


# --- Upload -> dry run -> confirm -> apply -> history ------------------------------------


def test_upload_dry_run_confirm_apply_and_history(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    auth.login(admin)
    page = client.get("/admin/roster/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text

    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    assert count(User) == 1  # the upload only starts a dry run

    summary = finished_page(client, run_id)
    assert "What importing this file would do" in summary
    assert "cannot sign in" in summary  # the plan's note on new people
    assert "Confirm and import" in summary
    assert "lineItems" in summary  # the unused file is named
    assert count(User) == 1  # a dry run writes nothing
    # The htmx poll of a finished run: the same block alone, and "stop polling".
    fragment = client.get(f"/admin/roster/runs/{run_id}", headers=HTMX)
    assert fragment.status_code == 286
    assert "<html" not in fragment.text and 'id="roster-run"' in fragment.text
    assert "hx-trigger" not in fragment.text.split("<form")[0]

    confirmed = client.post(
        f"/admin/roster/runs/{run_id}/confirm", data={"fingerprint": fingerprint_in(summary)}
    )
    apply_id = run_id_of(confirmed)
    result = finished_page(client, apply_id)
    assert "Imported" in result and "rows written" in result
    assert learner("u-l1").grade == 4

    history = client.get("/admin/roster/imports")
    assert history.status_code == 200
    assert history.text.count("<td>sis-export.zip</td>") == 2  # the dry run and the import
    assert "Dry run" in history.text and "Applied" in history.text
    applied = scalar(select(RosterImport).where(RosterImport.state == "applied"))
    detail = client.get(f"/admin/roster/imports/{applied.id}")
    assert detail.status_code == 200 and "Learners" in detail.text


def test_a_running_job_polls_and_a_finished_one_stops(app, client, auth, make, kit):
    """Without a worker the job stays queued: the page polls itself and offers Refresh."""
    district, admin = district_and_admin(make)
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    page = client.get(f"/admin/roster/runs/{run_id}")
    assert page.status_code == 200
    assert 'hx-trigger="every 1s, poll-now"' in page.text and "Refresh" in page.text
    poll = client.get(f"/admin/roster/runs/{run_id}", headers=HTMX)
    assert poll.status_code == 200 and "<html" not in poll.text and "<progress" in poll.text


def test_the_guard_needs_the_second_confirmation(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    kit.drop("users.csv", "u-l2")
    kit.drop("roles.csv", "r-l2")
    kit.drop("enrollments.csv", "e-4")
    kit.drop("demographics.csv", "u-l2")
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    summary = finished_page(client, run_id)
    assert "This file would deactivate 1 learner." in summary
    assert "50%" in summary and "10%" in summary
    assert 'name="deactivate"' in summary
    jobs_before = count(Job)

    refused = client.post(
        f"/admin/roster/runs/{run_id}/confirm", data={"fingerprint": fingerprint_in(summary)}
    )
    assert refused.status_code == 422
    assert "Tick the box to confirm that it is the complete roster" in refused.text
    assert count(Job) == jobs_before  # nothing started
    assert learner("u-l2").active

    as_htmx = client.post(
        f"/admin/roster/runs/{run_id}/confirm",
        data={"fingerprint": fingerprint_in(summary)},
        headers=HTMX,
    )
    assert as_htmx.status_code == 422 and "<html" not in as_htmx.text
    assert "Tick the box" in as_htmx.text

    apply_id = run_id_of(
        client.post(
            f"/admin/roster/runs/{run_id}/confirm",
            data={"fingerprint": fingerprint_in(summary), "deactivate": "y"},
        )
    )
    assert "Imported" in finished_page(client, apply_id)
    assert learner("u-l2").active is False


def test_a_confirmation_of_another_dry_run_is_refused(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    finished_page(client, run_id)
    response = client.post(f"/admin/roster/runs/{run_id}/confirm", data={"fingerprint": "0" * 64})
    assert response.status_code == 409
    assert "This confirmation is for another dry run" in response.text
    assert count(Job) == 1


def test_errors_are_shown_exactly_and_nothing_is_written(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    kit.edit("enrollments.csv", "e-2", classSourcedId="c999")
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    summary = finished_page(client, run_id)
    message = "classSourcedId 'c999' is not in classes.csv."
    assert message in summary.replace("&#39;", "'")
    assert "<td>enrollments.csv</td><td>3</td><td>classSourcedId</td><td>c999</td>" in summary
    assert "cannot be imported" in summary
    assert "Confirm and import" not in summary
    dry = scalar(select(RosterImport))
    csv = client.get(f"/admin/roster/imports/{dry.id}/errors.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "file,row,column,value,message"
    assert lines[1].startswith("enrollments.csv,3,classSourcedId,c999,") and message in lines[1]

    posted = client.post(
        f"/admin/roster/runs/{run_id}/confirm", data={"fingerprint": fingerprint_in_any(dry)}
    )
    assert posted.status_code == 422 and "The file has errors" in posted.text
    assert count(User) == 1 and count(Job) == 1


def fingerprint_in_any(record: RosterImport) -> str:
    return record.fingerprint


def test_a_failed_apply_says_why_on_the_run_page(app, client, auth, make, kit, worker):
    """The roster changed between the dry run and the confirmation: the job refuses."""
    district, admin = district_and_admin(make)
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    summary = finished_page(client, run_id)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)  # someone else
    db.session.commit()
    apply_id = run_id_of(
        client.post(
            f"/admin/roster/runs/{run_id}/confirm", data={"fingerprint": fingerprint_in(summary)}
        )
    )
    page = finished_page(client, apply_id)
    assert "Nothing was imported" in page
    assert "changed since the dry run you confirmed" in page


# --- The upload form's checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"name,role\nmia,student\n", "users.csv", "That is not a zip file"),
        (b"PK\x03\x04 not really", "export.zip", "That is not a zip file"),
        (b"", "export.zip", "That file is empty"),
    ],
)
def test_an_upload_that_is_not_a_roster_zip_is_refused(
    app, client, auth, make, data, name, message
):
    district, admin = district_and_admin(make)
    auth.login(admin)
    response = upload(client, data, name, scope_id=district.id)
    assert response.status_code == 422 and message in response.text
    assert count(Job) == 0


def test_no_file_is_refused(app, client, auth, make):
    district, admin = district_and_admin(make)
    auth.login(admin)
    response = client.post("/admin/roster/import", data={"scope_id": district.id})
    assert response.status_code == 422 and "Choose the .zip file" in response.text


def test_the_file_is_stored_under_a_random_name(app, client, auth, make, kit):
    district, admin = district_and_admin(make)
    auth.login(admin)
    name = "../../" + "x" * 5000 + ".zip"
    run_id = run_id_of(upload(client, zipped(kit), name, scope_id=district.id))
    params = scalar(select(Job.params).where(Job.id == run_id))
    stored = Path(params["path"])
    assert stored.parent == Path(app.config["UPLOAD_FOLDER"]) / "roster"
    assert re.fullmatch(r"[0-9a-f]{32}\.zip", stored.name) and stored.is_file()
    assert params["file_name"] == ("x" * 5000 + ".zip")[:255]


def test_a_file_over_the_roster_limit_gets_the_limit_in_words(app, client, auth, make):
    app.config["ROSTER_UPLOAD_MB"] = 1
    district, admin = district_and_admin(make)
    auth.login(admin)
    response = upload(client, b"0" * (3 * 1024 * 1024), scope_id=district.id)
    assert response.status_code == 413
    assert "That file is too large: the limit is 1 MB." in response.text
    assert count(Job) == 0


def test_the_roster_upload_takes_files_over_the_site_limit(app, client, auth, make, kit):
    app.config["MAX_CONTENT_LENGTH"] = 1024  # the evidence limit elsewhere
    district, admin = district_and_admin(make)
    auth.login(admin)
    assert run_id_of(upload(client, zipped(kit), scope_id=district.id))


# --- Scope: district admins, school admins, everybody else ----------------------------------


def test_a_school_admin_imports_for_their_school_only(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make, source_id="d-1")
    school = make.school("Maple Elementary", district)
    school.source_id = "s-1"
    principal = make.school_admin(school)
    db.session.commit()
    auth.login(principal)
    page = client.get("/admin/roster/import")
    assert "Import for: Maple Elementary" in page.text and "<select" not in page.text

    refused = upload(client, zipped(kit), scope_id=district.id)  # the district: not theirs
    assert refused.status_code == 422
    assert "You may import files only for your own district or school." in refused.text

    run_id = run_id_of(upload(client, zipped(kit), scope_id=school.id))
    summary = finished_page(client, run_id)
    assert "cannot be imported" in summary  # the district's file names another school
    refusal = "<td>orgs.csv</td><td>4</td><td>sourcedId</td><td>s-2</td>"
    assert (
        refusal + "<td>&#39;s-2&#39; is outside Maple Elementary, which this import may change."
    ) in summary
    assert org("s-2") is None

    # The district admin sees the school's import; the principal never the district's.
    own = scalar(select(RosterImport))
    district_run = apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert client.get(f"/admin/roster/imports/{own.id}").status_code == 200
    assert client.get(f"/admin/roster/imports/{district_run.import_id}").status_code == 404
    history = client.get("/admin/roster/imports").text
    assert history.count("<td>sis-export.zip</td>") == 1
    auth.logout()
    auth.login(admin)
    assert client.get(f"/admin/roster/imports/{own.id}").status_code == 200
    assert client.get("/admin/roster/imports").text.count("<td>sis-export.zip</td>") == 1
    assert client.get("/admin/roster/imports").text.count(f"<td>{kit.folder.name}</td>") == 1


@pytest.mark.parametrize("role", ["learner", "teacher", "guardian"])
def test_people_who_are_not_admins_get_403(app, client, auth, make, role):
    person = getattr(make, role)()
    make.commit()
    auth.login(person)
    for url in ("/admin/roster/import", "/admin/roster/imports"):
        assert client.get(url).status_code == 403


def test_another_districts_admin_gets_404(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    far = make.district_admin(make.district("Far District"), username="far")
    db.session.commit()
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    finished_page(client, run_id)
    record = scalar(select(RosterImport))
    auth.logout()
    auth.login(far)
    for url in (
        f"/admin/roster/runs/{run_id}",
        f"/admin/roster/imports/{record.id}",
        f"/admin/roster/imports/{record.id}/errors.csv",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/roster/runs/{run_id}/confirm", data={}).status_code == 404
    assert "sis-export.zip" not in client.get("/admin/roster/imports").text
    assert upload(client, zipped(kit), scope_id=district.id).status_code == 422


# --- Rendering without SQL; demographics shown nowhere --------------------------------------


def test_the_pages_render_without_sql(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    finished_page(client, run_id)
    record = scalar(select(RosterImport))
    for url in (
        "/admin/roster/import",
        f"/admin/roster/runs/{run_id}",
        "/admin/roster/imports",
        f"/admin/roster/imports/{record.id}",
    ):
        for headers in ({}, HTMX):
            with sql_while_rendering(app) as queries:
                response = client.get(url, headers=headers)
            assert response.status_code in (200, 286), url
            assert not queries, (url, queries)


def test_the_dry_run_shows_no_demographic_values(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    kit.edit("demographics.csv", "u-l1", cityOfBirth="Zyxwvutown", countryOfBirthCode="ZQ")
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    summary = finished_page(client, run_id)
    assert "Demographics" in summary  # counted ...
    assert "Zyxwvutown" not in summary and "Columbus" not in summary  # ... never shown


# --- No page shows demographics, to any role ---------------------------------------------

QWZX = "Qwzx"  # in every seeded demographic text value, found on no page of the demo


@pytest.mark.sqlite_only("a crawl of every role (minutes); what pages show is not the database's")
def test_no_page_shows_demographics_to_any_role(backend, database_url, tmp_path):
    """Seed a learner's demographics with distinctive values, crawl the demo as every role
    (every page and its htmx block, the roster import pages with a dry run included): the
    values never appear."""
    app = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_FOLDER": str(tmp_path)}
    )
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        maya = db.session.scalar(select(User).where(User.username == USERNAMES["learner"]))
        supt = db.session.scalar(select(User).where(User.username == USERNAMES["district_admin"]))
        # The demo gives every learner demographics (for insights): Maya's are replaced.
        db.session.merge(
            Demographics(
                user_id=maya.id,
                birth_date=date(1911, 11, 11),
                sex="Qwzx-sex",
                city_of_birth="Qwzxville",
                state_of_birth_abbreviation="QWZX",
                public_school_residence_status="Qwzx-resident",
                programs={"ell": "Qwzx-program"},
            )
        )
        plan = {"fingerprint": "0" * 64, "error_count": 0, "file_name": "sis.zip"}
        plan["entities"] = {"demographics": {"counts": {"changed": 1}, "samples": {}}}
        db.session.add(
            Job(
                kind="roster.dry_run",
                owner_id=supt.id,
                state="done",
                params={"path": "/nowhere.zip", "scope_id": supt.org_id, "file_name": "sis.zip"},
                result={"import_id": None, "plan": plan},
            )
        )
        db.session.commit()
        db.session.remove()
    shown: list[str] = []
    seen_maya: list[str] = []  # the check sees the bodies: the learner's name is found

    def check(sender, response, **extra):
        body = response.get_data(as_text=True) if not response.direct_passthrough else ""
        if QWZX.lower() in body.lower() or "1911" in body:
            shown.append(request.full_path)
        if "Maya" in body:
            seen_maya.append(request.full_path)

    try:
        with request_finished.connected_to(check, app):
            for role in ROLES:
                result = crawl_role(app, role, PASSWORD, PIN, YOUNG_CLASS_CODE)
                assert not result.server_errors, result.server_errors[:3]
                assert result.visited
    finally:
        with app.app_context():
            db.engine.dispose()
    assert seen_maya
    assert not shown, f"demographic values shown on {shown[:10]}"


# --- The uploaded file holds personal data: it does not outlive its import ---------------


def _uploads(app) -> list:
    with app.app_context():
        folder = uploads_folder()
        return sorted(folder.glob("*.zip")) if folder.is_dir() else []


def test_an_applied_upload_is_deleted(app, client, auth, make, kit, worker):
    district, admin = district_and_admin(make)
    auth.login(admin)
    run_id = run_id_of(upload(client, zipped(kit), scope_id=district.id))
    summary = finished_page(client, run_id)
    assert len(_uploads(app)) == 1  # kept while the dry run waits for a confirmation
    confirmed = client.post(
        f"/admin/roster/runs/{run_id}/confirm", data={"fingerprint": fingerprint_in(summary)}
    )
    assert "Imported" in finished_page(client, run_id_of(confirmed))
    assert _uploads(app) == []


def test_an_abandoned_upload_is_deleted_after_the_keep_period(app, client, auth, make, kit):
    district, admin = district_and_admin(make)
    auth.login(admin)
    upload(client, zipped(kit), scope_id=district.id)
    (kept,) = _uploads(app)
    hours = app.config["ROSTER_UPLOAD_KEEP_HOURS"]
    with app.app_context():
        assert remove_abandoned_uploads(now=time.time() + (hours - 1) * 3600) == 0
        assert remove_abandoned_uploads(now=time.time() + (hours + 1) * 3600) == 1
    assert not kept.exists()
    assert remove_abandoned_uploads in jobs._SWEEPERS  # the worker runs it every minute
