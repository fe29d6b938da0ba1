"""Who may see and change goals: the permission matrix for every goal route.

`former_teacher` taught the learner last year, in a class whose term ended 10 days ago
(within the 60-day grace): they read what a teacher reads and change nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.core.extensions import db
from portal.core.timeutil import today
from portal.goals.models import GoalStatus, GoalTemplate
from portal.roster.models import Term
from tests.fixtures.goals import build_world, form_data, fresh, make_goal, versions


@pytest.fixture
def world(make):
    world = build_world(make)
    last_year = make._add(
        Term(
            org_id=make.default_district().id,
            title="Last year",
            start_date=today() - timedelta(days=300),
            end_date=today() - timedelta(days=10),
        )
    )
    world.former_teacher = make.teacher()
    world.last_year_class = make.school_class(
        teacher=world.former_teacher, learners=[world.learner], term=last_year, title="Math 6"
    )
    make.commit()
    return world


PEOPLE = [
    "learner",
    "classmate",
    "teacher",
    "other_teacher",
    "former_teacher",
    "guardian",
    "other_guardian",
    "admin",
    "other_admin",
]


def _status(client, auth, world, who, method, url, data=None):
    auth.login(getattr(world, who))
    response = client.open(url, method=method, data=data)
    auth.logout()
    return response.status_code


def _matrix(client, auth, world, method, urls) -> dict[str, int]:
    """Each person's answer; every URL must answer the same for the same person."""
    answers = {}
    for who in PEOPLE:
        auth.login(getattr(world, who))
        codes = {client.open(url, method=method).status_code for url in urls}
        auth.logout()
        assert len(codes) == 1, (who, codes)
        answers[who] = codes.pop()
    return answers


READ = {
    "learner": 200,
    "classmate": 404,
    "teacher": 200,
    "other_teacher": 404,
    "former_teacher": 200,
    "guardian": 200,
    "other_guardian": 404,
    "admin": 200,
    "other_admin": 404,
}


def test_reading_a_goal(client, auth, world):
    goal = make_goal(world, status=GoalStatus.ACTIVE)
    urls = [f"/goals/{goal.id}", f"/goals/{goal.id}/history", f"/learners/{world.learner.id}/goals"]
    assert _matrix(client, auth, world, "GET", urls) == {who: READ[who] for who in PEOPLE}


EDIT = {
    "learner": 200,
    "classmate": 404,
    "teacher": 200,
    "other_teacher": 404,
    "former_teacher": 403,  # reads, never changes
    "guardian": 403,
    "other_guardian": 403,
    "admin": 403,
    "other_admin": 403,
}


def test_editing_a_goal(client, auth, world):
    goal = make_goal(world)
    url = f"/goals/{goal.id}/edit"
    assert _matrix(client, auth, world, "GET", [url]) == EDIT
    for who in PEOPLE:
        goal = make_goal(world)
        data = form_data(world, lock_version=str(goal.lock_version), target_level="4")
        expected = 303 if EDIT[who] == 200 else EDIT[who]
        assert _status(client, auth, world, who, "POST", f"/goals/{goal.id}/edit", data) == expected
        assert len(versions(goal.id)) == (2 if expected == 303 else 1), who


def test_closing_a_goal(client, auth, world):
    for who in PEOPLE:
        goal = make_goal(world, status=GoalStatus.ACTIVE)
        expected = 303 if EDIT[who] == 200 else EDIT[who]
        url = f"/goals/{goal.id}/status"
        assert _status(client, auth, world, who, "POST", url, {"status": "met"}) == expected, who
        assert (fresh(goal.id).status is GoalStatus.MET) == (expected == 303)


# Those who may sign (learner and teacher) get 409: only co-signing makes a goal agreed.
ACTIVATE = {**EDIT}


def test_marking_a_goal_agreed(client, auth, world):
    """No button makes a goal agreed: co-signing does (tests/test_conferences_signing.py)."""
    for who in PEOPLE:
        goal = make_goal(world, status=GoalStatus.PROPOSED)
        expected = 409 if ACTIVATE[who] == 200 else ACTIVATE[who]
        url = f"/goals/{goal.id}/status"
        assert _status(client, auth, world, who, "POST", url, {"status": "active"}) == expected, who
        assert fresh(goal.id).status is GoalStatus.PROPOSED


PROPOSE = {**EDIT, "learner": 403, "classmate": 403}


def test_proposing_a_goal(client, auth, world):
    url = f"/learners/{world.learner.id}/goals/new"
    assert _matrix(client, auth, world, "GET", [url]) == PROPOSE


SEARCH = {**EDIT}


def test_searching_targets_for_a_learner(client, auth, world):
    url = f"/learners/{world.learner.id}/goals/targets?q=rate"
    assert _matrix(client, auth, world, "GET", [url]) == SEARCH


CLASS = {
    "learner": 403,
    "classmate": 403,
    "teacher": 200,
    "other_teacher": 404,
    "former_teacher": 404,  # this year's class is not theirs
    "guardian": 403,
    "other_guardian": 403,
    "admin": 200,
    "other_admin": 404,
}


def test_a_class_goal_list(client, auth, world):
    url = f"/classes/{world.school_class.id}/goals"
    assert _matrix(client, auth, world, "GET", [url]) == CLASS


TEMPLATES = {**CLASS, "admin": 403, "other_admin": 403}


def test_a_class_goal_templates(client, auth, world):
    urls = [
        f"/classes/{world.school_class.id}/goal-templates",
        f"/classes/{world.school_class.id}/goal-templates/targets?q=rate",
    ]
    assert _matrix(client, auth, world, "GET", urls) == TEMPLATES


RETIRE = {**TEMPLATES, "teacher": 303}


def test_retiring_a_template(client, auth, world):
    template = GoalTemplate(
        teacher_id=world.teacher.id, class_id=world.school_class.id, title="T", statement="S"
    )
    db.session.add(template)
    db.session.commit()
    url = f"/goal-templates/{template.id}/retire"
    assert _matrix(client, auth, world, "POST", [url]) == RETIRE


def test_last_years_class_goals_and_templates_are_read_only(client, auth, world):
    """The former teacher reads last year's class pages; its templates change no more."""
    old = world.last_year_class
    template = GoalTemplate(
        teacher_id=world.former_teacher.id, class_id=old.id, title="Old", statement="S"
    )
    db.session.add(template)
    db.session.commit()
    auth.login(world.former_teacher)
    for url in (f"/classes/{old.id}/goals", f"/classes/{old.id}/goal-templates"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Last year (ended)" in page.get_data(as_text=True), url
    assert "Stop offering" not in client.get(f"/classes/{old.id}/goal-templates").get_data(
        as_text=True
    )
    for url, data in [
        (f"/goal-templates/{template.id}/retire", {}),
        (f"/goal-templates/{template.id}/edit", {"title": "New", "statement": "S2"}),
        (f"/classes/{old.id}/goal-templates", {"title": "N", "statement": "S"}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 303, url
        assert response.headers["Location"].endswith(f"/classes/{old.id}/goal-templates")
    db.session.expire_all()
    kept = db.session.get(GoalTemplate, template.id)
    assert (kept.active, kept.title) == (True, "Old")
    assert db.session.query(GoalTemplate).count() == 1


def test_learner_only_pages(client, auth, world):
    urls = ["/goals", "/goals/new", "/goals/templates"]
    expected = {who: 200 if who in ("learner", "classmate") else 403 for who in PEOPLE}
    assert _matrix(client, auth, world, "GET", urls) == expected


# --- What each viewer sees of each goal state (portal.policy, "what a family sees") ---

VIEWERS = [
    "learner",
    "teacher",
    "classmate",
    "other_teacher",
    "former_teacher",
    "guardian",
    "paused_guardian",
    "other_guardian",
    "admin",
    "other_admin",
]
SEES_ALL = {"learner", "teacher", "former_teacher", "admin"}
FAMILY_SEES = {GoalStatus.ACTIVE, GoalStatus.MET}  # agreed goals only


def _sees(who: str, status: GoalStatus) -> bool:
    return who in SEES_ALL or (who == "guardian" and status in FAMILY_SEES)


def _agreed_goal(world, statement: str):
    """A goal the learner and their teacher co-signed (ACTIVE on its first version)."""
    from portal.conferences import signing

    goal = make_goal(world, status=GoalStatus.PROPOSED, statement=statement)
    signing.sign(goal, goal.current_version_id, world.learner)
    signing.sign(goal, goal.current_version_id, world.teacher)
    db.session.commit()
    return fresh(goal.id)


def _goal_in(world, status: GoalStatus):
    statement = f"I will reach Proficient on unit rates ({status.value} goal)."
    if status in (GoalStatus.ACTIVE, GoalStatus.MET, GoalStatus.NOT_MET, GoalStatus.REVISED):
        goal = _agreed_goal(world, statement)
    else:
        goal = make_goal(world, status=GoalStatus.DRAFT, statement=statement)
    goal.status = status
    db.session.commit()
    return goal


def _shared_entry_with_file(app, goal, learner):
    """A progress entry shared with family, with an uploaded file on disk."""
    from pathlib import Path

    from portal.progress import services as progress
    from portal.progress.uploads import StoredFile

    key = f"{goal.id:032x}"
    folder = Path(app.config["UPLOAD_FOLDER"]) / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(b"%PDF-1.4 evidence")
    entry = progress.log_entry(
        goal,
        token=f"matrix-entry-{goal.id:08d}",
        strategy="other",
        other_strategy="Practice",
        self_rating=2,
        reflection=f"Shared reflection on goal {goal.id}.",
        link_url=None,
        stored=StoredFile(key=key, name="work.pdf", mime="application/pdf", size=17),
        shared_with_family=True,
    )
    db.session.commit()
    return entry


@pytest.fixture
def every_state(app, make, world):
    """One goal in each state, each with a shared entry; and a guardian whose link is paused."""
    world.paused_guardian = make.guardian()
    make.link(world.paused_guardian, world.learner, active=False)
    make.commit()
    goals = {status: _goal_in(world, status) for status in GoalStatus}
    entries = {s: _shared_entry_with_file(app, g, world.learner) for s, g in goals.items()}
    return goals, entries


@pytest.mark.both_backends
@pytest.mark.parametrize("who", VIEWERS)
def test_each_goal_state_for_each_viewer(client, auth, world, every_state, who, backend):
    """List inclusion and every goal route, for every goal status x every viewer."""
    goals, entries = every_state
    auth.login(getattr(world, who))
    listing = client.get(f"/learners/{world.learner.id}/goals")
    related = who not in ("classmate", "other_teacher", "paused_guardian", "other_guardian")
    related = related and who != "other_admin"
    assert listing.status_code == (200 if related else 404)
    page = listing.get_data(as_text=True)
    for status, goal in goals.items():
        expected = 200 if _sees(who, status) else 404
        entry = entries[status]
        urls = [
            f"/goals/{goal.id}",
            f"/goals/{goal.id}/history",
            f"/goals/{goal.id}/progress",
            f"/progress/entries/{entry.id}/evidence",
        ]
        codes = {url: client.get(url).status_code for url in urls}
        tracker = client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"})
        codes["tracker"] = 200 if tracker.status_code in (200, 286) else tracker.status_code
        assert set(codes.values()) == {expected}, (who, status, codes)
        listed = f'href="/goals/{goal.id}"' in page
        assert listed is (_sees(who, status) and related), (who, status)


def test_a_guardian_reads_the_agreed_wording_not_a_later_unsigned_edit(client, auth, world):
    from portal.conferences import signing
    from portal.goals import services as goal_services
    from tests.fixtures.goals import content

    agreed_words = "I will reach Proficient on unit rates by practising with Omar."
    edited_words = "I will reach Extending on unit rates and teach the class."
    goal = _agreed_goal(world, agreed_words)
    goal_services.save_content(goal, world.learner, content(world, statement=edited_words))
    db.session.commit()
    goal = fresh(goal.id)
    assert goal.status is GoalStatus.ACTIVE and goal.current_version.number == 2
    entry = _shared_entry_with_file(client.application, goal, world.learner)

    auth.login(world.guardian)
    pages = {
        "detail": client.get(f"/goals/{goal.id}"),
        "history": client.get(f"/goals/{goal.id}/history"),
        "list": client.get(f"/learners/{world.learner.id}/goals"),
        "progress": client.get(f"/goals/{goal.id}/progress"),
        "tracker": client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"}),
        "family": client.get(f"/family/children/{world.learner.id}"),
    }
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert agreed_words in html, name
        assert edited_words not in html and "Extending" not in html.split("<main")[-1], name
    assert "Version 2" not in pages["history"].get_data(as_text=True)
    assert client.get(f"/progress/entries/{entry.id}/evidence").status_code == 200
    auth.logout()

    auth.login(world.learner)  # the learner and the teacher read the new wording
    assert edited_words in client.get(f"/goals/{goal.id}").get_data(as_text=True)
    auth.logout()

    # Once both sign version 2, the family reads it, and both versions in the history.
    signing.sign(goal, goal.current_version_id, world.learner)
    signing.sign(goal, goal.current_version_id, world.teacher)
    db.session.commit()
    auth.login(world.guardian)
    assert edited_words in client.get(f"/goals/{goal.id}").get_data(as_text=True)
    history = client.get(f"/goals/{goal.id}/history").get_data(as_text=True)
    assert "Version 1" in history and "Version 2" in history


def test_an_unsigned_draft_between_two_agreements_stays_out_of_the_family_history(
    client, auth, world
):
    from portal.conferences import signing
    from portal.goals import services as goal_services
    from tests.fixtures.goals import content

    goal = _agreed_goal(world, "I will reach Proficient on unit rates by May.")
    for words in ("A wording nobody signed.", "I will reach Proficient on unit rates by June."):
        goal_services.save_content(goal, world.learner, content(world, statement=words))
        db.session.commit()
        goal = fresh(goal.id)
    signing.sign(goal, goal.current_version_id, world.learner)
    signing.sign(goal, goal.current_version_id, world.teacher)
    db.session.commit()
    auth.login(world.guardian)
    history = client.get(f"/goals/{goal.id}/history").get_data(as_text=True)
    assert "Version 1" in history and "Version 3" in history
    assert "Version 2" not in history and "nobody" not in history
    auth.logout()
    auth.login(world.teacher)
    assert "nobody" in client.get(f"/goals/{goal.id}/history").get_data(as_text=True)


def test_a_guardian_cannot_cheer_or_acknowledge_a_goal_they_do_not_see(client, auth, world):
    from portal.family.models import Cheer

    draft = make_goal(world, status=GoalStatus.PROPOSED)
    auth.login(world.guardian)
    response = client.post(
        f"/family/goals/{draft.id}/cheers", data={f"g{draft.id}-body": "Go for it!"}
    )
    assert response.status_code == 404
    assert client.post(f"/goals/{draft.id}/acknowledge").status_code == 404
    assert db.session.query(Cheer).count() == 0


def test_a_guardian_cannot_cheer_an_entry_not_shared_with_them(client, auth, world):
    from portal.family.models import Cheer
    from portal.progress import services as progress

    goal = _agreed_goal(world, "I will reach Proficient on unit rates.")
    private = progress.log_entry(
        goal,
        token="private-entry-aaaaaaaa",
        strategy="other",
        other_strategy="Practice",
        self_rating=2,
        reflection="Only for me and my teacher.",
        link_url=None,
        stored=None,
        shared_with_family=False,
    )
    db.session.commit()
    auth.login(world.guardian)
    key = f"e{private.id}"
    response = client.post(
        f"/family/goals/{goal.id}/cheers?entry={private.id}", data={f"{key}-body": "Nice!"}
    )
    assert response.status_code == 404
    assert db.session.query(Cheer).count() == 0


def test_a_goal_signed_in_a_conference_then_archived_is_not_in_the_family_history(
    client, auth, world
):
    from portal.conferences import signing
    from tests.fixtures.conferences import conference_for

    conference = conference_for(world)
    goal = make_goal(world, status=GoalStatus.PROPOSED, statement="I will try the archived plan.")
    for signer in (world.learner, world.teacher):
        signing.sign(goal, goal.current_version_id, signer, conference=conference)
    db.session.commit()
    fresh(goal.id).status = GoalStatus.ARCHIVED
    db.session.commit()
    url = f"/learners/{world.learner.id}/conferences"
    auth.login(world.teacher)
    assert "archived plan" in client.get(url).get_data(as_text=True)
    auth.logout()
    auth.login(world.guardian)
    response = client.get(url)
    assert response.status_code == 200 and "archived plan" not in response.get_data(as_text=True)
