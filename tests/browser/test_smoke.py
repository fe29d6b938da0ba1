"""Sign in as each demo role in a real browser: the right home, and nothing left behind."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in, sign_in_with_class_code

pytestmark = pytest.mark.browser

PASSWORD_ROLES = ["learner", "teacher", "guardian", "school_admin", "district_admin"]
ROLES = [*PASSWORD_ROLES, "young_learner"]
# What each home page must show, whatever the features add to it.
HOME_SHOWS = {
    "learner": "Maya",
    "teacher": "Rivera",
    "guardian": "Maya",  # her child
    "school_admin": "Riverside Elementary & Middle School",
    "district_admin": "Riverside Elementary & Middle School",  # one of the district's schools
    "young_learner": "Leo",
}
ROLE_LABEL = {
    "learner": "Learner",
    "teacher": "Teacher",
    "school_admin": "School admin",
    "district_admin": "District admin",
    "young_learner": "Learner",
}  # the guardian's account is in Spanish


def signed_in_page(pages, role, demo_accounts):
    page = pages.new()
    if role == "young_learner":
        sign_in_with_class_code(page, demo_accounts)
    else:
        sign_in(page, demo_accounts.usernames[role], demo_accounts.password)
    return page


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_sees_their_home(pages, demo_accounts, role):
    page = signed_in_page(pages, role, demo_accounts)
    assert page.url.endswith("/")
    main = page.locator("main")
    assert main.locator("h1").count() == 1
    assert HOME_SHOWS[role] in main.inner_text()
    if role in ROLE_LABEL:
        assert ROLE_LABEL[role] in page.locator("footer").inner_text()
    if os.environ.get("WAYPOINT_SCREENSHOTS") == "1" and role in ("learner", "teacher"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{role}-home.png"), full_page=True)
    assert not pages.failed_requests, pages.failed_requests
    assert not pages.console_errors, pages.console_errors  # CSP violations show up here


@pytest.mark.parametrize("role", ["learner", "teacher"])
def test_back_after_sign_out_shows_nothing_of_the_previous_person(pages, demo_accounts, role):
    page = signed_in_page(pages, role, demo_accounts)
    private = HOME_SHOWS[role]
    assert private in page.locator("main").inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin?signed_out=1")
    assert "You are signed out" in page.locator("main").inner_text()

    # htmx keeps no snapshot, so Back reloads "/" from the server, which sends to sign-in.
    page.go_back()
    settle_on_sign_in(page, private)
    page.go_forward()
    settle_on_sign_in(page, private)


def settle_on_sign_in(page, private: str) -> None:
    try:
        page.wait_for_url(lambda url: "/signin" in url)
        page.wait_for_load_state()
        page.locator("#signin-form").wait_for()
    finally:
        # Whatever page the browser ends on (a restored snapshot included), no private data.
        page.wait_for_load_state()
        assert private not in page.locator("body").inner_text()


def test_wrong_password_swaps_the_form_in_place(pages, demo_accounts):
    page = pages.new()
    page.goto("/signin")
    page.fill("#login", demo_accounts.usernames["teacher"])
    page.fill("#password", "not the password")
    page.click("#signin-form button[type=submit]")
    error = page.locator("#password-error")
    error.wait_for()
    assert "not right" in error.inner_text()
    assert page.locator("#password").get_attribute("aria-describedby") == "password-error"
    assert page.locator("#signin-form").count() == 1  # swapped, not nested
    assert page.locator("h1").count() == 1
    assert page.url.endswith("/signin")
    # Chrome reports the 422 itself as a failed load; anything else would be a real error.
    errors = [e for e in pages.console_errors if "status of 422" not in e]
    assert not errors, errors


def test_expired_session_sends_htmx_navigation_to_sign_in(pages, demo_accounts, live_db):
    page = signed_in_page(pages, "learner", demo_accounts)
    with sqlite3.connect(live_db) as conn:  # this browser's session ends, server-side
        conn.execute(
            "DELETE FROM login_sessions WHERE id = (SELECT max(s.id) FROM login_sessions s "
            "JOIN users u ON u.id = s.user_id WHERE u.username = ?)",
            (demo_accounts.usernames["learner"],),
        )
    page.get_by_role("link", name="Home").click()  # a boosted (htmx) navigation
    page.wait_for_url(lambda url: "/signin?next=" in url)
    assert page.locator("#signin-form").is_visible()
    assert page.locator("header.site-header").count() == 1  # a whole page, not a fragment
    assert HOME_SHOWS["learner"] not in page.locator("main").inner_text()
