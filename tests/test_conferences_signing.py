"""Co-signing: who may sign, signatures bound to the content hash, edits, one-screen PIN, family."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from portal.auth.services import recent_failures
from portal.conferences import signing
from portal.conferences.models import GoalAcknowledgement, GoalSignature, SignerRole, SignMethod
from portal.core.extensions import db
from portal.goals import services as goal_services
from portal.goals.models import GoalStatus, GoalVersion
from portal.goals.services import GoalError
from portal.roster.models import EnrollmentRole
from tests.fixtures.conferences import (
    HTMX,
    build_world,
    conference_for,
    content,
    fresh,
    proposed_goal,
    sign_both,
)
from tests.fixtures.goals import form_data


@pytest.fixture
def world(make):
    return build_world(make)


def _signatures(goal_id):
    return list(db.session.scalars(select(GoalSignature).where(GoalSignature.goal_id == goal_id)))


def _sign_post(client, goal, version_id=None, **extra):
    data = {f"s{goal.id}-version_id": str(version_id or goal.current_version_id), **extra}
    return client.post(f"/goals/{goal.id}/sign", data=data)


# --- The rule ----------------------------------------------------------------------------


def test_agreed_only_when_learner_and_teacher_sign_the_same_version(world):
    goal = proposed_goal(world)
    _, activated = signing.sign(goal, goal.current_version_id, world.learner)
    assert not activated and goal.status is GoalStatus.PROPOSED
    _, activated = signing.sign(goal, goal.current_version_id, world.teacher)
    assert activated and goal.status is GoalStatus.ACTIVE
    assert goal.agreed_version_id == goal.current_version_id
    sigs = {s.role: s for s in _signatures(goal.id)}
    assert sigs[SignerRole.LEARNER].signer_id == world.learner.id
    assert sigs[SignerRole.TEACHER].content_hash == goal.current_version.content_hash
    assert len(sigs[SignerRole.TEACHER].content_hash) == 64


def test_two_teachers_do_not_make_an_agreement(world, make):
    goal = proposed_goal(world)
    second = make.teacher()
    make.enroll(second, world.school_class, EnrollmentRole.TEACHER)
    db.session.commit()
    signing.sign(goal, goal.current_version_id, world.teacher)
    signing.sign(goal, goal.current_version_id, second)
    assert goal.status is GoalStatus.PROPOSED
    with pytest.raises(GoalError):
        goal_services.activate(goal, world.teacher)


def test_a_draft_is_agreed_straight_from_signing(world):
    from tests.fixtures.goals import make_goal

    goal = make_goal(world)  # a learner's draft, signed in conference
    sign_both(goal, world)
    assert fresh(goal.id).status is GoalStatus.ACTIVE


def test_tampering_with_signed_content_is_detected(client, auth, world):
    goal = sign_both(proposed_goal(world), world)
    version_id = goal.current_version_id
    # Someone changes the signed words in place, behind the versioning's back.
    db.session.execute(
        update(GoalVersion).where(GoalVersion.id == version_id).values(statement="I will do less.")
    )
    db.session.commit()
    goal = fresh(goal.id)
    assert not goal_services.version_is_intact(goal.current_version)
    assert not goal_services.is_co_signed(goal, goal.current_version)
    assert not any(
        goal_services.signature_is_valid(s, goal.current_version) for s in _signatures(goal.id)
    )
    with pytest.raises(signing.SignError, match="tampered"):
        signing.sign(goal, version_id, world.learner)
    auth.login(world.teacher)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "no longer matches the content" in page


def test_a_stored_hash_that_differs_from_the_signature_is_not_valid(world):
    goal = sign_both(proposed_goal(world), world)
    sig = _signatures(goal.id)[0]
    sig.content_hash = "0" * 64
    db.session.commit()
    assert not goal_services.signature_is_valid(sig, fresh(goal.id).current_version)
    assert not goal_services.is_co_signed(fresh(goal.id), fresh(goal.id).current_version)


def test_an_edit_makes_a_version_without_signatures(client, auth, world):
    goal = proposed_goal(world)
    signing.sign(goal, goal.current_version_id, world.learner)
    db.session.commit()
    first = goal.current_version_id
    auth.login(world.teacher)
    data = form_data(world, statement="A teacher's rewording.", lock_version=str(goal.lock_version))
    assert client.post(f"/goals/{goal.id}/edit", data=data).status_code == 303
    goal = fresh(goal.id)
    assert goal.current_version_id != first
    assert goal_services.signatures_for([goal.current_version_id])[goal.current_version_id] == []
    # The teacher signing the new version alone does not agree it ...
    assert _sign_post(client, goal).status_code == 303
    assert fresh(goal.id).status is GoalStatus.PROPOSED
    # ... and signing the old version is refused with the new one shown.
    auth.logout()
    auth.login(world.learner)
    response = _sign_post(client, goal, version_id=first)
    assert response.status_code == 303  # back to the goal page, nothing signed
    assert len(_signatures(goal.id)) == 2
    response = client.post(
        f"/goals/{goal.id}/sign", data={f"s{goal.id}-version_id": str(first)}, headers=HTMX
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "<html" not in html and "This goal changed before you signed" in html
    assert _sign_post(client, goal).status_code == 303
    assert fresh(goal.id).status is GoalStatus.ACTIVE


def test_a_change_after_agreeing_needs_both_signatures_again(client, auth, world):
    goal = sign_both(proposed_goal(world), world)
    agreed = goal.current_version_id
    goal_services.save_content(goal, world.learner, content(world, statement="Now with graphs."))
    db.session.commit()
    goal = fresh(goal.id)
    assert goal.status is GoalStatus.ACTIVE and goal.agreed_version_id == agreed
    assert goal.changed_since_signed
    auth.login(world.guardian)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Changed since signed" in page and "practising with Omar" in page  # the signed words
    signing.sign(goal, goal.current_version_id, world.learner)
    assert fresh(goal.id).agreed_version_id == agreed
    signing.sign(fresh(goal.id), goal.current_version_id, world.teacher)
    db.session.commit()
    goal = fresh(goal.id)
    assert goal.agreed_version_id == goal.current_version_id and not goal.changed_since_signed
    # The earlier agreement stays on record with its signatures.
    assert len(goal_services.signatures_for([agreed])[agreed]) == 2


# --- Who may sign ------------------------------------------------------------------------

SIGNERS = {
    "learner": 303,
    "classmate": 404,
    "teacher": 303,
    "other_teacher": 404,
    "guardian": 403,
    "other_guardian": 403,
    "admin": 403,
    "other_admin": 403,
}


@pytest.mark.parametrize("who", sorted(SIGNERS))
def test_only_the_learner_and_their_teacher_can_sign(client, auth, world, who):
    goal = proposed_goal(world)
    auth.login(getattr(world, who))
    assert _sign_post(client, goal).status_code == SIGNERS[who]
    assert len(_signatures(goal.id)) == (1 if SIGNERS[who] == 303 else 0)


# --- One screen: the learner's PIN on the teacher's device --------------------------------


def _learner_sign(client, goal, secret, conference=None, headers=None):
    data = {
        f"l{goal.id}-version_id": str(goal.current_version_id),
        f"l{goal.id}-conference_id": str(conference.id) if conference else "",
        f"l{goal.id}-secret": secret,
    }
    return client.post(f"/goals/{goal.id}/sign/learner", data=data, headers=headers or {})


def test_learner_confirms_with_pin_on_the_teachers_screen(app, client, auth, world, make):
    pin_learner = make.learner(grade=7, pin=True)
    make.enroll(pin_learner, world.school_class)
    make.commit()
    goal = proposed_goal(world, learner=pin_learner)
    conference = conference_for(world, learner=pin_learner)
    auth.login(world.teacher)
    response = _learner_sign(client, goal, "0000", conference, HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and "not right" in html and 'aria-invalid="true"' in html
    assert _signatures(goal.id) == []
    assert recent_failures(pin_learner) == 1  # counted like a sign-in
    response = _learner_sign(client, goal, make.PIN, conference, HTMX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "conference-changed"
    (sig,) = _signatures(goal.id)
    assert sig.signer_id == pin_learner.id and sig.method is SignMethod.PIN
    assert sig.witness_id == world.teacher.id and sig.conference_id == conference.id
    assert recent_failures(pin_learner) == 0


def test_wrong_pins_lock_the_learner_briefly(app, client, auth, world):
    goal = proposed_goal(world)
    auth.login(world.teacher)
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        assert _learner_sign(client, goal, "wrong").status_code == 422
    response = _learner_sign(client, goal, "correct horse battery")  # right, but locked
    assert response.status_code == 422 and "Too many tries" in response.get_data(as_text=True)
    assert _signatures(goal.id) == []


def test_a_learner_cannot_use_the_one_screen_form(client, auth, world):
    goal = proposed_goal(world)
    auth.login(world.classmate)
    assert _learner_sign(client, goal, "correct horse battery").status_code == 403


# --- Family: acknowledge, not sign -------------------------------------------------------


def test_guardian_acknowledges_an_agreed_goal(client, auth, world):
    goal = sign_both(proposed_goal(world), world)
    url = f"/goals/{goal.id}/acknowledge"
    for who, code in [("other_guardian", 404), ("teacher", 403), ("learner", 403)]:
        auth.login(getattr(world, who))
        assert client.post(url).status_code == code, who
        auth.logout()
    auth.login(world.guardian)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "We have seen this goal" in page and "I agree: sign" not in page
    response = client.post(url, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "Seen by family" in html
    acks = list(db.session.scalars(select(GoalAcknowledgement)))
    assert [a.guardian_id for a in acks] == [world.guardian.id]
    assert len(_signatures(goal.id)) == 2  # not a signature
    assert goal_services.is_co_signed(fresh(goal.id), fresh(goal.id).current_version)
