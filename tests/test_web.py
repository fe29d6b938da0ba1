"""portal.core.web: one response helper for pages and htmx fragments."""

from portal.core.web import redirect_to


def test_plain_request_gets_a_303(app):
    with app.test_request_context("/goals/1", method="POST"):
        response = redirect_to("/goals/1")
    assert response.status_code == 303 and response.headers["Location"] == "/goals/1"


def test_htmx_request_gets_hx_redirect(app):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://localhost/goals/new"}
    with app.test_request_context("/goals", method="POST", headers=headers):
        response = redirect_to("/goals/7")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/goals/7"
    assert "HX-Refresh" not in response.headers


def test_redirect_to_the_same_page_and_an_anchor_refreshes(app):
    """A #fragment change alone would only scroll: the page must reload to show the change."""
    headers = {"HX-Request": "true", "HX-Current-URL": "http://localhost/family/children/4"}
    with app.test_request_context("/family/goals/9/cheers", method="POST", headers=headers):
        response = redirect_to("/family/children/4#goal-9")
    assert response.headers["HX-Refresh"] == "true"
