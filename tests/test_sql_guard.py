"""tests/sql_guard.py sees SQL run while a template renders, and only that."""

from flask import render_template_string
from sqlalchemy import text

from portal.core.extensions import db
from tests.sql_guard import sql_while_rendering


def _ask_the_database() -> int:
    return db.session.execute(text("SELECT 1")).scalar()


def test_a_query_made_while_a_template_renders_is_caught(app, backend):
    with app.test_request_context(), sql_while_rendering(app) as queries:
        assert render_template_string("{{ ask() }}", ask=_ask_the_database) == "1"
    assert [q.statement for q in queries] == ["SELECT 1"]


def test_queries_before_and_after_rendering_are_not(app, backend):
    with app.test_request_context(), sql_while_rendering(app) as queries:
        value = _ask_the_database()
        render_template_string("{{ value }}", value=value)
        _ask_the_database()
    assert queries == []
