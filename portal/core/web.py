"""Rendering for pages and their htmx partials, and htmx-aware responses.

A page template includes its partials; an htmx request for the same URL gets
just the named block of that same template, so page and fragment never drift.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, make_response, redirect, render_template, request, session
from jinja2 import nodes
from jinja2_fragments.flask import render_block

from portal.core import page_cache
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
        body = render_block(template, block, **{**_top_level_imports(template), **context})
        if request.method != "GET":
            # The answer to a form replaces the page's messages: an earlier "Saved." must
            # not stand next to this answer's errors, and a message flashed now shows now.
            body += render_template("_flashes.html", oob=True)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_cached(template: str, key: tuple, data: Callable[[], dict], block: str | None = None):
    """Render a page, or `block` of it for htmx, through the fragment cache under `key`.

    `key` must hold the change stamps or tokens of everything the page shows; the URL,
    language, date and session are added here (`fragments.page_key`). `data()` loads the
    context and runs on a cache miss only, so whatever must happen on every request
    (authorization, the access log) happens before this is called. A page with a flashed
    message is rendered fresh and not kept: the message is for this one view.
    """
    fragment = block if block and wants_fragment() else None
    if fragment is None and session.get("_flashes"):
        return render(template, **data())

    def build() -> str:
        if fragment:
            return render_block(template, fragment, **_top_level_imports(template), **data())
        return render_template(template, **data())

    html = page_cache.cached(page_cache.page_key(*key, fragment, request.full_path), build)
    response = make_response(html)
    response.vary.add("HX-Request")
    return response


def _top_level_imports(template_name: str) -> dict:
    """The macros a page imports at its top, which a block rendered alone would not see.

    jinja2-fragments renders only the block's own code, so `{% from "macros/forms.html"
    import field %}` above the blocks would leave `field` undefined in the fragment.
    """
    env = current_app.jinja_env
    template = env.get_template(template_name)
    imports = getattr(template, "_fragment_imports", None)
    if imports is None:
        source = env.loader.get_source(env, template_name)[0]
        imports = []
        for node in env.parse(source).body:
            if isinstance(node, nodes.FromImport) and isinstance(node.template, nodes.Const):
                names = [(n, n) if isinstance(n, str) else n for n in node.names]
                imports.append((node.template.value, names, None))
            elif isinstance(node, nodes.Import) and isinstance(node.template, nodes.Const):
                imports.append((node.template.value, None, node.target))
        template._fragment_imports = imports
    found = {}
    for name, names, target in imports:
        module = env.get_template(name).module
        if target:
            found[target] = module
        else:
            found.update({alias: getattr(module, n) for n, alias in names})
    return found


def render_invalid(template: str, block: str | None = None, **context):
    """Re-render a form with its errors: 422 so nothing is cached and htmx still swaps it."""
    return render(template, block, status=422, **context)


def redirect_to(url: str):
    """After a successful write: 303 for forms, HX-Redirect for htmx fragments."""
    if wants_fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
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
