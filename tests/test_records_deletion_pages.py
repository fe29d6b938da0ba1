"""Deletion on request through the admin pages and the command line; the retention list."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.timeutil import utcnow
from portal.progress.models import ProgressEntry
from portal.records import deletion, retention
from portal.records.deletion_cli import delete_command
from portal.records.retention import RetentionDue
from portal.records.tombstone import RecordDeletion
from portal.roster import services as roster_services
from portal.rostering.apply import apply_import
from tests.fixtures import progress as build
from tests.rostering_kit import Kit, district_and_admin

REFERENCE = "Records request 2026-114"


@pytest.fixture
def world(make):
    school = make.default_school()
    build.scale(make)
    teacher = make.teacher()
    learner = make.learner(given_name="Quillon", family_name="Zyxwareth", username="quillon.zyx")
    other = make.learner(given_name="Orsolya", family_name="Vantablek")
    make.school_class(teacher=teacher, learners=[learner, other])
    for who in (learner, other):
        build.entry(make, build.goal(make, who), 2)
    admin = make.school_admin(school)
    other_admin = make.school_admin(make.school("Elsewhere"))
    make.commit()
    return {"learner": learner, "other": other, "teacher": teacher, "admin": admin,
            "other_admin": other_admin}  # fmt: skip


def _url(learner) -> str:
    return f"/records/learners/{learner.id}/delete"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _fonts(data: bytes) -> set[str]:
    """The font families a PDF embeds (subset prefixes dropped)."""
    found = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            found.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return found


def test_an_admin_confirms_deletes_and_downloads_the_receipt(app, client, auth, world):
    learner, admin = world["learner"], world["admin"]
    learner_id = learner.id
    auth.login(admin)
    person = client.get(f"/admin/people/{learner_id}").get_data(as_text=True)
    assert _url(learner) in person
    page = client.get(_url(learner))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Progress entries" in body and "Learner account" in body

    wrong = client.post(_url(learner), data={"reference": REFERENCE, "confirm_name": "someone"})
    assert wrong.status_code == 422
    assert db.session.get(User, learner_id) is not None

    named = client.post(
        _url(learner), data={"reference": "Quillon's request", "confirm_name": "quillon.zyx"}
    )
    assert named.status_code == 422
    assert "must not name the learner" in named.get_data(as_text=True)
    assert db.session.get(User, learner_id) is not None

    done = client.post(
        _url(learner), data={"reference": REFERENCE, "confirm_name": " Quillon  ZYXWARETH "}
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, learner_id) is None
    assert db.session.scalar(select(func.count()).select_from(ProgressEntry)) == 1
    tombstone = db.session.scalars(select(RecordDeletion)).one()
    assert done.headers["Location"].endswith(f"/records/deletions/{tombstone.id}")

    result = client.get(done.headers["Location"]).get_data(as_text=True)
    assert REFERENCE in result and "Quillon" not in result
    assert "being prepared" in result  # laid out by the worker, never in the request
    early = client.get(f"/records/deletions/{tombstone.id}/receipt.pdf")
    assert early.status_code == 303
    job_id = db.session.scalars(select(Job.id).where(Job.kind == "records.receipt")).one()
    assert f"/jobs/{job_id}" in result
    db.session.rollback()  # the worker needs the database (SQLite: one writer)
    jobs.run_job(app, job_id)
    assert db.session.get(Job, job_id).state == "done"
    assert "Download the disposal receipt" in client.get(done.headers["Location"]).get_data(
        as_text=True
    )
    receipt = client.get(f"/records/deletions/{tombstone.id}/receipt.pdf")
    assert receipt.status_code == 200
    assert receipt.headers["Content-Type"] == "application/pdf"
    text = _pdf_text(receipt.data)
    assert REFERENCE in text
    assert "Test School" in text and "Test District" in text
    assert admin.display_name in text
    assert "Progress entries" in text and "Quillon" not in text
    assert _fonts(receipt.data) == {"DejaVu-Sans", "DejaVu-Sans-Bold"}  # no emoji digits
    assert client.get("/records/due").get_data(as_text=True).count(REFERENCE) == 1


def test_an_htmx_confirmation_with_a_wrong_name_gets_the_form_back(client, auth, world):
    auth.login(world["admin"])
    response = client.post(
        _url(world["learner"]),
        data={"reference": REFERENCE, "confirm_name": "nope"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert "nothing was deleted" in body


def test_the_district_admin_may_delete_and_admins_find_the_due_list(client, auth, make, world):
    district_admin = make.district_admin()
    make.commit()
    auth.login(district_admin)
    assert client.get(_url(world["learner"])).status_code == 200
    assert "/records/due" in client.get("/").get_data(as_text=True)


def test_teachers_and_other_schools_admins_cannot_delete(client, auth, world):
    learner = world["learner"]
    auth.login(world["teacher"])
    assert client.get(_url(learner)).status_code == 403
    assert client.post(_url(learner), data={"reference": REFERENCE}).status_code == 403
    auth.logout()
    auth.login(world["other_admin"])
    assert client.get(_url(learner)).status_code == 404
    post = client.post(_url(learner), data={"reference": REFERENCE, "confirm_name": "quillon.zyx"})
    assert post.status_code == 404
    assert db.session.get(User, learner.id) is not None


def test_the_cli_lists_without_deleting_then_deletes_with_yes(app, world, tmp_path):
    learner_id = world["learner"].id
    runner = app.test_cli_runner()
    listed = runner.invoke(delete_command, ["--learner-id", str(learner_id)])
    assert listed.exit_code == 0, listed.output
    assert "progress_entries): 1" in listed.output and "Nothing was deleted" in listed.output
    assert db.session.get(User, learner_id) is not None
    unreferenced = runner.invoke(delete_command, ["--learner-id", str(learner_id), "--yes"])
    assert unreferenced.exit_code != 0 and "reference" in unreferenced.output
    deleted = runner.invoke(
        delete_command,
        ["--learner-id", str(learner_id), "--yes", "--reference", REFERENCE]
        + ["--receipt", str(tmp_path / "receipt.pdf")],
    )
    assert deleted.exit_code == 0, deleted.output
    assert "receipt number" in deleted.output and "users): 1" in deleted.output
    db.session.expire_all()
    assert db.session.get(User, learner_id) is None
    tombstone = db.session.scalars(select(RecordDeletion)).one()
    assert tombstone.actor_id is None and tombstone.actor_name.startswith("command line")
    text = _pdf_text((tmp_path / "receipt.pdf").read_bytes())
    assert REFERENCE in text and "Quillon" not in text
    assert tombstone.receipt_made_at is not None
    refused = runner.invoke(delete_command, ["--learner-id", str(world["teacher"].id), "--yes"])
    assert refused.exit_code != 0 and "Only a learner" in refused.output


# --- Retention -------------------------------------------------------------------------


def test_deactivating_by_hand_records_when_and_reactivating_clears_it(app, world):
    learner, admin = world["learner"], world["admin"]
    roster_services.set_active(admin, learner, False)
    first = learner.deactivated_at
    assert first is not None
    roster_services.set_active(admin, learner, False)  # again: the date stays
    assert learner.deactivated_at == first
    roster_services.set_active(admin, learner, True)
    assert learner.deactivated_at is None


def test_the_roster_records_when_it_deactivates_and_clears_it_when_they_return(
    app, make, tmp_path
):
    district, admin = district_and_admin(make)
    kit = Kit(tmp_path / "package")
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    noah = db.session.scalar(select(User).where(User.source_id == "u-l2"))
    assert noah.deactivated_at is None
    kit.drop("users.csv", "u-l2")  # missing from a bulk file
    kit.drop("roles.csv", "r-l2")
    kit.drop("enrollments.csv", "e-4")
    kit.drop("demographics.csv", "u-l2")
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=True)
    db.session.expire_all()
    assert noah.active is False and noah.deactivated_at is not None
    back = Kit(tmp_path / "back")
    apply_import(back.path, scope=district, actor=admin, confirmed_guard=False)
    db.session.expire_all()
    assert noah.active is True and noah.deactivated_at is None
    back.edit("users.csv", "u-l2", enabledUser="false")  # still listed, no longer enabled
    apply_import(back.path, scope=district, actor=admin, confirmed_guard=True)
    db.session.expire_all()
    assert noah.active is False and noah.deactivated_at is not None


def test_learners_past_the_retention_period_are_listed_never_deleted(app, client, auth, world):
    learner, other, admin = world["learner"], world["other"], world["admin"]
    app.config["RECORD_RETENTION_DAYS"] = 30
    for who, days in ((learner, 31), (other, 29)):
        who.active, who.deactivated_at = False, utcnow() - timedelta(days=days)
    db.session.commit()
    retention.sweep()  # the worker's minute sweep
    assert db.session.scalars(select(RetentionDue.learner_id)).all() == [learner.id]
    assert db.session.get(User, learner.id) is not None

    auth.login(admin)
    due = client.get("/records/due").get_data(as_text=True)
    assert "Quillon" in due and _url(learner) in due and "Orsolya" not in due
    auth.logout()
    auth.login(world["other_admin"])
    assert "Quillon" not in client.get("/records/due").get_data(as_text=True)

    learner.active, learner.deactivated_at = True, None  # reactivated by the roster
    db.session.commit()
    assert retention.list_due() == (0, 1)
    db.session.commit()
    assert db.session.scalars(select(RetentionDue)).all() == []


def test_a_write_racing_the_deletion_rolls_it_back_and_says_so(client, auth, world, monkeypatch):
    """A row added to the record between finding its rows and deleting them: FK refusal."""

    def racing(*args, **kwargs):
        raise IntegrityError("DELETE FROM goals ...", {}, Exception("foreign key"))

    monkeypatch.setattr(deletion, "delete_record", racing)
    auth.login(world["admin"])
    response = client.post(
        _url(world["learner"]), data={"reference": REFERENCE, "confirm_name": "quillon.zyx"}
    )
    assert response.status_code == 409
    assert "nothing was deleted" in response.get_data(as_text=True)
    assert db.session.get(User, world["learner"].id) is not None
