"""Learning targets: browse, add and edit, who may do what, and the shared queries."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.goals.models import Goal, GoalVersion, GoalVersionTarget, Voice
from portal.targets import queries
from portal.targets.models import Framework, MasteryScale, Target, TargetKind

HX = {"HX-Request": "true"}


def framework(org, title, **fields) -> Framework:
    row = Framework(org_id=org.id, title=title, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def target(fw, code, statement, kind=TargetKind.TARGET, parent=None, low=4, high=None, **fields):
    row = Target(
        framework_id=fw.id,
        parent_id=parent.id if parent else None,
        kind=kind,
        code=code,
        statement=statement,
        grade_low=low,
        grade_high=high if high is not None else low,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(make):
    """Two districts: D1 with schools A and B, D2 with school C, each with frameworks."""
    d1, d2 = make.district("District One"), make.district("District Two")
    school_a = make.school("School A", district=d1)
    school_b = make.school("School B", district=d1)
    school_c = make.school("School C", district=d2)
    w = SimpleNamespace(d1=d1, d2=d2, a=school_a, b=school_b, c=school_c)
    w.fw_district = framework(d1, "District Math", subject="Mathematics")
    w.fw_a = framework(school_a, "School A Habits")
    w.fw_b = framework(school_b, "School B Habits")
    w.fw_other = framework(d2, "Other District Math")
    w.nf = target(w.fw_district, "MATH.4.NF", "Fractions", kind=TargetKind.GROUP, low=4)
    w.nf1 = target(
        w.fw_district,
        "MATH.4.NF.1",
        "I can explain why two fractions are equivalent.",
        parent=w.nf,
        family_statement="Your child shows that 1/2 and 2/4 are the same amount.",
    )
    w.nf2 = target(w.fw_district, "MATH.4.NF.2", "I can compare two fractions.", parent=w.nf)
    w.oa = target(w.fw_district, "MATH.7.EE.1", "I can simplify expressions.", low=7, high=8)
    w.habit = target(w.fw_a, "SKILL.SD.1", "I can set a goal and plan my steps.", low=3, high=8)
    w.habit_b = target(w.fw_b, "SKILL.B.1", "I can keep a planner.", low=6)
    w.other = target(w.fw_other, "MATH.4.NF.9", "I can add fractions (other district).")
    w.learner_a = make.learner(school=school_a)
    w.teacher_a = make.teacher(school=school_a)
    w.teacher_b = make.teacher(school=school_b)
    w.teacher_c = make.teacher(school=school_c)
    w.admin_a = make.school_admin(school=school_a)
    w.admin_b = make.school_admin(school=school_b)
    w.district_admin = make.district_admin(district=d1)
    w.other_district_admin = make.district_admin(district=d2)
    w.guardian = make.guardian()
    make.link(w.guardian, w.learner_a)
    make.commit()
    return w


# --- The queries the goals feature builds on ------------------------------------------


def test_available_targets_are_the_schools_and_its_districts_leaf_targets(world):
    codes = {t.code for t in db.session.scalars(queries.available_targets(world.a.id))}
    assert codes == {"MATH.4.NF.1", "MATH.4.NF.2", "MATH.7.EE.1", "SKILL.SD.1"}
    # groups are not goal targets; another school's and another district's are not usable
    assert "MATH.4.NF" not in codes and "SKILL.B.1" not in codes and "MATH.4.NF.9" not in codes


def test_search_targets_matches_code_or_statement_in_any_case(world):
    by_code = queries.search_targets(world.a.id, "math.4.nf")
    assert [t.code for t in by_code] == ["MATH.4.NF.1", "MATH.4.NF.2"]
    by_words = queries.search_targets(world.a.id, "COMPARE")
    assert [t.code for t in by_words] == ["MATH.4.NF.2"]
    assert queries.search_targets(world.b.id, "plan my steps") == []
    assert len(queries.search_targets(world.a.id, "", limit=2)) == 2


def test_search_targets_treats_like_wildcards_as_text(world):
    assert queries.search_targets(world.a.id, "%") == []
    assert queries.search_targets(world.a.id, "_") == []


def test_scale_for_school_creates_the_default_scale_once(world):
    scale = queries.scale_for_school(world.a.id)
    assert [(lv.value, lv.label) for lv in scale.levels] == [
        (1, "Beginning"),
        (2, "Developing"),
        (3, "Proficient"),
        (4, "Extending"),
    ]
    assert scale.mastery_level.label == "Proficient"
    again = queries.scale_for_school(world.a.id)
    assert again.id == scale.id
    assert db.session.scalar(select(func.count(MasteryScale.id))) == 1


# --- Browse ------------------------------------------------------------------------


def test_browse_lists_only_frameworks_of_my_school_and_district(client, auth, world):
    auth.login(world.teacher_a)
    page = client.get("/targets/").get_data(as_text=True)
    assert "District Math" in page and "School A Habits" in page
    assert "School B Habits" not in page and "Other District Math" not in page


def test_district_admin_sees_the_district_and_all_its_schools(client, auth, world):
    auth.login(world.district_admin)
    page = client.get("/targets/").get_data(as_text=True)
    assert "School A Habits" in page and "School B Habits" in page
    assert "Other District Math" not in page


def test_browse_shows_a_frameworks_tree(client, auth, world):
    auth.login(world.learner_a)
    page = client.get(f"/targets/?framework={world.fw_district.id}").get_data(as_text=True)
    assert page.index("MATH.4.NF") < page.index("MATH.4.NF.1") < page.index("MATH.4.NF.2")
    assert "Your child shows that 1/2 and 2/4 are the same amount." in page
    assert "Edit" not in page  # learners read, they do not edit


def test_browse_filters_by_grade_and_text_in_sql(client, auth, world):
    auth.login(world.teacher_a)
    page = client.get("/targets/?grade=7").get_data(as_text=True)
    assert "MATH.7.EE.1" in page and "SKILL.SD.1" in page
    assert "MATH.4.NF.1" not in page
    page = client.get("/targets/?q=compare").get_data(as_text=True)
    assert "MATH.4.NF.2" in page and "MATH.4.NF" in page  # the target and its group
    assert "MATH.4.NF.1" not in page and "SKILL.SD.1" not in page
    page = client.get("/targets/?q=nothing-like-this").get_data(as_text=True)
    assert "No targets match" in page


def test_searching_a_group_name_finds_the_targets_inside_it(client, auth, world):
    team = target(world.fw_a, "SKILL.CO", "Collaboration", kind=TargetKind.GROUP, low=3)
    sub = target(world.fw_a, "SKILL.CO.A", "Team roles", kind=TargetKind.GROUP, parent=team)
    target(world.fw_a, "SKILL.CO.1", "I can listen to teammates.", parent=sub, low=5)
    db.session.commit()
    auth.login(world.teacher_a)
    page = client.get("/targets/?q=collab").get_data(as_text=True)
    assert "SKILL.CO.1" in page and "SKILL.SD.1" not in page


def test_browse_htmx_returns_only_the_results(client, auth, world):
    auth.login(world.teacher_a)
    response = client.get("/targets/?q=compare", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="target-results"' in body
    assert "MATH.4.NF.2" in body
    assert "HX-Request" in response.headers["Vary"]


def test_browse_filter_by_someone_elses_framework_shows_nothing_of_it(client, auth, world):
    auth.login(world.teacher_a)
    page = client.get(f"/targets/?framework={world.fw_other.id}").get_data(as_text=True)
    assert "MATH.4.NF.9" not in page


def test_guardians_do_not_browse_targets(client, auth, world):
    auth.login(world.guardian)
    assert client.get("/targets/").status_code == 403


# --- Permission matrix for editing ---------------------------------------------------

EDIT_MATRIX = [
    # (who, framework attribute, expected status)
    ("teacher_a", "habit", 200),
    ("admin_a", "habit", 200),
    ("district_admin", "habit", 200),
    ("teacher_b", "habit", 404),
    ("admin_b", "habit", 404),
    ("teacher_c", "habit", 404),
    ("other_district_admin", "habit", 404),
    ("learner_a", "habit", 403),
    ("guardian", "habit", 403),
    ("teacher_a", "nf1", 200),
    ("teacher_b", "nf1", 200),
    ("admin_b", "nf1", 200),
    ("teacher_c", "nf1", 404),
    ("other_district_admin", "nf1", 404),
]


@pytest.mark.parametrize(("who", "what", "status"), EDIT_MATRIX)
def test_who_may_edit_a_target(client, auth, world, who, what, status):
    auth.login(getattr(world, who))
    target_id = getattr(world, what).id
    assert client.get(f"/targets/{target_id}/edit").status_code == status
    response = client.post(
        f"/targets/{target_id}/edit",
        data={"kind": "target", "code": "NEW.1", "statement": "I can x.", "grade_low": "4"},
    )
    assert response.status_code == (303 if status == 200 else status)
    changed = db.session.scalar(select(Target.code).where(Target.id == target_id)) == "NEW.1"
    assert changed is (status == 200)


@pytest.mark.parametrize(
    ("who", "fw", "status"),
    [
        ("teacher_a", "fw_a", 200),
        ("teacher_a", "fw_district", 200),
        ("teacher_a", "fw_b", 404),
        ("admin_b", "fw_a", 404),
        ("district_admin", "fw_b", 200),
        ("other_district_admin", "fw_district", 404),
        ("learner_a", "fw_a", 403),
    ],
)
def test_who_may_add_a_target(client, auth, world, who, fw, status):
    auth.login(getattr(world, who))
    framework_id = getattr(world, fw).id
    assert client.get(f"/targets/frameworks/{framework_id}/targets/new").status_code == status


def test_missing_target_and_framework_are_404(client, auth, world):
    auth.login(world.teacher_a)
    assert client.get("/targets/99999/edit").status_code == 404
    assert client.get("/targets/frameworks/99999/targets/new").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, world):
    response = client.get("/targets/")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


# --- Add and edit ------------------------------------------------------------------


def test_teacher_adds_a_target_inside_a_group(client, auth, world):
    auth.login(world.teacher_a)
    form = client.get(
        f"/targets/frameworks/{world.fw_district.id}/targets/new?parent={world.nf.id}"
    ).get_data(as_text=True)
    assert f'<option selected value="{world.nf.id}">' in form
    response = client.post(
        f"/targets/frameworks/{world.fw_district.id}/targets/new",
        data={
            "kind": "target",
            "parent_id": str(world.nf.id),
            "code": "MATH.4.NF.3",
            "statement": "I can add fractions with the same denominator.",
            "family_statement": "Adds 1/5 + 2/5.",
            "grade_low": "4",
            "grade_high": "",
        },
    )
    assert response.status_code == 303
    new = db.session.scalar(select(Target).where(Target.code == "MATH.4.NF.3"))
    assert new.parent_id == world.nf.id and new.framework_id == world.fw_district.id
    assert (new.grade_low, new.grade_high) == (4, 4)
    assert new.position > world.nf2.position
    assert new.family_statement == "Adds 1/5 + 2/5."


def test_adding_a_group_needs_no_code_or_grade(client, auth, world):
    auth.login(world.admin_a)
    response = client.post(
        f"/targets/frameworks/{world.fw_a.id}/targets/new",
        data={"kind": "group", "statement": "Collaboration"},
    )
    assert response.status_code == 303
    group = db.session.scalar(select(Target).where(Target.statement == "Collaboration"))
    assert group.kind is TargetKind.GROUP and group.code is None and group.parent_id is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"statement": "I can x.", "grade_low": "4"}, "code", "Give the target a code"),
        ({"code": "X.1", "grade_low": "4"}, "statement", "Write the statement"),
        ({"code": "X.1", "statement": "I can x."}, "grade_low", "Choose the grade"),
        (
            {"code": "X.1", "statement": "I can x.", "grade_low": "8", "grade_high": "5"},
            "grade_high",
            "cannot be before",
        ),
        (
            {"code": "math.4.nf.2", "statement": "I can x.", "grade_low": "4"},
            "code",
            "already has this code",
        ),
    ],
)
def test_invalid_target_is_422_with_the_message_by_the_field(
    client, auth, world, data, field, message
):
    auth.login(world.teacher_a)
    before = db.session.scalar(select(func.count(Target.id)))
    response = client.post(
        f"/targets/frameworks/{world.fw_district.id}/targets/new",
        data={"kind": "target", **data},
        headers=HX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and 'id="target-form"' in body
    assert f'id="{field}-error"' in body and message in body
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', body)
    assert db.session.scalar(select(func.count(Target.id))) == before


def test_edit_keeps_a_target_out_of_its_own_subtree(client, auth, world):
    auth.login(world.teacher_a)
    form = client.get(f"/targets/{world.nf.id}/edit").get_data(as_text=True)
    assert ">MATH.4.NF Fractions</option>" not in form  # not its own parent
    response = client.post(
        f"/targets/{world.nf.id}/edit",
        data={"kind": "group", "statement": "Fractions", "parent_id": str(world.nf.id)},
    )
    assert response.status_code == 422
    assert db.session.get(Target, world.nf.id).parent_id is None


def test_a_group_with_children_stays_a_group(client, auth, world):
    auth.login(world.teacher_a)
    response = client.post(
        f"/targets/{world.nf.id}/edit",
        data={"kind": "target", "code": "MATH.4.NF", "statement": "Fractions", "grade_low": "4"},
    )
    assert response.status_code == 422
    assert "must stay a group" in response.get_data(as_text=True)


def test_a_target_goals_aim_at_stays_a_target(client, auth, world):
    goal = Goal(learner_id=world.learner_a.id, created_by_id=world.learner_a.id)
    db.session.add(goal)
    db.session.flush()
    version = GoalVersion(
        goal_id=goal.id,
        number=1,
        statement="Reach Proficient on fractions",
        target_level=3,
        author_id=world.learner_a.id,
        voice=Voice.LEARNER,
        content_hash="0" * 64,
    )
    db.session.add(version)
    db.session.flush()
    db.session.add(GoalVersionTarget(version_id=version.id, target_id=world.nf1.id))
    db.session.commit()
    auth.login(world.teacher_a)
    response = client.post(
        f"/targets/{world.nf1.id}/edit", data={"kind": "group", "statement": "Now a group"}
    )
    assert response.status_code == 422
    assert "must stay a learning target" in response.get_data(as_text=True)


def test_edit_moves_and_rewords_a_target_and_keeps_family_wording_editable(client, auth, world):
    auth.login(world.teacher_a)
    form = client.get(f"/targets/{world.nf1.id}/edit").get_data(as_text=True)
    assert "Your child shows that 1/2 and 2/4 are the same amount." in form
    response = client.post(
        f"/targets/{world.nf1.id}/edit",
        data={
            "kind": "target",
            "parent_id": "",
            "code": "MATH.4.NF.1",
            "statement": "I can show two fractions are equal with a model.",
            "family_statement": "",
            "grade_low": "3",
            "grade_high": "5",
        },
        headers=HX,
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(f"/targets/?framework={world.fw_district.id}")
    row = db.session.get(Target, world.nf1.id)
    db.session.refresh(row)
    assert row.parent_id is None and (row.grade_low, row.grade_high) == (3, 5)
    assert row.statement.startswith("I can show") and row.family_statement is None


def test_user_text_is_escaped(client, auth, world):
    auth.login(world.teacher_a)
    client.post(
        f"/targets/frameworks/{world.fw_a.id}/targets/new",
        data={
            "kind": "target",
            "code": "X.1",
            "statement": "<script>x()</script>",
            "grade_low": "4",
        },
    )
    page = client.get(f"/targets/?framework={world.fw_a.id}").get_data(as_text=True)
    assert "<script>x()</script>" not in page and "&lt;script&gt;" in page


def test_teacher_creates_a_school_framework(client, auth, world):
    auth.login(world.teacher_a)
    form = client.get("/targets/frameworks/new").get_data(as_text=True)
    assert "School A" in form and "District One" in form and "School B" not in form
    response = client.post(
        "/targets/frameworks/new",
        data={"title": "Self-Direction", "subject": "Skills", "org_id": str(world.a.id)},
    )
    assert response.status_code == 303
    row = db.session.scalar(select(Framework).where(Framework.title == "Self-Direction"))
    assert row.org_id == world.a.id


def test_a_framework_cannot_be_created_for_another_school(client, auth, world):
    auth.login(world.teacher_a)
    response = client.post(
        "/targets/frameworks/new", data={"title": "Sneaky", "org_id": str(world.b.id)}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(Framework).where(Framework.title == "Sneaky")) is None


def test_framework_form_htmx_error_is_a_fragment(client, auth, world):
    auth.login(world.admin_a)
    response = client.post(
        "/targets/frameworks/new", data={"title": "", "org_id": str(world.a.id)}, headers=HX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert 'id="title-error"' in body


def test_browse_tree_loads_in_a_fixed_number_of_queries(client, auth, world, count_queries):
    for n in range(30):
        target(world.fw_district, f"MATH.5.X.{n}", f"I can do thing {n}.", parent=world.nf, low=5)
    db.session.commit()
    auth.login(world.teacher_a)
    with count_queries() as statements:
        client.get(f"/targets/?framework={world.fw_district.id}")
    assert len(statements) < 15


def test_demo_seed_adds_a_district_worth_of_targets_and_scales(app, make):
    from portal.targets import demo as targets_demo

    district = make.district("Maple Valley")
    schools = [
        make.school("Riverside", district=district),
        make.school("Lakeview", district=district),
    ]
    targets_demo.seed(SimpleNamespace(session=db.session, district=district, schools=schools))
    leaves = list(db.session.scalars(select(Target).where(Target.kind == TargetKind.TARGET)))
    assert len(leaves) >= 60
    assert len({t.code for t in leaves}) == len(leaves)
    assert all(
        t.parent_id and t.grade_low is not None and t.statement.startswith("I can") for t in leaves
    )
    assert {t.framework.org_id for t in leaves} == {district.id}
    bands = {(t.grade_low, t.grade_high) for t in leaves}
    assert min(low for low, _ in bands) == 3 and max(high for _, high in bands) == 12
    codes = {t.code for t in leaves}
    assert {"MATH.4.NF.1", "ELA.7.RI.2", "SCI.MS.PS1.1", "SKILL.SD.3"} <= codes
    for school in schools:
        assert queries.existing_scale(school.id).mastery_level.label == "Proficient"
    for grade in (3, 7, 10):  # Leo, Maya, a Lakeview sophomore all have targets
        assert queries.search_targets(schools[0].id, "", limit=200)
        assert any(t.grade_low <= grade <= t.grade_high for t in leaves)
