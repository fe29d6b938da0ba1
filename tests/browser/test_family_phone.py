"""Ana, on her phone (360x640): both children, a tracker, a cheer, Spanish and English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe, sign_in

pytestmark = pytest.mark.browser

PHONE = (360, 640)
CHEER = "¡Qué orgullo, Maya! Sigue practicando los porcentajes."


def _clean_on_a_phone(page, where: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe found on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"{where} scrolls sideways: {width}px wide"


def _switch_to(page, name: str) -> None:
    switcher = page.locator("nav.child-switch")
    switcher.get_by_role("link", name=name, exact=True).click()
    expect(page.locator("#child-name")).to_contain_text(name)
    expect(switcher.get_by_role("link", name=name, exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def test_a_parent_follows_both_children_on_a_phone(pages, demo_accounts):
    page = pages.new(*PHONE, bypass_csp=True)
    sign_in(page, demo_accounts.usernames["guardian"], demo_accounts.password)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "es")  # her saved language
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi familia")
    _clean_on_a_phone(page, "the family home in Spanish")

    # The switcher swaps the child in place (and the address follows).
    page.evaluate("window.__noReload = 'still here'")
    _switch_to(page, "Eli")
    expect(page).to_have_url(re.compile(r"/family/children/\d+$"))
    _switch_to(page, "Maya")
    maya_url = page.url
    assert page.evaluate("window.__noReload") == "still here", "switching reloaded the page"
    _clean_on_a_phone(page, "Maya's family view in Spanish")

    # Maya's tracker, read-only: a level and the target, no way to log progress.
    goal = page.locator(".family-goal").first
    tracker = goal.locator("article.tracker")
    expect(tracker.locator(".tracker-levels")).to_contain_text("Ahora:")
    expect(tracker.locator(".tracker-levels")).to_contain_text("Objetivo:")
    expect(tracker.locator("a[href$='#log']")).to_have_count(0)

    # A cheer on that goal: sent, and shown under it.
    goal_id = goal.get_attribute("id")
    form = goal.locator("form.cheer-form").last
    form.get_by_label("Su mensaje de ánimo").fill(CHEER)
    form.get_by_role("button", name="Enviar ánimo").click()
    page.wait_for_url(re.compile(rf"{re.escape(maya_url)}#{goal_id}$"))
    expect(page.locator(f"#{goal_id} .cheer-list")).to_contain_text(CHEER)
    expect(page.locator(".flashes")).to_contain_text("Maya")
    _clean_on_a_phone(page, "Maya's family view after a cheer")

    # English, with the layout's switcher: the page and its <html lang> change.
    page.locator(".language-switch button[value='en']").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My family")
    expect(page.locator("#child-name")).to_contain_text("Maya")  # still the same child
    expect(page.locator(f"#{goal_id} .cheer-list")).to_contain_text(CHEER)
    _clean_on_a_phone(page, "Maya's family view in English")

    # And back to Spanish, her saved language for the next visit.
    page.locator(".language-switch button[value='es']").click()
    expect(html).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi familia")

    assert not pages.console_errors, pages.console_errors
    assert not pages.failed_requests, pages.failed_requests
