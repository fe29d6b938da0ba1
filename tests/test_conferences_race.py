"""Two or more people saving the same goal at the same moment: one wins, nobody is lost silently.

Real concurrency: threads, each with its own test client (its own session and
connection), released together by a barrier, against a file database (SQLite) and a
real PostgreSQL server.
"""

from __future__ import annotations

import threading

import pytest

from portal.core.extensions import db
from portal.goals.models import GoalStatus
from portal.roster.models import EnrollmentRole
from tests.fixtures.conferences import build_world, fresh, make_goal
from tests.fixtures.goals import form_data, versions

ROUNDS = 20


@pytest.mark.both_backends
def test_parallel_saves_each_make_a_version_or_get_409(app, make, backend):
    world = build_world(make)
    extra = [make.teacher(), make.teacher()]
    for teacher in extra:
        make.enroll(teacher, world.school_class, EnrollmentRole.TEACHER)
    make.commit()
    goal = make_goal(world, status=GoalStatus.PROPOSED)
    goal_id = goal.id
    people = [world.learner, world.teacher, *extra]
    clients = []
    for person in people:
        client = app.test_client()
        signed_in = client.post(
            "/signin", data={"login": person.username, "password": make.PASSWORD}
        )
        assert signed_in.status_code == 303
        clients.append(client)

    outcomes: list[tuple[int, str, int]] = []
    errors: list[BaseException] = []
    for round_no in range(ROUNDS):
        writers = 2 + round_no % 3  # 2, 3 or 4 at once
        lock = str(fresh(goal.id).lock_version)
        posts = []
        for i in range(writers):
            text = f"Round {round_no}, writer {i}: I will reach Proficient on unit rates."
            posts.append((text, form_data(world, statement=text, lock_version=lock)))
        db.session.commit()  # the test's own session holds nothing while they race
        barrier = threading.Barrier(writers)

        def save(i, round_no=round_no, posts=posts, barrier=barrier):
            text, data = posts[i]
            try:
                barrier.wait(timeout=10)
                response = clients[i].post(f"/goals/{goal_id}/edit", data=data)
                outcomes.append((round_no, text, response.status_code))
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

    assert not errors, errors
    assert len(outcomes) == sum(2 + r % 3 for r in range(ROUNDS))
    saved = [v.statement for v in versions(goal.id)][1:]
    wins = [text for _, text, code in outcomes if code == 303]
    assert {code for _, _, code in outcomes} <= {303, 409}, outcomes
    # Every successful save is in the history, once; every refused one is not.
    assert sorted(saved) == sorted(wins)
    for round_no in range(ROUNDS):
        codes = [code for r, _, code in outcomes if r == round_no]
        assert codes.count(303) == 1, (round_no, codes)  # all read the same lock_version
    assert fresh(goal.id).lock_version > ROUNDS
