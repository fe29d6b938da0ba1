"""Template globals and filters shared by every page."""

import re

from flask import Flask
from jinja2.ext import Extension
from jinja2.utils import htmlsafe_json_dumps

from portal import policy
from portal.auth.models import Role
from portal.core import i18n
from portal.core.i18n import current_locale
from portal.core.web import POLL_HEADER


class DropIndentation(Extension):
    """Drop the indentation at the start of each template line, once, when a template loads.

    Pages are sent uncompressed (they carry the CSRF token: BREACH), so the indentation
    that keeps templates readable was 10% of the learner home's bytes. A line break stays
    where one was, so text and inline elements render as before; no template holds <pre>,
    a literal <textarea> body or a message string that spans lines (test_templates_dont_
    depend_on_indentation checks), the only places leading spaces would mean something.
    """

    _INDENT = re.compile(r"\n[ \t]+")

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self._INDENT.sub("\n", source)


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.add_extension(DropIndentation)
    app.jinja_env.globals.update(
        can=policy.can,
        class_has_ended=policy.class_has_ended,
        family_view=policy.family_view,
        shown_version=policy.shown_version,
        Action=policy.Action,
        Role=Role,
        get_locale=current_locale,
        # A poll's hx-headers value, made once (every tracker on a page carries it).
        POLL_HEADERS=htmlsafe_json_dumps({POLL_HEADER: "1"}),
    )
    app.jinja_env.filters["date"] = i18n.date_text
    app.jinja_env.filters["time"] = i18n.time_text
    app.jinja_env.filters["datetime"] = i18n.datetime_text
