"""Static assets: bundled under hashed names, served compressed and cached for good."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask

from portal.core import assets


@pytest.fixture
def built(tmp_path):
    """A copy of static/ with its bundles built, served by a bare app through WhiteNoise."""
    static = tmp_path / "static"
    shutil.copytree(assets.STATIC, static, ignore=shutil.ignore_patterns("build"))
    manifest = assets.build(static)
    app = Flask(__name__, static_folder=str(static))
    assets.init_app(app)
    return app, manifest, static


def _max_age(response) -> int:
    match = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_bundle_is_served_compressed_when_the_browser_accepts_it(built, encoding):
    app, manifest, static = built
    response = app.test_client().get(
        "/static/" + manifest["site.css"], headers={"Accept-Encoding": f"{encoding}, identity"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert int(response.headers["Content-Length"]) < (static / manifest["site.css"]).stat().st_size
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_bundle_is_plain_for_a_client_that_accepts_no_compression(built):
    app, manifest, static = built
    response = app.test_client().get("/static/" + manifest["site.js"])
    assert "Content-Encoding" not in response.headers
    assert response.data == (static / manifest["site.js"]).read_bytes()


def test_hashed_names_are_cached_for_good(built):
    app, manifest, _ = built
    for path in manifest.values():
        assert re.fullmatch(r"build/[\w-]+\.[0-9a-f]{12}\.(css|js)", path)
        response = app.test_client().get("/static/" + path)
        assert "immutable" in response.headers["Cache-Control"], path
        assert _max_age(response) >= 365 * 24 * 3600, path


def test_unhashed_files_are_not_cached_for_good(built):
    app, _, _ = built
    response = app.test_client().get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    assert _max_age(response) <= 600


def test_the_bundle_keeps_every_source_in_order_and_print_rules_for_paper(built):
    _, manifest, static = built
    css = (static / manifest["site.css"]).read_text()
    sources = assets.BUNDLES["site.css"]
    minified = {src: assets._minified(src, (static / src).read_bytes()).decode() for src in sources}
    starts = [css.index(minified[src]) for src in sources]
    assert starts == sorted(starts)
    assert "@media print {\n" + minified["css/print.css"] in css


def test_our_sources_are_minified_in_the_bundle_and_vendor_files_kept_as_they_are(built):
    _, manifest, static = built
    js = (static / manifest["site.js"]).read_text()
    assert (static / "vendor/htmx.min.js").read_text() in js
    assert "// " not in js.split((static / "vendor/htmx.min.js").read_text())[1]
    assert len(js) < sum((static / src).stat().st_size for src in assets.BUNDLES["site.js"])


def test_the_hash_changes_with_the_content(built):
    _, manifest, static = built
    (static / "css/app.css").write_text((static / "css/app.css").read_text() + "\n.x{}\n")
    again = assets.build(static)
    assert again["site.css"] != manifest["site.css"]
    assert again["site.js"] == manifest["site.js"]


def test_a_stale_or_missing_manifest_falls_back_to_the_sources(built):
    _, manifest, static = built
    assert assets.load_manifest(static) == manifest
    (static / manifest["site.js"]).unlink()
    assert assets.load_manifest(static) is None
    shutil.rmtree(static / "build")
    assert assets.load_manifest(static) is None


def test_pages_link_the_hashed_bundles_once_built(app, client):
    app.extensions["assets"] = {
        "site.css": "build/site.0123456789ab.css",
        "site.js": "build/site.ba9876543210.js",
    }
    html = client.get("/signin").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/build/site.0123456789ab.css" media="all">' in html
    assert '<script src="/static/build/site.ba9876543210.js" defer></script>' in html
    assert html.count('<link rel="stylesheet"') == 1


def test_pages_link_the_sources_without_a_build(app, client):
    app.extensions["assets"] = None
    html = client.get("/signin").get_data(as_text=True)
    for src in assets.BUNDLES["site.css"] + assets.BUNDLES["site.js"]:
        assert f"/static/{src}" in html
    assert 'href="/static/css/print.css" media="print"' in html


def test_templates_dont_depend_on_indentation():
    """Templates lose their indentation when they load (templating.DropIndentation): nothing
    in them may need leading spaces: no <pre>, no literal <textarea> body, no message
    string that spans lines (its msgid would no longer match the catalog)."""
    root = Path(__file__).resolve().parents[1] / "templates"
    for path in root.rglob("*.html"):
        source = path.read_text()
        assert not re.search(r"<pre[\s>]|<textarea[^>]*>[^<]", source), path
        assert not re.search(r"""_\(\s*("[^"]*\n|'[^']*\n)""", source), path


def test_served_pages_have_no_indentation(client):
    html = client.get("/signin").text
    assert "\n  " not in html and "\n\t" not in html
