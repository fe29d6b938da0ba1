"""Next steps: the owner side (or a teacher) marks them done; open ones come first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.conferences import agenda, notes, scheduling
from portal.conferences.models import ConferenceStatus, NextStep, StepOwner
from portal.core.extensions import db
from portal.core.timeutil import today
from tests.fixtures.conferences import HTMX, build_world, conference_for


@pytest.fixture
def world(make):
    return build_world(make)


def _step(conference, world, owner=StepOwner.LEARNER, text="Redo quiz 3", due=None):
    step = notes.add_step(conference, world.teacher, text, owner, due)
    db.session.commit()
    return step


def _mark(client, step, done=True, headers=None, back=""):
    return client.post(
        f"/conferences/steps/{step.id}/done",
        data={"done": "y" if done else "", "back": back},
        headers=headers or {},
    )


def _done_at(step_id):
    db.session.expire_all()
    return db.session.get(NextStep, step_id).done_at


def test_learner_marks_own_step_done_and_undoes_it(client, auth, world):
    conference = conference_for(world, days=-1)
    step = _step(conference, world)
    before = conference.change_count
    auth.login(world.learner)
    response = _mark(client, step, back=str(conference.id))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/conferences/{conference.id}"
    assert _done_at(step.id) is not None
    assert db.session.get(type(conference), conference.id).change_count > before
    page = client.get(f"/learners/{world.learner.id}/conferences").get_data(as_text=True)
    assert "<s>Redo quiz 3</s>" in page and "done on" in page
    response = _mark(client, step, done=False)
    assert response.headers["Location"] == f"/learners/{world.learner.id}/conferences"
    assert _done_at(step.id) is None


def test_marking_over_htmx_returns_the_step_alone(client, auth, world):
    step = _step(conference_for(world, days=-1), world, owner=StepOwner.TEACHER)
    auth.login(world.teacher)
    response = _mark(client, step, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<li class="next-step is-done"')
    assert "<s>Redo quiz 3</s>" in html and "Not done" in html
    assert response.headers["HX-Trigger"] == "conference-changed"
    html = _mark(client, step, done=False, headers=HTMX).get_data(as_text=True)
    assert "<s>" not in html and "Mark done" in html


@pytest.mark.parametrize(
    ("who", "owner", "status"),
    [
        ("learner", StepOwner.LEARNER, 303),
        ("learner", StepOwner.TEACHER, 403),
        ("teacher", StepOwner.LEARNER, 303),
        ("teacher", StepOwner.TEACHER, 303),
        ("classmate", StepOwner.LEARNER, 404),
        ("other_teacher", StepOwner.LEARNER, 404),
        ("other_teacher", StepOwner.TEACHER, 404),
        ("guardian", StepOwner.LEARNER, 403),
        ("other_guardian", StepOwner.LEARNER, 403),
        ("admin", StepOwner.TEACHER, 403),
    ],
)
def test_who_may_mark_a_step(client, auth, world, who, owner, status):
    step = _step(conference_for(world, days=-1), world, owner=owner)
    auth.login(getattr(world, who))
    assert _mark(client, step).status_code == status
    assert (_done_at(step.id) is not None) == (status == 303)


def test_missing_step_is_404(client, auth, world):
    auth.login(world.teacher)
    assert client.post("/conferences/steps/999/done", data={"done": "y"}).status_code == 404


def test_only_the_owner_side_sees_the_buttons(client, auth, world):
    conference = conference_for(world, days=-1)
    _step(conference, world, text="Bring the ratio table")
    _step(conference, world, owner=StepOwner.TEACHER, text="Find a harder problem set")
    scheduling.set_status(conference, ConferenceStatus.DONE)
    db.session.commit()
    url = f"/learners/{world.learner.id}/conferences"
    auth.login(world.learner)
    assert client.get(url).get_data(as_text=True).count("Mark done") == 2  # top list + history
    auth.logout()
    auth.login(world.teacher)
    assert client.get(url).get_data(as_text=True).count("Mark done") == 4
    auth.logout()
    auth.login(world.guardian)
    page = client.get(url).get_data(as_text=True)
    assert "Bring the ratio table" in page and "Mark done" not in page
    home = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    assert "Bring the ratio table" in home and "Mark done" not in home


def test_agenda_and_history_put_open_steps_of_earlier_conferences_first(client, auth, world):
    earlier = conference_for(world, days=-20)
    later_due = _step(earlier, world, text="Practise unit rates", due=today() + timedelta(5))
    soon_due = _step(earlier, world, text="Redo quiz 3", due=today() + timedelta(1))
    finished = _step(earlier, world, text="Read chapter 2")
    notes.set_step_done(finished, world.learner, True)
    scheduling.set_status(earlier, ConferenceStatus.DONE)
    cancelled = conference_for(world, days=-10)
    _step(cancelled, world, text="Never happened")
    scheduling.set_status(cancelled, ConferenceStatus.CANCELLED)
    current = conference_for(world, days=1)
    _step(current, world, text="Agreed today")
    db.session.commit()

    built = agenda.build(current)
    assert [s.id for s in built.still_to_do] == [soon_due.id, later_due.id]
    assert not built.empty

    auth.login(world.teacher)
    page = client.get(f"/conferences/{current.id}").get_data(as_text=True)
    start = page.index("Still to do from earlier conferences")
    assert start < page.index("Goals to agree and sign")
    assert page.index("Redo quiz 3", start) < page.index("Practise unit rates", start)
    assert "Never happened" not in page
    history = client.get(f"/learners/{world.learner.id}/conferences").get_data(as_text=True)
    top = history[history.index("Still to do") : history.index("conference-history")]
    assert "Redo quiz 3" in top and "Agreed today" in top and "Read chapter 2" not in top
    assert "<s>Read chapter 2</s>" in history
