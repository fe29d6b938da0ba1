"""No silent failure, no typed word lost: failed htmx requests, big files, an ending
session, focus after a save and the CSP, in Chromium."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update
from werkzeug.serving import make_server

from portal import create_app
from portal.auth.models import LoginSession
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from tests.browser.conftest import Pages, _QuietHandler, sign_in

pytestmark = pytest.mark.browser

# Skip the browser's own required-field check, so the server answers 422.
NO_REQUIRED = (
    "document.querySelectorAll('#log-form [required]')"
    ".forEach(e => e.removeAttribute('required'))"
)
REFLECTION = "I worked through the percent problems slowly and checked each one with a partner."


@pytest.fixture(scope="module")
def short_server(live_server, live_db):
    """The same demo district, served by an app whose learners time out after one minute."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{live_db}",
            "SECRET_KEY": "browser-tests",
            "SESSION_COOKIE_SECURE": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 64,
            "IDLE_TIMEOUT_LEARNER": timedelta(minutes=1),
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def short_pages(browser, short_server):
    opened = Pages(browser, short_server[1])
    yield opened
    opened.close()


def expire_sessions(app, seconds: int = 90) -> None:
    with app.app_context():
        db.session.execute(
            update(LoginSession).values(last_seen=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()
        db.session.remove()


def goal_page(page) -> str:
    page.goto("/")
    href = page.locator("a[href^='/goals/'][href$='/progress']").first.get_attribute("href")
    page.goto(href)
    return href


def drafts(page) -> list[str]:
    """Every key and value this origin keeps in sessionStorage and localStorage."""
    return page.evaluate(
        """() => [sessionStorage, localStorage].flatMap(
            store => Object.keys(store).map(key => key + "=" + store.getItem(key)))"""
    )


def assert_nothing_kept(page) -> None:
    kept = drafts(page)
    assert not [item for item in kept if item.startswith("waypoint-draft:")], kept
    assert not [item for item in kept if "percent problems" in item], kept


def _send_posts_to(url):
    def handle(route):
        if route.request.method == "POST":
            route.continue_(url=url)
        else:
            route.continue_()

    return handle


def test_failed_requests_say_why_in_place_and_keep_the_text(pages, signed_in_state):
    page = pages.new(storage_state=signed_in_state("learner"))
    href = goal_page(page)
    form = page.locator("#log-form")
    page.fill("#reflection", REFLECTION)
    page.locator("#log-form input[type=radio]").first.check()
    goal_id = href.split("/")[2]
    cases = [
        ("/goals/999999/progress", "We could not find that page."),  # a real 404
        (f"/goals/{goal_id}/feedback", "You do not have permission to do that."),  # a real 403
    ]
    for url, message in cases:
        page.route(f"**{href}", _send_posts_to(pages.base_url + url))
        page.click("#log-form button[type=submit]")
        alert = form.get_by_role("alert")
        expect(alert).to_have_text(message)
        expect(page.locator("#reflection")).to_have_value(REFLECTION)
        page.unroute(f"**{href}")

    # A 500 from a proxy (no message of ours in it): the page's own words.
    page.route(f"**{href}", lambda route: route.fulfill(status=500, body="Internal Server Error")
               if route.request.method == "POST" else route.continue_())
    page.click("#log-form button[type=submit]")
    expect(form.get_by_role("alert")).to_contain_text("Something went wrong on our side")
    page.unroute(f"**{href}")

    # The connection drops.
    page.route(f"**{href}", lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())
    page.click("#log-form button[type=submit]")
    expect(form.get_by_role("alert")).to_contain_text("We could not reach Waypoint")
    expect(page.locator("#reflection")).to_have_value(REFLECTION)
    expect(page.locator("#log-form button[type=submit]")).to_be_enabled()
    page.unroute(f"**{href}")
    assert page.url.endswith(href)


def test_a_file_over_the_limit_gets_the_same_message_with_and_without_javascript(
    pages, signed_in_state
):
    message = "That file is too large: the limit is 10 MB."
    big = {"name": "big.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"\0" * (12 << 20)}
    page = pages.new(storage_state=signed_in_state("learner"))
    goal_page(page)
    expect(page.locator("#log-form")).to_contain_text("up to 10 MB")
    page.fill("#reflection", REFLECTION)
    page.locator("#log-form input[type=radio]").first.check()
    page.set_input_files("#evidence", big)
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.click("#log-form button[type=submit]")
    expect(page.locator("#log-form").get_by_role("alert")).to_have_text(message)
    expect(page.locator("#reflection")).to_have_value(REFLECTION)
    assert not sent  # twelve megabytes were never sent over the school's network

    context = pages.browser.new_context(
        base_url=pages.base_url,
        java_script_enabled=False,
        storage_state=signed_in_state("learner"),
    )
    pages.contexts.append(context)
    plain = context.new_page()
    href = goal_page(plain)
    plain.fill("#reflection", REFLECTION)
    plain.locator("#log-form input[type=radio]").first.check()
    plain.set_input_files("#evidence", big)
    plain.click("#log-form button[type=submit]")
    expect(plain.get_by_role("heading", level=1)).to_have_text(message)
    plain.get_by_role("link", name="Back to the page you were on").click()
    assert plain.url.endswith(href)


def test_signed_out_in_another_tab_keeps_the_text_through_signing_in_again(
    pages, demo_accounts
):
    page = pages.new()
    sign_in(page, demo_accounts.usernames["learner"], demo_accounts.password)
    href = goal_page(page)
    page.fill("#reflection", REFLECTION)
    # A complete form, so the browser sends it: a level left unchosen stops the post in
    # the browser, and the alert then waited on the tracker's next poll (up to 5 s).
    page.get_by_role("radio", name="3 · Proficient: I can do it on my own.").check()
    other = page.context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url("**/signin**")
    other.close()

    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click("#log-form button[type=submit]")  # a stale form token, no session
    alert = page.get_by_role("alert").filter(has_text="You were signed out")
    expect(alert).to_be_visible()
    expect(page.locator("#reflection")).to_have_value(REFLECTION)
    alert.get_by_role("link", name="Sign in again").click()
    page.fill("#login", demo_accounts.usernames["learner"])
    page.fill("#password", demo_accounts.password)
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(f"**{href}")
    expect(page.locator("#reflection")).to_have_value(REFLECTION)
    expect(page.locator("#log-form .draft-restored")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin**")
    assert_nothing_kept(page)


def test_idle_warning_and_stay_signed_in(short_pages, short_server, demo_accounts):
    app, _ = short_server
    page = short_pages.new()
    page.clock.install()
    sign_in(page, demo_accounts.usernames["learner"], demo_accounts.password)
    goal_page(page)
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()
    page.clock.run_for(50_000)  # the warning comes 15 s before a one-minute timeout
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    expire_sessions(app, 50)
    with page.expect_response("**/session/keep-alive") as response:
        warning.get_by_role("button", name="Stay signed in").click()
    assert response.value.status == 204
    expect(warning).to_be_hidden()
    expire_sessions(app, 50)  # the keep-alive counted: 50 s after it is still fine
    page.reload()
    assert "/signin" not in page.url


def test_an_ended_session_never_navigates_away_from_typing(
    short_pages, short_server, demo_accounts
):
    app, _ = short_server
    page = short_pages.new()
    sign_in(page, demo_accounts.usernames["learner"], demo_accounts.password)
    href = goal_page(page)
    page.fill("#reflection", REFLECTION)
    page.locator("#log-form input[type=radio]").first.check()
    expire_sessions(app)
    # The tracker poll (every 5 s) is the first to hear the session ended.
    alert = page.get_by_role("alert").filter(has_text="You were signed out")
    with page.expect_response(lambda r: "/tracker" in r.url and r.status == 401, timeout=15_000):
        pass
    expect(alert).to_be_visible()
    assert page.url.endswith(href)
    expect(page.locator("#reflection")).to_have_value(REFLECTION)

    # Saving now answers 401: still nothing lost.
    page.click("#log-form button[type=submit]")
    expect(page.locator("#reflection")).to_have_value(REFLECTION)
    assert page.url.endswith(href)
    alert.first.get_by_role("link", name="Sign in again").click()
    page.fill("#login", demo_accounts.usernames["learner"])
    page.fill("#password", demo_accounts.password)
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(f"**{href}")
    expect(page.locator("#reflection")).to_have_value(REFLECTION)
    assert any(item.startswith("waypoint-draft:") for item in drafts(page))

    # Saved with the keyboard: the draft is gone and focus lands on the result.
    page.locator("#log-form input[type=radio]").first.check()
    page.focus("#log-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**logged=*")
    expect(page.locator("#next-step")).to_be_focused()
    assert not [item for item in drafts(page) if item.startswith("waypoint-draft:")]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin**")
    assert_nothing_kept(page)


def test_focus_after_a_keyboard_save_that_needs_another_look(pages, signed_in_state):
    page = pages.new(storage_state=signed_in_state("learner"))
    goal_page(page)
    page.evaluate(NO_REQUIRED)
    page.focus("#log-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#log-form [aria-invalid=true]").first).to_be_focused()


def test_no_csp_violation_after_a_422_on_a_resized_textarea(pages, signed_in_state):
    page = pages.new(storage_state=signed_in_state("learner"))
    goal_page(page)
    # What dragging the textarea's corner does: Chromium writes style="height: ..." on it.
    page.evaluate("document.querySelector('#reflection').style.height = '240px'")
    page.evaluate(NO_REQUIRED)
    with page.expect_response(lambda r: r.status == 422):
        page.click("#log-form button[type=submit]")
    expect(page.locator("#log-form .form-error")).to_be_visible()
    page.wait_for_timeout(300)
    assert not [e for e in pages.console_errors if "inline style" in e], pages.console_errors
