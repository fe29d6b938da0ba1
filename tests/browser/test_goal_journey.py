"""Maya drafts goals in a real browser: from scratch, saved in place twice, and from a template."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe

pytestmark = pytest.mark.browser

FIRST_WORDING = "I will explain percent change problems out loud to a partner every week."
SECOND_WORDING = "I will explain percent change problems out loud to my study group every week."
OWN_STEP = "Write one worked example on an index card each Monday"
ADAPTED = "I will solve percent problems like tax, tips and discounts on my own at the store."


def _no_axe_violations(page, where: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe found on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )


def _mark_window(page) -> None:
    """A marker that only survives as long as no full page load happens."""
    page.evaluate("window.__noReload = 'still here'")


def _assert_no_reload(page) -> None:
    assert page.evaluate("window.__noReload") == "still here", "the page was reloaded"


def test_maya_drafts_a_goal_from_scratch_and_edits_it(pages, signed_in_state):
    page = pages.new(bypass_csp=True, storage_state=signed_in_state("learner"))
    page.goto("/goals/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("New goal")
    _no_axe_violations(page, "a blank new goal")
    _mark_window(page)

    page.get_by_label("My goal, in my own words").fill(FIRST_WORDING)

    # Search targets as she types: the list narrows to percent targets; she ticks one.
    lists = page.locator("#target-lists")
    page.get_by_label("Find a learning target").press_sequentially("percent", delay=20)
    expect(lists).not_to_contain_text("ELA.7.RI.2")
    expect(lists).to_contain_text("MATH.7.RP.3")
    lists.get_by_label(re.compile("MATH.7.RP.3")).check()
    expect(lists.get_by_role("list", name="Chosen targets")).to_contain_text("MATH.7.RP.3")
    expect(lists).to_contain_text("1 target chosen")

    # A step of her own, added in place, and one strategy from the school's bank.
    rows = page.locator("#strategy-rows .strategy-row")
    before = rows.count()
    page.get_by_role("button", name="Add a step of my own").click()
    expect(rows).to_have_count(before + 1)
    page.get_by_label(f"My own step {before + 1}").fill(OWN_STEP)
    page.get_by_label("Work with a peer tutor").check()
    due = date.today() + timedelta(days=21)
    page.get_by_label("Due date").fill(due.isoformat())
    _assert_no_reload(page)
    _no_axe_violations(page, "the new goal form, filled in")

    # Save the draft in place: the form comes back as the edit form, same window.
    page.get_by_role("button", name="Save draft").click()
    form = page.locator("#goal-form")
    expect(form.get_by_role("status")).to_contain_text("Draft saved.")
    expect(page).to_have_url(re.compile(r"/goals/\d+/edit$"))
    _assert_no_reload(page)
    goal_id = re.search(r"/goals/(\d+)/edit", page.url).group(1)
    expect(page.get_by_label("My goal, in my own words")).to_have_value(FIRST_WORDING)
    expect(page.get_by_label("My own step 1")).to_have_value(OWN_STEP)
    expect(page.get_by_label("Work with a peer tutor")).to_be_checked()
    expect(page.get_by_label("Due date")).to_have_value(due.isoformat())

    # She rewords it and saves again: version 2, still in place.
    page.get_by_label("My goal, in my own words").fill(SECOND_WORDING)
    page.get_by_role("button", name="Save draft").click()
    expect(form.get_by_role("status")).to_contain_text("Saved.")
    expect(form.get_by_role("status")).to_contain_text("version 2")
    _assert_no_reload(page)
    _no_axe_violations(page, "the goal form after saving in place")

    # The history shows both versions and what changed between them.
    page.goto(f"/goals/{goal_id}")
    page.get_by_role("link", name="See every version").click()
    expect(page).to_have_url(re.compile(rf"/goals/{goal_id}/history$"))
    versions = page.locator("li.goal-version")
    expect(versions).to_have_count(2)
    newest = versions.nth(0)
    expect(newest.get_by_role("heading", level=2)).to_have_text("Version 2")
    diff = newest.locator("p.diff")
    expect(diff.locator("del")).to_have_text(["a", "partner"])
    expect(diff.locator("ins")).to_have_text(["my", "study group"])
    oldest = versions.nth(1)
    expect(oldest.get_by_role("heading", level=2)).to_have_text("Version 1")
    expect(oldest).to_contain_text(FIRST_WORDING)
    expect(oldest).to_contain_text(OWN_STEP)
    expect(oldest).to_contain_text("Work with a peer tutor")
    expect(oldest).to_contain_text("MATH.7.RP.3")
    _no_axe_violations(page, "the goal history")

    page.get_by_role("link", name="Home").click()
    expect(page.locator("section.home-goals")).to_contain_text(SECOND_WORDING)

    assert not pages.console_errors, pages.console_errors
    assert not pages.failed_requests, pages.failed_requests


def test_maya_adapts_a_template_and_sees_her_drafts_at_home(pages, signed_in_state):
    page = pages.new(bypass_csp=True, storage_state=signed_in_state("learner"))
    page.goto("/goals/templates")
    expect(page.get_by_role("heading", level=1)).to_have_text("Goal ideas from my teachers")
    _no_axe_violations(page, "the goal templates")

    # A link styled as a button (role=button), with the template's title for screen readers.
    page.get_by_role(
        "button", name=re.compile(r"^Use this idea\W+Percent problems sprint$")
    ).click()
    expect(page).to_have_url(re.compile(r"/goals/new\?template=\d+$"))
    statement = page.get_by_label("My goal, in my own words")
    expect(statement).to_have_value(re.compile("percent problems like tax, tips and discounts"))
    chosen = page.locator("#target-lists").get_by_role("list", name="Chosen targets")
    expect(chosen).to_contain_text("MATH.7.RP.3")
    _no_axe_violations(page, "a goal started from a template")

    _mark_window(page)
    statement.fill(ADAPTED)
    page.get_by_label("Due date").fill((date.today() + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#goal-form").get_by_role("status")).to_contain_text("Draft saved.")
    _assert_no_reload(page)

    page.goto("/")
    my_goals = page.locator("section.home-goals")
    expect(my_goals).to_contain_text(ADAPTED)
    card = my_goals.locator("article.goal-card", has_text=ADAPTED)
    expect(card.locator(".goal-status")).to_have_text("Draft")
    _no_axe_violations(page, "the learner's home with new drafts")

    assert not pages.console_errors, pages.console_errors
    assert not pages.failed_requests, pages.failed_requests
