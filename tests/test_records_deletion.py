"""Deleting a learner's record on request: every row and file about them, nothing of others.

The main test builds two rich learners (goals with versions, signatures, entries with an
uploaded file, feedback, cheers, profile with a teacher's comment, conferences, sessions,
devices, pending writes, demographics, the access log...), deletes one, and then reads a
dump of the whole database (SQLite's iterdump, PostgreSQL's pg_dump) and every file under
the upload folder: the deleted learner's name, username, e-mail and sourcedId appear 0
times, the other learner's data is all there, and the receipt's counts are exactly the
rows that went.
"""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit.models import AccessLogEntry
from portal.auth.models import (
    LoginFailure,
    LoginSession,
    PendingWrite,
    Role,
    TrustedDevice,
    User,
)
from portal.conferences.models import (
    Conference,
    ConferenceNote,
    ConferenceRequest,
    GoalAcknowledgement,
    GoalReflection,
    GoalSignature,
    NextStep,
    ReflectionChoice,
    SignerRole,
    SignMethod,
    StepOwner,
)
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.stamps import learner_stamp
from portal.core.timeutil import utcnow
from portal.family.models import Cheer, FamilyInvite
from portal.goals.models import Goal, GoalVersion, Horizon, Voice
from portal.insights.snapshots import refresh as refresh_insights
from portal.profiles import services as profiles
from portal.profiles.models import ProfileReviewRequest
from portal.progress import services as progress
from portal.progress import uploads
from portal.progress.forms import new_token
from portal.progress.uploads import StoredFile
from portal.records import deletion
from portal.records import export as record_export
from portal.records.tombstone import RecordDeletion
from portal.reports import jobs as report_jobs
from portal.reports import services as report_services
from portal.roster.models import Org
from portal.rostering.models import Demographics, RosterImport, UserIdentifier
from tests.fixtures import progress as build
from tests.fixtures.family import add_target

REFERENCE = "Records request 2026-114"


@dataclass
class Rich:
    learner: User
    needles: tuple[str, ...]  # name, username, e-mail, sourcedId: never left after deletion
    goal: Goal


def _rich_learner(make, school_class, teacher, guardian, *, given, family, sis) -> Rich:
    """A learner with a row in (nearly) every table a record can touch."""
    username, email = f"{given.lower()}.{family[:3].lower()}", f"{given.lower()}@example.test"
    learner = make.learner(
        given_name=given,
        family_name=family,
        preferred_name=f"{given}y",
        username=username,
        email=email,
        source_id=sis,
    )
    make.enroll(learner, school_class)
    make.link(guardian, learner)
    make.session.add_all(
        [
            Demographics(user_id=learner.id, programs={"ell": True}, city_of_birth="Springfield"),
            UserIdentifier(user_id=learner.id, type="state", identifier=f"{sis}-state"),
        ]
    )
    long_goal = build.goal(
        make, learner, statement=f"{given} will read 20 books this year.", due_in=200
    )
    long_goal.horizon = Horizon.LONG
    goal = build.goal(make, learner, statement=f"{given} will reach Proficient on ratios.")
    goal.parent_goal_id = long_goal.id
    add_target(make, goal, school_class.school)
    second = make._add(
        GoalVersion(
            goal_id=goal.id,
            number=2,
            statement=f"{given} will reach Proficient on ratios and rates.",
            target_level=3,
            author_id=teacher.id,
            voice=Voice.TEACHER,
            content_hash="1" * 64,
        )
    )
    first_id = goal.current_version_id
    goal.agreed_version_id, goal.current_version_id = first_id, second.id
    conference = make._add(
        Conference(
            learner_id=learner.id,
            teacher_id=teacher.id,
            class_id=school_class.id,
            scheduled_at=utcnow() - timedelta(days=1),
            created_by_id=teacher.id,
            prep_working=f"{given} says: ratio tables help.",
        )
    )
    make.session.add_all(
        [
            GoalSignature(
                goal_id=goal.id,
                version_id=first_id,
                learner_id=learner.id,
                signer_id=signer.id,
                role=role,
                content_hash="0" * 64,
                method=SignMethod.SESSION,
                conference_id=conference.id,
            )
            for signer, role in ((learner, SignerRole.LEARNER), (teacher, SignerRole.TEACHER))
        ]
        + [
            GoalAcknowledgement(goal_id=goal.id, version_id=first_id, guardian_id=guardian.id),
            GoalReflection(
                goal_id=goal.id,
                learner_id=learner.id,
                choice=ReflectionChoice.KEEP_GOING,
                note=f"{given} needs more time.",
            ),
            ConferenceNote(
                conference_id=conference.id,
                learner_id=learner.id,
                author_id=teacher.id,
                body=f"{given} explained the table.",
            ),
            ConferenceNote(
                conference_id=conference.id,
                learner_id=learner.id,
                author_id=teacher.id,
                body=f"Private: check on {given}.",
                private=True,
            ),
            NextStep(
                conference_id=conference.id,
                learner_id=learner.id,
                text=f"{given} redoes page 4",
                owner=StepOwner.LEARNER,
                created_by_id=teacher.id,
                done_at=utcnow(),
                done_by_id=learner.id,
            ),
            ConferenceRequest(learner_id=learner.id, note=f"{given} wants to talk"),
            ProfileReviewRequest(learner_id=learner.id, note=f"Review {given}'s profile"),
        ]
    )
    # Evidence: an uploaded file whose content names the learner.
    key = f"{abs(hash(sis)) % 16**32:032x}"
    folder = uploads.folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(f"%PDF-1.4 work by {given} {family} ({username})".encode())
    entry = progress.log_entry(
        goal,
        token=new_token(),
        strategy=str(goal.versions[0].strategies[0].id),
        other_strategy=None,
        self_rating=2,
        reflection=f"{given} made a ratio table.",
        link_url=None,
        stored=StoredFile(key=key, name=f"{family}-work.pdf", mime="application/pdf", size=40),
        shared_with_family=True,
    )
    progress.add_feedback(
        goal,
        teacher,
        token=new_token(),
        body=f"Well done, {given}!",
        rating=3,
        for_families=True,
        entry=entry,
    )
    cheer = Cheer(
        learner_id=learner.id,
        goal_id=goal.id,
        entry_id=entry.id,
        author_id=guardian.id,
        body=f"Go {given}!",
        hidden_at=utcnow(),
        hidden_by_id=teacher.id,
    )
    make.session.add(cheer)
    spec = profiles.find_spec(learner, "interests")
    mine = profiles.add_entry(learner, spec, learner, f"{given} loves comics.")
    profiles.revise_entry(mine, spec, learner, f"{given} loves comics and Lego.", None)
    profiles.add_entry(learner, spec, teacher, f"Great, {given}!", parent=mine)
    now = utcnow()
    make.session.add_all(
        [
            FamilyInvite(
                learner_id=learner.id,
                code_hash=new_token(),
                created_by_id=teacher.id,
                expires_at=now + timedelta(days=7),
                used_at=now,
                used_by_id=guardian.id,
            ),
            LoginSession(token_hash=new_token(), user_id=learner.id),
            TrustedDevice(token_hash=new_token(), user_id=learner.id, expires_at=now),
            PendingWrite(
                user_id=learner.id, action="/progress", fields=f'[["reflection", "{given}"]]'
            ),
            LoginFailure(account_key=f"u{learner.id}"),
            AccessLogEntry(actor_id=teacher.id, learner_id=learner.id, page="p", record="goals"),
            Job(
                kind="records.export",
                owner_id=learner.id,
                params={"who": username},
                message=f"Packing {given}'s record",
            ),
        ]
    )
    make.session.flush()
    return Rich(learner, (given, family, username, email, sis), goal)


@dataclass
class World:
    target: Rich
    other: Rich
    teacher: User
    guardian: User
    admin: User


def build_world(make) -> World:
    school = make.default_school()
    build.scale(make)
    teacher, guardian = make.teacher(), make.guardian(given_name="Ana", family_name="Garcia")
    school_class = make.school_class(teacher=teacher)
    target = _rich_learner(
        make,
        school_class,
        teacher,
        guardian,
        given="Quillon",
        family="Zyxwareth",
        sis="SIS-ZQX-99117",
    )
    other = _rich_learner(
        make,
        school_class,
        teacher,
        guardian,
        given="Orsolya",
        family="Vantablek",
        sis="SIS-OVB-55021",
    )
    # Someone else's row that merely credits the learner: kept, the credit cleared.
    make._add(
        RosterImport(
            actor_id=target.learner.id,
            scope_org_id=school.id,
            file_name="sis.zip",
            sha256="0" * 64,
        )
    )
    admin = make.school_admin(school)
    make.commit()
    return World(target, other, teacher, guardian, admin)


# --- Reading everything back -------------------------------------------------------------


def _dump(app, pg_server=None) -> str:
    """The whole database as text: SQLite's iterdump, or pg_dump of the test database."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as conn:
            return "\n".join(conn.iterdump())
    server = pg_server
    command = [str(server.bin / "pg_dump"), "-h", str(server.socket_dir), "-U", server.user]
    command += ["--data-only", "--inserts", url.database]
    if server.as_root:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout


def _uploads_text(app) -> str:
    root = Path(app.config["UPLOAD_FOLDER"])
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return "\n".join(p.name + "\n" + p.read_bytes().decode("latin-1") for p in files)


def _occurrences(haystack: str, needles) -> dict[str, int]:
    folded = haystack.casefold()
    return {needle: folded.count(needle.casefold()) for needle in needles}


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in db.metadata.tables.items()
        }


@pytest.fixture
def pg_handle(request, backend):
    return request.getfixturevalue("pg_server") if backend == "postgresql" else None


def test_deleting_a_learner_leaves_no_trace_and_keeps_everyone_else(app, make, pg_handle):
    world = build_world(make)
    target, other = world.target, world.other
    db.session.commit()
    # Precomputed insights hold a row of facts per learner (a table keyed by two columns).
    refresh_insights(db.session.get(Org, target.learner.org_id).parent_id)
    db.session.commit()
    before = _dump(app, pg_handle) + _uploads_text(app)
    assert all(n > 0 for n in _occurrences(before, target.needles).values())
    others_before = _occurrences(before, other.needles)
    assert all(n > 0 for n in others_before.values())
    _check_every_reference_is_walked(target.learner)
    db.session.rollback()
    counts_before = _row_counts()
    site, mine = learner_stamp(target.learner.id)  # a read

    tombstone = deletion.delete_record(
        db.session.get(User, target.learner.id), reference=REFERENCE, actor=world.admin
    )
    db.session.commit()

    # Every page and memo keyed by the learner's or the site's stamp reloads.
    site_after, mine_after = learner_stamp(target.learner.id)
    assert site_after != site and mine_after > mine
    db.session.rollback()  # end the read: SQLite's other connections below may write
    after = _dump(app, pg_handle) + _uploads_text(app)
    assert _occurrences(after, target.needles) == dict.fromkeys(target.needles, 0)
    assert _occurrences(after, other.needles) == others_before
    # The receipt counts exactly the rows that went, table by table.
    counts_after = _row_counts()
    went = {
        name: counts_before[name] - counts_after[name]
        for name in counts_before
        if counts_before[name] != counts_after[name]
        and name not in ("record_deletions", "change_stamps")
    }
    saved = db.session.get(RecordDeletion, tombstone.id)
    assert {k: v for k, v in saved.counts.items() if k != deletion.FILES} == went
    assert saved.counts[deletion.FILES] == 1
    assert saved.counts["users"] == 1
    assert saved.counts["insight_facts"] >= 1
    assert saved.counts["goals"] == 2
    assert saved.counts["goal_versions"] == 3
    assert saved.counts["profile_entries"] == 2  # the learner's entry and the teacher's comment
    assert saved.counts["progress_feedback"] == 1
    assert saved.reference == REFERENCE
    assert saved.actor_id == world.admin.id
    # Kept: the guardian (who follows the other child), the teacher, the other learner.
    assert db.session.get(User, world.guardian.id) is not None
    assert db.session.get(User, other.learner.id) is not None
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 2
    kept_import = db.session.scalars(select(RosterImport)).one()
    assert kept_import.actor_id is None
    assert uploads.folder().exists() and len(list(uploads.folder().iterdir())) == 1


def _check_every_reference_is_walked(learner: User) -> None:
    """A table added later is covered without a hand list: each FK to users is walked."""
    found = deletion.plan(learner)
    for table in db.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.column.table.name != "users":
                continue
            hits = db.session.scalar(
                select(func.count()).select_from(table).where(fk.parent == learner.id)
            )
            if not hits:
                continue
            if (fk.ondelete or "").upper() == "SET NULL":
                assert (table.name, fk.parent.name) in found.cleared or table.name in found.rows
            elif len(table.primary_key.columns) > 1:  # deleted by the reference itself
                assert found.by_reference_rows.get(table.name, 0) >= hits, table.name
            else:
                assert len(found.rows.get(table.name, ())) >= hits, (table.name, fk.parent.name)


def test_a_failed_deletion_keeps_rows_and_files(app, make):
    world = build_world(make)
    learner = db.session.get(User, world.target.learner.id)
    deletion.delete_record(learner, reference=REFERENCE, actor=world.admin)
    db.session.rollback()
    assert db.session.get(User, world.target.learner.id) is not None
    assert len(list(uploads.folder().iterdir())) == 2


def test_a_reference_that_is_empty_long_or_names_the_learner_is_refused():
    learner = User(
        role=Role.LEARNER, given_name="Quillon", family_name="Zyxwareth", username="quillon.zyx"
    )
    for reference in ("", "   ", "Request for Quillon", "QUILLON.ZYX 12", "x" * 201):
        with pytest.raises(deletion.DeletionRefused):
            deletion.check_reference(learner, reference)
    assert deletion.check_reference(learner, "  Records  request 2026-114 ") == REFERENCE


def test_only_a_learner_can_be_deleted():
    with pytest.raises(deletion.DeletionRefused):
        deletion.plan(User(role=Role.TEACHER, username="t"))


def test_files_made_for_others_about_the_learner_go_too(app, make):
    """A guardian's record download and a teacher's goal report belong to their requester's
    job, not to the learner's rows: deletion finds them by the job's learner."""
    world = build_world(make)
    learner_id, other_id = world.target.learner.id, world.other.learner.id
    export_folder = Path(app.config["RECORD_EXPORT_FOLDER"])
    export_folder.mkdir(parents=True, exist_ok=True)
    (export_folder / "zipofmine.zip").write_bytes(b"PK the record")
    (export_folder / "zipofother.zip").write_bytes(b"PK another record")
    mine_report, other_report = report_services.save(b"%PDF mine"), report_services.save(b"%PDF")
    made = [
        (record_export.KIND, world.guardian, learner_id, {"file": "zipofmine.zip"}),
        (report_jobs.KIND, world.teacher, learner_id, {"key": mine_report}),
        (record_export.KIND, world.guardian, other_id, {"file": "zipofother.zip"}),
        (report_jobs.KIND, world.teacher, other_id, {"key": other_report}),
    ]
    job_ids = [
        make._add(
            Job(kind=kind, owner_id=owner.id, params={"learner_id": lid}, state="done", result=r)
        ).id
        for kind, owner, lid, r in made
    ]
    db.session.commit()

    learner = db.session.get(User, learner_id)
    tombstone = deletion.delete_record(learner, reference=REFERENCE, actor=world.admin)
    db.session.commit()

    assert [db.session.get(Job, job_id) is None for job_id in job_ids] == [
        True,
        True,
        False,
        False,
    ]
    assert not (export_folder / "zipofmine.zip").exists()
    assert report_services.path_of(mine_report) is None
    assert (export_folder / "zipofother.zip").exists()
    assert report_services.path_of(other_report) is not None
    assert tombstone.counts["jobs"] >= 2
