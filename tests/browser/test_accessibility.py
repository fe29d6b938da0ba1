"""axe-core (WCAG 2 A and AA) on the sign-in pages and every role's home, desktop and phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import run_axe

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1366, 768), "phone": (360, 640)}
ROLES = ["learner", "young_learner", "teacher", "guardian", "school_admin", "district_admin"]


def _assert_clean(page, where: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe found on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where} is {overflow}px too wide"


# axe goes in as a script tag, which our CSP (rightly) refuses: these contexts bypass
# the CSP; the smoke tests run with it enforced.


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("url", ["/signin", "/signin/class"])
def test_sign_in_pages_are_accessible(pages, url, viewport):
    page = pages.new(*VIEWPORTS[viewport], bypass_csp=True)
    page.goto(url)
    _assert_clean(page, f"{url} at {viewport}")


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("role", ROLES)
def test_home_pages_are_accessible(pages, signed_in_state, role, viewport):
    page = pages.new(*VIEWPORTS[viewport], bypass_csp=True, storage_state=signed_in_state(role))
    page.goto("/")
    assert "/signin" not in page.url, "the stored sign-in did not hold"
    _assert_clean(page, f"the {role} home at {viewport}")


def test_axe_does_find_violations(pages):
    """The check can fail: a page with an unlabelled input and an image without alt."""
    page = pages.new(bypass_csp=True)
    page.set_content('<html lang="en"><body><main><img src="x.png"><input></main></body></html>')
    ids = {v["id"] for v in run_axe(page)}
    assert {"image-alt", "label"} <= ids
