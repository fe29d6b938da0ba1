"""The live path's contracts: the fast poll's SQL string answers as its Core statement does,
and the fast poll and the normal sign-in refuse exactly the same sessions."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import session
from sqlalchemy import delete, text, update

from devtools.driver_sql import driver_statements
from portal.auth import services as auth_services
from portal.auth.models import LoginSession, User
from portal.auth.services import SessionState, session_state
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import Goal, GoalStatus
from portal.progress import live, tracker
from portal.progress.models import GoalProgress
from tests.fixtures import progress as build
from tests.sql_guard import sql_while_rendering
from tests.test_progress_live import _fill_class

POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}


@pytest.fixture
def world(make):
    learner = make.learner()
    other = make.learner()
    make.school_class(teacher=make.teacher(), learners=[learner, other])
    build.scale(make)
    goal = build.goal(make, learner)
    build.entry(make, goal, 2, days_ago=1)
    bare = build.goal(make, learner, statement="No entries yet")  # no summary row
    closed = build.goal(make, learner, status=GoalStatus.MET, statement="Done")
    theirs = build.goal(make, other, statement="Someone else's")
    make.commit()
    return learner, goal, bare, closed, theirs


def _token_hash(client) -> str:
    with client.session_transaction() as stored:
        return auth_services._token_hash(stored[auth_services.SESSION_KEY])


def _core_row(params):
    row = db.session.execute(live._LEARNER_FAST_POLL, params).first()
    return None if row is None else live.PollRow(*row)


def _string_row(params):
    row = db.session.execute(text(live.LEARNER_FAST_POLL_SQL), params).first()
    return None if row is None else live.PollRow.from_driver(tuple(row))


def test_the_sql_string_answers_as_the_core_statement(app, client, auth, world):
    learner, goal, bare, closed, theirs = world
    auth.login(learner)
    token_hash = _token_hash(client)
    cases = [
        (goal.id, token_hash),
        (bare.id, token_hash),
        (closed.id, token_hash),
        (theirs.id, token_hash),  # not their goal: no row
        (goal.id, "0" * 64),  # no such session: no row
    ]
    answers = []
    for goal_id, hashed in cases:
        params = {"goal_id": goal_id, "token_hash": hashed}
        core, string = _core_row(params), _string_row(params)
        assert core == string, (goal_id, core, string)
        answers.append(core)
    assert [a is not None for a in answers] == [True, True, True, False, False]
    assert answers[0].status is GoalStatus.ACTIVE and answers[2].status is GoalStatus.MET
    assert answers[1].progress_version is None  # the outer join held
    # And the route's own path (the string on SQLite, Core elsewhere) gives the same row.
    with app.test_request_context("/"):
        assert live.fast_poll_row(goal.id, token_hash) == answers[0]


def _revoke(learner):
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == learner.id))


def _idle(learner):
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == learner.id)
        .values(last_seen=utcnow() - timedelta(hours=3))
    )


def _deactivate(learner):
    db.session.execute(update(User).where(User.id == learner.id).values(active=False))


@pytest.mark.parametrize(
    "end", [None, _revoke, _idle, _deactivate], ids=["live", "revoked", "idle", "inactive"]
)
def test_fast_poll_and_sign_in_refuse_the_same_sessions(app, client, auth, world, end):
    learner, goal, *_ = world
    auth.login(learner)
    token_hash = _token_hash(client)
    with client.session_transaction() as stored:
        browser = dict(stored)
    if end is not None:
        end(learner)
        db.session.commit()
    db.session.expire_all()
    with app.test_request_context("/"):
        session.update(browser)
        row = live.fast_poll_row(goal.id, token_hash)
        fast = session_state(row, str(learner.id)) if row is not None else SessionState.NONE
        signed_in = auth_services.session_user(str(learner.id), background=True)
    assert (fast is SessionState.LIVE) == (signed_in is not None) == (end is None)
    # Through the app: an ended session is signed out (401), never a silent 204.
    tracker = client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"})
    if end is None:
        url = re.search(r'hx-get="([^"]+)"', tracker.text).group(1).replace("&amp;", "&")
        assert client.get(url, headers=POLL).status_code == 204
    else:
        assert tracker.status_code == 401


def test_session_state_is_the_one_rule(app, make):
    """The rule itself: bound to the expected user, an active account, within its idle limit."""
    learner = make.learner()
    make.commit()
    now = utcnow()
    limit = app.config["IDLE_TIMEOUT_LEARNER"]
    row = live.PollRow(
        learner.id, now - limit, True, learner.role, 1, GoalStatus.ACTIVE, 1, 1, 1, 1
    )
    with app.app_context():
        assert session_state(row, str(learner.id), now) is SessionState.LIVE
        assert session_state(row, str(learner.id + 1), now) is SessionState.NONE
        assert session_state(None, str(learner.id), now) is SessionState.NONE
        assert session_state(row._replace(active=False), str(learner.id), now) is SessionState.ENDED
        late = row._replace(last_seen=now - limit - timedelta(seconds=1))
        assert session_state(late, str(learner.id), now) is SessionState.ENDED


def test_the_poll_token_is_the_trackers_token(app, client, auth, world):
    """The string's token columns are goal_token's: what the tracker carries, before and
    after a change to the goal's summary."""
    learner, goal, *_ = world
    auth.login(learner)
    params = {"goal_id": goal.id, "token_hash": _token_hash(client)}
    for _ in range(2):
        with app.test_request_context("/"):
            expected = tracker.tracker_for(db.session.get(Goal, goal.id)).token
        assert _string_row(params).token == _core_row(params).token == expected
        db.session.execute(
            update(GoalProgress)
            .where(GoalProgress.goal_id == goal.id)
            .values(version=GoalProgress.version + 1)
        )
        db.session.commit()
        db.session.expire_all()


def test_class_view_cold_is_at_most_eight_statements(app, client, auth, make):
    """The class view rendered (page cache off) runs at most 8 statements, whatever its size."""
    teacher = make.teacher()
    build.scale(make)
    counts = []
    for size, first_id in ((3, 5000), (40, 6000)):
        school_class = make.school_class(teacher=teacher)
        _fill_class(make, school_class, learners=size, goals=2, entries=3, first_id=first_id)
        counts.append(school_class.id)
    auth.login(teacher)
    seen = []
    for class_id in counts:
        client.get(f"/classes/{class_id}/progress")  # the session's first touch
        db.session.remove()
        with driver_statements(db.engine) as statements:
            response = client.get(f"/classes/{class_id}/progress")
        assert response.status_code == 200
        seen.append(list(statements))
    assert len(seen[0]) == len(seen[1]) <= 8, "\n".join(s[:120] for s in seen[1])
    # The school's scale and progress settings were read on the first view under this
    # site stamp (`portal.school_settings`): the session with its user, the class token,
    # the class, the teacher's access, the learners, the goals with their summaries and
    # the site stamp.
    assert len(seen[0]) == len(seen[1]) == CLASS_VIEW_STATEMENTS, "\n".join(
        s[:120] for s in seen[1]
    )


CLASS_VIEW_STATEMENTS = 6


def test_progress_pages_run_no_sql_while_rendering(app, client, auth, make):
    """Templates never query: the class view and a goal's progress page, teacher and learner."""
    teacher = make.teacher()
    learner = make.learner()
    school_class = make.school_class(teacher=teacher, learners=[learner])
    build.scale(make)
    goal = build.goal(make, learner)
    build.entry(make, goal, 2, days_ago=1)
    make.commit()
    goal_id, class_id = goal.id, school_class.id
    pages = [
        (teacher.username, [f"/classes/{class_id}/progress", f"/goals/{goal_id}/progress"]),
        (learner.username, [f"/goals/{goal_id}/progress"]),
    ]
    for username, urls in pages:
        who = SimpleNamespace(username=username)
        auth.login(who)
        for url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                db.session.expunge_all()
                with sql_while_rendering(app) as queries:
                    assert client.get(url, headers=headers).status_code == 200
                assert not queries, (url, queries)
        tracker_url = f"/goals/{goal_id}/tracker"
        with sql_while_rendering(app) as queries:
            assert client.get(tracker_url, headers={"HX-Request": "true"}).status_code == 200
        assert not queries, queries
        auth.logout()
