"""Choosing the language: the user's saved choice, then the session's, then the browser's."""

from flask import current_app, request, session
from flask_login import current_user

LOCALE_KEY = "locale"

def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get(LOCALE_KEY) in languages:
        return session[LOCALE_KEY]
    return request.accept_languages.best_match(list(languages)) or "en"

def reading_spanish() -> bool:
    """Is this request's page in Spanish (the one translation that has school-owned words)?"""
    from flask import has_request_context
    from flask_babel import get_locale

    return has_request_context() and str(get_locale()) == "es"

def in_locale(default: str | None, spanish: str | None) -> str | None:
    """A school-owned word in the reader's language: the Spanish form when the page is in
    Spanish and the school wrote one, else the default (English) form."""
    if spanish and spanish.strip() and reading_spanish():
        return spanish
    return default
