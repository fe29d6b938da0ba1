"""Response headers: no caching of student data, a strict CSP, and the usual hardening."""

from flask import Flask, current_app, request
from flask_talisman import Talisman
from werkzeug.datastructures import Headers

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



class FixedTalisman(Talisman):
    """Talisman, its request-independent headers worked out once instead of every request.

    No view has options of its own (no `@talisman(...)`), so the CSP, permissions,
    frame, content-type and referrer headers are the same on every response: Talisman
    built them anew each time (parsing the policy dicts into strings). They are built
    once, by Talisman's own code, and copied after that; HSTS, which depends on whether
    the request came over HTTPS, is still decided per request by Talisman. A view that
    sets a stricter Content-Security-Policy of its own (evidence downloads: a sandbox)
    keeps it; Talisman replaced it with the site's.
    """

    _fixed: tuple[tuple[str, str], ...] | None = None

    def init_app(self, app, **options):
        self._fixed = None  # one instance, configured again by every app made
        super().init_app(app, **options)

    def _make_nonce(self):
        if self.content_security_policy_nonce_in:  # ours has no nonce: nothing to make
            super()._make_nonce()

    def _set_response_headers(self, response):
        view = current_app.view_functions.get(request.endpoint)
        if hasattr(view, "talisman_view_options"):
            return super()._set_response_headers(response)
        if self._fixed is None:
            scratch = Headers()
            options = self._get_local_options()
            self._set_feature_policy_headers(scratch, options)
            self._set_permissions_policy_headers(scratch, options)
            self._set_document_policy_headers(scratch, options)
            self._set_frame_options_headers(scratch, options)
            self._set_content_security_policy_headers(scratch, options)
            self._set_referrer_policy_headers(scratch)
            self._fixed = tuple(scratch.items())
        headers = response.headers
        for name, value in self._fixed:
            if name != "Content-Security-Policy" or name not in headers:
                headers[name] = value
        self._set_hsts_headers(headers)
        return response


talisman = FixedTalisman()


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
        headers = response.headers
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
        if "Vary" in headers:
            response.vary.update(("HX-Request", "Cookie"))
        else:  # the usual case: no header to parse and write back twice
            headers["Vary"] = "HX-Request, Cookie"
    return response
