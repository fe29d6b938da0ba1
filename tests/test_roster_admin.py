"""School administration of people, classes, enrollments and family links."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.auth.models import LoginSession, Role, User
from portal.auth.passwords import verify_secret
from portal.core.extensions import db
from portal.roster import services
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, SchoolClass
from tests.conftest import Auth

HTMX = {"HX-Request": "true"}
CODE_RE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{2}$")


@pytest.fixture
def w(make):
    """Two schools of one district, a school of another district, and people in each."""
    school_a = make.default_school()
    school_b = make.school("Lakeview High")
    other_district = make.district("Far District")
    school_c = make.school("Far School", district=other_district)
    term = make.default_term()
    far_term = make.term(org=other_district)
    learner_a = make.learner(given_name="Maya", family_name="Johnson", username="maya.j")
    learner_b = make.learner(school=school_b, given_name="Omar", family_name="Haddad")
    teacher_a = make.teacher(given_name="Rosa", family_name="Rivera", username="ms.rivera")
    teacher_b = make.teacher(school=school_b)
    guardian_a = make.guardian(
        given_name="Ana", family_name="Garcia", username="ana.garcia", email="ana@example.com"
    )
    guardian_b = make.guardian()
    make.link(guardian_a, learner_a)
    make.link(guardian_b, learner_b)
    class_a = make.school_class(teacher=teacher_a, learners=[learner_a], title="Grade 7 Math")
    class_b = make.school_class(teacher=teacher_b, learners=[learner_b], school=school_b)
    ns = SimpleNamespace(
        school_a=school_a,
        school_b=school_b,
        school_c=school_c,
        term=term,
        far_term=far_term,
        learner_a=learner_a,
        learner_b=learner_b,
        teacher_a=teacher_a,
        teacher_b=teacher_b,
        guardian_a=guardian_a,
        guardian_b=guardian_b,
        class_a=class_a,
        class_b=class_b,
        admin_a=make.school_admin(given_name="Grace", family_name="Okafor"),
        admin_b=make.school_admin(school=school_b),
        district_admin=make.district_admin(),
        far_admin=make.district_admin(district=other_district),
    )
    make.commit()
    return ns


def person_data(**overrides):
    data = {
        "given_name": "Leo",
        "family_name": "Martins",
        "preferred_name": "",
        "username": "leo.martins",
        "email": "",
        "role": "learner",
        "school": "",
        "grade": "3",
        "password": "",
        "pin": "2468",
        "learner": "",
        "relationship": "parent",
    }
    data.update(overrides)
    return data


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def by_username(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</small>', html, re.S)
    assert match, f"no error next to {field}"
    return match.group(1)


# --- People list and search -------------------------------------------------------


def test_people_list_shows_only_the_admins_school(client, auth, w):
    auth.login(w.admin_a)
    page = client.get("/admin/people").get_data(as_text=True)
    assert "<html" in page
    assert "Maya Johnson" in page and "Ana Garcia" in page and "Rosa Rivera" in page
    assert "Omar Haddad" not in page
    assert w.guardian_b.username not in page


def test_active_search_htmx_returns_only_the_results_fragment(client, auth, w):
    auth.login(w.admin_a)
    response = client.get("/admin/people?q=maya", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="people-results"' in body
    assert "Maya Johnson" in body and "Rosa Rivera" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_search_works_as_a_plain_get_form(client, auth, w):
    auth.login(w.admin_a)
    page = client.get("/admin/people?q=rivera&role=teacher").get_data(as_text=True)
    assert "<html" in page and 'hx-trigger="input changed delay:300ms, search"' in page
    assert "Rosa Rivera" in page and "Maya Johnson" not in page


def test_search_treats_wildcards_literally(client, auth, w):
    auth.login(w.admin_a)
    body = client.get("/admin/people?q=%25", headers=HTMX).get_data(as_text=True)
    assert "Maya Johnson" not in body


def test_district_admin_filters_by_school_and_role(client, auth, w):
    auth.login(w.district_admin)
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Maya Johnson" in page and "Omar Haddad" in page
    page = client.get(f"/admin/people?school={w.school_b.id}").get_data(as_text=True)
    assert "Omar Haddad" in page and "Maya Johnson" not in page
    # guardians have no school: they are listed with the school of their children
    assert w.guardian_b.username in page and "Ana Garcia" not in page
    page = client.get("/admin/people?role=guardian").get_data(as_text=True)
    assert "Ana Garcia" in page and "Maya Johnson" not in page


def test_people_list_paginates(client, auth, make, w):
    for n in range(30):
        make.learner(given_name="Pat", family_name=f"Zz{n:02d}")
    make.commit()
    auth.login(w.admin_a)
    first = client.get("/admin/people?q=pat").get_data(as_text=True)
    second = client.get("/admin/people?q=pat&page=2").get_data(as_text=True)
    assert "Zz00" in first and "Zz29" not in first and "Page 1 of 2" in first
    assert "Zz29" in second and "Zz00" not in second
    assert "q=pat" in first and "page=2" in first  # the next link keeps the search


def test_school_filter_of_another_school_is_404(client, auth, w):
    auth.login(w.admin_a)
    assert client.get(f"/admin/people?school={w.school_b.id}").status_code == 404
    assert client.get(f"/admin/classes?school={w.school_b.id}").status_code == 404
    assert client.get("/admin/people?school=abc").status_code == 404


# --- Creating people --------------------------------------------------------------


def test_admin_creates_a_learner_with_password_and_pin(client, auth, w):
    auth.login(w.admin_a)
    response = client.post(
        "/admin/people/new",
        data=person_data(school=str(w.school_a.id), password="a long secret 1", email="LEO@x.org"),
    )
    assert response.status_code == 303
    leo = by_username("leo.martins")
    assert response.headers["Location"].endswith(f"/admin/people/{leo.id}")
    assert (leo.role, leo.org_id, leo.grade, leo.email) == (
        Role.LEARNER,
        w.school_a.id,
        3,
        "leo@x.org",
    )
    assert verify_secret(leo.password_hash, "a long secret 1")
    assert verify_secret(leo.pin_hash, "2468")


def test_new_person_form_renders(client, auth, w):
    auth.login(w.admin_a)
    page = client.get(f"/admin/people/new?school={w.school_a.id}&role=teacher").get_data(
        as_text=True
    )
    assert "<html" in page and 'selected value="teacher"' in page
    assert "District admin" not in page  # a school admin cannot create district admins


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"given_name": "  "}, "given_name", "Enter a given name"),
        ({"username": "leo martins!"}, "username", "lowercase letters"),
        ({"username": "MAYA.J"}, "username", "taken"),
        ({"email": "ana@EXAMPLE.com"}, "email", "already uses"),
        ({"email": "not-an-address"}, "email", "e-mail address like"),
        ({"password": "short"}, "password", "at least 10"),
        ({"pin": "12a4"}, "pin", "4 to 8 digits"),
        ({"pin": "123"}, "pin", "4 to 8 digits"),
        ({"grade": ""}, "grade", "grade"),
        ({"grade": "13"}, "grade", "Not a valid choice"),
        ({"school": ""}, "school", "Choose the school"),
        ({"pin": "", "password": ""}, "password", "password, a PIN or both"),
        ({"role": "teacher", "password": "a long secret 1"}, "pin", "Only learners"),
        ({"role": "teacher", "pin": ""}, "password", "first password"),
        ({"role": "district_admin", "password": "a long secret 1", "pin": ""}, "role", "valid"),
        (
            {"role": "guardian", "password": "a long secret 1", "pin": "", "learner": ""},
            "learner",
            "follows at least one learner",
        ),
        (
            {"role": "guardian", "password": "a long secret 1", "pin": "", "learner": "nobody"},
            "learner",
            "No learner of your schools",
        ),
    ],
)
def test_create_person_refuses_bad_input_next_to_the_field(
    client, auth, w, overrides, field, message
):
    auth.login(w.admin_a)
    before = user_count()
    data = person_data(school=str(w.school_a.id))
    data.update(overrides)
    response = client.post("/admin/people/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_error(html, field)
    assert f'aria-describedby="{field}-error"' in html or f'{field}-error"' in html
    assert user_count() == before


def test_school_admin_cannot_put_someone_in_another_school(client, auth, w):
    auth.login(w.admin_a)
    response = client.post("/admin/people/new", data=person_data(school=str(w.school_b.id)))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "school")
    assert by_username("leo.martins") is None


def test_guardian_of_a_learner_in_another_school_is_refused(client, auth, w):
    auth.login(w.admin_a)
    data = person_data(
        role="guardian", password="a long secret 1", pin="", learner=w.learner_b.username
    )
    response = client.post("/admin/people/new", data=data)
    assert response.status_code == 422
    assert "No learner of your schools" in field_error(response.get_data(as_text=True), "learner")


def test_invalid_create_over_htmx_returns_the_form_fragment(client, auth, w):
    auth.login(w.admin_a)
    response = client.post("/admin/people/new", data=person_data(username="x"), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and body.lstrip().startswith('<form id="person-form"')
    assert "3 to 80" in field_error(body, "username")


def test_valid_create_over_htmx_redirects_with_hx_redirect(client, auth, w):
    auth.login(w.admin_a)
    response = client.post(
        "/admin/people/new", data=person_data(school=str(w.school_a.id)), headers=HTMX
    )
    assert response.status_code == 204
    assert "/admin/people/" in response.headers["HX-Redirect"]


def test_creating_a_guardian_links_them_in_the_same_step(client, auth, w):
    auth.login(w.admin_a)
    data = person_data(
        role="guardian",
        username="sam.lee",
        password="a long secret 1",
        pin="",
        grade="",
        learner="MAYA.J",
        relationship="grandparent",
    )
    assert client.post("/admin/people/new", data=data).status_code == 303
    sam = by_username("sam.lee")
    assert sam.org_id is None and sam.grade is None
    link = db.session.scalar(select(GuardianLink).where(GuardianLink.guardian_id == sam.id))
    assert (link.learner_id, link.relationship_label, link.active) == (
        w.learner_a.id,
        "grandparent",
        True,
    )
    # and the admin can manage the new account at once
    assert client.get(f"/admin/people/{sam.id}").status_code == 200


def test_district_admin_creates_a_district_admin(client, auth, w):
    auth.login(w.district_admin)
    data = person_data(role="district_admin", username="pl.lead", password="a long secret 1")
    data.update(pin="", grade="")
    assert client.post("/admin/people/new", data=data).status_code == 303
    lead = by_username("pl.lead")
    assert lead.role is Role.DISTRICT_ADMIN and lead.org_id == w.district_admin.org_id
    assert client.get(f"/admin/people/{lead.id}").status_code == 200


# --- Editing people ---------------------------------------------------------------


def edit_data(person: User, **overrides):
    data = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "preferred_name": person.preferred_name or "",
        "username": person.username,
        "email": person.email or "",
        "role": person.role.value,
        "school": str(person.org_id) if person.org_id and person.role is not Role.GUARDIAN else "",
        "grade": "" if person.grade is None else str(person.grade),
        "password": "",
        "pin": "",
    }
    data.update(overrides)
    return data


def test_edit_page_prefills_the_form(client, auth, w):
    auth.login(w.admin_a)
    page = client.get(f"/admin/people/{w.learner_a.id}").get_data(as_text=True)
    assert 'value="maya.j"' in page and 'selected value="6"' in page
    assert "Ana Garcia" in page and "Grade 7 Math" in page  # family links and classes


def test_edit_person_resets_password_and_pin_and_keeps_them_when_blank(client, auth, w):
    auth.login(w.admin_a)
    old_hash = w.learner_a.password_hash
    url = f"/admin/people/{w.learner_a.id}"
    data = edit_data(w.learner_a, preferred_name="Mia", grade="7")
    assert client.post(url, data=data).status_code == 303
    maya = by_username("maya.j")
    assert (maya.preferred_name, maya.grade, maya.password_hash) == ("Mia", 7, old_hash)
    data = edit_data(maya, password="brand new secret", pin="97531")
    assert client.post(url, data=data).status_code == 303
    maya = by_username("maya.j")
    assert verify_secret(maya.password_hash, "brand new secret")
    assert verify_secret(maya.pin_hash, "97531")


def test_edit_person_keeps_own_username_but_refuses_anothers(client, auth, w):
    auth.login(w.admin_a)
    url = f"/admin/people/{w.teacher_a.id}"
    assert client.post(url, data=edit_data(w.teacher_a)).status_code == 303
    response = client.post(url, data=edit_data(w.teacher_a, username="Maya.J"))
    assert response.status_code == 422
    assert "taken" in field_error(response.get_data(as_text=True), "username")
    assert by_username("ms.rivera") is not None


def test_learner_role_cannot_change(client, auth, w):
    auth.login(w.admin_a)
    data = edit_data(w.learner_a, role="teacher", grade="")
    response = client.post(f"/admin/people/{w.learner_a.id}", data=data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "role")
    assert by_username("maya.j").role is Role.LEARNER


def test_staff_role_change_needs_no_enrollments(client, auth, make, w):
    auth.login(w.admin_a)
    response = client.post(
        f"/admin/people/{w.teacher_a.id}", data=edit_data(w.teacher_a, role="school_admin")
    )
    assert "enrollments first" in field_error(response.get_data(as_text=True), "role")
    free_teacher = make.teacher(username="t.free")
    make.commit()
    data = edit_data(free_teacher, role="school_admin")
    assert client.post(f"/admin/people/{free_teacher.id}", data=data).status_code == 303
    assert by_username("t.free").role is Role.SCHOOL_ADMIN


def test_school_change_needs_no_enrollments(client, auth, w):
    auth.login(w.district_admin)
    data = edit_data(w.learner_a, school=str(w.school_b.id))
    response = client.post(f"/admin/people/{w.learner_a.id}", data=data)
    assert "enrollments first" in field_error(response.get_data(as_text=True), "school")
    assert by_username("maya.j").org_id == w.school_a.id


def test_invalid_edit_over_htmx_returns_fragment(client, auth, w):
    auth.login(w.admin_a)
    data = edit_data(w.learner_a, grade="")
    response = client.post(f"/admin/people/{w.learner_a.id}", data=data, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert "grade" in field_error(body, "grade")


# --- Deactivating accounts --------------------------------------------------------


def test_deactivate_signs_out_and_blocks_then_reactivate(app, client, auth, w):
    other = app.test_client()
    Auth(other).login(w.teacher_a)
    assert other.get("/").status_code == 200
    auth.login(w.admin_a)
    url = f"/admin/people/{w.teacher_a.id}/status"
    assert client.post(url, data={"active": "0"}).status_code == 303
    assert by_username("ms.rivera").active is False
    assert (
        db.session.scalar(
            select(func.count(LoginSession.id)).where(LoginSession.user_id == w.teacher_a.id)
        )
        == 0
    )
    assert other.get("/").status_code == 302  # signed out on the very next request
    assert client.post(url, data={"active": "1"}).status_code == 303
    assert by_username("ms.rivera").active is True


def test_admin_cannot_deactivate_themselves(client, auth, w):
    auth.login(w.admin_a)
    response = client.post(f"/admin/people/{w.admin_a.id}/status", data={"active": "0"})
    assert response.status_code == 422
    assert "your own account" in response.get_data(as_text=True)
    assert db.session.get(User, w.admin_a.id).active is True


def test_status_needs_a_valid_value(client, auth, w):
    auth.login(w.admin_a)
    response = client.post(f"/admin/people/{w.teacher_a.id}/status", data={"active": "maybe"})
    assert response.status_code == 400


# --- Classes ----------------------------------------------------------------------


def class_data(w, **overrides):
    data = {
        "school": str(w.school_a.id),
        "title": "Grade 8 Science",
        "period": "3",
        "course_title": "Science 8",
        "term": str(w.term.id),
    }
    data.update(overrides)
    return data


def test_create_class_makes_a_unique_readable_code(client, auth, w):
    auth.login(w.admin_a)
    response = client.post("/admin/classes/new", data=class_data(w))
    assert response.status_code == 303
    created = db.session.scalar(select(SchoolClass).where(SchoolClass.title == "Grade 8 Science"))
    assert CODE_RE.match(created.class_code)
    assert (created.school_id, created.period, created.course.title) == (
        w.school_a.id,
        "3",
        "Science 8",
    )
    # a second class of the same course reuses the course row
    client.post("/admin/classes/new", data=class_data(w, title="Grade 8 Science B"))
    second = db.session.scalar(select(SchoolClass).where(SchoolClass.title == "Grade 8 Science B"))
    assert second.course_id == created.course_id and second.class_code != created.class_code


def test_generated_code_skips_codes_in_use(monkeypatch, make, w):
    make.school_class(class_code="AAAA-AA")
    make.commit()
    letters = iter("AAAAAA" + "BBBBBB")
    monkeypatch.setattr(services.secrets, "choice", lambda _alphabet: next(letters))
    assert services.generate_class_code() == "BBBB-BB"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"period": "x" * 41}, "period"),
        ({"term": "999999"}, "term"),
        ({"school": "999999"}, "school"),
    ],
)
def test_create_class_refuses_bad_input(client, auth, w, overrides, field):
    auth.login(w.admin_a)
    before = db.session.scalar(select(func.count(SchoolClass.id)))
    response = client.post("/admin/classes/new", data=class_data(w, **overrides))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert db.session.scalar(select(func.count(SchoolClass.id))) == before


def test_class_in_a_term_of_another_district_is_refused(client, auth, w):
    auth.login(w.district_admin)
    terms = client.get("/admin/classes/new").get_data(as_text=True)
    assert w.far_term.title not in terms
    response = client.post("/admin/classes/new", data=class_data(w, term=str(w.far_term.id)))
    assert response.status_code == 422  # not among the choices


def test_term_of_a_sibling_school_does_not_fit(client, auth, make, w):
    sibling_term = make.term(org=w.school_b)
    make.commit()
    auth.login(w.district_admin)
    response = client.post("/admin/classes/new", data=class_data(w, term=str(sibling_term.id)))
    assert response.status_code == 422
    assert "district" in field_error(response.get_data(as_text=True), "term")
    data = class_data(w, school=str(w.school_b.id), term=str(sibling_term.id))
    assert client.post("/admin/classes/new", data=data).status_code == 303


def test_school_admin_cannot_create_a_class_in_another_school(client, auth, w):
    auth.login(w.admin_a)
    response = client.post("/admin/classes/new", data=class_data(w, school=str(w.school_b.id)))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "school")


def test_invalid_class_over_htmx_returns_fragment(client, auth, w):
    auth.login(w.admin_a)
    response = client.post("/admin/classes/new", data=class_data(w, title=""), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert body.lstrip().startswith('<form id="class-form"')


def test_edit_class(client, auth, w):
    auth.login(w.admin_a)
    url = f"/admin/classes/{w.class_a.id}/edit"
    assert 'value="Grade 7 Math"' in client.get(url).get_data(as_text=True)
    data = {"title": "Grade 7 Math A", "period": "1", "course_title": "", "term": str(w.term.id)}
    assert client.post(url, data=data).status_code == 303
    db.session.expire_all()
    edited = db.session.get(SchoolClass, w.class_a.id)
    assert (edited.title, edited.period, edited.course_id) == ("Grade 7 Math A", "1", None)


def test_regenerate_code(client, auth, w):
    auth.login(w.admin_a)
    old = w.class_a.class_code
    assert client.post(f"/admin/classes/{w.class_a.id}/code").status_code == 303
    db.session.expire_all()
    new = db.session.get(SchoolClass, w.class_a.id).class_code
    assert new != old and CODE_RE.match(new)


def test_class_list_shows_only_the_admins_school(client, auth, w):
    auth.login(w.admin_a)
    page = client.get("/admin/classes").get_data(as_text=True)
    assert "Grade 7 Math" in page and w.class_b.title not in page
    auth.logout()
    auth.login(w.district_admin)
    page = client.get(f"/admin/classes?school={w.school_b.id}").get_data(as_text=True)
    assert w.class_b.title in page and "Grade 7 Math" not in page


def test_class_page_lists_teachers_and_learners(client, auth, w):
    auth.login(w.admin_a)
    page = client.get(f"/admin/classes/{w.class_a.id}").get_data(as_text=True)
    assert "Rosa Rivera" in page and "Maya Johnson" in page and w.class_a.class_code in page


# --- Enrollments ------------------------------------------------------------------


def enrollment_of(user: User, school_class: SchoolClass) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == user.id, Enrollment.class_id == school_class.id
        )
    )


def test_enroll_a_learner_and_a_teacher_of_the_school(client, auth, make, w):
    new_learner = make.learner(username="kai.n")
    co_teacher = make.teacher(username="mr.chen")
    make.commit()
    auth.login(w.admin_a)
    url = f"/admin/classes/{w.class_a.id}/enrollments"
    assert client.post(url, data={"username": "KAI.N"}).status_code == 303
    assert client.post(url, data={"username": "mr.chen"}).status_code == 303
    assert enrollment_of(new_learner, w.class_a).role is EnrollmentRole.LEARNER
    assert enrollment_of(co_teacher, w.class_a).role is EnrollmentRole.TEACHER


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("learner_b", "People of other schools cannot join"),
        ("teacher_b", "People of other schools cannot join"),
        ("guardian_a", "No learner or teacher"),
        ("learner_a", "already in this class"),
        (None, "No learner or teacher"),
    ],
)
def test_enrollment_refusals_are_shown_next_to_the_field(client, auth, w, who, message):
    auth.login(w.admin_a)
    before = db.session.scalar(select(func.count(Enrollment.id)))
    username = getattr(w, who).username if who else "no.such.person"
    response = client.post(
        f"/admin/classes/{w.class_a.id}/enrollments", data={"username": username}
    )
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "username")
    assert db.session.scalar(select(func.count(Enrollment.id))) == before


def test_enrollment_refusal_over_htmx_returns_the_form_fragment(client, auth, w):
    auth.login(w.admin_a)
    response = client.post(
        f"/admin/classes/{w.class_a.id}/enrollments",
        data={"username": w.learner_b.username},
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert body.lstrip().startswith('<form id="enroll-form"')


def test_deactivated_account_cannot_be_enrolled(client, auth, make, w):
    make.learner(username="gone.kid", active=False)
    make.commit()
    auth.login(w.admin_a)
    response = client.post(
        f"/admin/classes/{w.class_a.id}/enrollments", data={"username": "gone.kid"}
    )
    assert "deactivated" in field_error(response.get_data(as_text=True), "username")


def test_candidate_picker_suggests_people_of_the_school_only(client, auth, make, w):
    make.learner(given_name="Mateo", family_name="Ruiz", username="mateo.r")
    make.learner(school=w.school_b, given_name="Mateus", username="mateus.b")
    make.commit()
    auth.login(w.admin_a)
    response = client.get(f"/admin/classes/{w.class_a.id}/candidates?username=mate", headers=HTMX)
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<datalist id="enroll-candidates"')
    assert 'value="mateo.r"' in body and "mateus.b" not in body
    already = client.get(f"/admin/classes/{w.class_a.id}/candidates?username=maya", headers=HTMX)
    assert "maya.j" not in already.get_data(as_text=True)  # already enrolled


def test_remove_enrollment_confirms_then_removes(client, auth, w):
    auth.login(w.admin_a)
    enrollment = enrollment_of(w.learner_a, w.class_a)
    url = f"/admin/classes/{w.class_a.id}/enrollments/{enrollment.id}/remove"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Remove Maya Johnson" in confirm.get_data(as_text=True)
    assert enrollment_of(w.learner_a, w.class_a) is not None
    assert client.post(url).status_code == 303
    db.session.expire_all()
    assert enrollment_of(w.learner_a, w.class_a) is None


def test_remove_over_htmx_answers_with_hx_redirect(client, auth, w):
    auth.login(w.admin_a)
    enrollment = enrollment_of(w.teacher_a, w.class_a)
    url = f"/admin/classes/{w.class_a.id}/enrollments/{enrollment.id}/remove"
    response = client.post(url, headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(f"/admin/classes/{w.class_a.id}")


def test_enrollment_of_another_class_is_404(client, auth, make, w):
    other_class = make.school_class(learners=[make.learner()])
    make.commit()
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.class_id == other_class.id))
    auth.login(w.admin_a)
    url = f"/admin/classes/{w.class_a.id}/enrollments/{enrollment.id}/remove"
    assert client.post(url).status_code == 404


# --- Family links -----------------------------------------------------------------


def test_link_an_existing_guardian_by_email(client, auth, make, w):
    dad = make.guardian(given_name="Luis", family_name="Johnson", email="luis@example.com")
    make.commit()
    auth.login(w.admin_a)
    response = client.post(
        f"/admin/people/{w.learner_a.id}/guardians",
        data={"guardian": " Luis@Example.com ", "relationship": "father"},
    )
    assert response.status_code == 303
    link = db.session.scalar(select(GuardianLink).where(GuardianLink.guardian_id == dad.id))
    assert (link.learner_id, link.relationship_label, link.active) == (
        w.learner_a.id,
        "father",
        True,
    )
    page = client.get(f"/admin/people/{w.learner_a.id}").get_data(as_text=True)
    assert "Luis Johnson" in page and "Father" in page


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("nobody@example.com", "No family account"),
        ("ms.rivera", "No family account"),  # a teacher is not a family account
        ("ana.garcia", "already follows"),
    ],
)
def test_link_refusals(client, auth, w, login, message):
    auth.login(w.admin_a)
    response = client.post(
        f"/admin/people/{w.learner_a.id}/guardians",
        data={"guardian": login, "relationship": "parent"},
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert body.lstrip().startswith('<section id="guardians"')
    assert message in field_error(body, "guardian")


def test_links_are_only_for_learners(client, auth, w):
    auth.login(w.admin_a)
    response = client.post(
        f"/admin/people/{w.teacher_a.id}/guardians", data={"guardian": "ana.garcia"}
    )
    assert response.status_code == 404


def test_pausing_a_link_takes_effect_on_the_very_next_request(app, client, auth, w):
    family = app.test_client()
    Auth(family).login(w.guardian_a)
    learner_url = f"/learners/{w.learner_a.id}"
    assert family.get(learner_url).status_code == 200
    link = db.session.scalar(
        select(GuardianLink).where(GuardianLink.guardian_id == w.guardian_a.id)
    )
    auth.login(w.admin_a)
    status_url = f"/admin/people/{w.learner_a.id}/guardians/{link.id}/status"
    assert client.post(status_url, data={"active": "0"}).status_code == 303
    assert family.get(learner_url).status_code == 404  # same session, no sign-out needed
    db.session.expire_all()
    assert db.session.get(GuardianLink, link.id).deactivated_at is not None
    page = client.get(f"/admin/people/{w.learner_a.id}").get_data(as_text=True)
    assert "Paused" in page and "Restore access" in page
    assert client.post(status_url, data={"active": "1"}).status_code == 303
    assert family.get(learner_url).status_code == 200


def test_link_of_another_learner_is_404(client, auth, w):
    auth.login(w.district_admin)
    link_b = db.session.scalar(
        select(GuardianLink).where(GuardianLink.guardian_id == w.guardian_b.id)
    )
    url = f"/admin/people/{w.learner_a.id}/guardians/{link_b.id}/status"
    assert client.post(url, data={"active": "0"}).status_code == 404


# --- Permission matrix ------------------------------------------------------------


def admin_urls(w):
    """Every admin route, as (method, url), about objects of school A."""
    enrollment = enrollment_of(w.learner_a, w.class_a)
    link = db.session.scalar(select(GuardianLink).where(GuardianLink.learner_id == w.learner_a.id))
    c = w.class_a.id
    return [
        ("get", "/admin/people"),
        ("get", "/admin/people/new"),
        ("post", "/admin/people/new"),
        ("get", f"/admin/people/{w.learner_a.id}"),
        ("post", f"/admin/people/{w.learner_a.id}"),
        ("get", f"/admin/people/{w.guardian_a.id}"),
        ("post", f"/admin/people/{w.teacher_a.id}/status"),
        ("post", f"/admin/people/{w.learner_a.id}/guardians"),
        ("post", f"/admin/people/{w.learner_a.id}/guardians/{link.id}/status"),
        ("get", "/admin/classes"),
        ("get", "/admin/classes/new"),
        ("post", "/admin/classes/new"),
        ("get", f"/admin/classes/{c}"),
        ("get", f"/admin/classes/{c}/edit"),
        ("post", f"/admin/classes/{c}/edit"),
        ("get", f"/admin/classes/{c}/candidates?username=a"),
        ("post", f"/admin/classes/{c}/code"),
        ("post", f"/admin/classes/{c}/enrollments"),
        ("get", f"/admin/classes/{c}/enrollments/{enrollment.id}/remove"),
        ("post", f"/admin/classes/{c}/enrollments/{enrollment.id}/remove"),
    ]


@pytest.mark.parametrize("who", ["learner_a", "teacher_a", "guardian_a"])
def test_non_admins_get_403_on_every_admin_route(client, auth, w, who):
    auth.login(getattr(w, who))
    for method, url in admin_urls(w):
        response = getattr(client, method)(url, data={"active": "0"})
        assert response.status_code == 403, (method, url)


def test_signed_out_visitors_are_sent_to_sign_in(client, w):
    for method, url in admin_urls(w):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


@pytest.mark.parametrize("who", ["admin_b", "far_admin"])
def test_admins_of_other_schools_get_404_for_school_a_objects(client, auth, w, who):
    auth.login(getattr(w, who))
    for method, url in admin_urls(w):
        if "/admin/people/" not in url and "/admin/classes/" not in url or url.endswith("/new"):
            continue  # list and new pages are theirs; they just do not show school A
        response = getattr(client, method)(url, data={"active": "0"})
        assert response.status_code == 404, (method, url)
    assert client.get(f"/admin/people?school={w.school_a.id}").status_code == 404


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("admin_a", "learner_a", 200),
        ("admin_a", "guardian_a", 200),
        ("admin_a", "admin_a", 200),
        ("admin_a", "learner_b", 404),
        ("admin_a", "guardian_b", 404),
        ("admin_a", "district_admin", 404),
        ("district_admin", "learner_b", 200),
        ("district_admin", "teacher_b", 200),
        ("district_admin", "district_admin", 200),
        ("district_admin", "far_admin", 404),
        ("far_admin", "learner_a", 404),
    ],
)
def test_person_page_matrix(client, auth, w, who, target, status):
    auth.login(getattr(w, who))
    assert client.get(f"/admin/people/{getattr(w, target).id}").status_code == status


def test_admin_pages_render_for_a_district_admin(client, auth, w):
    auth.login(w.district_admin)
    for url in ("/admin/people", "/admin/classes", "/admin/people/new", "/admin/classes/new"):
        page = client.get(url).get_data(as_text=True)
        assert w.school_b.name in page, url
    assert "District admin" in client.get("/admin/people/new").get_data(as_text=True)
