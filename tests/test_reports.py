"""Printable reports (PDF) rendered by a background job, read back by their text (pypdf).

The job is run in the test (`jobs.run_job`, as the worker does), then its owner downloads
the file. The family report comes out in the guardian's language.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from portal.conferences.models import GoalSignature, SignerRole, SignMethod
from portal.core import jobs
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.pdf import html_to_pdf
from portal.profiles import services as profiles
from portal.reports import services as reports
from tests.fixtures import progress as build
from tests.fixtures.family import (
    PRIVATE_NOTE,
    SHARED_SECTION_TEXT,
    TEACHER_NOTE_FOR_FAMILY,
    UNSHARED_SECTION_TEXT,
    family,  # noqa: F401 (fixture)
)

# Set WAYPOINT_REPORTS_DIR to keep each rendered PDF there (to look at with pdftoppm).
OUT = os.environ.get("WAYPOINT_REPORTS_DIR")


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _print(app, client, url: str, save_as: str | None = None) -> tuple[bytes, int]:
    """POST the print button, run the job as the worker would, download the PDF."""
    db.session.commit()
    response = client.post(url)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    db.session.commit()
    jobs.run_job(app, job_id)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == "done", job.error
    download = client.get(f"/reports/{job_id}/pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    if save_as and OUT:
        Path(OUT).mkdir(parents=True, exist_ok=True)
        (Path(OUT) / save_as).write_bytes(download.data)
    return download.data, job_id


def _sign(goal, learner, teacher):
    goal.agreed_version_id = goal.current_version_id
    for signer, role in ((learner, SignerRole.LEARNER), (teacher, SignerRole.TEACHER)):
        db.session.add(
            GoalSignature(
                goal_id=goal.id,
                version_id=goal.current_version_id,
                learner_id=learner.id,
                signer_id=signer.id,
                role=role,
                content_hash="0" * 64,
                method=SignMethod.SESSION,
            )
        )
    db.session.flush()


def test_the_learner_prints_her_one_page_profile_for_herself_alone(
    app, family, client, auth, backend  # noqa: F811
):
    strengths = profiles.find_spec(family.maya, "strengths")
    profiles.add_entry(family.maya, strengths, family.maya, "Dibujo cómics 🎨 y fútbol")
    auth.login(family.maya)
    url = f"/learners/{family.maya.id}/reports/profile"
    data, job_id = _print(app, client, url, f"profile-{backend}.pdf")
    text = _text(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "Maya Johnson" in text
    assert SHARED_SECTION_TEXT in text and UNSHARED_SECTION_TEXT in text  # all of it, for her
    assert "Dibujo cómics" in text and "fútbol" in text
    auth.logout()
    # The file is its owner's alone: her teacher may print his own, not download hers.
    auth.login(family.teacher)
    assert client.get(f"/reports/{job_id}/pdf").status_code == 404
    auth.logout()
    # After REPORTS_KEEP_HOURS the sweep deletes it, and the owner is told so.
    assert reports.remove_old_reports(now=time.time() + reports.keep_hours() * 3600 + 60) == 1
    auth.login(family.maya)
    gone = client.get(f"/reports/{job_id}/pdf")
    assert gone.status_code == 410 and "not available" in gone.get_data(as_text=True)


def test_the_teacher_prints_a_goal_report_with_signatures_chart_and_entries(
    app, family, client, auth, backend  # noqa: F811
):
    _sign(family.goal, family.maya, family.teacher)
    for rating, days in ((1, 9), (3, 2)):
        entry = build.entry(_Make(), family.goal, rating, days_ago=days)
        assert entry.id
    auth.login(family.teacher)
    data, _ = _print(app, client, f"/goals/{family.goal.id}/report", f"goal-{backend}.pdf")
    text = _text(data)
    assert "I will reach Proficient on ratios by May." in text
    assert "Signatures" in text and family.teacher.display_name in text
    assert "I made a ratio table for pancakes." in text and "I practised and it went fine." in text
    assert PRIVATE_NOTE in text  # the teacher reads every piece of feedback
    assert "Your own rating" in text or "own rating" in text.lower()  # the chart's legend


class _Make:
    """The bit of the factory `build.entry` uses."""

    @property
    def session(self):
        return db.session


def test_the_family_report_is_in_the_guardians_language(app, family, client, auth, backend):  # noqa: F811
    family.goal.agreed_version_id = family.goal.current_version_id
    auth.login(family.guardian)
    url = f"/learners/{family.maya.id}/reports/family"
    for locale, heading, grade in (
        ("en", "What Maya is working on", "Grade 7"),
        ("es", "En qué está trabajando Maya", "Grado 7"),
    ):
        family.guardian.locale = locale
        data, _ = _print(app, client, url, f"family-{locale}-{backend}.pdf")
        text = _text(data)
        assert heading in text and grade in text
        assert "I will reach Proficient on ratios by May." in text
        assert "I made a ratio table for pancakes." in text  # shared with family
        assert TEACHER_NOTE_FOR_FAMILY in text
        assert SHARED_SECTION_TEXT in text
        # What the family page does not show, the report does not either.
        assert PRIVATE_NOTE not in text and UNSHARED_SECTION_TEXT not in text


# --- Who may print what ---------------------------------------------------------------


def test_who_may_print_what(app, family, client, auth):  # noqa: F811
    maya = family.maya.id
    urls = {
        "profile": f"/learners/{maya}/reports/profile",
        "goal": f"/goals/{family.goal.id}/report",
        "family": f"/learners/{maya}/reports/family",
    }
    expected = {
        "maya": {"profile": 303, "goal": 303, "family": 403},
        "teacher": {"profile": 303, "goal": 303, "family": 403},
        "guardian": {"profile": 403, "goal": 403, "family": 303},
        "other_guardian": {"profile": 403, "goal": 403, "family": 404},
        "other_teacher": {"profile": 404, "goal": 404, "family": 403},
        "admin": {"profile": 403, "goal": 403, "family": 403},
        "leo": {"profile": 404, "goal": 404, "family": 403},
    }
    got = {}
    for who in expected:
        auth.login(getattr(family, who))
        db.session.commit()
        got[who] = {name: client.post(url).status_code for name, url in urls.items()}
        auth.logout()
    assert got == expected
    started = db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "reports.pdf"))
    assert started == 5


def test_a_teacher_who_lost_the_class_gets_no_report(app, family, client, auth):  # noqa: F811
    auth.login(family.teacher)
    db.session.commit()
    response = client.post(f"/learners/{family.maya.id}/reports/profile")
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    family.maya.active = False  # teachers do not relate to deactivated learners
    db.session.commit()
    db.session.commit()
    jobs.run_job(app, job_id)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == "failed" and "no longer have access" in job.error
    assert client.get(f"/reports/{job_id}/pdf").status_code == 410


def _fonts(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_digits_are_set_in_the_text_font_and_emoji_in_the_emoji_font():
    """Listing the emoji font in font-family drew every digit from it (wide, spaced out)."""
    plain = _fonts(html_to_pdf("<p>Dec 2, 2026 · 20 minutes</p>"))
    assert plain and not any("Emoji" in name for name in plain), plain
    assert any("Emoji" in name for name in _fonts(html_to_pdf("<p>Goal 🎯</p>")))
