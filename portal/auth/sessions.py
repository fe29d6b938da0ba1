"""Flask-Login wiring: load users from server-side sessions, answer htmx with HX-Redirect."""

from flask import Flask, g, make_response, redirect, request, request_started, url_for

from portal.audit.services import flush_access_log
from portal.auth import services
from portal.extensions import htmx, login_manager
from portal.web import is_background_request


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # our own server-side sessions do this job
    request_started.connect(_fresh_g, app)
    app.after_request(flush_access_log)


def _fresh_g(sender, **extra) -> None:
    """Start every request with an empty `g`, as a new app context would.

    `g` outlives a request when an app context is reused (tests, scripts); then
    Flask-Login's cached user and Flask-WTF's cached token would carry over.
    """
    g._get_current_object().__dict__.clear()


@login_manager.user_loader
def load_user(user_id: str):
    return services.session_user(user_id, background=is_background_request())


@login_manager.unauthorized_handler
def unauthorized():
    """Send to sign-in; an htmx request gets HX-Redirect, never a form inside a fragment."""
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if htmx:
        target = _same_origin_path(request.headers.get("HX-Current-URL")) or target
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=target)
        return response
    return redirect(url_for("auth.login", next=target))


def _same_origin_path(url: str | None) -> str | None:
    from portal.auth.routes import safe_next

    return safe_next(url)
