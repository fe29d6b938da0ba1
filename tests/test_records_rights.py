"""Who has looked at a record, and corrections: the family's and the learner's rights (issue 16).

A staff read made in the test shows on the family's and the learner's page, in plain
words, with the reader's name and role only; a correction goes from the requester to
the school admin's queue and its answer comes back.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AccessLogEntry
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.profiles import services as profiles
from portal.rights import services
from portal.rights.models import CorrectionRequest, CorrectionStatus
from tests.fixtures.family import (
    PRIVATE_NOTE,
    SHARED_SECTION_TEXT,
    UNSHARED_SECTION_TEXT,
    family,  # noqa: F401 (fixture)
)


def _page(client, url, **kw):
    db.session.commit()
    return client.get(url, **kw)


# --- Who has looked --------------------------------------------------------------------


def test_a_staff_read_shows_to_the_family_and_the_learner_by_name_role_and_part(
    family, client, auth  # noqa: F811
):
    family.teacher.email = "private.teacher@example.org"
    db.session.commit()
    auth.login(family.teacher)
    assert client.get(f"/learners/{family.maya.id}/profile").status_code == 200
    auth.logout()

    family.guardian.locale = "es"  # the role in the family's language
    for reader, role in ((family.guardian, "Docente"), (family.maya, "Teacher")):
        auth.login(reader)
        body = _page(client, f"/learners/{family.maya.id}/who-has-looked").get_data(as_text=True)
        auth.logout()
        assert family.teacher.display_name in body
        assert f"({role})" in body
        if reader is family.maya:
            assert "the learner profile" in body
        # Name and role, nothing more of the reader: no e-mail, no username, no URL.
        assert "private.teacher@example.org" not in body
        assert family.teacher.username not in body
        looks = body.split('<div id="looks">', 1)[1]
        assert f"/learners/{family.maya.id}/profile" not in looks
    # Nobody else reads it: unrelated people learn nothing (404), staff use the admin log.
    url = f"/learners/{family.maya.id}/who-has-looked"
    expected = {
        family.other_guardian: 404,
        family.leo: 404,
        family.teacher: 403,
        family.admin: 403,
    }
    for user, code in expected.items():
        auth.login(user)
        assert _page(client, url).status_code == code, user.role
        auth.logout()


def test_the_family_page_and_the_profile_link_to_the_rights(family, client, auth):  # noqa: F811
    auth.login(family.guardian)
    body = _page(client, f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert f"/learners/{family.maya.id}/who-has-looked" in body
    assert f"/learners/{family.maya.id}/corrections" in body
    assert f"/learners/{family.maya.id}/reports/family" in body
    auth.logout()
    auth.login(family.maya)
    body = _page(client, f"/learners/{family.maya.id}/profile").get_data(as_text=True)
    assert f"/learners/{family.maya.id}/who-has-looked" in body
    assert f"/learners/{family.maya.id}/reports/profile" in body


# --- Corrections ---------------------------------------------------------------------


def _choices(client, learner_id) -> str:
    return _page(client, f"/learners/{learner_id}/corrections").get_data(as_text=True)


def test_a_correction_goes_to_the_admins_queue_and_its_answer_comes_back(
    family, client, auth  # noqa: F811
):
    auth.login(family.guardian)
    page = _choices(client, family.maya.id)
    assert SHARED_SECTION_TEXT in page  # a part the family reads
    assert UNSHARED_SECTION_TEXT not in page and PRIVATE_NOTE not in page
    entry_id = family.entry.id
    response = client.post(
        f"/learners/{family.maya.id}/corrections",
        data={"part": f"progress_entry:{entry_id}", "message": "It was waffles, not pancakes."},
    )
    assert response.status_code == 303
    request = db.session.scalars(select(CorrectionRequest)).one()
    assert request.status is CorrectionStatus.OPEN
    assert request.part_text == "I made a ratio table for pancakes."
    auth.logout()

    auth.login(family.admin)
    # The filter once went to render() as its `status` argument: the page answered "0 open".
    assert _page(client, "/admin/corrections").status_code == 200
    assert _page(client, "/admin/corrections?status=all").status_code == 200
    queue = _page(client, "/admin/corrections").get_data(as_text=True)
    assert family.maya.display_name in queue and "Progress entry" in queue
    assert client.get(f"/admin/corrections/{request.id}").status_code == 200
    missing = client.post(f"/admin/corrections/{request.id}", data={"status": "corrected"})
    assert missing.status_code == 422  # corrected needs an answer
    assert "Say what was corrected" in missing.get_data(as_text=True)
    answered = client.post(
        f"/admin/corrections/{request.id}",
        data={"status": "corrected", "answer": "Fixed: the entry now says waffles."},
    )
    assert answered.status_code == 303
    assert "No request with this status" in _page(client, "/admin/corrections").get_data(
        as_text=True
    )
    auth.logout()

    auth.login(family.guardian)
    page = _choices(client, family.maya.id)
    assert "Corrected" in page and "Fixed: the entry now says waffles." in page
    assert family.admin.display_name in page


def test_a_correction_names_only_a_part_the_requester_reads(family, client, auth):  # noqa: F811
    hidden = next(
        e.entry.id
        for s in profiles.profile_sections(family.maya)
        if s.key == "barriers"
        for e in s.entries
    )
    auth.login(family.guardian)
    url = f"/learners/{family.maya.id}/corrections"
    db.session.commit()
    hidden_part = {"part": f"profile_entry:{hidden}", "message": "x"}
    assert client.post(url, data=hidden_part).status_code == 404
    bad = client.post(url, data={"part": "nonsense", "message": "x"})
    assert bad.status_code == 422 and "Pick the part" in bad.get_data(as_text=True)
    blank = {"part": "other:", "message": "  "}
    empty = client.post(url, data=blank, headers={"HX-Request": "true"})
    fragment = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "Please say what is wrong" in fragment
    assert fragment.lstrip().startswith('<section id="ask"') and "<html" not in fragment
    assert db.session.scalar(select(db.func.count(CorrectionRequest.id))) == 0
    # The learner may ask about their own unshared entry.
    auth.logout()
    auth.login(family.maya)
    ok = client.post(url, data={"part": f"profile_entry:{hidden}", "message": "Not true now."})
    assert ok.status_code == 303


def test_corrections_refuse_everyone_else(family, client, auth):  # noqa: F811
    url = f"/learners/{family.maya.id}/corrections"
    # Unrelated requesters learn nothing (404); other roles do not ask (@roles: 403).
    expected = {"other_guardian": 404, "leo": 404, "teacher": 403, "admin": 403}
    got = {}
    for who in expected:
        auth.login(getattr(family, who))
        db.session.commit()
        codes = {client.get(url).status_code, client.post(url, data={"part": "other:"}).status_code}
        got[who] = codes.pop() if len(codes) == 1 else codes
        auth.logout()
    assert got == expected
    # An admin of another school neither reaches a request nor sees it in the queue.
    request = CorrectionRequest(
        learner_id=family.maya.id,
        requester_id=family.guardian.id,
        part_kind="other",
        message="Wrong birthday.",
    )
    db.session.add(request)
    db.session.commit()
    auth.login(family.other_admin)
    assert client.get(f"/admin/corrections/{request.id}").status_code == 404
    assert "Wrong birthday" not in _page(client, "/admin/corrections?status=all").get_data(
        as_text=True
    )


def test_who_has_looked_is_newest_first_and_pages_with_htmx(make, client, auth):
    learner, teacher = make.learner(), make.teacher(given_name="Rosa", family_name="Núñez")
    make.school_class(teacher=teacher, learners=[learner])
    base = utcnow() - timedelta(days=40)
    db.session.add_all(
        AccessLogEntry(
            actor_id=teacher.id,
            learner_id=learner.id,
            page=f"/p/{n}",
            record="cheers" if n < 2 else "goals",  # the oldest two land on page 2
            at=base + timedelta(hours=n),
        )
        for n in range(services.PER_PAGE + 2)
    )
    make.commit()
    auth.login(learner)
    first = client.get(f"/learners/{learner.id}/who-has-looked").get_data(as_text=True)
    assert "family cheers" not in first and "Rosa Núñez" in first
    assert "Page 1 of 2" in first
    url = f"/learners/{learner.id}/who-has-looked"
    second = client.get(f"{url}?page=2", headers={"HX-Request": "true"})
    body = second.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="looks">') and body.count("family cheers") == 2
    beyond = client.get(f"/learners/{learner.id}/who-has-looked?page=99").get_data(as_text=True)
    assert "Page 2 of 2" in beyond  # a page past the end shows the last one
