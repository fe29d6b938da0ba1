"""Server-side PDF: an HTML template rendered by WeasyPrint, with nothing fetched from outside.

Reports (the learner's record, a goal report, a disposal receipt) are ordinary Jinja
templates with their own print stylesheet (`static/css/pdf.css`). WeasyPrint lays them
out with Pango, so the Debian fonts the set-up installs (DejaVu, Noto Color Emoji) give
the accents and emoji the portal uses. The URL fetcher serves files under `static/` and
`data:` URLs only: a report never makes a network request, whatever a learner typed.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import weasyprint
from weasyprint.urls import URLFetcherResponse

from portal.core.assets import STATIC

STYLESHEET = STATIC / "css" / "pdf.css"
# Relative URLs in a report resolve against this; it is never fetched over the network.
BASE_URL = "file:///static/"


class PdfResourceRefused(ValueError):
    """A report asked for something outside static/ (a link a learner typed, say)."""


class LocalOnlyFetcher(weasyprint.URLFetcher):
    """Serves `data:` URLs and files under static/; refuses everything else."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(BASE_URL):
            path = (STATIC / url.removeprefix(BASE_URL)).resolve()
            if path.is_file() and STATIC in path.parents:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        raise PdfResourceRefused(url)


def html_to_pdf(html: str, *, stylesheets: tuple[Path, ...] = (STYLESHEET,)) -> bytes:
    """The PDF of `html` (a whole document), laid out with the report stylesheet."""
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=LocalOnlyFetcher())
    sheets = [weasyprint.CSS(filename=str(sheet)) for sheet in stylesheets if sheet.exists()]
    return document.write_pdf(stylesheets=sheets)
