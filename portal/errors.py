"""Error pages that keep the layout and say what happened in plain words."""

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

from portal.extensions import htmx


def N_(message: str) -> str:
    """Mark a message for extraction (pybabel); it is translated when shown."""
    return message


MESSAGES = {
    400: N_("The request could not be understood."),
    403: N_("You do not have permission to do that."),
    404: N_("We could not find that page."),
    413: N_("That file is too large."),
    415: N_("This page takes what its form sends, nothing else."),
    422: N_("Some of what you entered needs another look."),
    429: N_("Too many tries. Please wait a moment and try again."),
}


def init_app(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, _handle)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(DataError, _data_error)


def _handle(error):
    return _render(error.code, error.description if error.code == 400 else None)


def _csrf(error):
    return _render(
        400, N_("Your session form token was missing or stale. Reload the page and try again.")
    )


def _data_error(error):
    """Last resort: a value the database refused. Input checks should have caught it first.

    Nothing of the request is kept (the transaction is rolled back); the error is logged
    so the check that missed it can be added.
    """
    from portal.extensions import db

    db.session.rollback()
    current_app.logger.warning("Database refused a value: %s", error.orig)
    return _render(400, N_("Something you entered cannot be stored. Nothing was saved."))


def _render(code: int, detail: str | None):
    from flask_babel import gettext

    message = gettext(detail or MESSAGES[code])
    if htmx:
        return render_template("errors/_error.html", code=code, message=message), code
    return render_template("errors/error.html", code=code, message=message), code
