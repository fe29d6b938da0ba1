"""Rostering a OneRoster 1.1 package: users.csv carries each person's role and orgSourcedIds
(no roles.csv). A bulk import creates the roster; importing the same file again changes
nothing. Both run on SQLite and PostgreSQL (the `backend` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, SchoolClass
from portal.rostering.apply import apply_import, read_and_plan
from portal.rostering.models import Demographics, UserIdentifier
from tests.rostering_kit import Kit, district_and_admin
from tests.test_rostering_import import count_roster_writes

V11 = Path(__file__).parent / "data" / "oneroster" / "v11_bulk"


@pytest.fixture
def kit(tmp_path):
    return Kit(tmp_path / "package", base=V11)


def _user(source_id):
    return db.session.scalar(select(User).where(User.source_id == source_id))


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_v11_bulk_package_creates_the_roster(app, make, kit):
    district, admin = district_and_admin(make)
    plan = read_and_plan(kit.path, scope=district)
    assert plan.ok, plan.errors
    assert plan.version == "1.1"
    counts = {name: {k: v for k, v in e.counts.items() if v} for name, e in plan.entities.items()}
    assert counts == {
        "orgs": {"matched": 1, "new": 2},  # the district typed in by hand, two schools
        "terms": {"new": 3},
        "courses": {"new": 2},
        "classes": {"new": 2},
        "learners": {"new": 2},
        "teachers": {"new": 2},
        "school_admins": {},
        "district_admins": {},
        "guardians": {"new": 1},
        "enrollments": {"new": 4},
        "guardian_links": {"new": 1},
        "demographics": {"new": 2},
        "user_identifiers": {"new": 2},
    }
    assert "results.csv" in plan.unused_files

    result = apply_import(
        kit.path, scope=district, actor=admin, confirmed_guard=False, fingerprint=plan.fingerprint
    )
    assert result.written > 0
    mia = _user("u-l1")
    assert (mia.role, mia.grade, mia.org.source_id) == (Role.LEARNER, 4, "s-1")
    # users.csv's first org is the primary one: Wei Chen teaches at s-1 and s-2.
    chen = _user("u-t2")
    assert (chen.role, chen.org.source_id) == (Role.TEACHER, "s-1")
    pat = _user("u-g1")  # role parent -> a guardian, with no org; enabledUser=false
    assert (pat.role, pat.org_id, pat.active) == (Role.GUARDIAN, None, False)
    link = db.session.scalar(select(GuardianLink))
    assert (link.guardian_id, link.learner_id, link.active) == (pat.id, mia.id, True)
    science = db.session.scalar(select(SchoolClass).where(SchoolClass.source_id == "c-2"))
    roles = dict(
        db.session.execute(
            select(User.source_id, Enrollment.role)
            .join(Enrollment.user)
            .where(Enrollment.class_id == science.id)
        ).all()
    )
    assert roles == {"u-t2": EnrollmentRole.TEACHER, "u-l2": EnrollmentRole.LEARNER}
    assert _count(Demographics) == 2
    ids = set(
        db.session.execute(
            select(UserIdentifier.type, UserIdentifier.identifier).where(
                UserIdentifier.user_id == mia.id
            )
        ).all()
    )
    assert ids == {("Clever", "l-1"), ("LDAP", "mias")}


def test_reimporting_a_v11_package_changes_nothing(app, make, kit):
    district, admin = district_and_admin(make)
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=False)
    people = _count(User)
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
    assert result.written == 0 and result.plan.ok
    for name, entity in result.plan.entities.items():
        assert entity.counts["new"] == entity.counts["changed"] == 0, name
        assert entity.counts["deactivated"] == entity.counts["matched"] == 0, name
        assert entity.counts["reactivated"] == 0, name
    assert result.plan.entities["learners"].counts["unchanged"] == 2
    assert result.plan.entities["enrollments"].counts["unchanged"] == 4
    assert _count(User) == people
