"""The PDF renderer every printed report uses: text survives, nothing is fetched from outside."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal.core import pdf


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_accents_and_words_come_back_out_of_the_pdf():
    data = pdf.html_to_pdf("<h1>Meta de María Núñez</h1><p>Leer 20 minutos 📚</p>")
    assert data.startswith(b"%PDF-")
    text = _text(data)
    assert "María Núñez" in text
    assert "Leer 20 minutos" in text


def test_static_files_are_served_to_the_renderer():
    fetched = pdf.LocalOnlyFetcher().fetch(pdf.BASE_URL + "css/pdf.css")
    assert fetched.content_type == "text/css"
    assert b"@page" in fetched.read()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/tracker.png",
        "https://example.invalid/logo.png",
        "file:///etc/passwd",
        pdf.BASE_URL + "../pyproject.toml",
    ],
)
def test_anything_outside_static_is_refused(url):
    with pytest.raises(pdf.PdfResourceRefused):
        pdf.LocalOnlyFetcher().fetch(url)


def test_a_typed_link_to_the_network_does_not_stop_the_report():
    data = pdf.html_to_pdf('<p>Evidence</p><img src="http://127.0.0.1:9/x.png" alt="x">')
    assert "Evidence" in _text(data)
