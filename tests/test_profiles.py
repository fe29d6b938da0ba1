"""Learner profile: writing in place, chips, history, prompts, completeness, review, print."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.profiles import services
from portal.profiles.models import Audience, ProfileEntry, ProfileEntryRevision, ProfileSection

HX = {"HX-Request": "true"}
PAYLOADS = [
    '<div hx-get="/signout" hx-trigger="load">x</div>',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a data-hx-post="/signout" data-hx-trigger="load">y</a>',
]


@pytest.fixture
def people(make):
    learner = make.learner(grade=7, given_name="Maya", family_name="Johnson")
    teacher = make.teacher(given_name="Elena", family_name="Rivera")
    make.school_class(teacher=teacher, learners=[learner], title="Grade 7 ELA")
    guardian = make.guardian(given_name="Ana", family_name="Garcia")
    make.link(guardian, learner)
    make.commit()
    return {"learner": learner, "teacher": teacher, "guardian": guardian}


def write(learner, key, author, text, chips=None, parent=None):
    spec = services.find_spec(learner, key)
    entry = services.add_entry(learner, spec, author, text, chips, parent)
    db.session.commit()
    return entry


def profile_url(learner):
    return f"/learners/{learner.id}/profile"


def revisions(entry_id):
    return db.session.scalars(
        select(ProfileEntryRevision)
        .where(ProfileEntryRevision.entry_id == entry_id)
        .order_by(ProfileEntryRevision.id)
    ).all()


# --- Writing, in place and with JavaScript off --------------------------------------


def test_learner_writes_a_section_with_a_plain_form(client, auth, people):
    learner = people["learner"]
    auth.login(learner)
    url = f"{profile_url(learner)}/sections/about/write"
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert 'name="about-text"' in page.get_data(as_text=True)

    response = client.post(url, data={"about-text": "I play cello.\nI have two cats."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{profile_url(learner)}#section-about")
    body = client.get(profile_url(learner)).get_data(as_text=True)
    assert "I play cello.<br>\nI have two cats." in body
    entry = db.session.scalar(select(ProfileEntry))
    assert entry.author_id == learner.id


def test_htmx_write_form_and_save_return_the_section_fragment(client, auth, people):
    learner = people["learner"]
    auth.login(learner)
    url = f"{profile_url(learner)}/sections/future/write"
    form = client.get(url, headers=HX).get_data(as_text=True)
    assert "<html" not in form
    assert 'id="section-future"' in form and "<form" in form
    assert 'hx-post="' + url in form

    saved = client.post(url, data={"future-text": "Marine biologist"}, headers=HX)
    body = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert "<html" not in body and '<form class="profile-form"' not in body
    assert 'id="section-future"' in body and "Marine biologist" in body


def test_cancel_returns_the_section_for_htmx_and_the_profile_otherwise(client, auth, people):
    learner = people["learner"]
    auth.login(learner)
    url = f"{profile_url(learner)}/sections/about"
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="section-about"' in fragment.get_data(as_text=True)
    plain = client.get(url)
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#section-about")
    assert client.get(f"{profile_url(learner)}/sections/nope", headers=HX).status_code == 404


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_empty_entry_is_refused_next_to_the_field_and_nothing_is_written(
    client, auth, people, headers
):
    learner = people["learner"]
    auth.login(learner)
    response = client.post(
        f"{profile_url(learner)}/sections/about/write", data={"about-text": "  "}, headers=headers
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("<html" in body) is (not headers)
    assert (
        'id="about-text-error"' in body
        and 'aria-describedby="about-text-hint about-text-error"' in body
    )
    assert db.session.scalar(select(func.count(ProfileEntry.id))) == 0
    assert db.session.scalar(select(func.count(ProfileSection.id))) == 0


def test_chips_are_checkboxes_and_only_known_chips_are_kept(client, auth, people):
    learner = people["learner"]
    auth.login(learner)
    url = f"{profile_url(learner)}/sections/interests/write"
    form = client.get(url).get_data(as_text=True)
    assert (
        'type="checkbox"' in form and 'name="interests-chips" type="checkbox" value="music"' in form
    )
    response = client.post(url, data={"interests-chips": ["music", "animals", "hacking"]})
    assert response.status_code == 303
    revision = db.session.scalar(select(ProfileEntryRevision))
    assert revision.chip_keys == ["music", "animals"]
    body = client.get(profile_url(learner)).get_data(as_text=True)
    assert "Music" in body and "Animals" in body and "hacking" not in body


def test_sections_without_chips_show_no_chip_fieldset(client, auth, people):
    learner = people["learner"]
    auth.login(learner)
    form = client.get(f"{profile_url(learner)}/sections/about/write").get_data(as_text=True)
    assert 'type="checkbox"' not in form


# --- Co-authoring and history -------------------------------------------------------


def test_editing_keeps_every_revision_with_who_and_when(client, auth, people):
    learner = people["learner"]
    entry = write(learner, "strengths", learner, "I am good at drawing.")
    auth.login(learner)
    url = f"{profile_url(learner)}/entries/{entry.id}/edit"
    form = client.get(url, headers=HX).get_data(as_text=True)
    assert "I am good at drawing." in form and "<html" not in form

    assert (
        client.post(url, data={f"entry{entry.id}-text": "I am good at comics."}).status_code == 303
    )
    # Saving the same words again adds no revision.
    client.post(url, data={f"entry{entry.id}-text": "I am good at comics."})
    texts = [r.text for r in revisions(entry.id)]
    assert texts == ["I am good at drawing.", "I am good at comics."]
    assert all(r.edited_by_id == learner.id for r in revisions(entry.id))

    body = client.get(profile_url(learner)).get_data(as_text=True)
    assert "I am good at comics." in body and "I am good at drawing." not in body
    assert "edited" in body
    history = client.get(f"{profile_url(learner)}/entries/{entry.id}/history")
    assert history.status_code == 200
    page = history.get_data(as_text=True)
    assert "I am good at drawing." in page and "I am good at comics." in page
    assert "Maya Johnson on" in page


def test_only_the_author_may_revise_an_entry(client, auth, people):
    learner, teacher = people["learner"], people["teacher"]
    entry = write(learner, "about", learner, "Mine")
    auth.login(teacher)
    url = f"{profile_url(learner)}/entries/{entry.id}/edit"
    assert client.get(url).status_code == 403
    assert client.post(url, data={f"entry{entry.id}-text": "Changed"}).status_code == 403
    assert [r.text for r in revisions(entry.id)] == ["Mine"]
    # and no edit link is offered to the teacher
    assert f"/entries/{entry.id}/edit" not in client.get(profile_url(learner)).get_data(
        as_text=True
    )


def test_teacher_adds_a_support_and_comments_and_the_learner_voice_comes_first(
    client, auth, people
):
    learner, teacher = people["learner"], people["teacher"]
    auth.login(teacher)
    url = f"{profile_url(learner)}/sections/supports/write"
    assert (
        client.post(url, data={"supports-text": "Check-in at the start of class"}).status_code
        == 303
    )
    write(learner, "supports", learner, "Headphones when it is loud")
    learner_entry = db.session.scalar(
        select(ProfileEntry).where(ProfileEntry.author_id == learner.id)
    )
    comment_url = f"{profile_url(learner)}/entries/{learner_entry.id}/comment"
    form = client.get(comment_url, headers=HX).get_data(as_text=True)
    assert "<html" not in form and f'name="reply{learner_entry.id}-text"' in form
    response = client.post(
        comment_url,
        data={f"reply{learner_entry.id}-text": "Great idea, let us try it."},
        headers=HX,
    )
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)

    body = client.get(profile_url(learner)).get_data(as_text=True)
    assert body.index("Headphones when it is loud") < body.index("Check-in at the start of class")
    assert "Great idea, let us try it." in body
    assert "Elena Rivera (Teacher)" in body
    comment = db.session.scalar(select(ProfileEntry).where(ProfileEntry.parent_id.is_not(None)))
    assert comment.parent_id == learner_entry.id and comment.author_id == teacher.id
    # A comment cannot be answered by another comment.
    assert client.get(f"{profile_url(learner)}/entries/{comment.id}/comment").status_code == 404


# --- Escaping: user text never becomes markup ---------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injected_markup_is_inert_everywhere_it_is_shown(client, auth, people, payload):
    learner, teacher, guardian = people["learner"], people["teacher"], people["guardian"]
    entry = write(learner, "about", learner, payload)
    write(learner, "about", teacher, payload, parent=entry)
    services.set_audience(learner, services.find_spec(learner, "about"), Audience.FAMILY)
    services.request_review(learner, payload)
    db.session.commit()

    auth.login(learner)
    pages = [
        client.get(profile_url(learner)),
        client.get(f"{profile_url(learner)}/sections/about", headers=HX),
        client.get(f"{profile_url(learner)}/print"),
        client.get(f"{profile_url(learner)}/entries/{entry.id}/edit", headers=HX),
    ]
    services.revise_entry(entry, services.find_spec(learner, "about"), learner, payload + "!", [])
    db.session.commit()
    pages.append(client.get(f"{profile_url(learner)}/entries/{entry.id}/history"))
    auth.logout()
    auth.login(guardian)
    pages.append(client.get(f"/learners/{learner.id}"))
    auth.logout()
    auth.login(teacher)
    pages.append(client.get(f"/classes/{_class_id(teacher)}"))

    for response in pages:
        body = response.get_data(as_text=True)
        assert response.status_code == 200, response.request.path
        assert "&lt;" in body, response.request.path
        for live in ("<div hx-get", "<script>alert", "<img src=x", "<a data-hx-post"):
            assert live not in body, response.request.path


def _class_id(teacher):
    from portal.roster.models import Enrollment

    return db.session.scalar(select(Enrollment.class_id).where(Enrollment.user_id == teacher.id))


def test_plain_text_filter_escapes_and_keeps_line_breaks():
    html = services.plain_text_html('a <b hx-get="/x">\r\nb')
    assert str(html) == "a &lt;b hx-get=&#34;/x&#34;&gt;<br>\nb"


# --- Prompts by age -----------------------------------------------------------------


def test_young_learners_get_simpler_prompts(client, auth, make):
    young = make.learner(grade=3)
    older = make.learner(grade=10)
    make.commit()
    auth.login(young)
    young_page = client.get(profile_url(young)).get_data(as_text=True)
    assert "What are you good at?" in young_page
    form = client.get(f"{profile_url(young)}/sections/about/write").get_data(as_text=True)
    assert "I feel happy when ..." in form
    auth.logout()
    auth.login(older)
    older_page = client.get(profile_url(older)).get_data(as_text=True)
    assert "What do others count on you for?" in older_page
    assert "What are you good at?" not in older_page


# --- Completeness -------------------------------------------------------------------


def test_completeness_counts_empty_and_stale_sections(client, auth, people):
    learner = people["learner"]
    write(learner, "about", learner, "Hi")
    write(learner, "future", learner, "Pilot")
    state = db.session.scalar(select(ProfileSection).where(ProfileSection.key == "future"))
    state.updated_at = utcnow() - timedelta(days=91)
    db.session.commit()

    summary = services.completeness(learner)
    assert summary.total == 7 and summary.filled == 2
    assert [spec.key for spec, _ in summary.stale] == ["future"]
    assert "barriers" in [spec.key for spec in summary.empty]

    auth.login(learner)
    body = client.get(profile_url(learner)).get_data(as_text=True)
    assert "2 of 7 sections have something in them" in body
    assert "Not updated for 90 days" in body
    home = client.get("/").get_data(as_text=True)
    assert "2 of 7 sections have something in them" in home
    assert f'href="{profile_url(learner)}"' in home


# --- Review requests ----------------------------------------------------------------


def test_learner_asks_for_a_review_and_the_teacher_sees_and_closes_it(client, auth, people):
    learner, teacher = people["learner"], people["teacher"]
    auth.login(learner)
    response = client.post(
        f"{profile_url(learner)}/review", data={"note": "My goals changed"}, headers=HX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="review"' in body
    assert "You asked your teachers" in body
    requests = services.open_review_requests([learner.id])
    assert len(requests) == 1 and requests[0].note == "My goals changed"
    # Asking twice keeps one open request.
    client.post(f"{profile_url(learner)}/review", data={"note": ""})
    assert len(services.open_review_requests([learner.id])) == 1
    auth.logout()

    auth.login(teacher)
    class_page = client.get(f"/classes/{_class_id(teacher)}").get_data(as_text=True)
    assert "Asked to review their profile" in class_page and "Maya Johnson" in class_page
    assert client.post(f"{profile_url(learner)}/review", data={}).status_code == 403
    resolve = f"{profile_url(learner)}/review/{requests[0].id}/resolve"
    assert client.post(resolve).status_code == 303
    assert services.open_review_requests([learner.id]) == []
    class_page = client.get(f"/classes/{_class_id(teacher)}").get_data(as_text=True)
    assert "Asked to review their profile" not in class_page
    assert client.post(resolve).status_code == 404  # already closed


def test_review_note_too_long_is_a_422_fragment(client, auth, people):
    learner = people["learner"]
    auth.login(learner)
    response = client.post(f"{profile_url(learner)}/review", data={"note": "x" * 301}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and "field-error" in body
    assert services.open_review_requests([learner.id]) == []


def test_open_review_requests_accepts_a_select_of_ids(people, make):
    from portal.policy import visible_learner_ids

    learner, teacher = people["learner"], people["teacher"]
    stranger = make.learner()
    services.request_review(learner, None)
    services.request_review(stranger, None)
    db.session.commit()
    found = services.open_review_requests(visible_learner_ids(teacher))
    assert [r.learner_id for r in found] == [learner.id]


# --- Print --------------------------------------------------------------------------


def test_print_view_lists_sections_and_links_the_print_stylesheet(client, auth, people):
    learner = people["learner"]
    write(learner, "strengths", learner, "Patient with younger kids")
    auth.login(learner)
    body = client.get(f"{profile_url(learner)}/print").get_data(as_text=True)
    assert "profile-print" in body and "Patient with younger kids" in body
    # The print rules come in print.css (media="print") or, once built, inside the bundle.
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)" media="([a-z]+)"', body)
    assert any(
        "@page profile" in (css := client.get(href).get_data(as_text=True))
        and (media == "print" or "@media print {" in css)
        for href, media in sheets
    )
    assert body.count('class="profile-print-section"') == 7
