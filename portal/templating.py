"""Template globals and filters shared by every page."""

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

from portal import policy
from portal.auth.models import Role
from portal.web import POLL_HEADER


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        can=policy.can,
        family_view=policy.family_view,
        shown_version=policy.shown_version,
        Action=policy.Action,
        Role=Role,
        get_locale=get_locale,
        POLL_HEADER=POLL_HEADER,
    )
    app.jinja_env.filters["date"] = lambda d, fmt="medium": format_date(d, fmt) if d else ""
    app.jinja_env.filters["datetime"] = lambda d, fmt="medium": format_datetime(d, fmt) if d else ""
