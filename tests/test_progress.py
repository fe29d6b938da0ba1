"""Logging progress, evidence files, teacher feedback and the role matrix for them."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.auth.models import User
from portal.core.extensions import db
from portal.goals.models import Goal, GoalStatus
from portal.progress.models import Feedback, GoalProgress, ProgressEntry, ProgressSettings
from portal.roster.models import Org
from tests.fixtures import progress as build

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03" + b"\x00" * 200
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@dataclass
class World:
    learner: User
    other_learner: User
    teacher: User
    other_teacher: User
    guardian: User
    other_guardian: User
    admin: User
    other_admin: User
    school: Org
    goal: Goal


@pytest.fixture
def db_session(app):
    return db.session


@pytest.fixture
def world(make):
    school = make.default_school()
    learner = make.learner(given_name="Maya")
    other_learner = make.learner()  # a classmate: no relation to Maya's records
    teacher = make.teacher()
    other_teacher = make.teacher()
    make.school_class(teacher=teacher, learners=[learner, other_learner])
    make.school_class(teacher=other_teacher, learners=[other_learner])
    guardian, other_guardian = make.guardian(), make.guardian()
    make.link(guardian, learner)
    make.link(other_guardian, other_learner)
    other_school = make.school("Elsewhere")
    build.scale(make)
    goal = build.goal(make, learner)
    make.commit()
    return World(
        learner,
        other_learner,
        teacher,
        other_teacher,
        guardian,
        other_guardian,
        make.school_admin(),
        make.school_admin(other_school),
        school,
        goal,
    )


TOKEN = "tok-aaaaaaaaaaaaaaaa"


def entry_data(goal, token=TOKEN, **extra):
    data = {
        "token": token,
        "strategy": str(goal.current_version.strategies[0].id),
        "self_rating": "2",
        "reflection": "I did ten problems and checked them.",
    }
    data.update(extra)
    return data


def post_entry(client, goal, **kw):
    return client.post(
        f"/goals/{goal.id}/progress",
        data=entry_data(goal, **kw),
        content_type="multipart/form-data",
    )


# --- Logging and idempotency ---------------------------------------------------------


def test_learner_logs_progress_and_sees_the_next_step(client, auth, world, db_session):
    auth.login(world.learner)
    response = post_entry(client, world.goal)
    assert response.status_code == 303
    entry = db_session.query(ProgressEntry).one()
    assert f"logged={entry.id}" in response.headers["Location"]
    assert entry.strategy_text == "Practice 20 minutes"
    assert entry.self_rating == 2
    summary = db_session.get(GoalProgress, world.goal.id)
    assert summary.entry_count == 1 and summary.version == 1

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your next step" in page
    assert "Explain it to a partner" in page  # the least used strategy, first in goal order


def test_same_token_twice_creates_one_entry_and_returns_the_first(client, auth, world, db_session):
    auth.login(world.learner)
    first = post_entry(client, world.goal)
    second = post_entry(client, world.goal, reflection="A retried post on flaky Wi-Fi")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db_session.query(ProgressEntry).count() == 1
    assert db_session.query(ProgressEntry).one().reflection.startswith("I did ten")


def test_retry_over_htmx_gets_the_same_redirect(client, auth, world, db_session):
    auth.login(world.learner)
    post_entry(client, world.goal)
    again = client.post(
        f"/goals/{world.goal.id}/progress",
        data=entry_data(world.goal),
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 204
    assert "logged=" in again.headers["HX-Redirect"]
    assert db_session.query(ProgressEntry).count() == 1


def test_a_new_form_gets_a_new_token(client, auth, world):
    auth.login(world.learner)
    page = client.get(f"/goals/{world.goal.id}/progress").get_data(as_text=True)
    again = client.get(f"/goals/{world.goal.id}/progress").get_data(as_text=True)
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    assert len(token) >= 16 and token not in again


def test_invalid_entry_over_htmx_answers_422_with_the_form_fragment(
    client, auth, world, db_session
):
    auth.login(world.learner)
    response = client.post(
        f"/goals/{world.goal.id}/progress",
        data=entry_data(world.goal, reflection="", self_rating="9", strategy="other"),
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and 'id="log-form"' in body
    assert "Write a sentence or two" in body
    assert "Say what you did." in body
    assert 'aria-describedby="reflection-hint reflection-error"' in body
    assert db_session.query(ProgressEntry).count() == 0


def test_invalid_entry_without_js_gets_the_whole_page(client, auth, world):
    auth.login(world.learner)
    response = post_entry(client, world.goal, reflection="")
    assert response.status_code == 422
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://example.org/x", "not a url"])
def test_only_http_links_are_evidence(client, auth, world, link, db_session):
    auth.login(world.learner)
    response = post_entry(client, world.goal, link=link)
    assert response.status_code == 422
    assert db_session.query(ProgressEntry).count() == 0


def test_http_link_is_kept_and_shown(client, auth, world, db_session):
    auth.login(world.learner)
    post_entry(client, world.goal, link="https://docs.example.org/my-work")
    assert db_session.query(ProgressEntry).one().link_url == "https://docs.example.org/my-work"
    page = client.get(f"/goals/{world.goal.id}/progress").get_data(as_text=True)
    assert 'href="https://docs.example.org/my-work" rel="noopener noreferrer nofollow"' in page


def test_something_else_keeps_the_learners_words(client, auth, world, db_session):
    auth.login(world.learner)
    post_entry(client, world.goal, strategy="other", other_strategy="Watched a video")
    entry = db_session.query(ProgressEntry).one()
    assert entry.strategy_id is None and entry.strategy_text == "Watched a video"


def test_no_entries_on_a_goal_that_is_not_active(client, auth, make, world, db_session):
    world.goal.status = GoalStatus.MET
    make.commit()
    auth.login(world.learner)
    response = post_entry(client, world.goal)
    assert response.status_code == 409
    assert db_session.query(ProgressEntry).count() == 0


def test_reflection_is_escaped(client, auth, world):
    auth.login(world.learner)
    post_entry(client, world.goal, reflection="<script>alert(1)</script>")
    page = client.get(f"/goals/{world.goal.id}/progress").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


# --- Evidence files ------------------------------------------------------------------


def upload(client, goal, content, name, token=TOKEN):
    return client.post(
        f"/goals/{goal.id}/progress",
        data={**entry_data(goal, token=token), "evidence": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_image_is_stored_by_random_name_and_served_inline(app, client, auth, world, db_session):
    auth.login(world.learner)
    assert upload(client, world.goal, PNG, "../../static/x.png").status_code == 303
    entry = db_session.query(ProgressEntry).one()
    assert entry.file_type == "image/png" and entry.file_name == "x.png"
    stored = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / entry.file_key
    assert stored.read_bytes() == PNG
    assert "x.png" not in os.listdir(stored.parent)
    assert not (Path(app.root_path).parent / "static" / "x.png").exists()

    response = client.get(f"/progress/entries/{entry.id}/evidence")
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")


def test_document_is_served_as_attachment(client, auth, world, db_session):
    auth.login(world.learner)
    assert upload(client, world.goal, PDF, "essay.pdf").status_code == 303
    entry = db_session.query(ProgressEntry).one()
    response = client.get(f"/progress/entries/{entry.id}/evidence")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "name"),
    [(HTML, "page.png"), (EXE, "game.png"), (EXE, "notes.pdf"), (HTML, "x.html"), (b"", "e.png")],
)
def test_type_is_checked_from_the_content(client, auth, world, content, name, db_session):
    auth.login(world.learner)
    response = upload(client, world.goal, content, name)
    assert response.status_code == 422
    assert 'id="evidence-error"' in response.get_data(as_text=True)
    assert db_session.query(ProgressEntry).count() == 0


def test_too_big_file_gets_a_field_message(app, client, auth, world, db_session):
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    auth.login(world.learner)
    response = upload(client, world.goal, PNG + b"\x00" * 2048, "big.png")
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True)
    assert db_session.query(ProgressEntry).count() == 0
    folder = Path(app.config["UPLOAD_FOLDER"]) / "evidence"
    assert not folder.exists() or not os.listdir(folder)


def test_request_over_the_server_limit_is_413(app, client, auth, world):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    auth.login(world.learner)
    assert upload(client, world.goal, PNG + b"\x00" * 8192, "big.png").status_code == 413


@pytest.fixture
def entry_with_file(client, auth, world, db_session):
    auth.login(world.learner)
    # Shared with family: the guardian's row below; unshared files are 404 for family.
    client.post(
        f"/goals/{world.goal.id}/progress",
        data={
            **entry_data(world.goal),
            "shared_with_family": "y",
            "evidence": (io.BytesIO(PDF), "essay.pdf"),
        },
        content_type="multipart/form-data",
    )
    auth.logout()
    return db_session.query(ProgressEntry).one()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("learner", 200),
        ("other_learner", 404),
        ("teacher", 200),
        ("other_teacher", 404),
        ("guardian", 200),
        ("other_guardian", 404),
        ("admin", 200),
        ("other_admin", 404),
    ],
)
def test_file_role_matrix(client, auth, world, entry_with_file, who, status):
    auth.login(getattr(world, who))
    assert client.get(f"/progress/entries/{entry_with_file.id}/evidence").status_code == status


# --- The role matrix for entries and feedback ---------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("learner", 200),
        ("other_learner", 404),
        ("teacher", 200),
        ("other_teacher", 404),
        ("guardian", 200),
        ("other_guardian", 404),
        ("admin", 200),
        ("other_admin", 404),
    ],
)
def test_goal_page_role_matrix(client, auth, world, who, status):
    auth.login(getattr(world, who))
    response = client.get(f"/goals/{world.goal.id}/progress")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert ('id="log-form"' in page) is (who == "learner")
        assert ('id="goal-feedback-form"' in page) is (who == "teacher")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("learner", 303),
        ("other_learner", 404),
        ("teacher", 403),
        ("guardian", 403),
        ("other_guardian", 403),
        ("admin", 403),
    ],
)
def test_log_role_matrix(client, auth, world, who, status, db_session):
    auth.login(getattr(world, who))
    assert post_entry(client, world.goal).status_code == status
    assert db_session.query(ProgressEntry).count() == (1 if status == 303 else 0)


@pytest.fixture
def entry(make, world):
    e = build.entry(make, world.goal, 2)
    make.commit()
    return e


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 303),
        ("other_teacher", 404),
        ("learner", 403),
        ("guardian", 403),
        ("admin", 403),
    ],
)
def test_feedback_role_matrix(client, auth, world, entry, who, status, db_session):
    auth.login(getattr(world, who))
    response = client.post(
        f"/progress/entries/{entry.id}/feedback",
        data={f"entry{entry.id}-token": "fb-aaaaaaaaaaaaaaaaaa", f"entry{entry.id}-body": "Nice"},
    )
    assert response.status_code == status
    assert db_session.query(Feedback).count() == (1 if status == 303 else 0)


def test_teacher_feedback_and_rating_show_beside_the_self_rating(
    client, auth, world, entry, db_session
):
    auth.login(world.teacher)
    prefix = f"entry{entry.id}"
    data = {
        f"{prefix}-token": "fb-aaaaaaaaaaaaaaaaaa",
        f"{prefix}-body": "Show me your steps on problem 4.",
        f"{prefix}-rating": "3",
        f"{prefix}-for_families": "y",
    }
    assert client.post(f"/progress/entries/{entry.id}/feedback", data=data).status_code == 303
    # A double click sends the same token: still one feedback.
    assert client.post(f"/progress/entries/{entry.id}/feedback", data=data).status_code == 303
    feedback = db_session.query(Feedback).one()
    assert feedback.for_families and feedback.rating == 3
    summary = db_session.get(GoalProgress, world.goal.id)
    assert summary.latest_entry_rated and summary.points[-1][1:] == (3, "teacher")

    auth.logout()
    auth.login(world.learner)
    page = client.get(f"/goals/{world.goal.id}/progress").get_data(as_text=True)
    assert "Show me your steps on problem 4." in page
    own = page.index("Own rating")
    assert "Developing" in page[own : own + 200]  # self: 2
    assert "Proficient" in page[page.index("Teacher rating") :][:200]  # teacher: 3
    assert "shared with family" in page


def test_invalid_feedback_over_htmx_returns_the_entry_fragment(client, auth, world, entry):
    auth.login(world.teacher)
    response = client.post(
        f"/progress/entries/{entry.id}/feedback",
        data={f"entry{entry.id}-token": "fb-aaaaaaaaaaaaaaaaaa", f"entry{entry.id}-body": ""},
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and f'id="entry-{entry.id}"' in body
    assert "Write your feedback." in body


def test_goal_level_feedback_counts_as_evidence(client, auth, world, entry, db_session):
    auth.login(world.teacher)
    response = client.post(
        f"/goals/{world.goal.id}/feedback",
        data={
            "goal-token": "goalfb-aaaaaaaaaaaaaa",
            "goal-body": "Observed in class",
            "goal-rating": "4",
        },
    )
    assert response.status_code == 303
    summary = db_session.get(GoalProgress, world.goal.id)
    assert [v for _, v, _ in summary.points] == [2, 4]


def test_stuck_learner_is_nudged_towards_a_conference(client, auth, make, world):
    for days, rating in [(6, 2), (4, 2), (2, 1)]:
        build.entry(make, world.goal, rating, days_ago=days)
    make.commit()
    auth.login(world.learner)
    response = post_entry(client, world.goal, self_rating="1")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ask your teacher for a goal conference" in page


# --- School settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("other_admin", 404), ("teacher", 403)]
)
def test_settings_access(client, auth, world, who, status):
    auth.login(getattr(world, who))
    assert client.get(f"/schools/{world.school.id}/progress-settings").status_code == status


def test_admin_changes_the_method_and_trackers_say_so(client, auth, make, world, db_session):
    build.entry(make, world.goal, 1, days_ago=3)
    build.entry(make, world.goal, 3, days_ago=1)
    make.commit()
    auth.login(world.admin)
    url = f"/schools/{world.school.id}/progress-settings"
    bad = client.post(url, data={"method": "mean_last_n", "n": "40", "decay_percent": "65"})
    assert bad.status_code == 422
    response = client.post(url, data={"method": "highest", "n": "3", "decay_percent": "65"})
    assert response.status_code == 303
    assert db_session.query(ProgressSettings).one().method == "highest"
    auth.logout()
    auth.login(world.learner)
    tracker = client.get(f"/goals/{world.goal.id}/tracker", headers={"HX-Request": "true"}).text
    assert "highest rating so far" in tracker
    assert "Now: <strong>Proficient</strong>" in tracker
