"""Flask-Login wiring: load users from server-side sessions, answer htmx with HX-Redirect.

Every response to a signed-in request says how many seconds of idleness are left
(`X-Waypoint-Idle-Seconds`; the page gets it as `data-idle-seconds` on <body>), so
app.js can warn before the session ends instead of losing what someone types.
"""

import hashlib
import hmac

from flask import Flask, current_app, g, make_response, redirect, request, request_started, url_for
from flask_login import current_user

from portal.audit.services import flush_access_log
from portal.auth import drafts, services
from portal.core.extensions import htmx, login_manager
from portal.core.timeutil import utcnow
from portal.core.web import is_background_request, safe_next

IDLE_HEADER = "X-Waypoint-Idle-Seconds"


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # our own server-side sessions do this job
    request_started.connect(_fresh_g, app)
    app.after_request(flush_access_log)
    app.after_request(_idle_header)
    app.before_request(drafts.consume_resent)
    app.jinja_env.globals.update(idle_seconds=idle_seconds, draft_owner=draft_owner)


def _fresh_g(sender, **extra) -> None:
    """Start every request with an empty `g`, as a new app context would.

    `g` outlives a request when an app context is reused (tests, scripts); then
    Flask-Login's cached user and Flask-WTF's cached token would carry over.
    """
    g._get_current_object().__dict__.clear()


def idle_seconds() -> int | None:
    """Seconds until this session ends for idleness, if a signed-in user was loaded."""
    deadline = g.get("idle_deadline")
    if deadline is None:
        return None
    return max(0, int((deadline - utcnow()).total_seconds()))


def _idle_header(response):
    if (seconds := idle_seconds()) is not None:
        response.headers[IDLE_HEADER] = str(seconds)
    return response


def draft_owner() -> str:
    """An opaque name for the signed-in person, under which app.js keeps unsaved drafts.

    It outlives the session (drafts must survive signing in again) and says nothing
    about who it is; a draft under another owner is dropped, never restored.
    """
    if not current_user.is_authenticated:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"draft:{current_user.id}".encode(), hashlib.sha256).hexdigest()[:20]


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
    if drafts.stash_ended_post():
        # Without JavaScript the words exist only in this request: keep them for the
        # person whose session ended, and offer them back after they sign in again.
        return redirect(url_for("auth.login", kept=1), code=303)
    return redirect(url_for("auth.login", next=target))


def _same_origin_path(url: str | None) -> str | None:
    return safe_next(url)
