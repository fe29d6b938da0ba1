"""Live trackers: idle polls answer 204 after one query, changes re-render, closed goals stop
polling (286); the class view is sortable, filterable and its query count does not grow."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from devtools.driver_sql import driver_statements
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.goals.models import Goal, GoalStatus, GoalVersion, GoalVersionStrategy, Voice
from portal.progress.models import GoalProgress, ProgressEntry
from tests.fixtures import progress as build

POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}


def tracker_html(client, goal) -> str:
    """The tracker as the page's htmx request gets it (alone it is not a page)."""
    return client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"}).text


@pytest.fixture
def setup(make):
    teacher = make.teacher()
    learner = make.learner(given_name="Maya", family_name="Johnson")
    school_class = make.school_class(teacher=teacher, learners=[learner])
    build.scale(make)
    goal = build.goal(make, learner)
    build.entry(make, goal, 1, days_ago=4)
    make.commit()
    return teacher, learner, school_class, goal


def poll_url(html: str) -> str:
    return re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_tracker_is_one_template_with_polling_attributes(client, auth, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    page = client.get(f"/goals/{goal.id}/progress").get_data(as_text=True)
    fragment = client.get(f"/goals/{goal.id}/tracker", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert f'id="tracker-{goal.id}"' in page and f'id="tracker-{goal.id}"' in body
    for attr in ('hx-trigger="every 5s, poll-now"', 'hx-swap="outerHTML"', "data-poll"):
        assert attr in body
    assert '"X-Waypoint-Poll": "1"' in body
    assert 'aria-live="polite"' in body
    assert "<svg" in body and "<desc" in body and "style=" not in body


@pytest.mark.both_backends
def test_learner_idle_poll_is_204_after_one_query(client, auth, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    url = poll_url(tracker_html(client, goal))
    client.get(url, headers=POLL)  # warm up: the session row
    db.session.remove()  # the test's own session must not lend the request its connection
    with driver_statements(db.engine) as statements:
        response = client.get(url, headers=POLL)
    assert response.status_code == 204 and response.data == b""
    # One indexed query: the session's row, its learner and the goal's change token.
    assert len(statements) == 1, statements
    assert statements[0].startswith("SELECT login_sessions.user_id")


def test_teacher_idle_poll_is_the_session_and_one_query(client, auth, setup, count_queries):
    teacher, _, _, goal = setup
    auth.login(teacher)
    url = poll_url(tracker_html(client, goal))
    with count_queries() as statements:
        assert client.get(url, headers=POLL).status_code == 204
    assert len(statements) == 2


def test_a_change_on_another_device_shows_on_the_next_poll(client, auth, make, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    url = poll_url(tracker_html(client, goal))
    build.entry(make, goal, 3)
    make.commit()
    response = client.get(url, headers=POLL)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Last entry: today." in body
    assert poll_url(body) != url
    assert client.get(poll_url(body), headers=POLL).status_code == 204


def test_a_change_to_the_goal_itself_shows_too(client, auth, make, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    url = poll_url(tracker_html(client, goal))
    goal.current_version.due_date = None
    goal.status = GoalStatus.ACTIVE
    goal.horizon = goal.horizon  # no-op
    goal.updated_at = utcnow()  # the goals feature saves the goal row on every change
    make.commit()
    assert client.get(url, headers=POLL).status_code == 200


def test_closed_goal_stops_polling_with_286(client, auth, make, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    url = poll_url(tracker_html(client, goal))
    goal.status = GoalStatus.MET
    make.commit()
    response = client.get(url, headers=POLL)
    body = response.get_data(as_text=True)
    assert response.status_code == 286
    assert "hx-trigger" not in body and "data-poll" not in body
    assert "Closed" in body


def test_poll_of_someone_elses_goal_is_404(client, auth, make, setup):
    _, learner, _, goal = setup
    stranger = make.learner()
    make.commit()
    auth.login(learner)
    url = poll_url(tracker_html(client, goal))
    auth.logout()
    auth.login(stranger)
    assert client.get(url, headers=POLL).status_code == 404


def test_readonly_tracker_has_no_log_link(client, auth, make, setup):
    _, learner, _, goal = setup
    guardian = make.guardian()
    make.link(guardian, learner)
    make.commit()
    auth.login(guardian)
    body = tracker_html(client, goal)
    assert "Log progress" not in body
    assert "readonly=1" in poll_url(body)


def test_tracker_words(client, auth, make, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    body = tracker_html(client, goal)
    assert "Last entry: 4 days ago." in body
    assert "20 days to the due date" in body
    assert "Not enough entries yet" in body
    build.entry(make, goal, 2, days_ago=2)
    make.commit()
    body = tracker_html(client, goal)
    assert "At this pace you reach Proficient around" in body


# --- The class view ------------------------------------------------------------------


def test_class_view_rows_filters_and_sorting(client, auth, make, setup):
    teacher, maya, school_class, goal = setup
    quiet = make.learner(given_name="Quinn", family_name="Adams")
    stuck = make.learner(given_name="Sam", family_name="Baker")
    ready = make.learner(given_name="Rae", family_name="Carter")
    for person in (quiet, stuck, ready):
        make.enroll(person, school_class)
    build.entry(make, build.goal(make, quiet), 1, days_ago=9)
    stuck_goal = build.goal(make, stuck)
    for days in (3, 2, 1):
        build.entry(make, stuck_goal, 2, days_ago=days)
    build.entry(make, build.goal(make, ready), 3)
    make.commit()
    auth.login(teacher)
    base = f"/classes/{school_class.id}/progress"

    page = client.get(base).get_data(as_text=True)
    assert page.index("Quinn") < page.index("Sam") < page.index("Rae") < page.index("Maya")

    def names(show, sort="name"):
        response = client.get(f"{base}?show={show}&sort={sort}", headers={"HX-Request": "true"})
        body = response.get_data(as_text=True)
        assert "<html" not in body and 'id="class-progress"' in body
        return [n for n in ("Maya", "Quinn", "Sam", "Rae") if n in body]

    assert names("quiet") == ["Quinn"]
    assert names("stuck") == ["Sam"]
    assert names("ready") == ["Rae"]
    last = client.get(f"{base}?sort=last").get_data(as_text=True)
    assert last.index("Quinn") < last.index("Maya") < last.index("Rae")


def test_class_view_polls_204_until_something_changes(client, auth, make, setup, count_queries):
    teacher, _, school_class, goal = setup
    auth.login(teacher)
    body = client.get(
        f"/classes/{school_class.id}/progress", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    url = poll_url(body)
    with count_queries() as statements:
        assert client.get(url, headers=POLL).status_code == 204
    assert len(statements) == 2
    build.entry(make, goal, 2)
    make.commit()
    assert client.get(url, headers=POLL).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"), [("teacher", 200), ("other_teacher", 404), ("learner", 403)]
)
def test_class_view_access(client, auth, make, setup, who, status):
    teacher, learner, school_class, _ = setup
    people = {"teacher": teacher, "other_teacher": make.teacher(), "learner": learner}
    make.commit()
    auth.login(people[who])
    assert client.get(f"/classes/{school_class.id}/progress").status_code == status


def test_class_page_links_to_progress(client, auth, setup):
    teacher, _, school_class, _ = setup
    auth.login(teacher)
    page = client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    assert f"/classes/{school_class.id}/progress" in page


def _fill_class(make, school_class, learners: int, goals: int, entries: int, first_id: int):
    """Bulk-build learners with active goals, entries and summaries (explicit ids: fast)."""
    session = make.session
    goal_rows, version_rows, strategy_rows, entry_rows, summary_rows = [], [], [], [], []
    start = utcnow() - timedelta(days=entries)
    for _ in range(learners):
        person = make.learner()
        make.enroll(person, school_class)
        for _ in range(goals):
            gid = first_id + len(goal_rows)
            goal_rows.append(
                {
                    "id": gid,
                    "learner_id": person.id,
                    "created_by_id": person.id,
                    "status": GoalStatus.ACTIVE,
                }
            )
            version_rows.append(
                {
                    "id": gid,
                    "goal_id": gid,
                    "number": 1,
                    "statement": "I will reach Proficient on ratios.",
                    "target_level": 3,
                    "author_id": person.id,
                    "voice": Voice.LEARNER,
                    "content_hash": "0" * 64,
                }
            )
            strategy_rows.append({"version_id": gid, "text": "Practice", "position": 0})
            points = []
            for n in range(entries):
                at = start + timedelta(days=n)
                entry_rows.append(
                    {
                        "goal_id": gid,
                        "learner_id": person.id,
                        "token": f"bulk-{gid}-{n:04d}-xxxxxxxx",
                        "strategy_text": "Practice",
                        "self_rating": 1 + n % 4,
                        "reflection": "Practised.",
                        "created_at": at,
                    }
                )
                points.append([at.isoformat(), 1 + n % 4, "self"])
            summary_rows.append(
                {
                    "goal_id": gid,
                    "learner_id": person.id,
                    "version": 1,
                    "entry_count": entries,
                    "last_entry_at": start + timedelta(days=entries - 1),
                    "max_value": 4,
                    "points_json": json.dumps(points[-30:]),
                    "strategy_counts_json": "{}",
                    "latest_self_rating": points[-1][1],
                }
            )
    session.execute(insert(Goal), goal_rows)
    session.execute(insert(GoalVersion), version_rows)
    session.execute(insert(GoalVersionStrategy), strategy_rows)
    session.execute(
        update(Goal)
        .where(Goal.id.in_([g["id"] for g in goal_rows]))
        .values(current_version_id=Goal.id),
        execution_options={"synchronize_session": False},
    )
    session.execute(insert(ProgressEntry), entry_rows)
    session.execute(insert(GoalProgress), summary_rows)
    make.commit()


def test_class_view_queries_do_not_grow(app, client, auth, make, count_queries):
    teacher = make.teacher()
    build.scale(make)
    small = make.school_class(teacher=teacher)
    large = make.school_class(teacher=teacher)
    _fill_class(make, small, learners=35, goals=3, entries=50, first_id=1000)
    _fill_class(make, large, learners=105, goals=3, entries=50, first_id=2000)
    auth.login(teacher)
    ids = (small.id, large.id)
    client.get(f"/classes/{small.id}/progress")  # warm up

    def count(class_id):
        db.session.close()  # the test shares the request's session: start it empty
        with count_queries() as statements:
            response = client.get(f"/classes/{class_id}/progress")
        assert response.status_code == 200
        # Every learner's three goals are on the page: the count is not of an empty page.
        assert response.get_data(as_text=True).count('/progress">') >= 3 * 35
        return len(statements)

    rendered = [count(class_id) for class_id in ids]
    assert rendered[0] == rendered[1], rendered
    assert db.session.query(ProgressEntry).count() == (35 + 105) * 3 * 50


def test_learner_home_shows_a_tracker_per_active_goal(client, auth, make, setup):
    _, learner, _, goal = setup
    closed = build.goal(make, learner, status=GoalStatus.MET, statement="An old goal")
    make.commit()
    auth.login(learner)
    page = client.get("/").get_data(as_text=True)
    assert f'id="tracker-{goal.id}"' in page
    assert f'id="tracker-{closed.id}"' not in page


def test_fast_path_refuses_an_idle_session(app, client, auth, make, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    url = poll_url(tracker_html(client, goal))
    from portal.auth.models import LoginSession

    make.session.query(LoginSession).update({"last_seen": utcnow() - timedelta(hours=2)})
    make.commit()
    response = client.get(url, headers=POLL)
    assert response.status_code == 401  # signed out, not a silent 204


def test_the_tracker_opened_as_a_page_is_the_goal_progress_page(client, auth, setup):
    _, learner, _, goal = setup
    auth.login(learner)
    response = client.get(f"/goals/{goal.id}/tracker")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/goals/{goal.id}/progress")
