"""The demo district exported as OneRoster and read back: nothing changes; a fresh database
rostered from the zip has everyone, and its teachers see their classes."""

from __future__ import annotations

import contextlib
import shutil

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.demo.command import seed
from portal.policy import can_view_class
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, Org, SchoolClass
from portal.rostering.apply import apply_import, read_and_plan
from portal.rostering.export import export_oneroster
from tests.conftest import _pg_database
from tests.fixtures.factories import Factory
from tests.test_rostering_import import count_roster_writes

ROSTER = (Org, SchoolClass, Enrollment, GuardianLink)


def _snapshot():
    """Every roster row's values except source_id (which an adoption fills in)."""
    rows = {}
    for model in (User, *ROSTER):
        columns = [c for c in model.__table__.columns if c.name != "source_id"]
        rows[model.__tablename__] = sorted(
            tuple(r) for r in db.session.execute(select(*columns)).all()
        )
    return rows


def test_the_demo_district_round_trips_unchanged(app, tmp_path):
    demo = seed()
    db.session.commit()
    district, admin = demo.district, demo.named["district_admin"]
    zip_path = export_oneroster(district, tmp_path / "demo.zip")
    before = _snapshot()
    plan = read_and_plan(zip_path, scope=district)
    assert plan.ok, plan.summary()[:5]
    for name, entity in plan.entities.items():
        counts = entity.counts
        assert counts["new"] == counts["changed"] == counts["deactivated"] == 0, (name, counts)
    assert plan.entities["learners"].counts["matched"] == len(demo.learners)
    result = apply_import(
        zip_path, scope=district, actor=admin, confirmed_guard=False, fingerprint=plan.fingerprint
    )
    db.session.expire_all()
    assert _snapshot() == before  # only sourcedIds were recorded (the people adopted)
    writes, stop = count_roster_writes()
    try:
        again = apply_import(zip_path, scope=district, actor=admin, confirmed_guard=False)
    finally:
        stop()
    assert again.written == 0 and writes == []
    assert result.written > 0


@pytest.fixture
def fresh_app(request, backend, app_config, tmp_path):
    """A second app on an empty database of the same backend."""
    if backend == "sqlite":
        path = tmp_path / "fresh.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        urls = contextlib.nullcontext(f"sqlite:///{path}")
    else:
        urls = _pg_database(request.getfixturevalue("pg_server"))
    with urls as url:
        yield create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})


def test_a_fresh_database_rostered_from_the_demo_zip(app, tmp_path, fresh_app):
    demo = seed()
    db.session.commit()
    zip_path = export_oneroster(demo.district, tmp_path / "demo.zip")
    expected = {
        "learners": len(demo.learners),
        "teachers": len(demo.teachers),
        "classes": len(demo.classes),
        "enrollments": db.session.scalar(select(func.count(Enrollment.id))),
        "links": db.session.scalar(select(func.count(GuardianLink.id))),
    }
    teacher_classes = {
        (demo.named["teacher"].username, c.source_id)
        for c in demo.classes
        if demo.class_teacher[c.id].id == demo.named["teacher"].id
    }
    # A fresh database: only the district and its admin, typed in by hand.
    with fresh_app.app_context():
        make = Factory(db.session)
        district = make.district("Maple Valley School District")
        admin = make.district_admin(district, username="new.admin")
        db.session.commit()
        _check_fresh(
            zip_path, district, admin, demo.named["teacher"].username, expected, teacher_classes
        )
        db.session.remove()
        db.engine.dispose()


def _check_fresh(zip_path, district, admin, teacher_name, expected, teacher_classes):
    apply_import(zip_path, scope=district, actor=admin, confirmed_guard=False)
    count = lambda *w: db.session.scalar(select(func.count()).select_from(User).where(*w))  # noqa: E731
    assert count(User.role == Role.LEARNER) == expected["learners"]
    assert count(User.role == Role.TEACHER) == expected["teachers"]
    assert db.session.scalar(select(func.count(SchoolClass.id))) == expected["classes"]
    assert db.session.scalar(select(func.count(Enrollment.id))) == expected["enrollments"]
    assert db.session.scalar(select(func.count(GuardianLink.id))) == expected["links"]
    teacher = db.session.scalar(select(User).where(User.username == teacher_name))
    taught = list(
        db.session.scalars(
            select(SchoolClass)
            .join(Enrollment)
            .where(Enrollment.user_id == teacher.id, Enrollment.role == EnrollmentRole.TEACHER)
        )
    )
    assert {(teacher.username, c.source_id) for c in taught} == teacher_classes
    assert all(can_view_class(c, teacher) for c in taught)
    other = db.session.scalar(
        select(SchoolClass).where(SchoolClass.id.not_in([c.id for c in taught]))
    )
    assert not can_view_class(other, teacher)
