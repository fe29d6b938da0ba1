"""Year rollover: a new school year's OneRoster export does not break last year.

Year 1 and year 2 are imported through the engine (portal/rostering), as a district
would: year 2's bulk files hold only year 2's sessions, classes and enrollments. Then:

- "this term" follows the imported sessions' dates: year 1's classes are history;
- last year's classes keep their enrollments and are read-only (no enrollment, code,
  edit, template or scheduling change; their code signs no one in), labelled "(ended)";
- a learner's goals and progress follow them into another class and school: the new
  teacher sees them, the old one reads them for ROSTER_TEACHER_GRACE_DAYS (default 60)
  after the term ended and changes nothing, then no longer reaches them (404);
- a learner missing from year 2 is deactivated: kept, hidden from class views, shown
  marked where an admin manages people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import policy
from portal.audit.models import AccessLogEntry
from portal.auth.models import User
from portal.auth.passwords import hash_secret
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals.models import Goal, GoalTemplate
from portal.progress.models import Feedback, ProgressEntry
from portal.roster.models import Enrollment, SchoolClass
from portal.rostering.apply import apply_import, read_and_plan
from tests.fixtures import progress as prog
from tests.fixtures.factories import Factory
from tests.rostering_kit import Kit, district_and_admin

ORGS = [
    {"sourcedId": "d-1", "name": "Maple District", "type": "district"},
    {"sourcedId": "s-1", "name": "Maple Elementary", "type": "school", "parentSourcedId": "d-1"},
    {"sourcedId": "s-2", "name": "Oak Middle", "type": "school", "parentSourcedId": "d-1"},
]
PEOPLE = {  # sourcedId: (username, role, given name)
    "u-t1": ("rivera", "teacher", "Ana"),
    "u-t2": ("chen", "teacher", "Wei"),
    "u-t3": ("okafor", "teacher", "Ada"),
    "u-l1": ("mia", "student", "Mia"),
    "u-l2": ("noah", "student", "Noah"),
    "u-l3": ("lea", "student", "Lea"),
}


def _session(sid: str, start: date, end: date) -> dict:
    return {
        "sourcedId": sid,
        "title": f"{start.year}-{str(end.year)[2:]}",
        "type": "schoolYear",
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "schoolYear": str(end.year),
    }


def write_year(kit: Kit, session: dict, classes, people: dict[str, str]) -> None:
    """Rewrite the kit as one school year: `classes` is [(class sid, school sid, teacher sid,
    [learner sids])], `people` each person's school sid (the users in this year's file)."""
    kit.write("orgs.csv", ORGS, kit.header("orgs.csv"))
    kit.write("academicSessions.csv", [session], kit.header("academicSessions.csv"))
    schools = sorted({school for _, school, _, _ in classes})
    kit.write(
        "courses.csv",
        [{"sourcedId": f"co-{s}", "title": f"Course {s}", "orgSourcedId": s} for s in schools],
        kit.header("courses.csv"),
    )
    kit.write(
        "classes.csv",
        [
            {
                "sourcedId": sid,
                "title": f"Class {sid} {session['title']}",
                "courseSourcedId": f"co-{school}",
                "classType": "scheduled",
                "schoolSourcedId": school,
                "termSourcedIds": session["sourcedId"],
            }
            for sid, school, _, _ in classes
        ],
        kit.header("classes.csv"),
    )
    users, roles = [], []
    for sid, school in people.items():
        username, role, given = PEOPLE[sid]
        users.append(
            {
                "sourcedId": sid,
                "enabledUser": "true",
                "username": username,
                "givenName": given,
                "familyName": "Example",
                "email": f"{username}@example.org",
                "grades": "05" if role == "student" else "",
                "primaryOrgSourcedId": school,
            }
        )
        roles.append(
            {
                "sourcedId": f"r-{sid}",
                "userSourcedId": sid,
                "roleType": "primary",
                "role": role,
                "orgSourcedId": school,
            }
        )
    kit.write("users.csv", users, kit.header("users.csv"))
    kit.write("roles.csv", roles, kit.header("roles.csv"))
    enrollments = []
    for sid, school, teacher, learners in classes:
        for user, role in [(teacher, "teacher"), *((lr, "student") for lr in learners)]:
            enrollments.append(
                {
                    "sourcedId": f"e-{sid}-{user}",
                    "classSourcedId": sid,
                    "schoolSourcedId": school,
                    "userSourcedId": user,
                    "role": role,
                }
            )
    kit.write("enrollments.csv", enrollments, kit.header("enrollments.csv"))
    for unused in ("demographics.csv", "userProfiles.csv", "lineItems.csv"):
        kit.write(unused, [], kit.header(unused))


def apply(kit: Kit, district, admin):
    plan = read_and_plan(kit.path, scope=district)
    assert plan.ok, plan.errors
    apply_import(kit.path, scope=district, actor=admin, confirmed_guard=True)
    db.session.expire_all()
    return plan


def person(sid: str) -> User:
    return db.session.scalar(select(User).where(User.source_id == sid))


def klass(sid: str) -> SchoolClass:
    return db.session.scalar(select(SchoolClass).where(SchoolClass.source_id == sid))


@dataclass
class Years:
    district: object
    admin: User
    goal: Goal
    plan2: object


def build_years(make, tmp_path, ended_days_ago: int) -> Years:
    """Year 1 ended `ended_days_ago` days ago; year 2 runs today.

    Year 1: Ana (t1) teaches Mia and Noah in c-1 at s-1; Wei (t2) teaches Lea in c-2.
    Year 2: Mia moved to Wei's class c-21 (same school); Noah moved school, to Ada's
    (t3) c-22 at s-2; Lea left the district (missing from users.csv).
    """
    district, admin = district_and_admin(make)
    kit = Kit(tmp_path / "year1")
    y1_end = today() - timedelta(days=ended_days_ago)
    write_year(
        kit,
        _session("y-1", y1_end - timedelta(days=290), y1_end),
        [("c-1", "s-1", "u-t1", ["u-l1", "u-l2"]), ("c-2", "s-1", "u-t2", ["u-l3"])],
        {"u-t1": "s-1", "u-t2": "s-1", "u-l1": "s-1", "u-l2": "s-1", "u-l3": "s-1"},
    )
    apply(kit, district, admin)
    # Last year Mia set a goal and logged progress on it.
    mia = person("u-l1")
    prog.scale(make, mia.org)
    goal = prog.goal(make, mia)
    prog.entry(make, goal, 2)
    make.commit()

    kit2 = Kit(tmp_path / "year2")
    write_year(
        kit2,
        _session(
            "y-2",
            today() - timedelta(days=min(ended_days_ago, 20) - 1),
            today() + timedelta(days=250),
        ),
        [("c-21", "s-1", "u-t2", ["u-l1"]), ("c-22", "s-2", "u-t3", ["u-l2"])],
        {"u-t1": "s-1", "u-t2": "s-1", "u-t3": "s-2", "u-l1": "s-1", "u-l2": "s-2"},
    )
    plan2 = apply(kit2, district, admin)
    for sid in PEOPLE:
        if (user := person(sid)) is not None:
            user.password_hash = hash_secret(Factory.PASSWORD)
    db.session.commit()
    return Years(district, admin, db.session.get(Goal, goal.id), plan2)


def test_year_two_keeps_year_one_as_history(app, make, tmp_path):
    years = build_years(make, tmp_path, ended_days_ago=10)
    # Year 1's classes and enrollments are still there, their term over.
    old = klass("c-1")
    assert old.term.has_ended(today()) and policy.class_has_ended(old)
    assert not policy.class_has_ended(klass("c-21"))
    in_old = set(
        db.session.scalars(select(Enrollment.user_id).where(Enrollment.class_id == old.id))
    )
    assert in_old == {person("u-t1").id, person("u-l1").id, person("u-l2").id}
    assert years.plan2.entities["enrollments"].counts["kept"] == 5  # c-1: 3, c-2: 2
    assert years.plan2.entities["enrollments"].counts["deactivated"] == 0
    # Mia's records are hers: same learner, same goal and entries, wherever she is now.
    mia, noah = person("u-l1"), person("u-l2")
    assert years.goal.learner_id == mia.id
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ProgressEntry)
            .where(ProgressEntry.learner_id == mia.id)
        )
        == 1
    )
    assert noah.org.source_id == "s-2"  # moved school, kept his account
    # Lea left: kept, deactivated.
    assert person("u-l3").active is False


@pytest.mark.parametrize(
    ("ended_days_ago", "old_teacher_reads"), [(10, True), (59, True), (60, True), (61, False)]
)
def test_last_years_teacher_reads_within_the_grace_only(
    app, make, tmp_path, ended_days_ago, old_teacher_reads
):
    build_years(make, tmp_path, ended_days_ago)
    ana, wei, ada = person("u-t1"), person("u-t2"), person("u-t3")
    mia, noah = person("u-l1"), person("u-l2")
    expected = policy.Relation.FORMER_TEACHER if old_teacher_reads else policy.Relation.NONE
    with app.test_request_context():
        assert policy.relation(wei, mia) is policy.Relation.TEACHER  # this year's teacher
        assert policy.relation(ada, noah) is policy.Relation.TEACHER  # at his new school
        assert policy.relation(ana, mia) is expected
        assert policy.relation(ana, noah) is expected
        assert policy.can_view_class(klass("c-1"), ana) is old_teacher_reads
        assert not policy.can_view_class(klass("c-21"), ana)
    visible = set(db.session.scalars(policy.visible_learner_ids(ana)))
    assert visible == ({mia.id, noah.id} if old_teacher_reads else set())
    assert set(db.session.scalars(policy.teacher_learner_ids(ana.id, current_only=True))) == set()


def _sign_in(client, user):
    response = client.post("/signin", data={"login": user.username, "password": Factory.PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def test_old_teacher_reads_read_only_and_is_logged(app, client, make, tmp_path):
    years = build_years(make, tmp_path, ended_days_ago=10)
    ana, mia = person("u-t1"), person("u-l1")
    old = klass("c-1")
    _sign_in(client, ana)
    before = db.session.scalar(select(func.count()).select_from(AccessLogEntry))
    overview = client.get(f"/learners/{mia.id}")
    assert overview.status_code == 200
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(AccessLogEntry.actor_id == ana.id)
        )
        > before
    )
    assert client.get(f"/goals/{years.goal.id}").status_code == 200
    assert client.get(f"/goals/{years.goal.id}/progress").status_code == 200
    assert client.get(f"/learners/{mia.id}/profile").status_code == 200
    # Last year's class pages: readable, labelled, listing only the active learners.
    page = client.get(f"/classes/{old.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"{old.term.title} (ended)" in text
    assert mia.display_name in text and person("u-l2").display_name in text
    for path in ("progress", "goals", "conferences", "goal-templates"):
        response = client.get(f"/classes/{old.id}/{path}")
        assert response.status_code == 200, path
        assert "(ended)" in response.get_data(as_text=True), path
    # Nothing changes through the old relation.
    writes = [
        client.post(f"/goals/{years.goal.id}/feedback", data={"body": "Nice"}),
        client.post(f"/learners/{mia.id}/goals/new", data={"statement": "I can x."}),
        client.post(f"/goals/{years.goal.id}/status", data={"status": "met"}),
        client.post(f"/learners/{mia.id}/profile/sections/about/write", data={"body": "x"}),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0
    # No new template or conference for last year's class.
    response = client.post(
        f"/classes/{old.id}/goal-templates",
        data={"title": "T", "statement": "I can y.", "horizon": "short", "target_level": "3"},
    )
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(GoalTemplate)) == 0
    response = client.get(f"/classes/{old.id}/conferences/new", follow_redirects=True)
    assert "conferences are scheduled in this year" in response.get_data(as_text=True)
    # Not this year's class of someone else.
    assert client.get(f"/classes/{klass('c-21').id}").status_code == 404


def test_after_the_grace_the_old_teacher_gets_404(app, client, make, tmp_path):
    years = build_years(make, tmp_path, ended_days_ago=61)
    _sign_in(client, person("u-t1"))
    mia = person("u-l1")
    assert client.get(f"/learners/{mia.id}").status_code == 404
    assert client.get(f"/goals/{years.goal.id}").status_code == 404
    assert client.get(f"/classes/{klass('c-1').id}").status_code == 404


def test_the_new_teacher_sees_the_records_from_last_year(app, client, make, tmp_path):
    years = build_years(make, tmp_path, ended_days_ago=10)
    _sign_in(client, person("u-t2"))
    assert client.get(f"/goals/{years.goal.id}").status_code == 200
    page = client.get(f"/classes/{klass('c-21').id}").get_data(as_text=True)
    assert person("u-l1").display_name in page and "(ended)" not in page
    # Wei's own class from last year lists no one: Lea, its only learner, left.
    old = client.get(f"/classes/{klass('c-2').id}").get_data(as_text=True)
    assert person("u-l3").display_name not in old
    with app.test_request_context():
        assert policy.relation(person("u-t2"), person("u-l3")) is policy.Relation.NONE


def test_admin_sees_last_years_class_read_only(app, client, make, tmp_path):
    years = build_years(make, tmp_path, ended_days_ago=10)
    old = klass("c-1")
    _sign_in(client, years.admin)
    page = client.get(f"/admin/classes/{old.id}").get_data(as_text=True)
    assert f"{old.term.title} (ended)" in page
    assert "Add to class" not in page and "Make a new code" not in page
    listing = client.get("/admin/classes").get_data(as_text=True)
    assert f"{old.term.title} (ended)" in listing
    count = db.session.scalar(select(func.count()).select_from(Enrollment))
    refused = [
        client.post(f"/admin/classes/{old.id}/enrollments", data={"username": "okafor"}),
        client.post(f"/admin/classes/{old.id}/code", data={}),
        client.post(f"/admin/classes/{old.id}/edit", data={"title": "Renamed"}),
    ]
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.class_id == old.id))
    refused.append(
        client.post(f"/admin/classes/{old.id}/enrollments/{enrollment.id}/remove", data={})
    )
    assert {r.status_code for r in refused} == {303}
    follow = client.get(refused[0].headers["Location"]).get_data(as_text=True)
    assert "kept as history and can no longer be changed" in follow
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == count
    assert klass("c-1").title != "Renamed"
    # Where the admin manages people, the learner who left is there, marked.
    people = client.get("/admin/people?q=lea").get_data(as_text=True)
    assert person("u-l3").display_name in people and "eactivated" in people
    roster = client.get(f"/admin/classes/{klass('c-2').id}").get_data(as_text=True)
    assert person("u-l3").display_name in roster and "deactivated" in roster


def test_last_years_class_code_signs_no_one_in(app, client, make, tmp_path):
    build_years(make, tmp_path, ended_days_ago=10)
    old, new = klass("c-1"), klass("c-21")
    response = client.post("/signin/class", data={"code": old.class_code})
    assert response.status_code == 422
    assert "its code no longer signs in" in response.get_data(as_text=True)
    response = client.get(f"/signin/class/{old.class_code}", follow_redirects=True)
    assert "its code no longer signs in" in response.get_data(as_text=True)
    assert client.post("/signin/class", data={"code": new.class_code}).status_code == 303


def test_class_views_hide_a_deactivated_learner_from_admins_too(app, client, make, tmp_path):
    """Lea left the district: her goal is kept, and no class view lists her or it; the
    people pages, where the admin manages her account, do."""
    years = build_years(make, tmp_path, ended_days_ago=10)
    lea = person("u-l3")
    prog.goal(make, lea, statement="Lea's kept goal about unit rates.")
    make.commit()
    assert db.session.scalar(
        select(func.count()).select_from(Goal).where(Goal.learner_id == lea.id)
    )
    _sign_in(client, years.admin)
    old = klass("c-2")
    for url in (f"/classes/{old.id}", f"/classes/{old.id}/goals", f"/classes/{old.id}/progress"):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert lea.display_name not in text and "kept goal" not in text, url
    assert lea.display_name in client.get(f"/admin/people/{lea.id}").get_data(as_text=True)
