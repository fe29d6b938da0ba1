"""Rendering for pages and their htmx partials, and htmx-aware responses.

A page template includes its partials; an htmx request for the same URL gets
just the named block of that same template, so page and fragment never drift.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block

from portal.extensions import htmx

POLL_HEADER = "X-Waypoint-Poll"


def is_background_request() -> bool:
    """A tracker poll: it neither counts as activity nor as a new read of a record."""
    return request.headers.get(POLL_HEADER) == "1"


def wants_fragment() -> bool:
    """An htmx request that is not a boosted navigation wants a fragment, not a page."""
    return bool(htmx) and not htmx.boosted and not request.headers.get("HX-History-Restore-Request")


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render a page, or only `block` of it for an htmx request."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_invalid(template: str, block: str | None = None, **context):
    """Re-render a form with its errors: 422 so nothing is cached and htmx still swaps it."""
    return render(template, block, status=422, **context)


def redirect_to(url: str):
    """After a successful write: 303 for forms, HX-Redirect for htmx fragments."""
    if wants_fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def trigger(response, event: str):
    """Tell the page an event happened (HX-Trigger), e.g. to refresh a tracker."""
    response.headers["HX-Trigger"] = event
    return response
