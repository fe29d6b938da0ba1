"""WTForms' own messages come in the page's language, from a catalog read once per process
(Flask-WTF read it from disk again on every request that built a form)."""

import babel.support
from wtforms import IntegerField

from portal.core.forms import PortalForm


class _NumberForm(PortalForm):
    number = IntegerField()


def _error(app, language: str) -> str:
    with app.app_context(), app.test_request_context(
        "/", method="POST", data={"number": "many"}, headers={"Accept-Language": language}
    ):
        form = _NumberForm(meta={"csrf": False})
        form.validate()
        return form.number.errors[0]


def test_wtforms_messages_follow_the_language(app):
    assert _error(app, "en") == "Not a valid integer value."
    assert _error(app, "es") == "No es un valor entero válido."


def test_the_catalog_is_read_once_per_language(app, monkeypatch):
    _error(app, "es")  # whatever earlier tests left, Spanish is loaded now
    loads = []
    real = babel.support.Translations.load.__func__

    def counted(cls, *args, **kwargs):
        loads.append(args)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(babel.support.Translations, "load", classmethod(counted))
    for _ in range(3):
        _error(app, "es")
    assert loads == []
