"""axe-core on every distinct page template the crawl reaches, desktop and phone.

The crawl (tests/crawl.py, in-process against the live server's database) finds the
URLs; one URL per distinct page template (as the first role that reached it) is
opened in Chromium and checked against WCAG 2 A and AA at 1366x768 and 360x640.
The templates checked are written to test-artifacts/crawl-axe.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import create_app
from portal.core.extensions import db
from tests.browser.conftest import run_axe
from tests.conftest import TEST_CONFIG
from tests.crawl import ROLES, crawl_role

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1366, 768), "phone": (360, 640)}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def crawled_templates(live_server, live_db, demo_accounts):
    """role -> {page template: one URL that renders it}, found by crawling the live demo."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{live_db}"})
    found = {}
    for role in ROLES:
        result = crawl_role(
            app,
            role,
            demo_accounts.password,
            demo_accounts.pin,
            demo_accounts.young_class_code,
            variants={"page": {}},
        )
        found[role] = dict(sorted(result.templates.items()))
    with app.app_context():
        db.engine.dispose()
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [f"{role}: {len(pages)} templates" for role, pages in found.items()]
    everything = sorted({t for pages in found.values() for t in pages})
    lines.append(f"distinct templates: {len(everything)}")
    lines += [f"  {t}" for t in everything]
    (ARTIFACTS / "crawl-axe.txt").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    return _one_role_each(found)


def _one_role_each(found: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Each distinct template checked once, as the first role (in ROLES order) to reach it.

    Checking every role's copy of every template tripled the run (8 minutes) for pages
    whose markup differs by role only in which buttons show.
    """
    seen: set[str] = set()
    assigned = {}
    for role, pages in found.items():
        assigned[role] = {t: url for t, url in pages.items() if t not in seen}
        seen.update(pages)
    return assigned


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_template_is_accessible(pages, signed_in_state, crawled_templates, viewport):
    """0 axe violations on one URL of each distinct page template, signed in as who reached it."""
    problems, checked = [], 0
    for role, reached in crawled_templates.items():
        templates = {
            template: url
            for template, url in reached.items()
            # A partial (`_name.html`) answering its own URL is an htmx target, not a page:
            # it is checked inside the page that includes it.
            if not template.rsplit("/", 1)[-1].startswith("_")
        }
        if not templates:
            continue
        page = pages.new(
            *VIEWPORTS[viewport], bypass_csp=True, storage_state=signed_in_state(role)
        )
        checked += len(templates)
        problems += _axe_problems(page, role, templates)
    assert checked, "the crawl reached no page template"
    assert not problems, f"axe at {viewport} ({checked} templates):\n" + (
        "\n".join(f"  {p}" for p in problems)
    )


def _axe_problems(page, role: str, templates: dict[str, str]) -> list[str]:
    problems = []
    for template, url in templates.items():
        where = f"{role} {template} {url}"
        response = page.goto(url)
        if "/signin" in page.url and not url.startswith("/signin"):
            problems.append(f"{where}: the stored sign-in did not hold")
            continue
        if response is None or response.status >= 400:
            problems.append(f"{where}: {response.status if response else 'no response'}")
            continue
        for violation in run_axe(page):
            problems.append(
                f"{where}: {violation['id']} ({violation['impact']}) "
                f"{violation['help']} at {violation['nodes']}"
            )
    return problems
