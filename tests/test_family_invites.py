"""Family invite codes: random, hashed, single-use, expiring; throttled per account."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.extensions import db
from portal.family import services
from portal.family.models import FamilyInvite, InviteThrottle
from portal.roster.models import GuardianLink
from tests.fixtures import family as fam

CODE = re.compile(r"<strong>([A-Z0-9]{5}-[A-Z0-9]{5})</strong>")


@pytest.fixture
def family(make):
    return fam.build_family(make)


def create_code(client, learner) -> str:
    response = client.post(f"/family/learners/{learner.id}/invites", data={})
    assert response.status_code == 200, response.status_code
    return CODE.search(response.get_data(as_text=True)).group(1)


def redeem(client, code, headers=None):
    return client.post("/family/redeem", data={"code": code}, headers=headers or {})


def links(guardian, learner):
    return db.session.scalars(
        select(GuardianLink).where(
            GuardianLink.guardian_id == guardian.id, GuardianLink.learner_id == learner.id
        )
    ).all()


def test_codes_are_long_random_and_unambiguous():
    codes = {services.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(set(c) <= set(services.CODE_ALPHABET) for c in codes)
    assert not set("0O1IL5S2Z8B") & set(services.CODE_ALPHABET)
    assert services.CODE_LENGTH * math.log2(len(services.CODE_ALPHABET)) >= 40


def test_teacher_creates_a_code_shown_once_and_stored_hashed(client, auth, family):
    auth.login(family.teacher)
    code = create_code(client, family.maya)
    invite = db.session.scalars(select(FamilyInvite)).one()
    raw = code.replace("-", "")
    assert raw not in invite.code_hash and code not in invite.code_hash
    assert invite.code_hash == services.code_hash(raw)
    assert invite.expires_at - invite.created_at == timedelta(days=7)
    listing = client.get(f"/family/learners/{family.maya.id}/invites").get_data(as_text=True)
    assert code not in listing and raw not in listing
    assert "Open until" in listing


def test_create_code_over_htmx_gets_the_panel_fragment(client, auth, family):
    auth.login(family.admin)
    response = client.post(f"/family/learners/{family.maya.id}/invites", headers=fam.HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="invite-panel"')
    assert CODE.search(html)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 200),
        ("admin", 200),
        ("other_teacher", 404),
        ("other_admin", 404),
        ("guardian", 403),
        ("maya", 403),
    ],
)
def test_invite_matrix(client, auth, family, who, status):
    auth.login(getattr(family, who))
    assert client.post(f"/family/learners/{family.maya.id}/invites").status_code == status
    assert client.get(f"/family/learners/{family.maya.id}/invites").status_code == status
    assert db.session.query(FamilyInvite).count() == (1 if status == 200 else 0)


def test_guardian_redeems_a_code_once(client, auth, family, make):
    newcomer = make.guardian()
    make.commit()
    auth.login(family.admin)
    code = create_code(client, family.other_child)
    auth.logout()

    auth.login(newcomer)
    response = redeem(client, code.lower().replace("-", " "))  # typed loosely
    assert response.status_code == 303
    assert response.headers["Location"] == f"/family/children/{family.other_child.id}"
    assert [link.active for link in links(newcomer, family.other_child)] == [True]
    assert "Zed" in client.get(response.headers["Location"]).get_data(as_text=True)
    auth.logout()

    auth.login(family.guardian)  # a second account with the same code: refused
    again = redeem(client, code)
    assert again.status_code == 422
    assert "That code does not work" in again.get_data(as_text=True)
    assert links(family.guardian, family.other_child) == []


def test_expired_code_is_refused(client, auth, family):
    auth.login(family.admin)
    code = create_code(client, family.other_child)
    invite = db.session.scalars(select(FamilyInvite)).one()
    invite.expires_at = invite.created_at - timedelta(seconds=1)
    db.session.commit()
    auth.logout()
    auth.login(family.guardian)
    assert redeem(client, code).status_code == 422
    assert links(family.guardian, family.other_child) == []


def test_a_code_does_not_undo_a_link_the_school_paused(client, auth, family):
    """A custody restriction stands: only an admin restores a paused link."""
    family.link.active = False
    db.session.commit()
    auth.login(family.teacher)
    code = create_code(client, family.maya)
    auth.logout()
    auth.login(family.guardian)
    response = redeem(client, code)
    assert response.status_code == 422
    assert "paused your link" in response.get_data(as_text=True)
    db.session.refresh(family.link)
    assert not family.link.active and len(links(family.guardian, family.maya)) == 1
    assert db.session.scalars(select(FamilyInvite)).one().used_at is None


def test_already_linked_guardian_does_not_use_up_the_code(client, auth, family):
    auth.login(family.teacher)
    code = create_code(client, family.maya)
    auth.logout()
    auth.login(family.guardian)
    assert redeem(client, code).status_code == 303
    assert db.session.scalars(select(FamilyInvite)).one().used_at is None


def test_five_misses_lock_the_account_even_for_a_right_code(client, auth, family):
    auth.login(family.admin)
    code = create_code(client, family.other_child)
    auth.logout()
    auth.login(family.guardian)
    for _ in range(4):
        assert "That code does not work" in redeem(client, "AAAAA-AAAAA").get_data(as_text=True)
    fifth = redeem(client, "AAAAA-AAAAA").get_data(as_text=True)
    assert "Too many wrong codes" in fifth and "15 minutes" in fifth, re.findall(
        r"field-error.*", fifth
    )
    locked = redeem(client, code)
    assert locked.status_code == 422 and "Too many wrong codes" in locked.get_data(as_text=True)
    assert links(family.guardian, family.other_child) == []
    # The lock is in the database, per account: another guardian is not locked ...
    throttle = db.session.get(InviteThrottle, family.guardian.id)
    assert throttle.locked_until is not None
    # ... and once it runs out the right code works.
    throttle.locked_until = throttle.locked_until - timedelta(minutes=16)
    db.session.commit()
    assert redeem(client, code).status_code == 303


def test_redeem_over_htmx(client, auth, family):
    auth.login(family.guardian)
    page = client.get("/family/redeem", headers=fam.HX)
    assert page.status_code == 200 and "<html" not in page.get_data(as_text=True)
    bad = redeem(client, "nope", headers=fam.HX)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "<html" not in html and 'id="redeem-form"' in html


@pytest.mark.parametrize("who", ["teacher", "maya", "admin"])
def test_only_guardians_redeem(client, auth, family, who):
    auth.login(getattr(family, who))
    assert redeem(client, "AAAAA-AAAAA").status_code == 403


# --- Revoking ------------------------------------------------------------------------------


def _invite():
    db.session.expire_all()
    return db.session.scalars(select(FamilyInvite)).one()


def revoke(client, invite, headers=None):
    return client.post(f"/family/invites/{invite.id}/revoke", headers=headers or {})


def test_revoked_code_can_never_be_redeemed(client, auth, family):
    auth.login(family.admin)
    code = create_code(client, family.other_child)
    response = revoke(client, _invite())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/family/learners/{family.other_child.id}/invites"
    invite = _invite()
    assert invite.revoked_at is not None and invite.revoked_by_id == family.admin.id
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Revoked" in listing and "Open until" not in listing
    assert f"/family/invites/{invite.id}/revoke" not in listing  # no button any more
    auth.logout()
    auth.login(family.guardian)
    again = redeem(client, code)
    assert again.status_code == 422 and "That code does not work" in again.get_data(as_text=True)
    assert links(family.guardian, family.other_child) == []
    assert _invite().used_at is None


def test_revoke_over_htmx_gets_the_panel(client, auth, family):
    auth.login(family.admin)
    create_code(client, family.maya)
    response = revoke(client, _invite(), headers=fam.HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="invite-panel"')
    assert "Revoked" in html and "Code revoked" in html


@pytest.mark.parametrize("state", ["used", "expired", "revoked"])
def test_only_open_codes_can_be_revoked(client, auth, family, state):
    auth.login(family.teacher)
    create_code(client, family.maya)
    invite = _invite()
    if state == "used":
        invite.used_at, invite.used_by_id = invite.created_at, family.guardian.id
    elif state == "expired":
        invite.expires_at = invite.created_at - timedelta(seconds=1)
    else:
        invite.revoked_at = invite.created_at
    db.session.commit()
    response = revoke(client, invite, headers=fam.HX)
    assert response.status_code == 409
    assert "can no longer be revoked" in response.get_data(as_text=True)
    after = _invite()
    assert after.revoked_by_id is None
    assert (after.revoked_at is not None) == (state == "revoked")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 303),
        ("admin", 303),
        ("other_teacher", 404),
        ("other_admin", 404),
        ("guardian", 403),
        ("other_guardian", 403),
        ("maya", 403),
    ],
)
def test_revoke_matrix(client, auth, family, who, status):
    auth.login(family.admin)
    create_code(client, family.maya)
    auth.logout()
    auth.login(getattr(family, who))
    assert revoke(client, _invite()).status_code == status
    assert (_invite().revoked_at is not None) == (status == 303)


def test_revoke_missing_code_is_404(client, auth, family):
    auth.login(family.teacher)
    assert client.post("/family/invites/999/revoke").status_code == 404
