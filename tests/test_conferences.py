"""Conferences: who is due, scheduling, workspace, notes, polling, reflection, history, family."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.conferences import cycles, scheduling, signing
from portal.conferences import history as conference_history
from portal.conferences import notes as conference_notes
from portal.conferences.models import (
    Conference,
    ConferenceNote,
    ConferenceRequest,
    ConferenceStatus,
    GoalReflection,
    GoalSignature,
    NextStep,
    StepOwner,
)
from portal.core.extensions import db
from portal.core.timeutil import today, utcnow
from portal.goals.models import GoalStatus, GoalVersion
from portal.progress.models import GoalProgress
from tests.fixtures.conferences import (
    HTMX,
    POLL,
    build_world,
    conference_for,
    fresh,
    make_goal,
    proposed_goal,
    sign_both,
)


@pytest.fixture
def world(make):
    return build_world(make)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- Scheduling -------------------------------------------------------------------------


def _schedule_data(world, **overrides):
    data = {
        "learner": str(world.learner.id),
        "day": (today() + timedelta(days=3)).isoformat(),
        "time": "09:30",
        "duration": "15",
        "every_weeks": "2",
        "occurrences": "3",
    }
    data.update(overrides)
    return data


def test_teacher_schedules_a_recurring_series_and_the_request_is_resolved(client, auth, world):
    scheduling.request_conference(world.learner, "I am stuck on percents")
    db.session.commit()
    auth.login(world.teacher)
    url = f"/classes/{world.school_class.id}/conferences/new"
    page = client.get(url, query_string={"learner": world.learner.id}).get_data(as_text=True)
    assert f'<option selected value="{world.learner.id}">' in page
    assert client.post(url, data=_schedule_data(world)).status_code == 303
    made = list(db.session.scalars(select(Conference).order_by(Conference.scheduled_at)))
    assert len(made) == 3 and len({c.series_key for c in made}) == 1
    assert made[1].scheduled_at - made[0].scheduled_at == timedelta(weeks=2)
    # 09:30 in New York is stored as UTC (13:30 or 14:30 depending on daylight saving).
    assert made[0].scheduled_at.hour in (13, 14) and made[0].scheduled_at.minute == 30
    assert scheduling.open_request(world.learner.id) is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("day", (today() - timedelta(days=1)).isoformat(), "today or a later date"),
        ("time", "", "Choose a time"),
        ("occurrences", "11", "Between 1 and 10"),
        ("learner", "999999", "Choose a learner of this class"),
    ],
)
def test_bad_schedule_writes_nothing(client, auth, world, field, value, message):
    auth.login(world.teacher)
    url = f"/classes/{world.school_class.id}/conferences/new"
    response = client.post(url, data=_schedule_data(world, **{field: value}), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html and 'id="schedule-form"' in html
    assert message in html and 'aria-invalid="true"' in html
    assert _count(Conference) == 0


def test_schedule_is_for_my_classes_only(client, auth, world):
    auth.login(world.other_teacher)
    url = f"/classes/{world.school_class.id}/conferences/new"
    assert client.post(url, data=_schedule_data(world)).status_code == 404
    auth.logout()
    auth.login(world.admin)
    assert client.get(url).status_code == 403
    assert _count(Conference) == 0


# --- Who is due -----------------------------------------------------------------------------


def test_due_list_says_why(client, auth, world, make):
    # Maya: asked, and a goal is overdue. Omar: held a conference yesterday, stuck on a goal.
    scheduling.request_conference(world.learner, "Percents again")
    overdue = make_goal(world, status=GoalStatus.ACTIVE)
    overdue.current_version.due_date = today() - timedelta(days=2)
    conference_for(world, learner=world.classmate, days=-1, status=ConferenceStatus.DONE)
    stuck = make_goal(world, learner=world.classmate, status=GoalStatus.ACTIVE)
    now = utcnow()
    points = [[(now - timedelta(days=d)).isoformat(), 2, "self"] for d in (3, 2, 1)]
    db.session.add(
        GoalProgress(
            goal_id=stuck.id,
            learner_id=world.classmate.id,
            version=1,
            entry_count=3,
            points_json=json.dumps(points),
        )
    )
    db.session.commit()
    rows = {
        r.learner.id: r
        for r in cycles.due_for_class(world.school_class.id, world.school.id, world.teacher)
    }
    assert rows[world.learner.id].reasons == ["asked", "cycle", "overdue"]
    assert rows[world.classmate.id].reasons == ["stuck"]
    assert rows[world.classmate.id].days_since == 1
    auth.login(world.teacher)
    page = client.get(f"/classes/{world.school_class.id}/conferences").get_data(as_text=True)
    assert "asked for one" in page and "Percents again" in page and "stuck" in page
    # The other teacher's class, or admins of another school: out of reach.
    assert cycles.due_for_class(world.school_class.id, world.school.id, world.other_teacher) == []


def test_school_cycle_setting_changes_who_is_due(client, auth, world):
    conference_for(world, days=-10, status=ConferenceStatus.DONE)

    def due():
        rows = cycles.due_for_class(world.school_class.id, world.school.id, world.teacher)
        return {r.learner.id for r in rows if "cycle" in r.reasons}

    assert world.learner.id not in due()
    url = f"/schools/{world.school.id}/conference-settings"
    auth.login(world.other_admin)
    assert client.post(url, data={"cycle_days": "7"}).status_code == 404
    auth.logout()
    auth.login(world.admin)
    response = client.post(url, data={"cycle_days": "3"}, headers=HTMX)
    assert response.status_code == 422 and "<html" not in response.get_data(as_text=True)
    assert client.post(url, data={"cycle_days": "7"}).status_code == 303
    assert cycles.cycle_days(world.school.id) == 7
    assert world.learner.id in due()


# --- The workspace ---------------------------------------------------------------------------


def test_both_open_the_workspace_others_cannot(client, auth, world):
    conference = conference_for(world, prep_hard="Percent increase")
    goal = proposed_goal(world)
    url = f"/conferences/{conference.id}"
    expected = {
        "learner": 200,
        "teacher": 200,
        "classmate": 404,
        "other_teacher": 404,
        "guardian": 403,
        "admin": 403,
    }
    for who, code in expected.items():
        auth.login(getattr(world, who))
        assert client.get(url).status_code == code, who
        auth.logout()
    auth.login(world.teacher)
    page = client.get(url).get_data(as_text=True)
    assert "Percent increase" in page and f'id="goal-work-{goal.id}"' in page
    assert "I agree: sign version 1" in page and "signs here" in page


def test_private_notes_stay_with_teachers(client, auth, world):
    conference = conference_for(world)
    url = f"/conferences/{conference.id}/notes"
    auth.login(world.learner)
    assert client.post(url, data={"body": "Hidden?", "private": "y"}).status_code == 403
    assert client.post(url, data={"body": "I want more word problems"}).status_code == 303
    auth.logout()
    auth.login(world.teacher)
    response = client.post(
        url, data={"body": "Check hearing screening", "private": "y"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="note-block"' in html
    assert response.headers["HX-Trigger"] == "conference-changed"
    assert "Check hearing screening" in client.get(f"/conferences/{conference.id}").get_data(
        as_text=True
    )
    scheduling.set_status(db.session.get(Conference, conference.id), ConferenceStatus.DONE)
    db.session.commit()
    for who in ("learner", "guardian"):
        auth.logout()
        auth.login(getattr(world, who))
        for page_url in (
            f"/learners/{world.learner.id}/conferences",
            f"/learners/{world.learner.id}",
        ):
            page = client.get(page_url).get_data(as_text=True)
            assert "Check hearing screening" not in page, (who, page_url)
        if who == "guardian":
            assert "I want more word problems" in page  # the family sees shared notes
    auth.logout()
    auth.login(world.admin)
    page = client.get(f"/learners/{world.learner.id}/conferences").get_data(as_text=True)
    assert "I want more word problems" in page and "Check hearing screening" not in page


def test_notes_steps_and_prep_validate(client, auth, world):
    conference = conference_for(world)
    base = f"/conferences/{conference.id}"
    auth.login(world.learner)
    response = client.post(f"{base}/notes", data={"body": "   "}, headers=HTMX)
    assert response.status_code == 422 and "Write the note first" in response.get_data(as_text=True)
    response = client.post(f"{base}/prep", data={"working": "", "hard": " "}, headers=HTMX)
    assert response.status_code == 422 and "Answer at least one" in response.get_data(as_text=True)
    response = client.post(
        f"{base}/steps", data={"text": "Practise", "owner": "boss"}, headers=HTMX
    )
    assert response.status_code == 422
    past = (today() - timedelta(days=1)).isoformat()
    response = client.post(
        f"{base}/steps", data={"text": "x", "owner": "learner", "due_date": past}
    )
    assert response.status_code == 422
    assert _count(ConferenceNote) == _count(NextStep) == 0
    assert fresh_conference(conference.id).prep_at is None
    response = client.post(f"{base}/prep", data={"working": "Flash cards", "help_wanted": "Graphs"})
    assert response.status_code == 303
    due = (today() + timedelta(days=7)).isoformat()
    data = {"text": "Do 10 percent problems", "owner": "learner", "due_date": due}
    response = client.post(f"{base}/steps", data=data, headers=HTMX)
    assert response.status_code == 200 and 'id="step-block"' in response.get_data(as_text=True)
    (step,) = db.session.scalars(select(NextStep))
    assert step.owner.value == "learner" and step.due_date.isoformat() == due
    auth.logout()
    auth.login(world.teacher)
    assert client.post(f"{base}/prep", data={"working": "x"}).status_code == 403


def fresh_conference(conference_id):
    db.session.expire_all()
    return db.session.get(Conference, conference_id)


# --- Polling ----------------------------------------------------------------------------------


def _token(html: str) -> str:
    marker = "/live?v="
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_live_panel_polls_cheaply_and_shows_the_other_persons_changes(
    app, make, world, count_queries
):
    conference = conference_for(world)
    goal = proposed_goal(world)
    learner, teacher = app.test_client(), app.test_client()
    for c, person in ((learner, world.learner), (teacher, world.teacher)):
        c.post("/signin", data={"login": person.username, "password": make.PASSWORD})
    live = f"/conferences/{conference.id}/live"
    learner_token = _token(learner.get(f"/conferences/{conference.id}").get_data(as_text=True))
    teacher_token = _token(teacher.get(f"/conferences/{conference.id}").get_data(as_text=True))

    with count_queries() as statements:
        idle = learner.get(live, query_string={"v": learner_token}, headers=POLL)
    assert idle.status_code == 204
    assert sum("conferences" in s for s in statements) == 1

    # The teacher writes a private note: the learner's panel does not even change.
    teacher.post(
        f"/conferences/{conference.id}/notes", data={"body": "Private thing", "private": "y"}
    )
    assert learner.get(live, query_string={"v": learner_token}, headers=POLL).status_code == 204
    changed = teacher.get(live, query_string={"v": teacher_token}, headers=POLL)
    assert changed.status_code == 200 and "Private thing" in changed.get_data(as_text=True)

    # The teacher rewords the goal and signs: the learner's next poll shows both.
    data = {
        f"g{goal.id}-statement": "Reach Proficient on unit rates by Friday.",
        f"g{goal.id}-lock_version": str(goal.lock_version),
    }
    assert (
        teacher.post(f"/conferences/{conference.id}/goals/{goal.id}/wording", data=data).status_code
        == 303
    )
    goal = fresh(goal.id)
    teacher.post(
        f"/goals/{goal.id}/sign",
        data={
            f"s{goal.id}-version_id": str(goal.current_version_id),
            f"s{goal.id}-conference_id": str(conference.id),
        },
    )
    response = learner.get(live, query_string={"v": learner_token}, headers=POLL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="conference-live"' in html
    assert "by Friday" in html and "Private thing" not in html
    assert _token(html) != learner_token
    # Outsiders learn nothing from a poll, not even with a guessed token.
    outsider = app.test_client()
    outsider.post("/signin", data={"login": world.classmate.username, "password": make.PASSWORD})
    assert outsider.get(live, query_string={"v": _token(html)}, headers=POLL).status_code == 404


def test_a_closed_conference_stops_polling(client, auth, world):
    conference = conference_for(world)
    auth.login(world.teacher)
    assert (
        client.post(f"/conferences/{conference.id}/status", data={"status": "done"}).status_code
        == 303
    )
    response = client.get(
        f"/conferences/{conference.id}/live", query_string={"v": "x"}, headers=POLL
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 286 and "hx-trigger" not in html
    assert fresh_conference(conference.id).held_at is not None
    assert (
        client.post(f"/conferences/{conference.id}/status", data={"status": "x"}).status_code == 400
    )
    auth.logout()
    auth.login(world.learner)
    assert (
        client.post(f"/conferences/{conference.id}/status", data={"status": "done"}).status_code
        == 403
    )


# --- The goal's wording, together -------------------------------------------------------------


def test_rewording_in_conference_conflicts_instead_of_overwriting(client, auth, world):
    conference = conference_for(world)
    goal = proposed_goal(world)
    url = f"/conferences/{conference.id}/goals/{goal.id}/wording"
    stale = str(goal.lock_version)
    auth.login(world.teacher)
    first = {f"g{goal.id}-statement": "Teacher's words.", f"g{goal.id}-lock_version": stale}
    response = client.post(url, data=first, headers=HTMX)
    assert response.status_code == 200 and "needs both signatures" in response.get_data(
        as_text=True
    )
    auth.logout()
    auth.login(world.learner)
    mine = {
        f"g{goal.id}-statement": "My own words, typed at the same time.",
        f"g{goal.id}-lock_version": stale,
    }
    response = client.post(url, data=mine, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "<html" not in html
    assert "Teacher&#39;s words." in html and "My own words, typed at the same time." in html
    statements = [
        v.statement for v in db.session.scalars(select(GoalVersion).order_by(GoalVersion.id))
    ]
    assert statements[-1] == "Teacher's words." and len(statements) == 2
    # Saving again over the shown version is a choice, and it works.
    fresh_lock = str(fresh(goal.id).lock_version)
    response = client.post(url, data={**mine, f"g{goal.id}-lock_version": fresh_lock})
    assert response.status_code == 303
    assert fresh(goal.id).current_version.statement == "My own words, typed at the same time."
    response = client.post(url, data={**mine, f"g{goal.id}-statement": " "}, headers=HTMX)
    assert response.status_code == 422


def test_wording_needs_the_goal_of_the_conference_learner(client, auth, world):
    conference = conference_for(world)
    other = proposed_goal(world, learner=world.classmate)
    auth.login(world.teacher)
    url = f"/conferences/{conference.id}/goals/{other.id}/wording"
    data = {f"g{other.id}-statement": "x", f"g{other.id}-lock_version": "1"}
    assert client.post(url, data=data).status_code == 404


# --- Asking, the learner home, reflecting ---------------------------------------------------


def test_learner_asks_for_a_conference_and_sees_the_next_one(client, auth, world):
    auth.login(world.learner)
    home = client.get("/").get_data(as_text=True)
    assert "No conference scheduled yet." in home and "Ask for a conference" in home
    response = client.post("/conferences/ask", data={"ask-note": "Percents"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 200 and "<html" not in html and "You asked for a conference" in html
    )
    assert client.post("/conferences/ask", data={"ask-note": "x" * 301}).status_code == 422
    assert _count(ConferenceRequest) == 1
    conference_for(world, days=2)
    home = client.get("/").get_data(as_text=True)
    assert "Next conference:" in home and "Get ready for it" in home
    auth.logout()
    auth.login(world.teacher)
    assert client.post("/conferences/ask", data={}).status_code == 403


def test_end_of_cycle_prompts_met_keep_going_or_revise(client, auth, world):
    goals = [sign_both(proposed_goal(world, statement=f"Goal {n}."), world) for n in range(3)]
    auth.login(world.learner)
    assert "Time to reflect" not in client.get("/").get_data(as_text=True)
    past = utcnow() - timedelta(days=31)
    for sig in db.session.scalars(select(GoalSignature)):
        sig.signed_at = past
    db.session.commit()
    assert "Time to reflect" in client.get("/").get_data(as_text=True)
    met, keep, revise = goals
    url = "/goals/{}/reflect"
    response = client.post(url.format(met.id), data={}, headers=HTMX)
    assert response.status_code == 422 and "Choose one." in response.get_data(as_text=True)
    assert client.post(url.format(met.id), data={f"r{met.id}-choice": "met"}).status_code == 303
    assert fresh(met.id).status is GoalStatus.MET
    response = client.post(url.format(keep.id), data={f"r{keep.id}-choice": "keep_going"})
    assert response.status_code == 303 and fresh(keep.id).status is GoalStatus.ACTIVE
    response = client.post(url.format(revise.id), data={f"r{revise.id}-choice": "revise"})
    assert response.headers["Location"].endswith(f"/goals/{revise.id}/edit")
    assert _count(GoalReflection) == 3
    due, next_due_at = cycles.reflections_due(world.learner)
    assert [g.id for g in due] == []
    assert next_due_at > utcnow()  # "keep going" started a new cycle
    auth.logout()
    auth.login(world.teacher)
    assert client.post(url.format(keep.id), data={f"r{keep.id}-choice": "met"}).status_code == 403


# --- History and the family -----------------------------------------------------------------


def test_history_and_family_view(client, auth, world):
    conference = conference_for(world, days=-1)
    goal = proposed_goal(world)
    signing.sign(goal, goal.current_version_id, world.learner, conference=conference)
    signing.sign(goal, goal.current_version_id, world.teacher, conference=conference)
    conference_notes.add_note(conference, world.teacher, "Great focus today.", private=False)
    conference_notes.add_note(conference, world.teacher, "Talk to the counselor.", private=True)
    conference_notes.add_step(conference, world.learner, "Redo quiz 3", StepOwner.LEARNER, None)
    scheduling.set_status(conference, ConferenceStatus.DONE)
    db.session.commit()
    notes = conference_history.family_notes(world.learner)
    assert [a.goal.id for a in notes.agreed] == [goal.id]
    assert [n.body for n in notes.conferences[0].notes] == ["Great focus today."]
    auth.login(world.guardian)
    page = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    assert "Great focus today." in page and "Redo quiz 3" in page and "practising with Omar" in page
    assert "Talk to the counselor." not in page
    history = client.get(f"/learners/{world.learner.id}/conferences").get_data(as_text=True)
    assert "Signed here" in history and "Talk to the counselor." not in history
    auth.logout()
    auth.login(world.other_guardian)
    assert client.get(f"/learners/{world.learner.id}/conferences").status_code == 404
    auth.logout()
    auth.login(world.teacher)
    history = client.get(f"/learners/{world.learner.id}/conferences").get_data(as_text=True)
    assert "Talk to the counselor." in history and "Private: teachers only" in history
    mine = client.get("/conferences").get_data(as_text=True)
    assert "Next conferences" not in mine  # the held one is not upcoming
