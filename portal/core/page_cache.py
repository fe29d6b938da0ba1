"""Rendered busy pages (or their htmx blocks), kept per worker under the stamps they show.

A key always holds the change stamps (`portal.core.stamps`) or change tokens of everything the
page shows, so an entry is never invalidated: a change makes a new key and the old entry
ages out of the LRU. `page_key` adds what every cached page depends on besides its data:
the language, today's date (for "3 days ago" and "due in 5 days") and the session's CSRF
secret (the page's forms carry tokens made from it).

A page whose content also changes with the clock (a conference stops being "next" some
hours after it starts) calls `valid_until` while it renders.

`FRAGMENT_CACHE_MB` sizes each worker's cache (0 turns caching off). Each worker counts
its hits and misses per kind of page (a key's first part): `stats()`, read by the benchmark.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import datetime

from cachetools import LRUCache
from flask import current_app, g, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal.core.timeutil import today, utcnow

_EXTENSION = "waypoint.page_cache"


class FragmentCache:
    """A size-bounded LRU of (html, valid until) entries, safe across threads."""

    def __init__(self, max_bytes: int):
        self._entries: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda e: len(e[0]))
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._kinds: dict[str, list[int]] = {}  # kind of page -> [hits, misses]

    def get_or_render(self, key: tuple, render: Callable[[], str]) -> Markup:
        with self._lock:
            entry = self._entries.get(key)
            hit = entry is not None and (entry[1] is None or utcnow() < entry[1])
            counts = self._kinds.setdefault(str(key[0]), [0, 0])
            counts[0 if hit else 1] += 1
            if hit:
                self.hits += 1
            else:
                self.misses += 1
        if hit:
            return Markup(entry[0])  # noqa: S704 (HTML we rendered, autoescaped, earlier)
        g._fragment_until = None
        html = str(render())
        entry = (html, g.pop("_fragment_until", None))
        if len(html) < self._entries.maxsize:
            with self._lock:
                self._entries[key] = entry
        return Markup(html)  # noqa: S704 (just rendered by Jinja with autoescape)

    def stats(self) -> dict[str, dict[str, int]]:
        """Hits and misses so far, per kind of page: {"learner-home": {"hits": 3, ...}}."""
        with self._lock:
            return {kind: {"hits": h, "misses": m} for kind, (h, m) in self._kinds.items()}


def init_app(app) -> None:
    megabytes = app.config["FRAGMENT_CACHE_MB"]
    app.extensions[_EXTENSION] = FragmentCache(int(megabytes * 1024 * 1024)) if megabytes else None


def cache() -> FragmentCache | None:
    return current_app.extensions.get(_EXTENSION)


def stats() -> dict[str, dict[str, int]]:
    """This worker's hits and misses per kind of page; empty when caching is off."""
    found = cache()
    return found.stats() if found is not None else {}


def page_key(name: str, *parts) -> tuple:
    """The key of the current page: its own parts plus language, date and session."""
    generate_csrf()  # puts the session's CSRF secret in place before we read it
    secret = str(session.get("csrf_token", ""))
    tag = hashlib.blake2b(secret.encode(), digest_size=8).hexdigest()
    return (name, *parts, str(get_locale()), today().toordinal(), tag)


def cached(key: tuple, render: Callable[[], str]) -> Markup:
    """The HTML: from this worker's cache when the key matches, else `render()`."""
    found = cache()
    if found is None:
        return Markup(render())  # noqa: S704 (rendered by Jinja with autoescape)
    return found.get_or_render(key, render)


def valid_until(moment: datetime) -> None:
    """Called while rendering: the page must be rendered again from `moment` (naive UTC)."""
    if "_fragment_until" in g:
        current = g._fragment_until
        g._fragment_until = moment if current is None else min(current, moment)
