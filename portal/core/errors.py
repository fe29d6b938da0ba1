"""Error pages that keep the layout and say what happened in plain words.

A page request gets the whole page. An htmx request that is not a boosted
navigation gets one short message (`errors/_message.html`): app.js puts its text
next to the form or element that asked, so what the person typed stays on the page.
"""

from flask import Flask, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from portal.core.extensions import db, login_manager
from portal.core.i18n import gettext
from portal.core.web import safe_next, wants_fragment


def N_(message: str) -> str:
    """Mark a message for extraction (pybabel); it is translated when shown."""
    return message


MESSAGES = {
    400: N_("The request could not be understood."),
    403: N_("You do not have permission to do that."),
    404: N_("We could not find that page."),
    405: N_("That cannot be done here."),
    # The very words of the upload form's own check (progress/routes.py), so a file
    # over the limit gets the same message whether the server or the form catches it.
    413: N_("That file is too large: the limit is %(mb)d MB."),
    415: N_("This page takes what its form sends, nothing else."),
    422: N_("Some of what you entered needs another look."),
    429: N_("Too many tries. Please wait a moment and try again."),
    500: N_("Something went wrong on our side. Nothing was saved. Please try again."),
}
CLIENT_ERROR = N_("That could not be done. Reload the page and try again.")
SERVER_ERROR = MESSAGES[500]


def init_app(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, _handle)
    app.register_error_handler(HTTPException, _handle)  # every other status
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(DataError, _data_error)
    app.jinja_env.globals["error_message"] = message_for


def upload_limit_mb() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"])


def message_for(code: int) -> str:
    """The translated message for a status, e.g. for the page's hidden message list."""
    text = MESSAGES.get(code) or (SERVER_ERROR if code >= 500 else CLIENT_ERROR)
    return gettext(text, mb=upload_limit_mb()) if code == 413 else gettext(text)


def _handle(error):
    if not isinstance(error, HTTPException):  # an unexpected exception: a 500
        current_app.logger.exception("Unhandled error", exc_info=error)
        return _render(500, None)
    if error.code is None or error.code < 400:
        return error  # redirects and the like are not errors
    detail = error.description if error.code == 400 and error.description else None
    if detail and detail == type(error).description:
        detail = None  # werkzeug's own English default: use ours
    return _render(error.code, detail)


def _csrf(error):
    """A stale form token. When the session is gone too (signed out in another tab,
    or expired), say that: answer like any signed-out request, so the page offers to
    sign in again and keeps what was typed."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "access", "public") != "public" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return _render(
        400, N_("Your session form token was missing or stale. Reload the page and try again.")
    )


def _data_error(error):
    """Last resort: a value the database refused. Input checks should have caught it first.

    Nothing of the request is kept (the transaction is rolled back); the error is logged
    so the check that missed it can be added.
    """
    db.session.rollback()
    current_app.logger.warning("Database refused a value: %s", error.orig)
    return _render(400, N_("Something you entered cannot be stored. Nothing was saved."))


def _render(code: int, detail: str | None):
    message = gettext(detail) if detail else message_for(code)
    if wants_fragment():
        return render_template("errors/_message.html", code=code, message=message), code
    back = _back_link() if request.method != "GET" else None
    return render_template("errors/error.html", code=code, message=message, back=back), code


def _back_link() -> str | None:
    """After a failed form post: the page the form was on (same site only)."""
    return safe_next(request.referrer) or (request.path if request.method == "POST" else None)
