"""One way to show dates and times: the locale's medium date and short time, in the district's
time zone, through the `date`, `time` and `datetime` filters (portal/core/i18n.py)."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal.core import i18n

ROOT = Path(__file__).resolve().parents[1]
# Anything but the filters that turns a date into text for a person to read.
OTHER_FORMATTING = re.compile(
    r"strftime|format_date|format_datetime|format_time|format_timedelta|toLocale"
    r"|\|\s*(?:date|datetime|time)\s*\("  # a filter given its own format
    r"|\.isoformat\(\)(?!\s*\}\}Z?\")"  # ISO text outside a machine-readable attribute
)


def _hits(paths):
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OTHER_FORMATTING.search(line):
                yield f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_templates_format_dates_only_through_the_filters():
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/js/**/*.js")]
    assert templates
    assert list(_hits(templates)) == []


def test_python_formats_dates_only_through_i18n():
    # The demo writes goal statements as a learner would type them ("by March 3"): data.
    exempt = {ROOT / "portal/core/i18n.py", ROOT / "portal/goals/demo.py"}
    modules = [p for p in ROOT.glob("portal/**/*.py") if p not in exempt]
    hits = [h for h in _hits(modules) if "isoformat()" not in h]  # JSON and stored text
    assert hits == []


@pytest.fixture
def ctx(app):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "America/New_York"
    with app.test_request_context():
        yield


# 15:15 UTC on Dec 3 is 10:15 in New York; 02:00 UTC on Dec 4 is still Dec 3 there.
MOMENT = datetime(2026, 12, 3, 15, 15)
LATE = datetime(2026, 12, 4, 2, 0)


@pytest.mark.parametrize(
    ("locale", "day", "clock", "both"),
    [
        ("en", "Dec 3, 2026", "10:15\u202fAM", "Dec 3, 2026, 10:15\u202fAM"),
        ("es", "3 dic 2026", "10:15", "3 dic 2026, 10:15"),
    ],
)
def test_the_filters_render_one_shape_per_locale(ctx, locale, day, clock, both):
    with force_locale(locale):
        assert i18n.date_text(MOMENT) == day
        assert i18n.date_text(date(2026, 12, 3)) == day
        assert i18n.time_text(MOMENT) == clock
        assert i18n.datetime_text(MOMENT) == both
        rendered = render_template_string(
            "{{ m|date }}|{{ m|time }}|{{ m|datetime }}|{{ d|datetime }}|{{ none|datetime }}",
            m=MOMENT,
            d=date(2026, 12, 3),
            none=None,
        )
        assert rendered == f"{day}|{clock}|{both}|{day}|"


def test_moments_are_shown_in_the_district_time_zone(ctx):
    with force_locale("en"):
        assert i18n.date_text(LATE) == "Dec 3, 2026"
        assert i18n.datetime_text(LATE) == "Dec 3, 2026, 9:00\u202fPM"
