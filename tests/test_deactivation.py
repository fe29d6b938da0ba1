"""A deactivated person's still-open session gets nothing of theirs from any path.

Each person (a learner, their teacher, their guardian) signs in and sees their pages;
then their account is deactivated, by an admin on the person page (which also ends
their sessions) or by the account simply turning inactive while a session row is still
there (a roster sync, a database fix). Every GET route the portal has, filled in with
that person's ids, then answers "sign in" (a redirect, or 401 with HX-Redirect for
htmx): pages, htmx partials, downloads and the learner's fast tracker poll, whose one
statement must refuse the session by the same definition as the sign-in (the account is
active, the session is not idle: `portal.auth.services.LIVE_SESSION`).
"""

from __future__ import annotations

import io
import re

import pytest
from flask import url_for
from sqlalchemy import select, update

from portal.auth.models import LoginSession, User
from portal.core.extensions import db
from portal.progress.models import ProgressEntry
from portal.roster.models import Enrollment
from tests.fixtures import family as fam
from tests.test_progress import PNG, entry_data

POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}
HTMX = {"HX-Request": "true"}
SIGNED_OUT = {302, 303, 401}


@pytest.fixture
def family(make):
    return fam.build_family(make)


def _evidence_entry(client, family) -> ProgressEntry:
    """An entry with an uploaded file, logged by the learner herself."""
    goal = family.goal
    data = {
        **entry_data(goal, token="deact-evidence-aaaaaa"),
        "evidence": (io.BytesIO(PNG), "x.png"),
    }
    response = client.post(
        f"/goals/{goal.id}/progress", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    entry = db.session.query(ProgressEntry).filter_by(token="deact-evidence-aaaaaa").one()
    entry.shared_with_family = True  # so the guardian may download it too
    db.session.commit()
    return entry


def their_paths(app, family, entry) -> list[str]:
    """Every signed-in GET route, with the ids of this family's learner, goal and entry."""
    ids = {
        "learner_id": family.maya.id,
        "goal_id": family.goal.id,
        "progress_entry_id": entry.id,
        "entry_id": entry.id,
        "user_id": family.maya.id,
        "school_id": family.school.id,
    }
    ids["class_id"] = db.session.scalar(
        select(Enrollment.class_id).where(Enrollment.user_id == family.maya.id).limit(1)
    )
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if "GET" not in rule.methods or getattr(view, "access", None) == "public":
                continue
            if not set(rule.arguments) <= set(ids):
                continue
            paths.append(url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments}))
    return paths


def tracker_poll_url(client, goal) -> str:
    html = client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"}).text
    return re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def deactivate(how: str, person: User, family, app, make) -> None:
    if how == "by_admin":
        admin = app.test_client()
        admin.post("/signin", data={"login": family.admin.username, "password": make.PASSWORD})
        response = admin.post(f"/admin/people/{person.id}/status", data={"active": "0"})
        assert response.status_code in (302, 303), response.status_code
    else:  # inactive, its session rows untouched
        db.session.execute(update(User).where(User.id == person.id).values(active=False))
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, person.id).active is False


def assert_nothing_for(client, paths, headers=None):
    seen = {}
    for path in paths:
        response = client.get(path, headers=headers or {})
        seen[path] = response.status_code
        body = response.get_data(as_text=True)
        assert "Maya" not in body and "ratio" not in body.lower(), path
    leaked = {p: s for p, s in seen.items() if s not in SIGNED_OUT}
    assert not leaked, leaked
    return seen


@pytest.mark.both_backends
@pytest.mark.parametrize("how", ["by_admin", "account_inactive"])
@pytest.mark.parametrize("who", ["maya", "teacher", "guardian"])
def test_a_deactivated_persons_open_session_gets_nothing(app, make, family, backend, who, how):
    learner_client = app.test_client()
    learner_client.post("/signin", data={"login": family.maya.username, "password": make.PASSWORD})
    entry = _evidence_entry(learner_client, family)
    person = getattr(family, who)
    client = learner_client if who == "maya" else app.test_client()
    if who != "maya":
        client.post("/signin", data={"login": person.username, "password": make.PASSWORD})
    paths = their_paths(app, family, entry)
    goal = family.goal
    mine = [
        f"/goals/{goal.id}",
        f"/goals/{goal.id}/progress",
        f"/progress/entries/{entry.id}/evidence",
    ]
    assert all(p in paths for p in mine)
    assert [client.get(p).status_code for p in mine] == [200, 200, 200]  # they saw their things
    poll = tracker_poll_url(client, family.goal)
    if who == "maya":
        assert client.get(poll, headers=POLL).status_code == 204  # the fast path answered
        assert db.session.query(LoginSession).filter_by(user_id=person.id).count() == 1

    deactivate(how, person, family, app, make)

    if who == "maya":  # first, while the session row may still be there
        response = client.get(poll, headers=POLL)
        assert response.status_code == 401 and "HX-Redirect" in response.headers
    assert_nothing_for(client, paths)
    assert_nothing_for(client, paths, headers=HTMX)
    assert client.get(poll, headers=POLL).status_code == 401
    # Nothing is written for them either.
    response = client.post(
        f"/goals/{family.goal.id}/progress",
        data=entry_data(family.goal, token="deact-after-aaaaaaaa"),
        content_type="multipart/form-data",
    )
    assert response.status_code in SIGNED_OUT
    assert db.session.query(ProgressEntry).filter_by(token="deact-after-aaaaaaaa").count() == 0
    # The session of the inactive account is ended on its first use.
    assert db.session.query(LoginSession).filter_by(user_id=person.id).count() == 0
