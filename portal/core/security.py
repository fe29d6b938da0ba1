"""Response headers: no caching of student data, a strict CSP, and the usual hardening."""

from flask import Flask, request
from flask_talisman import Talisman

# Everything is served by the portal itself: no CDN, no inline script.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}

talisman = Talisman()


def init_app(app: Flask) -> None:
    https = app.config["SESSION_COOKIE_SECURE"]
    talisman.init_app(
        app,
        force_https=https,
        strict_transport_security=https,
        session_cookie_secure=https,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )
    app.after_request(_no_store)


def _no_store(response):
    """Shared Chromebooks: nothing but static assets may be kept by the browser."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
    return response
