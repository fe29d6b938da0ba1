"""Catch SQL run while a template renders: pages gather their data in the route.

A template that queries (a lazy-loaded relationship, a helper that asks the database)
hides what a page depends on, so a cached page can be stale and a page's cost can't be
read off its route. `sql_while_rendering()` records every statement executed between
the start and the end of a Jinja render, a whole template or a jinja2-fragments block:

    with sql_while_rendering(app) as queries:
        client.get("/")
    assert not queries, queries

Used by the crawl (tests/crawl.py: every page and htmx block of every role) and by tests
that render one page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from flask import before_render_template, template_rendered
from jinja2_fragments.flask import before_render_template_block, template_block_rendered
from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class RenderQuery:
    template: str  # "page.html" or "page.html#block"
    statement: str

    def __str__(self) -> str:
        return f"{self.template}: {' '.join(self.statement.split())[:300]}"


@contextmanager
def sql_while_rendering(app) -> Iterator[list[RenderQuery]]:
    """Yield a list that fills with the statements executed while `app` renders."""
    rendering: list[str] = []  # a stack: a page may render a block inside a render
    found: list[RenderQuery] = []

    def page_starts(sender, template, context, **extra):
        rendering.append(template.name or "<string>")

    def block_starts(sender, template_name, block_name, **extra):
        rendering.append(f"{template_name}#{block_name}")

    def ends(sender, **extra):
        if rendering:
            rendering.pop()

    def executed(conn, cursor, statement, parameters, context, executemany):
        if rendering:
            found.append(RenderQuery(rendering[-1], statement))

    with ExitStack() as stack:
        stack.enter_context(before_render_template.connected_to(page_starts, app))
        stack.enter_context(template_rendered.connected_to(ends, app))
        stack.enter_context(before_render_template_block.connected_to(block_starts, app))
        stack.enter_context(template_block_rendered.connected_to(ends, app))
        # On the Engine class: the app's reading and writing engines alike.
        event.listen(Engine, "before_cursor_execute", executed)
        stack.callback(event.remove, Engine, "before_cursor_execute", executed)
        yield found
