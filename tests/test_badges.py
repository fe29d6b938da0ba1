"""Picture sign-in badges: printing makes a fresh secret (revoking the old), revoking is one
click, scanning signs in through the same session as a PIN, and who may do what."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth import services as auth_services
from portal.auth.models import LoginSession
from portal.badges import services
from portal.badges.models import BadgeSymbol, SignInBadge
from portal.core.extensions import db

SCAN = "/signin/badge"


@pytest.fixture
def world(make):
    """A teacher's class of two learners, another class's teacher, a guardian, an admin."""
    teacher = make.teacher()
    ana, ben = make.learner(given_name="Ana"), make.learner(given_name="Ben")
    klass = make.school_class(teacher=teacher, learners=[ana, ben])
    other_teacher = make.teacher()
    make.school_class(teacher=other_teacher, learners=[make.learner()])
    guardian = make.guardian()
    make.link(guardian, ana)
    admin = make.school_admin()
    make.commit()
    return {
        "teacher": teacher,
        "ana": ana,
        "ben": ben,
        "klass": klass,
        "other_teacher": other_teacher,
        "guardian": guardian,
        "admin": admin,
    }


def _issue(learner, by) -> str:
    card = services.issue([learner], by)[0]
    db.session.commit()
    return card.secret


def _scan(client, secret: str, url: bool = True):
    code = f"http://localhost/signin/badge#WPB1:{secret}" if url else f"WPB1:{secret}"
    return client.post(SCAN, data={"code": code})


def _live(learner) -> list[SignInBadge]:
    return list(
        db.session.scalars(
            select(SignInBadge).where(
                SignInBadge.learner_id == learner.id, SignInBadge.revoked_at.is_(None)
            )
        )
    )


# --- The teacher's page and printing -------------------------------------------------------


def test_teacher_prints_a_page_of_cards_for_the_class(client, auth, world):
    auth.login(world["teacher"])
    klass = world["klass"]
    assert f'href="/classes/{klass.id}/badges"' in client.get(f"/classes/{klass.id}").text
    page = client.get(f"/classes/{klass.id}/badges")
    assert page.status_code == 200
    assert "Ana" in page.text and "Ben" in page.text and "No badge" in page.text

    sheet = client.post(f"/classes/{klass.id}/badges/print", data={"which": "missing"})
    assert sheet.status_code == 200
    assert sheet.headers["Cache-Control"] == "no-store"
    assert sheet.text.count('class="badge-card"') == 2
    assert sheet.text.count('<svg viewBox="0 0') == 2  # each QR code is inline SVG
    assert "WPB1:" not in sheet.text  # the secret is in the QR code only, never as text
    for learner in (world["ana"], world["ben"]):
        (badge,) = _live(learner)
        assert len(badge.secret_hash) == 64 and badge.created_by_id == world["teacher"].id

    # Everyone has one now: "only those without" prints nothing and says so.
    again = client.post(
        f"/classes/{klass.id}/badges/print", data={"which": "missing"}, follow_redirects=True
    )
    assert "already has a badge" in again.text


def test_the_printed_qr_code_holds_the_badge_url_and_a_long_secret(world):
    card = services.issue([world["ana"]], world["teacher"])[0]
    payload = card.payload("https://waypoint.example/signin/badge")
    assert payload.startswith("https://waypoint.example/signin/badge#WPB1:")
    assert len(card.secret) == 32  # 24 random bytes = 192 bits
    assert services.secret_from_code(payload) == card.secret
    assert services.secret_from_code("WPB1:" + card.secret) == card.secret
    assert services.secret_from_code("WPB1:short") is None
    (badge,) = _live(world["ana"])
    assert badge.secret_hash == services.secret_hash(card.secret) != card.secret
    assert world["ana"].pin_hash is None or card.secret not in world["ana"].pin_hash


def test_regenerating_revokes_the_old_badge(client, auth, world):
    old = _issue(world["ana"], world["teacher"])
    auth.login(world["teacher"])
    klass = world["klass"]
    response = client.post(f"/classes/{klass.id}/badges/{world['ana'].id}/print")
    assert response.status_code == 200 and response.text.count('class="badge-card"') == 1
    assert len(_live(world["ana"])) == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(SignInBadge)
            .where(SignInBadge.learner_id == world["ana"].id)
        )
        == 2
    )
    auth.logout()
    refused = _scan(client, old)
    assert refused.status_code == 422 and "turned off" in refused.text


def test_printing_everyone_again_revokes_every_old_badge(client, auth, world):
    old = [_issue(world[name], world["teacher"]) for name in ("ana", "ben")]
    auth.login(world["teacher"])
    response = client.post(f"/classes/{world['klass'].id}/badges/print", data={"which": "all"})
    assert response.text.count('class="badge-card"') == 2
    live_hashes = {b.secret_hash for name in ("ana", "ben") for b in _live(world[name])}
    assert not live_hashes & {services.secret_hash(s) for s in old}


def test_revoke_is_one_click_and_the_badge_is_refused_after(client, auth, world):
    secret = _issue(world["ana"], world["teacher"])
    auth.login(world["teacher"])
    url = f"/classes/{world['klass'].id}/badges/{world['ana'].id}/revoke"
    row = client.post(url, headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert row.text.lstrip().startswith("<tr")
    assert "<html" not in row.text and "No badge" in row.text
    assert _live(world["ana"]) == []
    assert client.post(url).status_code == 303  # without JavaScript: back to the page
    auth.logout()
    refused = _scan(client, secret)
    assert refused.status_code == 422
    assert "This badge was turned off" in refused.text
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_teacher_changes_a_learners_picture(client, auth, world):
    auth.login(world["teacher"])
    url = f"/classes/{world['klass'].id}/badges/{world['ana'].id}/symbol"
    assert client.post(url, data={"symbol": "rocket"}).status_code == 303
    assert db.session.get(BadgeSymbol, world["ana"].id).symbol == "rocket"
    refused = client.post(url, data={"symbol": "dragon"}, headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "<tr" in refused.text
    db.session.expire_all()
    assert db.session.get(BadgeSymbol, world["ana"].id).symbol == "rocket"
    sheet = client.post(f"/classes/{world['klass'].id}/badges/{world['ana'].id}/print")
    assert 'aria-label="rocket"' in sheet.text


def test_a_learners_picture_is_stable_without_a_choice(world):
    first = services.rows_for([world["ana"], world["ben"]])
    again = services.rows_for([world["ana"], world["ben"]])
    assert [r.symbol for r in first] == [r.symbol for r in again]
    assert all(r.symbol in services.SYMBOLS for r in first)


# --- Who may -----------------------------------------------------------------------------------


def _badge_urls(world) -> list[tuple[str, str]]:
    klass, ana = world["klass"].id, world["ana"].id
    return [
        ("get", f"/classes/{klass}/badges"),
        ("post", f"/classes/{klass}/badges/print"),
        ("post", f"/classes/{klass}/badges/{ana}/print"),
        ("post", f"/classes/{klass}/badges/{ana}/revoke"),
        ("post", f"/classes/{klass}/badges/{ana}/symbol"),
    ]


def test_others_are_refused_every_badge_route(client, auth, world):
    """Another class's teacher, the learner herself and her guardian: 403 or 404 everywhere."""
    secret = _issue(world["ana"], world["teacher"])
    for who in ("other_teacher", "ana", "guardian"):
        auth.login(world[who])
        for method, url in _badge_urls(world):
            response = getattr(client, method)(url, data={"which": "all", "symbol": "owl"})
            assert response.status_code in (403, 404), (who, url, response.status_code)
            assert "badge-card" not in response.text
        auth.logout()
    assert [b.secret_hash for b in _live(world["ana"])] == [services.secret_hash(secret)]
    assert db.session.get(BadgeSymbol, world["ana"].id) is None


def test_the_schools_admin_may_print_badges(client, auth, world):
    auth.login(world["admin"])
    response = client.post(f"/classes/{world['klass'].id}/badges/{world['ben'].id}/print")
    assert response.status_code == 200 and 'class="badge-card"' in response.text


def test_a_learner_of_another_class_is_not_reached_through_this_one(client, auth, world, make):
    stranger = make.learner()
    make.school_class(teacher=world["teacher"], learners=[stranger])
    make.commit()
    auth.login(world["teacher"])
    url = f"/classes/{world['klass'].id}/badges/{stranger.id}/print"
    assert client.post(url).status_code == 404


def test_an_ended_class_prints_nothing(client, auth, make):
    teacher, learner = make.teacher(), make.learner()
    past = make.term(current=False)
    klass = make.school_class(teacher=teacher, learners=[learner], term=past)
    make.commit()
    auth.login(teacher)
    assert client.get(f"/classes/{klass.id}/badges").status_code in (403, 404)
    assert client.post(f"/classes/{klass.id}/badges/{learner.id}/print").status_code in (403, 404)
    assert _live(learner) == []


# --- Scanning to sign in ---------------------------------------------------------------------


def test_the_class_code_page_offers_scan_my_badge(client):
    page = client.get("/signin/class")
    assert 'href="/signin/badge"' in page.text and "Scan my badge" in page.text
    scan = client.get(SCAN)
    assert scan.status_code == 200
    assert "camera=(self)" in scan.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/signin/class").headers["Permissions-Policy"]
    assert "<noscript>" in scan.text and "/signin/class" in scan.text  # the PIN path


def test_scanning_a_badge_signs_in_like_a_pin(client, world):
    secret = _issue(world["ana"], world["teacher"])
    response = _scan(client, secret)
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert auth_services.DEVICE_COOKIE in response.headers.get("Set-Cookie", "")
    (session,) = db.session.scalars(select(LoginSession)).all()
    assert session.user_id == world["ana"].id
    assert "Ana" in client.get("/").text
    # The prefixed token alone (a scanner that reads only the text) works the same.
    ben_secret = _issue(world["ben"], world["teacher"])
    assert _scan(client.application.test_client(), ben_secret, url=False).status_code == 303


def test_unknown_and_inactive_badges_say_why(client, world):
    unknown = _scan(client, "A" * 32)
    assert unknown.status_code == 422 and "We do not know this badge" in unknown.text
    garbage = client.post(SCAN, data={"code": "https://example.com/not-a-badge"})
    assert garbage.status_code == 422 and "We do not know this badge" in garbage.text
    secret = _issue(world["ben"], world["teacher"])
    world["ben"].active = False
    db.session.commit()
    closed = _scan(client, secret)
    assert closed.status_code == 422 and "account is closed" in closed.text
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_wrong_badges_are_throttled_like_wrong_pins(app, client, world):
    app.config["LOGIN_CLIENT_FREE_ATTEMPTS"] = 3
    for _ in range(3):
        assert "We do not know this badge" in _scan(client, "B" * 32).text
    secret = _issue(world["ana"], world["teacher"])
    locked = _scan(client, secret)  # even a good badge waits, from this browser
    assert locked.status_code == 422 and "Too many tries. Wait" in locked.text
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    # Another browser is not held back, and the lost-badge tries locked nobody's account.
    assert _scan(app.test_client(), secret).status_code == 303


def test_a_locked_account_is_locked_for_badges_too(app, client, world):
    """The same account throttle as the PIN: strangers' wrong PINs hold the badge too."""
    ana, klass = world["ana"], world["klass"]
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        pin_url = f"/signin/class/{klass.class_code}/{ana.id}"
        assert app.test_client().post(pin_url, data={"pin": "0000"}).status_code == 422
    assert auth_services.seconds_locked(ana) > 0
    locked = _scan(client, _issue(ana, world["teacher"]))
    assert locked.status_code == 422 and "Too many tries" in locked.text


def test_a_signed_in_visitor_is_sent_home_from_the_scan_page(client, auth, world):
    auth.login(world["teacher"])
    assert client.get(SCAN).status_code in (302, 303)


def test_one_live_badge_per_learner_is_the_databases_rule_too(client, auth, world, monkeypatch):
    """Two printings at the same moment: the second finds no old badge to revoke (the first
    is not committed yet), and the database refuses a second live badge; the page says so."""
    _issue(world["ana"], world["teacher"])
    monkeypatch.setattr(services, "_revoke_all", lambda ids: 0)  # as the racing request
    auth.login(world["teacher"])
    response = client.post(f"/classes/{world['klass'].id}/badges/{world['ana'].id}/print")
    assert response.status_code == 303
    assert "at the same moment" in client.get(response.headers["Location"]).text
    assert len(_live(world["ana"])) == 1


def _reads(statements: list[str]) -> int:
    """Statements of the page itself (not the session's touch, which depends on time)."""
    return sum(
        1 for q in statements if "login_sessions" not in q and not q.startswith(("BEGIN", "COMMIT"))
    )


def test_the_class_page_and_a_sheet_cost_the_same_queries_for_2_or_12_learners(
    client, auth, world, make, count_queries
):
    auth.login(world["teacher"])
    klass = world["klass"]

    def cost() -> tuple[int, int]:
        with count_queries() as page:
            client.get(f"/classes/{klass.id}/badges")
        with count_queries() as sheet:
            client.post(f"/classes/{klass.id}/badges/print", data={"which": "all"})
        return _reads(page), _reads(sheet)

    page_small, sheet_small = cost()
    for _ in range(10):
        make.enroll(make.learner(), klass)
    make.commit()
    page_big, sheet_big = cost()
    assert page_big == page_small
    # Printing: one revoke for all, at most one INSERT per card, and no read per card.
    assert sheet_big - sheet_small <= 10
