"""Template globals and filters shared by every page."""

from flask import Flask
from flask_babel import get_locale

from portal import i18n, policy
from portal.auth.models import Role
from portal.web import POLL_HEADER


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        can=policy.can,
        Action=policy.Action,
        Role=Role,
        get_locale=get_locale,
        POLL_HEADER=POLL_HEADER,
    )
    app.jinja_env.filters["date"] = i18n.date_text
    app.jinja_env.filters["time"] = i18n.time_text
    app.jinja_env.filters["datetime"] = i18n.datetime_text
