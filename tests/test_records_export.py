"""The learner's record export: it reconciles with the database, and only its requester gets it.

The reconciliation walks `db.metadata`: every table with a foreign key chain to the
learner's `users.id` is found by introspection, so a table added later is covered the
moment it exists. Its rows for the rich learner must appear in record.json (by their
`ref`), unless the table is in `LEFT_OUT` (the same list, with reasons, as
docs/record-format.md); no row of the other learner may.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections import defaultdict
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from portal.audit.models import AccessLogEntry
from portal.auth.models import LoginSession, PendingWrite, TrustedDevice
from portal.badges.models import BadgeSymbol, SignInBadge
from portal.conferences import notes as conference_notes
from portal.conferences import signing
from portal.conferences.models import (
    Conference,
    ConferenceRequest,
    GoalReflection,
    GoalSignature,
    ReflectionChoice,
    SignerRole,
    SignMethod,
    StepOwner,
)
from portal.core import jobs
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.timeutil import utcnow
from portal.family.models import Cheer, FamilyInvite
from portal.goals.models import GoalVersion, Voice
from portal.insights.snapshots import refresh as refresh_insights
from portal.profiles import services as profiles
from portal.progress import uploads
from portal.records import collect, export
from portal.records.retention import RetentionDue
from portal.rights.models import CorrectionRequest, PartKind
from portal.roster.models import Org
from portal.rostering.models import Demographics, UserIdentifier
from portal.targets.models import Target
from tests.fixtures.family import PRIVATE_NOTE, build_family
from tests.fixtures.progress import entry as log_entry

# Tables whose rows point at the learner but are not in the export (collect.LEFT_OUT says
# why). Private conference notes are a kind of row, not a table: checked on their own.
LEFT_OUT_TABLES = {
    "goal_progress",
    "login_sessions",
    "trusted_devices",
    "pending_writes",
    "jobs",
    "sign_in_badges",
    "badge_symbols",
    "insight_facts",
    "retention_due",
}
# Tables that reach `users` but hold no row a learner has: a teacher's, a school's, a
# guardian's or an import's own (the walk still checks them; the rich learner has none).
NOT_A_LEARNERS = {
    "record_deletions",  # a tombstone names its staff author, never the learner
    "specialist_schools",
    "success_indicators",
    "goal_templates",
    "goal_template_targets",
    "progress_settings",
    "conference_settings",
    "roster_imports",
    "family_invite_throttles",
}
PRIVATE_CONFERENCE_NOTE = "Talk to the counsellor about the bus ride, privately."
EVIDENCE = b"\x89PNG\r\n\x1a\n pretend picture of a ratio table"


@pytest.fixture
def app_config(app_config, tmp_path):
    """Each test's zips in its own folder, never the instance folder of the checkout."""
    return {**app_config, "RECORD_EXPORT_FOLDER": str(tmp_path / "record-exports")}


def _keys(table, where) -> set:
    """The keys of the rows matching `where`: ids, or tuples for a table keyed by several
    columns (a learner's precomputed insight facts; nothing points at those)."""
    columns = list(table.primary_key.columns)
    rows = db.session.execute(select(*columns).where(where))
    return {row[0] if len(columns) == 1 else tuple(row) for row in rows}


def rows_about(user_id: int) -> dict[str, set]:
    """Every row with a foreign key chain to this user, by table: walked to a fixpoint."""
    found: dict[str, set] = defaultdict(set)
    found["users"].add(user_id)
    tables = db.metadata.sorted_tables
    grew = True
    while grew:
        grew = False
        for table in tables:
            for fk in table.foreign_keys:
                parents = found.get(fk.column.table.name)
                if not parents:
                    continue
                ids = (
                    _keys(table, fk.parent.in_(sorted(parents)))
                    - found.get(table.name, set())  # .get: an empty table adds no key
                )
                if ids:
                    found[table.name] |= ids
                    grew = True
    return found


def refs_in(data) -> set[str]:
    out: set[str] = set()
    if isinstance(data, dict):
        if isinstance(data.get("ref"), str):
            out.add(data["ref"])
        for value in data.values():
            out |= refs_in(value)
    elif isinstance(data, list):
        for value in data:
            out |= refs_in(value)
    return out


def schema_reaches_users() -> set[str]:
    reach = {"users"}
    grew = True
    while grew:
        grew = False
        for table in db.metadata.sorted_tables:
            if table.name not in reach and any(
                fk.column.table.name in reach for fk in table.foreign_keys
            ):
                reach.add(table.name)
                grew = True
    return reach


def rich_family(make, app):
    """The family fixture's Maya with a row in every kind of record, and Leo with some."""
    family = build_family(make)
    maya, leo, teacher, guardian = family.maya, family.leo, family.teacher, family.guardian
    goal = family.goal
    target = db.session.get(Target, goal.current_version.targets[0].target_id)
    target.case_identifier = "c6496676-d7cb-11d8-a8c0-0002a5d5c51b"
    # A second version, signed by both; the family acknowledges it.
    second = make._add(
        GoalVersion(
            goal_id=goal.id,
            number=2,
            statement="I will reach Proficient on ratios and rates by May.",
            target_level=3,
            author_id=teacher.id,
            voice=Voice.TEACHER,
            content_hash="1" * 64,
        )
    )
    goal.current_version_id = second.id
    db.session.flush()
    conference = make._add(
        Conference(
            learner_id=maya.id,
            teacher_id=teacher.id,
            scheduled_at=utcnow(),
            created_by_id=teacher.id,
            prep_working="Ratio tables",
        )
    )
    for signer, role in ((maya, SignerRole.LEARNER), (teacher, SignerRole.TEACHER)):
        make._add(
            GoalSignature(
                goal_id=goal.id,
                version_id=second.id,
                learner_id=maya.id,
                signer_id=signer.id,
                role=role,
                content_hash=second.content_hash,
                method=SignMethod.SESSION,
                conference_id=conference.id,
            )
        )
    goal.agreed_version_id = second.id
    db.session.flush()
    signing.acknowledge(goal, guardian)
    conference_notes.add_note(conference, teacher, "Maya explained unit rates well.", False)
    conference_notes.add_note(conference, teacher, PRIVATE_CONFERENCE_NOTE, True)
    conference_notes.add_step(conference, teacher, "Redo quiz 3", StepOwner.LEARNER, None)
    make._add(ConferenceRequest(learner_id=maya.id, note="Can we talk about rates?"))
    make._add(
        GoalReflection(goal_id=goal.id, learner_id=maya.id, choice=ReflectionChoice.KEEP_GOING)
    )
    # Evidence on the fixture's entry: a file under the upload folder.
    folder = uploads.folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ("a" * 32)).write_bytes(EVIDENCE)
    family.entry.file_key, family.entry.file_name = "a" * 32, "ratio table.png"
    family.entry.file_type, family.entry.file_size = "image/png", len(EVIDENCE)
    for entry_id in (None, family.entry.id):
        make._add(
            Cheer(
                learner_id=maya.id,
                goal_id=goal.id,
                entry_id=entry_id,
                author_id=guardian.id,
                body="Proud of you!",
            )
        )
    hidden = make._add(
        Cheer(learner_id=maya.id, goal_id=goal.id, author_id=guardian.id, body="Hidden one")
    )
    hidden.hidden_at, hidden.hidden_by_id = utcnow(), teacher.id
    # Profile: an edit (a second revision), a teacher's comment, a review request.
    about = profiles.find_spec(maya, "about")
    mine = profiles.add_entry(maya, about, maya, "I like maps.")
    profiles.revise_entry(mine, about, maya, "I like maps and trains.", None)
    profiles.add_entry(maya, about, teacher, "Maya drew the class map.", parent=mine)
    profiles.request_review(maya, "Please read my profile")
    # Family, identity, reads.
    make._add(
        FamilyInvite(
            learner_id=maya.id, code_hash="f" * 64, created_by_id=teacher.id, expires_at=utcnow()
        )
    )
    make._add(Demographics(user_id=maya.id, sex="female", programs={"ell": "Y"}))
    make._add(UserIdentifier(user_id=maya.id, type="state", identifier="OH-123456"))
    make._add(
        CorrectionRequest(
            learner_id=maya.id,
            requester_id=guardian.id,
            part_kind=PartKind.GOAL_VERSION,
            part_id=goal.current_version_id,
            part_text="Read 20 minutes",
            message="Maya reads 30 minutes now.",
        )
    )
    make._add(AccessLogEntry(actor_id=teacher.id, learner_id=maya.id, page="/x", record="profile"))
    # Rows that are deliberately left out.
    make._add(LoginSession(token_hash="9" * 64, user_id=maya.id))
    make._add(TrustedDevice(token_hash="8" * 64, user_id=maya.id, expires_at=utcnow()))
    make._add(PendingWrite(user_id=maya.id, action="/x", fields="[]"))
    make._add(Job(kind="records.export", owner_id=maya.id, params={"learner_id": maya.id}))
    # Leo: some of the same kinds, which must stay out of Maya's record.
    leo_entry = log_entry(make, family.leo_goal, 2)
    make._add(
        Cheer(
            learner_id=leo.id,
            goal_id=family.leo_goal.id,
            entry_id=leo_entry.id,
            author_id=guardian.id,
            body="Go Leo",
        )
    )
    profiles.add_entry(leo, profiles.find_spec(leo, "about"), leo, "I like dinosaurs.")
    make._add(UserIdentifier(user_id=leo.id, type="state", identifier="OH-999"))
    # Rows about Maya that the record leaves out (collect.LEFT_OUT says why).
    make._add(SignInBadge(learner_id=maya.id, secret_hash="7" * 64, created_by_id=teacher.id))
    make._add(BadgeSymbol(learner_id=maya.id, symbol="fox"))
    make._add(RetentionDue(learner_id=maya.id))
    refresh_insights(db.session.get(Org, maya.org_id).parent_id)  # a row of facts each
    make.commit()
    return family


def _zip_of(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_record_holds_every_row_about_the_learner_and_nothing_of_another(app, make, tmp_path):
    family = rich_family(make, app)
    maya, leo = family.maya, family.leo
    path = tmp_path / "maya.zip"
    summary = export.write_zip(path, maya.id, family.guardian.id)
    files = _zip_of(path)
    record = json.loads(files["record.json"])
    assert record["format"] == "waypoint-record" and record["version"] == collect.VERSION
    exported = refs_in(record)

    mine = rows_about(maya.id)
    theirs = rows_about(leo.id)
    # The rich learner has rows in every kind of record a learner can have, so a new
    # table pointing at learners fails here until the builder (and the export) cover it.
    unbuilt = schema_reaches_users() - set(mine) - NOT_A_LEARNERS
    assert not unbuilt, f"rich_family builds no row of {sorted(unbuilt)}: add one, and export it"

    private_ids = set(
        db.session.scalars(
            select(db.metadata.tables["conference_notes"].c.id).where(
                db.metadata.tables["conference_notes"].c.private.is_(True)
            )
        )
    )
    missing = sorted(
        f"{table}/{row_id}"
        for table, ids in mine.items()
        if table not in LEFT_OUT_TABLES
        for row_id in ids
        if not (table == "conference_notes" and row_id in private_ids)
        and f"{table}/{row_id}" not in exported
    )
    assert not missing, f"rows about the learner missing from record.json: {missing}"
    leaked = sorted(
        f"{table}/{row_id}"
        for table, ids in theirs.items()
        for row_id in ids
        if f"{table}/{row_id}" in exported
    )
    assert not leaked, f"rows of another learner in the record: {leaked}"
    left_out = sorted(
        f"{table}/{row_id}"
        for table in LEFT_OUT_TABLES
        for row_id in mine.get(table, ())
        if f"{table}/{row_id}" in exported
    ) + sorted(f"conference_notes/{i}" for i in private_ids if f"conference_notes/{i}" in exported)
    assert not left_out, f"rows meant to be left out are in the record: {left_out}"

    text = files["record.json"].decode()
    assert PRIVATE_CONFERENCE_NOTE not in text
    # No token or invite-code hashes.
    assert "9" * 64 not in text and "8" * 64 not in text and "f" * 64 not in text
    assert PRIVATE_NOTE in text  # a teacher's feedback not for families is the learner's own
    # Targets by their CASE identifier; the evidence file beside the JSON, under its path.
    assert '"case_identifier": "c6496676-d7cb-11d8-a8c0-0002a5d5c51b"' in text
    (evidence_path,) = [n for n in files if n.startswith("evidence/")]
    assert files[evidence_path] == EVIDENCE
    assert f'"path": "{evidence_path}"' in text
    assert summary["evidence_files"] == 1
    # The printable copy says the same things in words.
    pdf = _pdf_text(files["record.pdf"])
    assert "Maya Johnson" in pdf
    assert "I like maps and trains." in pdf and "Redo quiz 3" in pdf
    assert "Keep going: it still fits" in pdf and "(hidden by a teacher)" in pdf
    assert PRIVATE_CONFERENCE_NOTE not in pdf


def _only(statement):
    return db.session.scalars(statement).all()


def test_a_guardian_gets_the_zip_alone_and_only_for_a_day(app, make, auth, client):
    family = build_family(make)
    auth.login(family.guardian)
    page = client.get(f"/records/learners/{family.maya.id}/export")
    assert page.status_code == 200
    assert "Download Maya's record" in page.get_data(as_text=True)
    started = client.post(
        f"/records/learners/{family.maya.id}/export", data={"csrf_token": _csrf(page)}
    )
    assert started.status_code == 303
    (job_id,) = _only(select(Job.id).where(Job.kind == export.KIND))
    assert started.headers["Location"].endswith(f"/jobs/{job_id}")
    db.session.commit()  # the test's session lets go of SQLite's write lock
    jobs.run_job(app, job_id)
    job = db.session.get(Job, job_id)
    assert job.state == jobs.DONE, job.error
    status = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    url = f"/records/exports/{job.id}/record.zip"
    assert url in status
    got = client.get(url)
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert "no-store" in got.headers["Cache-Control"]
    assert b'"format": "waypoint-record"' in zipfile.ZipFile(io.BytesIO(got.data)).read(
        "record.json"
    )
    stored = export.folder() / db.session.get(Job, job.id).result["file"]
    assert stored.is_file() and len(stored.stem) >= 32

    # Nobody else: not the other guardian, not Maya herself, not her teacher.
    for other in (family.other_guardian, family.maya, family.teacher):
        auth.logout()
        auth.login(other)
        assert client.get(url).status_code in (403, 404), other
    auth.logout()
    auth.login(family.guardian)

    # A day later: refused in words, and the sweep deletes the file.
    db.session.execute(
        update(Job).where(Job.id == job.id).values(finished_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    gone = client.get(url)
    assert gone.status_code == 410
    assert "expired" in gone.get_data(as_text=True)
    old = time.time() - 25 * 3600
    os.utime(stored, (old, old))
    assert export.remove_expired_exports() == 1
    assert not stored.exists()


def _csrf(response) -> str:
    html = response.get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_who_may_export_and_an_admins_request_is_logged(app, make, auth, client):
    family = build_family(make)
    url = f"/records/learners/{family.maya.id}/export"
    expected = {
        "maya": (family.maya, 200),
        "teacher": (family.teacher, 403),
        "other_guardian": (family.other_guardian, 404),
        "other_admin": (family.other_admin, 404),
        "admin": (family.admin, 200),
    }
    for name, (user, code) in expected.items():
        auth.login(user)
        assert client.get(url).status_code == code, name
        auth.logout()
    auth.login(family.admin)
    page = client.get(url)
    assert "access log" in page.get_data(as_text=True)
    assert client.post(url, data={"csrf_token": _csrf(page)}).status_code == 303
    logged = _only(
        select(AccessLogEntry.record).where(
            AccessLogEntry.actor_id == family.admin.id, AccessLogEntry.learner_id == family.maya.id
        )
    )
    assert logged == ["record_export"]
    # Asking again while it is being built goes to the same job.
    again = client.post(url, data={"csrf_token": _csrf(page)})
    assert again.status_code == 303
    (job_id,) = _only(select(Job.id).where(Job.kind == export.KIND))
    assert again.headers["Location"].endswith(f"/jobs/{job_id}")


def test_a_job_refuses_a_requester_who_lost_the_link(app, make):
    family = build_family(make)
    job_id = jobs.enqueue(
        export.KIND, family.guardian, learner_id=family.maya.id, requester_id=family.guardian.id
    ).id
    family.link.active = False
    db.session.commit()
    jobs.run_job(app, job_id)
    row = db.session.get(Job, job_id)
    assert row.state == jobs.FAILED and "no longer" in row.error
    assert not export.folder().exists() or not any(export.folder().iterdir())


def test_the_command_writes_the_same_zip_in_the_language_asked(app, make, tmp_path):
    family = build_family(make)
    out = tmp_path / "maya.zip"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "records",
            "export",
            "--learner-id",
            str(family.maya.id),
            "--language",
            "es",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    files = _zip_of(out)
    assert set(files) == {"record.json", "record.pdf"}
    record = json.loads(files["record.json"])
    assert record["learner"]["given_name"] == "Maya" and record["requested_by"] is None
    assert "Intereses" in [s["title"] for s in record["profile"]["sections"]]
    pdf = _pdf_text(files["record.pdf"])
    assert "Metas" in pdf and "Reuniones" in pdf  # the printable copy in Spanish
    refused = runner.invoke(args=["records", "export", "--learner-id", "999999", str(out)])
    assert refused.exit_code != 0 and "No learner has the id 999999" in refused.output
    teacher = runner.invoke(
        args=["records", "export", "--learner-id", str(family.teacher.id), str(out)]
    )
    assert teacher.exit_code != 0


def test_each_requester_finds_the_download_where_they_look(app, make, auth, client):
    family = build_family(make)
    target = f"/records/learners/{family.maya.id}/export"
    for user, page in (
        (family.guardian, f"/family/children/{family.maya.id}"),  # the family page, Maya's card
        (family.maya, "/"),  # the learner's home: "Download my record"
        (family.admin, f"/admin/people/{family.maya.id}"),  # the admin's person page
    ):
        auth.login(user)
        html = client.get(page).get_data(as_text=True)
        assert f'href="{target}"' in html, (user.username, page)
        auth.logout()
    auth.login(family.guardian)
    html = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert "Download Maya's record" in html
    assert f'href="/records/learners/{family.other_child.id}/export"' not in html


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_building_the_zip_holds_up_no_writer(app, make, tmp_path):
    """SQLite has one writer: an export that read inside a write transaction would make
    every save in the portal wait for it (and fail after the busy timeout)."""
    family = build_family(make)
    maya_id, guardian_id = family.maya.id, family.guardian.id
    db.session.rollback()
    users = db.metadata.tables["users"]
    writes = []

    def write_meanwhile(done, total=None, message=None):
        started = time.perf_counter()
        with db.engine.begin() as conn:  # BEGIN IMMEDIATE: waits for any writer
            conn.execute(update(users).where(users.c.id == guardian_id).values(locale="es"))
        writes.append(time.perf_counter() - started)

    export.write_zip(tmp_path / "maya.zip", maya_id, guardian_id, write_meanwhile)
    assert len(writes) >= 6 and max(writes) < 1.0, writes
