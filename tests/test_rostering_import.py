"""Rostering: a OneRoster package planned and applied against the database."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, SchoolClass, Term
from portal.rostering.apply import ImportRefused, apply_import, read_and_plan
from portal.rostering.models import APPLIED, Demographics, RosterImport, UserIdentifier
from portal.rostering.plan import say
from tests.rostering_kit import Kit, district_and_admin


@pytest.fixture
def kit(tmp_path):
    return Kit(tmp_path / "package")


def _user(source_id):
    return db.session.scalar(select(User).where(User.source_id == source_id))


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_bulk_package_creates_the_roster(app, make, kit):
    district, admin = district_and_admin(make)
    plan = read_and_plan(kit.path, scope=district)
    assert plan.ok, plan.errors
    assert plan.entities["learners"].counts["new"] == 2
    assert plan.entities["teachers"].counts["new"] == 2
    assert plan.entities["guardians"].counts["new"] == 1
    assert plan.entities["orgs"].counts["matched"] == 1  # the district typed in by hand
    assert plan.entities["orgs"].counts["new"] == 2
    assert plan.entities["classes"].counts["new"] == 2
    assert plan.entities["enrollments"].counts["new"] == 4
    assert plan.entities["guardian_links"].counts["new"] == 1
    assert "cannot sign in" in " ".join(plan.notes)
    assert _count(User) == 1  # a dry run writes nothing

    result = apply_import(
        kit.path, scope=district, actor=admin, confirmed_guard=False, fingerprint=plan.fingerprint
    )
    assert result.written > 0
    mia = _user("u-l1")
    assert (mia.role, mia.grade, mia.preferred_name, mia.org.source_id) == (
        Role.LEARNER,
        4,
        "Mimi",
        "s-1",
    )
    assert mia.password_hash is None and mia.pin_hash is None
    chen = _user("u-t2")
    assert (chen.role, chen.org.source_id) == (Role.TEACHER, "s-1")  # the primary role's org
    pat = _user("u-g1")
    assert pat.role is Role.GUARDIAN and pat.active is False  # enabledUser=false
    link = db.session.scalar(select(GuardianLink))
    assert (link.guardian_id, link.learner_id, link.active) == (pat.id, mia.id, True)
    math = db.session.scalar(select(SchoolClass).where(SchoolClass.source_id == "c-1"))
    # Two terms with one school year as their parent: the class belongs to the year.
    assert math.term.source_id == "y-2027"
    assert len(math.class_code) == 7 and math.class_code != "M4-1"
    assert _count(Term) == 3
    roles = dict(
        db.session.execute(
            select(User.source_id, Enrollment.role)
            .join(Enrollment.user)
            .where(Enrollment.class_id == math.id)
        ).all()
    )
    assert roles == {"u-t1": EnrollmentRole.TEACHER, "u-l1": EnrollmentRole.LEARNER}
    ids = set(
        db.session.execute(
            select(UserIdentifier.type, UserIdentifier.identifier).where(
                UserIdentifier.user_id == mia.id
            )
        ).all()
    )
    assert ids == {("Clever", "l-1"), ("LDAP", "mias")}
    demo = db.session.get(Demographics, mia.id)
    assert (demo.sex, demo.white, demo.hispanic_or_latino_ethnicity, demo.city_of_birth) == (
        "female",
        True,
        True,
        "Columbus",
    )
    history = db.session.get(RosterImport, result.import_id)
    assert history.state == APPLIED and history.actor_id == admin.id
    assert history.counts["entities"]["learners"]["new"] == 2


ROSTER_TABLES = (
    "orgs",
    "terms",
    "courses",
    "classes",
    "users",
    "enrollments",
    "guardian_links",
    "demographics",
    "user_identifiers",
    "change_stamps",
)


def count_roster_writes():
    """A list that collects every INSERT/UPDATE/DELETE on a roster table."""
    writes = []

    def listen(conn, cursor, statement, *_args):
        head = statement.lstrip().split(None, 3)
        verb = head[0].upper() if head else ""
        if verb in ("INSERT", "UPDATE", "DELETE") and any(
            f" {t} " in f" {statement} ".replace('"', " ").replace("(", " ") for t in ROSTER_TABLES
        ):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    return writes, lambda: event.remove(db.engine, "before_cursor_execute", listen)


def test_reimporting_the_same_file_writes_nothing(app, make, kit):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    writes, stop = count_roster_writes()
    try:
        plan = read_and_plan(kit.path, scope=district)
        result = apply_import(
            kit.path,
            scope=district,
            actor=admin,
            confirmed_guard=False,
            fingerprint=plan.fingerprint,
        )
    finally:
        stop()
    assert writes == []
    assert result.written == 0
    for name, entity in result.plan.entities.items():
        assert entity.counts["new"] == entity.counts["changed"] == 0, name
        assert entity.counts["deactivated"] == entity.counts["matched"] == 0, name


def test_a_changed_file_shows_each_change_and_applies_it(app, make, kit):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    kit.edit("users.csv", "u-t1", email="ana.r@example.org", familyName="Rivera-Paz")
    plan = read_and_plan(kit.path, scope=district)
    [sample] = plan.entities["teachers"].samples["changed"]
    assert sample.key == "u-t1"
    assert sample.changes == [
        "email: ana.rivera@example.org -> ana.r@example.org",
        "family_name: Rivera -> Rivera-Paz",
    ]
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert _user("u-t1").email == "ana.r@example.org"


def test_bulk_deactivates_the_missing_and_reactivates_who_comes_back(app, make, kit):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    kit.drop("users.csv", "u-l2")
    kit.drop("roles.csv", "r-l2")
    kit.drop("enrollments.csv", "e-4")
    kit.drop("demographics.csv", "u-l2")
    plan = read_and_plan(kit.path, scope=district)
    assert plan.entities["learners"].counts["deactivated"] == 1
    assert plan.entities["enrollments"].counts["deactivated"] == 1
    assert plan.deactivation_share["learners"] == 0.5
    assert plan.needs_second_confirmation  # 50% > 10%
    with pytest.raises(ImportRefused):
        apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert _user("u-l2").active  # refused: nothing changed
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=True)
    noah = _user("u-l2")
    assert noah.active is False  # kept, never deleted
    assert _count(Enrollment, Enrollment.user_id == noah.id) == 0
    assert db.session.get(Demographics, noah.id) is None

    comeback = Kit(kit.folder.parent / "comeback")
    plan = read_and_plan(comeback.path, scope=district)
    assert plan.entities["learners"].counts["reactivated"] == 1
    apply_import(comeback.path, scope=district, actor=admin, confirmed_guard=False)
    assert _user("u-l2").active
    assert _count(Enrollment, Enrollment.user_id == noah.id) == 1


def test_the_guard_is_a_share_of_active_people_and_configurable(app, make, kit):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    kit.drop("users.csv", "u-l2")
    kit.drop("roles.csv", "r-l2")
    kit.drop("enrollments.csv", "e-4")
    kit.drop("demographics.csv", "u-l2")
    app.config["ROSTER_DEACTIVATION_GUARD"] = 0.6
    plan = read_and_plan(kit.path, scope=district)
    assert not plan.needs_second_confirmation
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert _user("u-l2").active is False


def test_delta_updates_and_tobedeleted_deactivates(app, make, kit, tmp_path):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    delta = Kit(tmp_path / "delta")
    header = delta.header("users.csv")
    users = {r["sourcedId"]: r for r in delta.rows("users.csv")}
    stamp = "2026-09-01T10:00:00Z"
    changed = {
        **users["u-l1"],
        "status": "active",
        "dateLastModified": stamp,
        "familyName": "Santos",
    }
    gone = {**users["u-t2"], "status": "tobedeleted", "dateLastModified": stamp}
    delta.write("users.csv", [changed, gone], header)
    enrollments = {r["sourcedId"]: r for r in delta.rows("enrollments.csv")}
    delta.write(
        "enrollments.csv",
        [{**enrollments["e-3"], "status": "tobedeleted", "dateLastModified": stamp}],
    )
    for name in (
        "orgs.csv",
        "academicSessions.csv",
        "courses.csv",
        "classes.csv",
        "roles.csv",
        "userProfiles.csv",
        "demographics.csv",
        "lineItems.csv",
    ):
        (delta.folder / name).unlink()
    delta.mode(
        users="delta",
        enrollments="delta",
        orgs="absent",
        academicSessions="absent",
        courses="absent",
        classes="absent",
        roles="absent",
        userProfiles="absent",
        demographics="absent",
        lineItems="absent",
    )
    plan = read_and_plan(delta.path, scope=district)
    assert plan.ok, [say(e) for e in plan.errors]
    assert plan.entities["learners"].counts["changed"] == 1
    assert plan.entities["teachers"].counts["deactivated"] == 1
    assert plan.entities["learners"].counts["deactivated"] == 0  # not in a delta: untouched
    assert plan.entities["enrollments"].counts["deactivated"] == 1
    assert not plan.needs_second_confirmation  # the guard is for bulk files
    apply_import(delta.path, scope=district, actor=admin, confirmed_guard=False)
    assert _user("u-l1").family_name == "Santos"
    assert _user("u-t2").active is False
    assert _user("u-l2").active is True
    assert _count(Enrollment) == 3


@pytest.mark.parametrize("by", ["email", "username"])
def test_people_typed_in_by_hand_are_matched_not_duplicated(app, make, kit, by, backend):
    district, admin = district_and_admin(make, source_id="d-1")
    school = make.school("Maple Elementary", district)
    fields = {"email": "ana.rivera@example.org"} if by == "email" else {"username": "rivera"}
    ana = make.teacher(school, given_name="Ana", family_name="Rivera", **fields)
    db.session.commit()
    plan = read_and_plan(kit.path, scope=district)
    assert plan.ok, [say(e) for e in plan.errors]
    assert [s.key for s in plan.matched] == ["u-t1"]
    assert plan.entities["teachers"].counts["new"] == 1  # only Wei Chen
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert _count(User, User.given_name == "Ana") == 1
    db.session.refresh(ana)
    assert (ana.source_id, ana.username, ana.email) == ("u-t1", "rivera", "ana.rivera@example.org")
    assert ana.password_hash is not None  # an adopted person keeps their password


def test_an_ambiguous_hand_typed_match_is_an_error(app, make, kit):
    district, admin = district_and_admin(make)
    school = make.school("Elsewhere", district)
    make.teacher(school, username="rivera", given_name="Ann", family_name="One")
    make.teacher(school, email="ana.rivera@example.org", given_name="Anna", family_name="Two")
    db.session.commit()
    plan = read_and_plan(kit.path, scope=district)
    assert not plan.ok
    error, follow_on = plan.errors  # and the enrollment of the person not imported
    assert say(follow_on) == (
        "enrollments.csv row 2: 'u-t1' was not imported (see its own row's message)."
    )
    assert say(error).startswith("users.csv row 2: this person matches two people typed in")
    assert "Ann One" in say(error) and "Anna Two" in say(error)
    with pytest.raises(ImportRefused):
        apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert _count(User) == 3


def test_an_error_anywhere_writes_nothing(app, make, kit):
    district, admin = district_and_admin(make)
    make.teacher(make.school("Other", district), username="noah.k", source_id="sis-other")
    db.session.commit()
    before = _count(User)
    with pytest.raises(ImportRefused) as refused:
        apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert "users.csv row 5: username 'noah.k' already belongs to someone else" in " ".join(
        say(e) for e in refused.value.plan.errors
    )
    assert _count(User) == before
    assert _count(SchoolClass) == 0
    failed = db.session.get(RosterImport, refused.value.import_id)
    assert failed.state == "failed" and failed.error_count == 2
    assert "noah.k" in failed.errors_csv


def test_a_write_that_fails_midway_leaves_nothing(app, make, kit, monkeypatch):
    district, admin = district_and_admin(make)
    from portal.rostering import engine

    enrollments = engine.Run.enrollments

    def broken(self):
        if self.write:  # after orgs, terms, classes and users were written
            raise RuntimeError("disk on fire")
        enrollments(self)

    monkeypatch.setattr(engine.Run, "enrollments", broken)
    with pytest.raises(ImportRefused) as refused:
        apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert "Writing the roster failed" in str(refused.value)
    assert _count(User) == 1 and _count(SchoolClass) == 0 and _count(Term) == 0


def test_a_fingerprint_from_another_dry_run_is_refused(app, make, kit):
    district, admin = district_and_admin(make)
    plan = read_and_plan(kit.path, scope=district)
    kit.edit("users.csv", "u-t1", givenName="Anita")
    with pytest.raises(ImportRefused, match="changed since the dry run"):
        apply_import(
            kit.path,
            scope=district,
            actor=admin,
            confirmed_guard=False,
            fingerprint=plan.fingerprint,
        )
    assert _count(User) == 1


def test_an_unchanged_reimport_writes_no_roster_row_and_records_its_history(app, make, kit):
    """Apply is one pass: a file that changes nothing compares, writes nothing (not even
    the site stamp) and still leaves an applied history row."""
    district, admin = district_and_admin(make)
    first = apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    writes, stop = count_roster_writes()
    try:
        again = apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    finally:
        stop()
    assert writes == [] and again.written == 0
    rows = db.session.scalars(select(RosterImport).order_by(RosterImport.id)).all()
    assert [(r.id, r.state) for r in rows] == [
        (first.import_id, APPLIED),
        (again.import_id, APPLIED),
    ]
    assert rows[1].sha256 == rows[0].sha256 and rows[1].fingerprint == again.plan.fingerprint


def test_a_refusal_found_after_the_pass_rolls_back_what_it_wrote(app, make, kit):
    """The guard is only known once the pass has compared (and, applying, written)
    everything: the removals it made are rolled back with the rest."""
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    enrollments = _count(Enrollment)
    kit.drop("users.csv", "u-l2")
    kit.drop("roles.csv", "r-l2")
    kit.drop("enrollments.csv", "e-4")
    kit.drop("demographics.csv", "u-l2")
    kit.edit("users.csv", "u-t1", givenName="Anita")
    with pytest.raises(ImportRefused, match="second confirmation") as refused:
        apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    assert _user("u-t1").given_name == "Ana"
    assert _count(Enrollment) == enrollments
    assert db.session.get(Demographics, _user("u-l2").id) is not None
    failed = db.session.get(RosterImport, refused.value.import_id)
    assert failed.state == "failed"
    assert failed.counts["entities"]["learners"]["deactivated"] == 1
