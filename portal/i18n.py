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
