"""The demo district on PostgreSQL (production's database) in a real browser.

The rest of the browser suite runs on SQLite; this is its smoke path on PostgreSQL:
each role signs in, sees their home, and every page their home and menu link to
answers without a server error. SQL that only SQLite accepts fails here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.test_smoke import HOME_SHOWS, ROLES, signed_in_page

pytestmark = pytest.mark.browser

MAX_LINKS = 25  # per role: enough to reach every page the home and menu offer


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_home_and_its_links_on_postgresql(pages_postgresql, demo_accounts, role):
    page = signed_in_page(pages_postgresql, role, demo_accounts)
    assert page.url.endswith("/")
    assert HOME_SHOWS[role] in page.locator("main").inner_text()

    hrefs = page.eval_on_selector_all("header a[href], main a[href]", "els => els.map(e => e.href)")
    origin = urlsplit(page.url).netloc
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc == origin and parts.path not in paths and not parts.path.startswith(
            "/static/"
        ):
            paths.append(parts.path)
    broken = []
    for path in paths[:MAX_LINKS]:
        response = page.request.get(path, max_redirects=5)
        if response.status >= 500:
            broken.append(f"{response.status} {path}")
    assert not broken, broken
    assert not pages_postgresql.failed_requests, pages_postgresql.failed_requests
    assert not pages_postgresql.console_errors, pages_postgresql.console_errors
