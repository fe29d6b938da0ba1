"""Headers and page furniture that keep student data off shared devices and out of reach."""

from __future__ import annotations

import json
import re

import pytest


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def pages(client, auth, make):
    """Sign a teacher in; return the URLs of pages that show student data."""
    teacher = make.teacher()
    learner = make.learner(given_name="Maya")
    school_class = make.school_class(teacher=teacher, learners=[learner])
    make.commit()
    auth.login(teacher)
    return ["/", f"/classes/{school_class.id}", f"/learners/{learner.id}"]


def test_student_data_is_never_stored_by_the_browser(client, pages):
    for url in pages:
        for headers in ({}, {"HX-Request": "true"}, {"HX-Request": "true", "HX-Boosted": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == "no-store", url
            assert "HX-Request" in response.vary, url


@pytest.mark.parametrize("url", ["/signin", "/signin/class", "/no-such-page"])
def test_sign_in_and_error_pages_are_not_stored_either(client, url):
    response = client.get(url)
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.vary


def test_static_assets_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def _csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def test_csp_allows_only_our_own_scripts_and_styles(client, anonymous, pages):
    for url in ["/signin", *pages]:
        response = (anonymous if url == "/signin" else client).get(url)
        assert response.status_code == 200, url
        csp = _csp(response)
        assert "'unsafe-inline'" not in " ".join(csp.values()), url
        assert "'unsafe-eval'" not in " ".join(csp.values()), url
        assert csp["default-src"] == "'self'"
        assert csp["script-src"] == "'self'"
        assert csp["style-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        assert csp["object-src"] == "'none'"
        assert csp["form-action"] == "'self'"


def test_hardening_headers(client):
    response = client.get("/signin")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_session_cookie_is_http_only_and_same_site(client, make):
    teacher = make.teacher()
    make.commit()
    response = client.post("/signin", data={"login": teacher.username, "password": make.PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # a browser session cookie: gone when the browser closes


def test_no_inline_script_or_style_in_pages(client, anonymous, pages):
    for url in ["/signin", "/signin/class", *pages]:
        response = (anonymous if url.startswith("/signin") else client).get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert "<style" not in page, url
        assert not re.search(r"\sstyle=", page), url
        assert not re.search(r"\son[a-z]+=", page), url  # onclick= and friends


def _htmx_config(page: str) -> dict:
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'", page)
    assert match, "no htmx-config meta"
    return json.loads(match.group(1))


def test_htmx_keeps_no_history_snapshots(client, pages):
    config = _htmx_config(client.get("/").get_data(as_text=True))
    assert config["historyCacheSize"] == 0
    assert config["refreshOnHistoryMiss"] is True
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False  # it would add an inline <style>
    swapped = {rule["code"]: rule["swap"] for rule in config["responseHandling"]}
    assert swapped["422"] is True and swapped["409"] is True


@pytest.mark.parametrize(("accept", "lang"), [("en-US,en;q=0.9", "en"), ("es-MX,es;q=0.9", "es")])
def test_html_has_a_lang_attribute(client, accept, lang):
    page = client.get("/signin", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page


def test_skip_link_is_first_and_targets_main(client, anonymous, pages):
    for url in ["/signin", *pages]:
        response = (anonymous if url == "/signin" else client).get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        body = page.split("<body", 1)[1]
        first_link = re.search(r"<a\s[^>]*>", body).group(0)
        assert 'class="skip-link"' in first_link and 'href="#main"' in first_link, url
        assert page.count('id="main"') == 1, url


def test_body_sends_the_csrf_token_on_htmx_requests(client, pages):
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"<body[^>]*hx-headers='\{&#34;X-CSRFToken&#34;|<body[^>]*X-CSRFToken", page)


def test_fragments_are_not_whole_pages(client, make):
    response = client.post(
        "/signin", data={"login": "x", "password": "y"}, headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and "<body" not in body
