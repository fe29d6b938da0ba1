"""Static assets served like a real site: a few bundles, hashed names, compressed, cached forever.

`scripts/build-assets.py` (run by `make setup`) concatenates each bundle below, names the
result after a hash of its content, writes gzip and brotli copies beside it (WhiteNoise's
compressor) and records logical name -> hashed file in static/build/manifest.json.
WhiteNoise serves /static: the compressed copy the browser accepts, and for hashed names
`Cache-Control: max-age=31536000, immutable`, so a repeat visit asks for no asset at all.

Without a built manifest (a fresh checkout, a test run before `make setup`) the pages link
the source files one by one, unhashed; WhiteNoise serves those with a short max-age.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from flask import Flask, current_app, url_for
from rcssmin import cssmin
from rjsmin import jsmin
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

STATIC = Path(__file__).resolve().parents[2] / "static"
BUILD = STATIC / "build"
MANIFEST = BUILD / "manifest.json"

# Logical name -> source files (relative to static/), in cascade order.
BUNDLES: dict[str, tuple[str, ...]] = {
    "site.css": (
        "vendor/pico.min.css",
        "css/app.css",
        "css/roster.css",
        "css/targets.css",
        "css/goals.css",
        "css/progress.css",
        "css/profiles.css",
        "css/family.css",
        "css/conferences.css",
        "css/print.css",
    ),
    # Pages few people open link their own sheet (base.html's page_styles block), so the
    # learner's first visit does not carry them.
    "insights.css": ("css/insights.css",),
    "badges.css": ("css/badges.css",),
    "site.js": ("vendor/htmx.min.js", "js/app.js"),
    # Only the badge pages link these: the scan page's QR decoder is large.
    "badges.js": ("vendor/jsQR.js", "js/badge-scan.js"),
    "badge-print.js": ("js/badge-print.js",),
}
# Sheets for paper only: wrapped in @media print in the bundle, linked with media=print alone.
PRINT_ONLY = frozenset({"css/print.css"})
# Separators that keep concatenated files meaning what they meant alone.
_JOIN = {".css": b"\n", ".js": b";\n"}
HASHED = re.compile(r"^/static/build/[\w-]+\.[0-9a-f]{12}\.\w+$")


def build(static: Path = STATIC) -> dict[str, str]:
    """Write the bundles, their compressed copies and the manifest; return the manifest."""
    out = static / "build"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    compressor = Compressor(quiet=True)
    manifest: dict[str, str] = {}
    for name, sources in BUNDLES.items():
        stem, suffix = name.rsplit(".", 1)
        content = _JOIN["." + suffix].join(_read(static, src) for src in sources)
        digest = hashlib.sha256(content).hexdigest()[:12]
        target = out / f"{stem}.{digest}.{suffix}"
        target.write_bytes(content)
        list(compressor.compress(str(target)))  # writes target.gz and target.br
        manifest[name] = f"build/{target.name}"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _read(static: Path, src: str) -> bytes:
    content = _minified(src, (static / src).read_bytes())
    return b"@media print {\n" + content + b"\n}" if src in PRINT_ONLY else content


def _minified(src: str, content: bytes) -> bytes:
    """Our own sources lose comments and spacing in the bundle (vendor files come minified).

    The sources stay readable in the repository and are what a page links without a build.
    """
    if src.startswith("vendor/"):
        return content
    return jsmin(content) if src.endswith(".js") else cssmin(content)


def load_manifest(static: Path = STATIC) -> dict[str, str] | None:
    """The built manifest, or None when it is missing, unreadable or points at missing files."""
    try:
        manifest = json.loads((static / "build" / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if set(manifest) != set(BUNDLES) or not all((static / p).is_file() for p in manifest.values()):
        return None
    return manifest


def asset_urls(name: str) -> list[tuple[str, str]]:
    """(URL, media) for each file a page links for one bundle: the hashed bundle once built,
    else its sources one by one."""
    manifest = current_app.extensions["assets"]
    if manifest is not None:
        return [(url_for("static", filename=manifest[name]), "all")]
    return [
        (url_for("static", filename=src), "print" if src in PRINT_ONLY else "all")
        for src in BUNDLES[name]
    ]


def _is_hashed(path: str, url: str) -> bool:
    return bool(HASHED.match(url))


def _nosniff(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    """Serve /static through WhiteNoise and give templates `asset_urls()`."""
    app.extensions["assets"] = load_manifest(Path(app.static_folder))
    app.jinja_env.globals["asset_urls"] = asset_urls
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=app.static_folder,
        prefix=app.static_url_path,
        autorefresh=app.debug,
        allow_all_origins=False,
        immutable_file_test=_is_hashed,
        add_headers_function=_nosniff,
    )
