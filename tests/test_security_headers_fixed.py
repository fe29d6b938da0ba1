"""Talisman's headers are built once, not per request, and are exactly Talisman's own; a view
that sets a stricter Content-Security-Policy of its own keeps it."""

from __future__ import annotations

from flask import Response
from flask_talisman import Talisman

from portal.core import security
from portal.progress.models import ProgressEntry
from tests.test_progress import PNG, db_session, upload, world  # noqa: F401 (fixtures)


def _talismans_own(app, path: str) -> dict[str, str]:
    """The headers stock Talisman (the same instance, its own method) gives a response."""
    with app.test_request_context(path):
        response = Talisman._set_response_headers(security.talisman, Response(""))
    return dict(response.headers)


def test_the_headers_are_talismans_own(app, client):
    stock = _talismans_own(app, "/signin")
    response = client.get("/signin")
    for name, value in stock.items():
        if name not in ("Content-Type", "Content-Length"):
            assert response.headers.get(name) == value, name


def test_the_policy_is_built_once_not_per_request(app, client, monkeypatch):
    built = []
    parse = Talisman._parse_policy

    def counting(self, policy):
        built.append(policy)
        return parse(self, policy)

    monkeypatch.setattr(Talisman, "_parse_policy", counting)
    monkeypatch.setattr(security.talisman, "_fixed", None)
    for _ in range(5):
        assert "Content-Security-Policy" in client.get("/signin").headers
    assert len(built) <= 1


def test_evidence_keeps_its_sandbox(client, auth, world, db_session):  # noqa: F811 (fixtures)
    auth.login(world.learner)
    assert upload(client, world.goal, PNG, "x.png").status_code == 303
    entry = db_session.query(ProgressEntry).one()
    response = client.get(f"/progress/entries/{entry.id}/evidence")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Frame-Options"] == "DENY"
