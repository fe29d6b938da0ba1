"""A school's mastery scale: the admin page, its validation and who may change it."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.targets import queries
from portal.targets.models import MasteryLevel, MasteryScale

HX = {"HX-Request": "true"}


@pytest.fixture
def schools(make):
    d1, d2 = make.district("District One"), make.district("District Two")
    a = make.school("School A", district=d1)
    b = make.school("School B", district=d1)
    c = make.school("School C", district=d2)
    people = SimpleNamespace(
        a=a,
        b=b,
        c=c,
        admin_a=make.school_admin(school=a),
        admin_b=make.school_admin(school=b),
        district_admin=make.district_admin(district=d1),
        other_district_admin=make.district_admin(district=d2),
        teacher_a=make.teacher(school=a),
        learner_a=make.learner(school=a),
        guardian=make.guardian(),
    )
    make.commit()
    return people


def levels_form(levels, mastery, name="Mastery scale", action="save"):
    data = {"name": name, "action": action}
    if mastery is not None:
        data["mastery"] = str(mastery)
    for i, (value, label, description) in enumerate(levels):
        data[f"levels-{i}-value"] = str(value)
        data[f"levels-{i}-label"] = label
        data[f"levels-{i}-description"] = description
    return data


FIVE = [
    (1, "Emerging", "I am starting."),
    (2, "Approaching", "I can do parts with help."),
    (3, "Meeting", "I can do it on my own."),
    (4, "Exceeding", "I can go beyond."),
    (5, "Leading", "I can teach it."),
]


def saved_levels(school_id):
    return list(
        db.session.execute(
            select(MasteryLevel.value, MasteryLevel.label, MasteryLevel.is_mastery)
            .join(MasteryScale)
            .where(MasteryScale.school_id == school_id)
            .order_by(MasteryLevel.value)
        ).tuples()
    )


def test_page_shows_the_default_scale_without_writing_it(client, auth, schools):
    auth.login(schools.admin_a)
    page = client.get(f"/targets/scale/{schools.a.id}").get_data(as_text=True)
    for label in ("Beginning", "Developing", "Proficient", "Extending"):
        assert label in page
    assert re.search(r'<input checked id="mastery-2"[^>]*value="2"', page)
    assert db.session.scalar(select(func.count(MasteryScale.id))) == 0


def test_enter_in_a_field_saves_rather_than_removing_a_level(client, auth, schools):
    auth.login(schools.admin_a)
    page = client.get(f"/targets/scale/{schools.a.id}").get_data(as_text=True)
    first = re.search(r'name="action" value="([^"]+)"', page)
    assert first.group(1) == "save"


def test_admin_saves_a_five_level_scale(client, auth, schools):
    auth.login(schools.admin_a)
    response = client.post(
        f"/targets/scale/{schools.a.id}", data=levels_form(FIVE, 2, name="Riverside scale")
    )
    assert response.status_code == 303
    assert saved_levels(schools.a.id) == [
        (1, "Emerging", False),
        (2, "Approaching", False),
        (3, "Meeting", True),
        (4, "Exceeding", False),
        (5, "Leading", False),
    ]
    scale = queries.scale_for_school(schools.a.id)
    assert scale.name == "Riverside scale" and scale.mastery_level.label == "Meeting"
    page = client.get(f"/targets/scale/{schools.a.id}").get_data(as_text=True)
    assert "Leading" in page and "Mastery scale saved." in page


def test_saving_again_may_reuse_and_swap_values(client, auth, schools):
    queries.scale_for_school(schools.a.id)
    db.session.commit()
    auth.login(schools.admin_a)
    swapped = [(2, "Beginning", ""), (1, "Developing", ""), (3, "Proficient", "")]
    response = client.post(f"/targets/scale/{schools.a.id}", data=levels_form(swapped, 2))
    assert response.status_code == 303
    assert saved_levels(schools.a.id) == [
        (1, "Developing", False),
        (2, "Beginning", False),
        (3, "Proficient", True),
    ]
    assert db.session.scalar(select(func.count(MasteryScale.id))) == 1


@pytest.mark.parametrize(
    ("levels", "mastery", "error_id", "message"),
    [
        ([(1, "A", ""), (1, "B", ""), (3, "C", "")], 0, "levels-1-value-error", "already has"),
        ([(1, "Only", "")], 0, "levels-error", "from 2 to 7 levels"),
        ([(i, f"L{i}", "") for i in range(1, 9)], 0, "levels-error", "from 2 to 7 levels"),
        ([(1, "A", ""), (2, "B", "")], None, "mastery-error", "exactly one level"),
        ([(1, "A", ""), (2, "", "")], 0, "levels-1-label-error", "Name the level"),
        ([(1, "A", ""), (99, "B", "")], 0, "levels-1-value-error", "0 to 10"),
        ([(1, "A", ""), (2, "B", "")], 5, "mastery-error", ""),
    ],
)
def test_invalid_scale_is_422_with_the_error_by_the_field_and_saves_nothing(
    client, auth, schools, levels, mastery, error_id, message
):
    auth.login(schools.admin_a)
    response = client.post(
        f"/targets/scale/{schools.a.id}", data=levels_form(levels, mastery), headers=HX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and 'id="scale-form"' in body
    assert f'id="{error_id}"' in body and message in body
    assert error_id in re.search(r'aria-describedby="[^"]*' + error_id, body).group(0)
    assert db.session.scalar(select(func.count(MasteryLevel.id))) == 0


def test_add_a_level_redraws_the_form_without_saving(client, auth, schools):
    auth.login(schools.admin_a)
    four = [(1, "Beginning", ""), (2, "Developing", ""), (3, "Proficient", ""), (4, "Ext", "")]
    response = client.post(
        f"/targets/scale/{schools.a.id}", data=levels_form(four, 2, action="add"), headers=HX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert 'name="levels-4-value"' in body and 'value="5"' in body
    assert re.search(r'<input checked id="mastery-2"', body)
    assert db.session.scalar(select(func.count(MasteryLevel.id))) == 0


def test_remove_a_level_keeps_the_mastery_mark_on_the_same_level(client, auth, schools):
    auth.login(schools.admin_a)
    four = [(1, "Beginning", ""), (2, "Developing", ""), (3, "Proficient", ""), (4, "Ext", "")]
    response = client.post(
        f"/targets/scale/{schools.a.id}", data=levels_form(four, 2, action="remove-0")
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body  # without htmx: the whole page
    assert "Beginning" not in body and 'name="levels-3-value"' not in body
    assert re.search(r'<input checked id="mastery-1"', body)  # Proficient moved up a row


def test_no_remove_button_at_two_levels_and_no_add_at_seven(client, auth, schools):
    auth.login(schools.admin_a)
    two = [(1, "A", ""), (2, "B", "")]
    body = client.post(
        f"/targets/scale/{schools.a.id}", data=levels_form(two, 1, action="remove-9")
    ).get_data(as_text=True)
    assert 'value="remove-0"' not in body and 'value="add"' in body
    seven = [(i, f"L{i}", "") for i in range(1, 8)]
    body = client.post(
        f"/targets/scale/{schools.a.id}", data=levels_form(seven, 1, action="add")
    ).get_data(as_text=True)
    assert 'name="levels-7-value"' not in body and 'value="add"' not in body


@pytest.mark.parametrize(
    ("who", "school", "status"),
    [
        ("admin_a", "a", 200),
        ("district_admin", "a", 200),
        ("district_admin", "b", 200),
        ("admin_b", "a", 404),
        ("other_district_admin", "a", 404),
        ("district_admin", "c", 404),
        ("teacher_a", "a", 403),
        ("learner_a", "a", 403),
        ("guardian", "a", 403),
    ],
)
def test_who_may_edit_a_schools_scale(client, auth, schools, who, school, status):
    auth.login(getattr(schools, who))
    school_id = getattr(schools, school).id
    assert client.get(f"/targets/scale/{school_id}").status_code == status
    response = client.post(f"/targets/scale/{school_id}", data=levels_form(FIVE, 2))
    assert response.status_code == (303 if status == 200 else status)
    assert bool(saved_levels(school_id)) is (status == 200)


def test_missing_school_is_404(client, auth, schools):
    auth.login(schools.district_admin)
    assert client.get("/targets/scale/99999").status_code == 404


def test_scale_entry_point(client, auth, schools):
    auth.login(schools.admin_a)
    response = client.get("/targets/scale")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/targets/scale/{schools.a.id}")
    auth.logout()
    auth.login(schools.district_admin)
    page = client.get("/targets/scale").get_data(as_text=True)
    assert "School A" in page and "School B" in page and "School C" not in page
