"""Learner profile: who reads and does what, audiences, locks, access log, school sections."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portal.audit.models import AccessLogEntry
from portal.auth.models import User
from portal.core.extensions import db
from portal.profiles import services
from portal.profiles.models import Audience, ProfileEntry, ProfileSection, ProfileSectionDef

HX = {"HX-Request": "true"}


@dataclass
class World:
    people: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.people[name]


@pytest.fixture
def world(make):
    school = make.default_school()
    other_school = make.school("Hillside")
    learner = make.learner(grade=8, given_name="Maya", family_name="Johnson")
    other_learner = make.learner()
    teacher = make.teacher()
    other_teacher = make.teacher()
    make.school_class(teacher=teacher, learners=[learner])
    make.school_class(teacher=other_teacher, learners=[other_learner])
    guardian = make.guardian()
    other_guardian = make.guardian()
    make.link(guardian, learner)
    make.link(other_guardian, other_learner)
    people = {
        "learner": learner,
        "other_learner": other_learner,
        "teacher": teacher,
        "other_teacher": other_teacher,
        "guardian": guardian,
        "other_guardian": other_guardian,
        "school_admin": make.school_admin(school),
        "other_school_admin": make.school_admin(other_school),
        "district_admin": make.district_admin(),
    }
    # Private and shared words, and a support a teacher wrote.
    about = services.find_spec(learner, "about")
    services.add_entry(learner, about, learner, "I love robotics club")
    services.set_audience(learner, about, Audience.FAMILY)
    services.add_entry(
        learner, services.find_spec(learner, "barriers"), learner, "Loud rooms are hard"
    )
    services.add_entry(
        learner, services.find_spec(learner, "supports"), teacher, "Quiet corner for tests"
    )
    make.commit()
    return World(people)


def profile_url(world):
    return f"/learners/{world['learner'].id}/profile"


SHARED, PRIVATE, SUPPORT = "I love robotics club", "Loud rooms are hard", "Quiet corner for tests"

# who -> (status, sees private sections)
READ_MATRIX = {
    "learner": (200, True),
    "other_learner": (404, False),
    "teacher": (200, True),
    "other_teacher": (404, False),
    "guardian": (200, False),
    "other_guardian": (404, False),
    "school_admin": (200, True),
    "other_school_admin": (404, False),
    "district_admin": (200, True),
}


@pytest.mark.parametrize("who", sorted(READ_MATRIX))
def test_who_reads_which_sections(client, auth, world, who):
    status, sees_private = READ_MATRIX[who]
    auth.login(world[who])
    for url in (profile_url(world), f"{profile_url(world)}/print"):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == status, url
        if status != 200:
            assert SHARED not in body
            continue
        assert SHARED in body
        assert (PRIVATE in body) is sees_private
        assert (SUPPORT in body) is sees_private
        assert ("Barriers to my learning" in body) is sees_private


# who -> status for writing an entry, sharing, locking
WRITE_MATRIX = {
    "learner": (303, 303, 403),
    "other_learner": (404, 404, 403),
    "teacher": (303, 403, 403),
    "other_teacher": (404, 403, 403),
    "guardian": (403, 403, 403),
    "other_guardian": (403, 403, 403),
    "school_admin": (403, 403, 303),
    "other_school_admin": (403, 403, 404),
    "district_admin": (403, 403, 303),
}


@pytest.mark.parametrize("who", sorted(WRITE_MATRIX))
def test_who_may_write_share_and_lock(client, auth, world, who):
    write_status, share_status, lock_status = WRITE_MATRIX[who]
    auth.login(world[who])
    base = profile_url(world)
    wrote = client.post(f"{base}/sections/future/write", data={"future-text": "Engineer"})
    assert wrote.status_code == write_status
    shared = client.post(f"{base}/sections/barriers/audience", data={"audience": "family"})
    assert shared.status_code == share_status
    locked = client.post(f"{base}/sections/about/lock", data={"locked": "1"})
    assert locked.status_code == lock_status
    state = db.session.scalar(select(ProfileSection).where(ProfileSection.key == "barriers"))
    assert (state.audience is Audience.FAMILY) is (share_status == 303)


def test_guardian_sees_exactly_the_shared_sections_on_the_overview(client, auth, world):
    auth.login(world["guardian"])
    body = client.get(f"/learners/{world['learner'].id}").get_data(as_text=True)
    assert SHARED in body and PRIVATE not in body and SUPPORT not in body
    assert "About me" in body and "Barriers to my learning" not in body
    sections = services.family_sections(world["learner"])
    assert [s.key for s in sections] == ["about"]


def test_barriers_and_supports_are_private_until_the_learner_shares(client, auth, world):
    learner = world["learner"]
    assert {s.key for s in services.family_sections(learner)} == {"about"}
    auth.login(learner)
    response = client.post(
        f"{profile_url(world)}/sections/supports/audience", data={"audience": "family"}, headers=HX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "Shared with family" in body
    assert {s.key for s in services.family_sections(learner)} == {"about", "supports"}
    auth.logout()
    auth.login(world["guardian"])
    assert SUPPORT in client.get(profile_url(world)).get_data(as_text=True)


def test_admin_lock_hides_a_section_from_family_and_the_learner_cannot_share_it(
    client, auth, world
):
    auth.login(world["school_admin"])
    response = client.post(
        f"{profile_url(world)}/sections/about/lock", data={"locked": "1"}, headers=HX
    )
    assert response.status_code == 200 and "Locked: learner and staff only" in response.get_data(
        as_text=True
    )
    assert services.family_sections(world["learner"]) == []
    auth.logout()

    auth.login(world["guardian"])
    assert SHARED not in client.get(profile_url(world)).get_data(as_text=True)
    auth.logout()

    auth.login(world["learner"])
    page = client.get(profile_url(world)).get_data(as_text=True)
    assert "Your school keeps this section between you and school staff." in page
    refused = client.post(
        f"{profile_url(world)}/sections/about/audience", data={"audience": "family"}, headers=HX
    )
    assert refused.status_code == 409
    assert "<html" not in refused.get_data(as_text=True)
    state = db.session.scalar(select(ProfileSection).where(ProfileSection.key == "about"))
    assert state.locked and state.audience is Audience.STAFF
    auth.logout()

    auth.login(world["school_admin"])
    client.post(f"{profile_url(world)}/sections/about/lock", data={"locked": "0"})
    auth.logout()
    auth.login(world["learner"])
    assert (
        client.post(
            f"{profile_url(world)}/sections/about/audience", data={"audience": "family"}
        ).status_code
        == 303
    )
    assert [s.key for s in services.family_sections(world["learner"])] == ["about"]


def test_history_of_a_private_entry_is_hidden_from_family(client, auth, world):
    private = db.session.scalar(
        select(ProfileEntry).where(ProfileEntry.author_id == world["teacher"].id)
    )
    auth.login(world["guardian"])
    assert client.get(f"{profile_url(world)}/entries/{private.id}/history").status_code == 404
    auth.logout()
    auth.login(world["other_learner"])
    assert client.get(f"{profile_url(world)}/entries/{private.id}/history").status_code == 404


# --- The access log -----------------------------------------------------------------


def log_rows():
    return db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)).all()


@pytest.mark.parametrize(
    ("who", "logged"),
    [
        ("teacher", True),
        ("school_admin", True),
        ("district_admin", True),
        ("learner", False),
        ("guardian", False),
    ],
)
def test_staff_full_page_reads_are_logged_and_others_are_not(client, auth, world, who, logged):
    auth.login(world[who])
    assert client.get(profile_url(world)).status_code == 200
    rows = log_rows()
    assert len(rows) == (1 if logged else 0)
    if logged:
        assert rows[0].actor_id == world[who].id
        assert rows[0].learner_id == world["learner"].id
        assert rows[0].record == "profile" and rows[0].page == profile_url(world)


def test_fragments_and_writes_are_not_new_reads(client, auth, world):
    auth.login(world["teacher"])
    client.get(f"{profile_url(world)}/sections/future/write", headers=HX)
    client.get(f"{profile_url(world)}/sections/about", headers=HX)
    client.post(f"{profile_url(world)}/sections/future/write", data={"future-text": "Pilot"})
    assert log_rows() == []


def test_school_admin_reads_the_access_log_page_by_page(client, auth, world):
    teacher, learner = world["teacher"], world["learner"]
    db.session.add_all(
        AccessLogEntry(actor_id=teacher.id, learner_id=learner.id, page=f"/p/{n}", record="goals")
        for n in range(30)
    )
    db.session.commit()
    auth.login(world["school_admin"])
    url = f"/learners/{learner.id}/access-log"
    first = client.get(url).get_data(as_text=True)
    assert "Page 1 of 2" in first and teacher.display_name in first and "/p/29" in first
    assert "/p/0<" not in first
    second = client.get(f"{url}?page=2", headers=HX)
    body = second.get_data(as_text=True)
    assert second.status_code == 200 and "<html" not in body and 'id="access-log"' in body
    assert "/p/0<" in body


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("school_admin", 200),
        ("district_admin", 200),
        ("other_school_admin", 404),
        ("teacher", 403),
        ("learner", 403),
        ("guardian", 403),
    ],
)
def test_access_log_page_is_for_admins_of_the_learner(client, auth, world, who, status):
    auth.login(world[who])
    assert client.get(f"/learners/{world['learner'].id}/access-log").status_code == status


# --- School-configured sections -----------------------------------------------------


def test_school_admin_adds_renames_and_retires_a_section(client, auth, world):
    auth.login(world["school_admin"])
    response = client.post(
        "/admin/profile-sections",
        data={"new-title": "My community", "new-prompt": "Where do you help out?"},
    )
    assert response.status_code == 303
    definition = db.session.scalar(select(ProfileSectionDef))
    assert definition.school_id == world["school_admin"].org_id
    page = client.get("/admin/profile-sections").get_data(as_text=True)
    assert "My community" in page
    auth.logout()

    auth.login(world["learner"])
    assert "My community" in client.get(profile_url(world)).get_data(as_text=True)
    key = definition.key
    assert (
        client.post(
            f"{profile_url(world)}/sections/{key}/write", data={f"{key}-text": "Food bank"}
        ).status_code
        == 303
    )
    assert services.completeness(world["learner"]).total == 8
    auth.logout()

    auth.login(world["school_admin"])
    prefix = f"def{definition.id}"
    client.post(
        f"/admin/profile-sections/{definition.id}",
        data={f"{prefix}-title": "Community and service", f"{prefix}-prompt": ""},
    )
    assert "Community and service" in client.get(profile_url(world)).get_data(as_text=True)
    client.post(
        f"/admin/profile-sections/{definition.id}",
        data={f"{prefix}-title": "Community and service", f"{prefix}-retired": "y"},
    )
    body = client.get(profile_url(world)).get_data(as_text=True)
    assert "Community and service" not in body
    assert db.session.scalar(select(func.count(ProfileEntry.id))) == 4  # entries are kept
    auth.logout()
    auth.login(world["learner"])
    assert client.get(f"{profile_url(world)}/sections/{key}/write").status_code == 404


def test_section_config_is_refused_to_others_and_checks_input(client, auth, world):
    definition = services.add_section_def(world["school_admin"].org_id, "Clubs", None)
    db.session.commit()
    auth.login(world["other_school_admin"])
    assert (
        client.post(
            f"/admin/profile-sections/{definition.id}", data={f"def{definition.id}-title": "X"}
        ).status_code
        == 404
    )
    assert "Clubs" not in client.get("/admin/profile-sections").get_data(as_text=True)
    invalid = client.post("/admin/profile-sections", data={"new-title": ""})
    assert invalid.status_code == 422 and "Give the section a title." in invalid.get_data(
        as_text=True
    )
    auth.logout()
    auth.login(world["teacher"])
    assert client.get("/admin/profile-sections").status_code == 403
    auth.logout()
    auth.login(world["district_admin"])
    assert "Test School" in client.get("/admin/profile-sections").get_data(as_text=True)
    page = client.get(f"/admin/profile-sections?school={world['school_admin'].org_id}")
    assert "Clubs" in page.get_data(as_text=True)


def test_a_section_title_with_markup_stays_text(client, auth, world):
    services.add_section_def(
        world["school_admin"].org_id, '<div hx-get="/signout" hx-trigger="load">Clubs</div>', None
    )
    db.session.commit()
    auth.login(world["learner"])
    body = client.get(profile_url(world)).get_data(as_text=True)
    assert "&lt;div hx-get=" in body and '<div hx-get="/signout"' not in body


def test_family_query_never_returns_a_locked_section_even_if_marked_shared(world):
    # set_lock unshares; this guards the SQL filter itself against rows changed elsewhere.
    state = db.session.scalar(select(ProfileSection).where(ProfileSection.key == "about"))
    state.locked = True
    assert state.audience is Audience.FAMILY
    db.session.commit()
    assert services.family_sections(world["learner"]) == []
