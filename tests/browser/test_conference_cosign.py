"""Two devices, one conference: Ms. Rivera and Maya co-sign a goal; an edit needs signing again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe

pytestmark = pytest.mark.browser

LIVE_WAIT = 12_000  # the panel polls every 4 s


def _no_axe_violations(page, where: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe found on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where} is {overflow}px too wide"


def _circle_goal_id(page) -> str:
    return page.evaluate(
        """() => [...document.querySelectorAll('article.goal-work')]
              .find(a => (a.querySelector('textarea') || {}).value?.includes('circle'))
              .id.replace('goal-work-', '')"""
    )


def test_teacher_and_learner_co_sign_on_two_devices(pages, signed_in_state):
    learner = pages.new(bypass_csp=True, storage_state=signed_in_state("learner"))
    teacher = pages.new(bypass_csp=True, storage_state=signed_in_state("teacher"))

    learner.goto("/")
    learner.get_by_role("button", name="Get ready for it").click()
    learner.wait_for_url(re.compile(r"/conferences/\d+$"))
    teacher.goto(learner.url)
    expect(teacher.get_by_role("heading", level=1)).to_contain_text("Maya Johnson")
    _no_axe_violations(learner, "the learner's conference workspace")
    _no_axe_violations(teacher, "the teacher's conference workspace")

    goal_id = _circle_goal_id(teacher)
    t_goal = teacher.locator(f"#goal-work-{goal_id}")
    l_goal = learner.locator(f"#goal-work-{goal_id}")
    l_live = learner.locator(f"#live-goal-{goal_id}")
    t_live = teacher.locator(f"#live-goal-{goal_id}")

    # The teacher rewords the goal; Maya sees it in her shared view within seconds.
    t_goal.locator("textarea").fill(
        "Use the circle formulas to find area and circumference for our garden plan."
    )
    t_goal.get_by_role("button", name="Save the wording").click()
    expect(teacher.locator(f"#goal-work-{goal_id}")).to_contain_text("Saved as version 2")
    expect(l_live).to_contain_text("garden plan", timeout=LIVE_WAIT)

    # Maya signs on her Chromebook (her form was never swapped under her).
    learner.reload()
    learner.locator(f"#goal-work-{goal_id}").get_by_role(
        "button", name="I agree: sign version 2"
    ).click()
    expect(learner.locator(f"#goal-work-{goal_id}")).to_contain_text("Signed.")
    expect(t_live).to_contain_text("learner: signed", timeout=LIVE_WAIT)

    # The teacher signs the same version: the goal is agreed, on both screens.
    teacher.locator(f"#goal-work-{goal_id}").get_by_role(
        "button", name="I agree: sign version 2"
    ).click()
    expect(teacher.locator(f"#goal-work-{goal_id}")).to_contain_text("The goal is agreed")
    expect(l_live).to_contain_text("Agreed: both signed", timeout=LIVE_WAIT)

    # A change afterwards makes a version that needs both signatures again.
    t_goal = teacher.locator(f"#goal-work-{goal_id}")
    t_goal.locator("textarea").fill(
        "Use the circle formulas for our garden plan and the school track."
    )
    t_goal.get_by_role("button", name="Save the wording").click()
    expect(teacher.locator(f"#goal-work-{goal_id}")).to_contain_text("Changed since signed")
    expect(l_live).to_contain_text("Changed since signed", timeout=LIVE_WAIT)
    expect(l_goal).to_be_visible()

    _no_axe_violations(teacher, "the teacher's workspace after signing")
    _no_axe_violations(learner, "the learner's workspace after signing")
    assert not pages.console_errors, pages.console_errors
    assert not pages.failed_requests, pages.failed_requests


def test_the_workspace_fits_a_phone(pages, signed_in_state):
    learner = pages.new(360, 640, bypass_csp=True, storage_state=signed_in_state("learner"))
    learner.goto("/conferences")
    learner.locator("main a[href*='/conferences/']").first.click()
    learner.wait_for_url(re.compile(r"/conferences/\d+$"))
    _no_axe_violations(learner, "the learner's workspace on a phone")
