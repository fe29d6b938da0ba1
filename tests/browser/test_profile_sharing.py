"""Maya writes in her profile in place and shares one section; her mother reads only that one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe

pytestmark = pytest.mark.browser

SHARED_TEXT = "On Saturdays I help my uncle fix bikes at his shop on Elm Street."
PRIVATE_TEXT = "Group projects where nobody listens make me want to stop trying."


def _no_axe_violations(page, where: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe found on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )


def _write_in_place(page, section, text: str) -> None:
    """Open the section's form in place, write, save: the section comes back with the words."""
    section.get_by_role("button", name=re.compile(r"^(Write in|Add to) this section")).click()
    words = section.get_by_label("Your words")
    expect(words).to_be_visible()
    words.fill(text)
    section.get_by_role("button", name="Save", exact=True).click()
    expect(section.locator("form.profile-form")).to_have_count(0)
    expect(section.locator(".entry-text").last).to_have_text(text)


def test_a_shared_section_reaches_the_family_and_nothing_else(pages, signed_in_state):
    learner = pages.new(bypass_csp=True, storage_state=signed_in_state("learner"))
    learner.goto("/")
    learner.get_by_role("link", name="My profile").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("My profile")
    maya_id = re.search(r"/learners/(\d+)/profile", learner.url).group(1)
    _no_axe_violations(learner, "Maya's profile")
    learner.evaluate("window.__noReload = 'still here'")

    interests = learner.locator("#section-interests")
    barriers = learner.locator("#section-barriers")
    private_before = barriers.locator(".entry-text").first.inner_text()
    _write_in_place(learner, interests, SHARED_TEXT)
    _write_in_place(learner, barriers, PRIVATE_TEXT)
    _no_axe_violations(learner, "Maya's profile after writing in place")

    expect(interests.locator(".badges")).to_contain_text("Learner and staff only")
    interests.get_by_role("button", name=re.compile(r"^Share with my family")).click()
    expect(interests.locator(".badges")).to_contain_text("Shared with family")
    expect(interests.get_by_role("button", name=re.compile(r"^Stop sharing"))).to_be_visible()
    expect(barriers.locator(".badges")).to_contain_text("Learner and staff only")
    assert learner.evaluate("window.__noReload") == "still here", "the profile page reloaded"
    _no_axe_violations(learner, "Maya's profile after sharing")

    # Her mother, on her own device, reads the shared words and none of the private ones.
    family = pages.new(bypass_csp=True, storage_state=signed_in_state("guardian"))
    family.goto(f"/family/children/{maya_id}")
    about = family.locator("section.family-about")
    expect(about).to_contain_text(SHARED_TEXT)
    body = family.locator("body")
    expect(body).not_to_contain_text(PRIVATE_TEXT)
    expect(body).not_to_contain_text(private_before)
    _no_axe_violations(family, "the family view of Maya")

    # Her profile page, as the family sees it: the same, and no way to write.
    family.goto(f"/learners/{maya_id}/profile")
    expect(family.locator("main")).to_contain_text(SHARED_TEXT)
    expect(family.locator("main")).not_to_contain_text(PRIVATE_TEXT)
    expect(family.locator("#section-barriers")).to_have_count(0)
    expect(family.locator("main form")).to_have_count(0)
    _no_axe_violations(family, "Maya's profile as her family sees it")

    assert not pages.console_errors, pages.console_errors
    assert not pages.failed_requests, pages.failed_requests
