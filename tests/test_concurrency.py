"""The same form sent several times at the same moment: exactly one row, never a 500.

Each idempotent write is raced for real: threads, each with its own test client (its
own server-side session and database connection), released together by a barrier,
against a file database (SQLite) and a real PostgreSQL server. On SQLite the write
transactions queue (BEGIN IMMEDIATE), so the check for an existing row decides; on
PostgreSQL they overlap, so the unique constraints (or a row lock) decide, and the
request that loses must answer as the winner did.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.conferences.models import GoalSignature
from portal.core.extensions import db
from portal.family import services as family_services
from portal.family.models import Cheer, FamilyInvite, InviteThrottle
from portal.goals.models import Goal, GoalStatus
from portal.progress.models import Feedback, GoalProgress, ProgressEntry
from portal.roster.models import GuardianLink
from tests.fixtures import family as fam
from tests.fixtures.conferences import build_world, proposed_goal

WRITERS = 4
ROUNDS = 3
CLEAN = {200, 303}  # a success, or the redirect to the row the first request made


def signed_in(app, user, password: str, n: int = WRITERS) -> list:
    """n test clients, each signed in as user with a session of its own."""
    clients = []
    for _ in range(n):
        client = app.test_client()
        response = client.post("/signin", data={"login": user.username, "password": password})
        assert response.status_code == 303
        clients.append(client)
    return clients


def race(posts) -> list:
    """Run the (client, url, data) posts at the same moment; return the responses."""
    db.session.commit()  # the test's own session holds nothing while they race
    db.session.expire_all()
    barrier = threading.Barrier(len(posts))
    responses: list = [None] * len(posts)
    errors: list[BaseException] = []

    def send(i):
        client, url, data = posts[i]
        try:
            barrier.wait(timeout=10)
            responses[i] = client.post(url, data=data)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(posts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return responses


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_clean(responses, allowed=CLEAN):
    codes = [r.status_code for r in responses]
    assert set(codes) <= allowed, (codes, [r.get_data(as_text=True)[:300] for r in responses])
    return codes


@pytest.fixture
def family(make):
    return fam.build_family(make)


# --- Progress entries -----------------------------------------------------------------


@pytest.mark.both_backends
def test_one_entry_for_the_same_form_sent_at_once(app, make, family, backend):
    clients = signed_in(app, family.maya, make.PASSWORD)
    goal = family.goal
    url = f"/goals/{goal.id}/progress"
    strategy = str(goal.current_version.strategies[0].id)
    for round_no in range(ROUNDS):
        token = f"race-entry-{round_no}-aaaaaaaaaaaa"
        data = {
            "token": token,
            "strategy": strategy,
            "self_rating": "2",
            "reflection": f"Round {round_no}: I checked my ratio table.",
        }
        responses = race([(c, url, dict(data)) for c in clients])
        assert_clean(responses)
        assert count(ProgressEntry, ProgressEntry.token == token) == 1
        locations = {r.headers["Location"] for r in responses}
        assert len(locations) == 1, locations  # every one points at the same entry
    summary = db.session.get(GoalProgress, goal.id)
    assert summary.entry_count == 1 + ROUNDS  # the family's own entry, then one per round


# --- Teacher feedback -----------------------------------------------------------------


@pytest.mark.both_backends
def test_one_feedback_for_the_same_form_sent_at_once(app, make, family, backend):
    clients = signed_in(app, family.teacher, make.PASSWORD)
    entry = family.entry
    prefix = f"entry{entry.id}"
    for round_no in range(ROUNDS):
        token = f"race-feedback-{round_no}-aaaaaaaa"
        data = {
            f"{prefix}-token": token,
            f"{prefix}-body": "Show me problem 4.",
            f"{prefix}-rating": "3",
        }
        url = f"/progress/entries/{entry.id}/feedback"
        responses = race([(c, url, dict(data)) for c in clients])
        assert_clean(responses)
        assert count(Feedback, Feedback.token == token) == 1


@pytest.mark.both_backends
def test_one_goal_feedback_for_the_same_form_sent_at_once(app, make, family, backend):
    clients = signed_in(app, family.teacher, make.PASSWORD)
    token = "race-goal-feedback-aaaaaaaa"
    data = {"goal-token": token, "goal-body": "Good pace this week."}
    url = f"/goals/{family.goal.id}/feedback"
    responses = race([(c, url, dict(data)) for c in clients])
    assert_clean(responses)
    assert count(Feedback, Feedback.token == token) == 1


# --- Family cheers --------------------------------------------------------------------


@pytest.mark.both_backends
def test_one_cheer_for_the_same_form_sent_at_once(app, make, family, backend):
    clients = signed_in(app, family.guardian, make.PASSWORD)
    goal = family.goal
    key = f"g{goal.id}"
    url = f"/family/goals/{goal.id}/cheers"
    for round_no in range(ROUNDS):
        token = f"race-cheer-{round_no}-aaaaaaaaaa"
        data = {f"{key}-token": token, f"{key}-body": "So proud of you!"}
        responses = race([(c, url, dict(data)) for c in clients])
        assert_clean(responses)
        assert count(Cheer, Cheer.token == token) == 1
    assert count(Cheer) == ROUNDS


def test_a_cheer_sent_twice_one_after_the_other_is_one_cheer(client, auth, family):
    auth.login(family.guardian)
    key = f"g{family.goal.id}"
    data = {f"{key}-token": "twice-cheer-aaaaaaaaaa", f"{key}-body": "Go Maya!"}
    url = f"/family/goals/{family.goal.id}/cheers"
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert count(Cheer) == 1


def test_the_cheer_form_carries_a_fresh_token(client, auth, family):
    auth.login(family.guardian)
    page = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert f'name="g{family.goal.id}-token"' in page


# --- Invite-code redemption -----------------------------------------------------------


def newcomer_guardian(make, tried_before: bool):
    """A guardian with no children yet; with tried_before, their miss counter row exists
    (at zero), so nothing about it makes two redemptions wait for each other."""
    guardian = make.guardian()
    if tried_before:
        make._add(InviteThrottle(guardian_id=guardian.id, failures=0))
    make.commit()
    return guardian


@pytest.mark.both_backends
@pytest.mark.parametrize("tried_before", [False, True])
def test_one_link_for_the_same_code_redeemed_at_once(app, make, family, backend, tried_before):
    newcomer = newcomer_guardian(make, tried_before)
    _invite, code = family_services.create_invite(family.other_child, family.admin)
    clients = signed_in(app, newcomer, make.PASSWORD)
    responses = race([(c, "/family/redeem", {"code": code}) for c in clients])
    codes = assert_clean(responses)
    assert codes == [303] * WRITERS, codes  # the late ones: "you already follow"
    assert (
        count(
            GuardianLink,
            GuardianLink.guardian_id == newcomer.id,
            GuardianLink.learner_id == family.other_child.id,
        )
        == 1
    )
    assert count(FamilyInvite, FamilyInvite.used_by_id == newcomer.id) == 1


@pytest.mark.both_backends
@pytest.mark.parametrize("tried_before", [False, True])
def test_one_link_for_two_codes_of_the_same_child_redeemed_at_once(
    app, make, family, backend, tried_before
):
    newcomer = newcomer_guardian(make, tried_before)
    codes = [family_services.create_invite(family.other_child, family.admin)[1] for _ in range(2)]
    clients = signed_in(app, newcomer, make.PASSWORD, n=2)
    responses = race(
        [(c, "/family/redeem", {"code": code}) for c, code in zip(clients, codes, strict=True)]
    )
    assert assert_clean(responses) == [303, 303]
    assert count(GuardianLink, GuardianLink.guardian_id == newcomer.id) == 1
    # The code that lost is still open for another family member.
    assert count(FamilyInvite, FamilyInvite.used_at.is_(None)) == 1


# --- Co-signing -----------------------------------------------------------------------


@pytest.fixture
def world(make):
    return build_world(make)


@pytest.mark.both_backends
def test_one_signature_for_the_same_signer_at_once(app, make, world, backend):
    goal = proposed_goal(world)
    clients = signed_in(app, world.learner, make.PASSWORD)
    data = {f"s{goal.id}-version_id": str(goal.current_version_id)}
    responses = race([(c, f"/goals/{goal.id}/sign", dict(data)) for c in clients])
    assert_clean(responses)
    assert count(GoalSignature, GoalSignature.signer_id == world.learner.id) == 1


@pytest.mark.both_backends
def test_learner_and_teacher_signing_at_once_agree_the_goal(app, make, world, backend):
    for round_no in range(ROUNDS):
        goal = proposed_goal(world, statement=f"Round {round_no}: I will reach Proficient.")
        data = {f"s{goal.id}-version_id": str(goal.current_version_id)}
        posts = [
            (c, f"/goals/{goal.id}/sign", dict(data))
            for person in (world.learner, world.teacher)
            for c in signed_in(app, person, make.PASSWORD, n=2)
        ]
        responses = race(posts)
        assert_clean(responses)
        assert count(GoalSignature, GoalSignature.goal_id == goal.id) == 2
        db.session.expire_all()
        agreed = db.session.get(Goal, goal.id)
        assert agreed.status is GoalStatus.ACTIVE, round_no  # both signed: it is agreed
        assert agreed.agreed_version_id == agreed.current_version_id


@pytest.mark.both_backends
def test_different_entries_at_once_all_count_in_the_summary(app, make, backend):
    """Two devices of one learner log different entries on a goal with no summary yet."""
    from tests.fixtures import progress as build

    learner, teacher = make.learner(), make.teacher()
    make.school_class(teacher=teacher, learners=[learner])
    build.scale(make)
    goal = build.goal(make, learner)
    make.commit()
    clients = signed_in(app, learner, make.PASSWORD)
    url = f"/goals/{goal.id}/progress"
    strategy = str(goal.current_version.strategies[0].id)
    posts = [
        (
            c,
            url,
            {
                "token": f"device-{i}-aaaaaaaaaaaaaa",
                "strategy": strategy,
                "self_rating": str(1 + i % 4),
                "reflection": f"Entry from device {i}.",
            },
        )
        for i, c in enumerate(clients)
    ]
    assert assert_clean(race(posts)) == [303] * WRITERS
    assert count(ProgressEntry, ProgressEntry.goal_id == goal.id) == WRITERS
    summary = db.session.get(GoalProgress, goal.id)
    assert summary.entry_count == WRITERS  # no rebuild missed another's entry
    assert len(summary.points) == WRITERS
