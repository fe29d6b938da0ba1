"""Rendering for pages and their htmx partials, and htmx-aware responses.

A page template includes its partials; an htmx request for the same URL gets
just the named block of that same template, so page and fragment never drift.
Every response already varies on HX-Request (`security.py` adds it to all of them).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for
from jinja2_fragments.flask import render_block

from portal.core.extensions import htmx

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
        body = _block(template, block, context)
        if request.method != "GET":
            # The answer to a form replaces the page's messages: an earlier "Saved." must
            # not stand next to this answer's errors, and a message flashed now shows now.
            body += render_template("_flashes.html", oob=True)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def _block(template: str, block: str, context: dict) -> str:
    """One block of a page, alone: the only way a fragment is rendered.

    The block sees only `context`: macros it uses are imported inside the block itself
    (`{% block x %}{% from "macros/forms.html" import field %}`), which
    tests/test_template_blocks.py checks for every block of every template.
    """
    return render_block(template, block, **context)


_SENTINEL = 918273645  # an id no link holds, replaced by %d in a link's pattern


def link_pattern(endpoint: str, *keys: str) -> str:
    """url_for(endpoint, key=<id>, ...) as a %-pattern, `pattern % (id, ...)` with the ids in
    the order of `keys`, which must be the order they appear in the URL (checked): one
    url_for per page instead of one per row. The pattern keeps this request's
    SCRIPT_NAME; a literal % in it is escaped."""
    sentinels = [str(_SENTINEL + n) for n in range(len(keys))]
    url = url_for(endpoint, **{k: int(v) for k, v in zip(keys, sentinels, strict=True)})
    url = url.replace("%", "%%")
    where = [url.find(s) for s in sentinels]
    assert all(url.count(s) == 1 for s in sentinels) and where == sorted(where), url
    for sentinel in sentinels:
        url = url.replace(sentinel, "%d")
    return url


def render_partial(template: str, status: int = 200, **context):
    """A partial template (`_name.html`) alone, for htmx; the page includes the same file."""
    return make_response(render_template(template, **context), status)


# --- htmx answers without a page (named as django-htmx names them) -----------------------

STOP_POLLING = 286  # htmx swaps the body, then stops polling


def unchanged():
    """204: nothing to swap (an idle poll whose token did not move; a background ping)."""
    return make_response("", 204)


def stop_polling(body: str = ""):
    """286: htmx swaps `body` (the final state) and stops polling."""
    return make_response(body, STOP_POLLING)


def client_redirect(url: str):
    """HX-Redirect: htmx loads `url` as a full page."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response


def render_invalid(template: str, block: str | None = None, **context):
    """Re-render a form with its errors: 422 so nothing is cached and htmx still swaps it."""
    return render(template, block, status=422, **context)


def redirect_to(url: str):
    """After a successful write: 303 for forms, HX-Redirect for htmx fragments."""
    if wants_fragment():
        response = client_redirect(url)
        if _only_fragment_differs(url):
            # The browser would only scroll to the #fragment: reload to show the change.
            response.headers["HX-Refresh"] = "true"
        return response
    return redirect(url, code=303)


def _only_fragment_differs(url: str) -> bool:
    """A redirect to the page the htmx request came from, plus a #fragment."""
    target, here = urlsplit(url), urlsplit(request.headers.get("HX-Current-URL", ""))
    return bool(target.fragment) and (target.path, target.query) == (here.path, here.query)


def trigger(response, event: str):
    """Tell the page an event happened (HX-Trigger), e.g. to refresh a tracker."""
    response.headers["HX-Trigger"] = event
    return response


def safe_next(target: str | None) -> str | None:
    """Keep only a path on this site, so `next` can never send someone elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")
