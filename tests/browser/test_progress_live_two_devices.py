"""Two devices: Maya logs progress with a photo; Ms. Rivera's class view updates by itself."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe

pytestmark = pytest.mark.browser

LIVE_WAIT = 12_000  # the class view and the trackers poll every 5 s
# The smallest valid PNG: one transparent pixel.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
LABELS = {1: "Beginning", 2: "Developing", 3: "Proficient", 4: "Extending"}
REFLECTION = "I worked out the discount on three real shop receipts and checked them twice."


def _no_axe_violations(page, where: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe found on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )


def test_teacher_sees_a_logged_entry_without_reloading(pages, signed_in_state, tmp_path):
    teacher = pages.new(bypass_csp=True, storage_state=signed_in_state("teacher"))
    learner = pages.new(bypass_csp=True, storage_state=signed_in_state("learner"))

    # Ms. Rivera finds Math 7's progress view from her home.
    teacher.goto("/")
    teacher.get_by_role("link", name="Math 7").click()
    teacher.get_by_role("link", name="Progress of every learner").click()
    expect(teacher).to_have_url(re.compile(r"/classes/\d+/progress$"))
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Progress in Math 7")
    _no_axe_violations(teacher, "the class progress view")
    teacher.evaluate("window.__noReload = 'still here'")

    row = teacher.locator("tr", has=teacher.get_by_role("rowheader", name="Maya Johnson"))
    goal_link = row.locator("ul.goal-cells a").first
    goal_href = goal_link.get_attribute("href")
    goal_id = re.fullmatch(r"/goals/(\d+)/progress", goal_href).group(1)
    cell = row.locator("li", has=teacher.locator(f"a[href='{goal_href}']"))
    level = cell.locator("strong")
    before = level.inner_text()
    # One rating moves a decaying average (65% new) across a level boundary either way.
    rating = 1 if before in (LABELS[3], LABELS[4]) else 4

    # Maya logs progress on that goal, with a photo of her work.
    learner.goto(f"/goals/{goal_id}/progress")
    tracker = learner.locator(f"#tracker-{goal_id}")
    expect(tracker.locator(".tracker-levels")).to_contain_text(f"Now: {before}")
    _no_axe_violations(learner, "the learner's goal progress page")
    photo = tmp_path / "receipts.png"
    photo.write_bytes(PIXEL_PNG)
    form = learner.locator("#log-form")
    form.get_by_role("radio", name=re.compile(rf"^{rating} · {LABELS[rating]}:")).check()
    form.get_by_label("My reflection").fill(REFLECTION)
    form.get_by_label("Upload a file (optional)").set_input_files(str(photo))
    form.get_by_role("button", name="Save my progress").click()

    learner.wait_for_url(re.compile(rf"/goals/{goal_id}/progress\?logged=\d+"))
    expect(learner.locator("#next-step")).to_contain_text("Saved. Your next step")
    newest = learner.locator("article.entry").first
    expect(newest).to_contain_text(REFLECTION)
    expect(newest.locator("dl.ratings")).to_contain_text(f"Own rating{LABELS[rating]}")
    photo_shown = newest.get_by_role("img", name="Evidence: receipts.png")
    photo_shown.scroll_into_view_if_needed()  # it loads lazily
    expect(photo_shown).to_have_js_property("naturalWidth", 1)  # served back, and a real PNG
    # Her own tracker: the new rating is the latest point, and the level moved.
    tracker = learner.locator(f"#tracker-{goal_id}")
    expect(tracker.locator("desc")).to_contain_text(f": {LABELS[rating]}. Highest")
    now = tracker.locator(".tracker-levels strong").first
    expect(now).not_to_have_text(before)
    after = now.inner_text()
    expect(tracker.locator(".tracker-facts")).to_contain_text("today")
    _no_axe_violations(learner, "the learner's goal page after logging")

    # Without a reload, Ms. Rivera's row shows the new level and today's entry.
    expect(level).to_have_text(after, timeout=LIVE_WAIT)
    expect(row.locator("td").nth(1)).to_have_text("today", timeout=LIVE_WAIT)
    assert teacher.evaluate("window.__noReload") == "still here", "the teacher's page reloaded"
    _no_axe_violations(teacher, "the class progress view after the update")

    assert not pages.console_errors, pages.console_errors
    assert not pages.failed_requests, pages.failed_requests
