"""The language (the user's saved choice, then the session's, then the browser's), the
one way the app translates a message, and the one way dates and times are shown.

Python code translates with this module's `gettext`, `ngettext` and `lazy_gettext`
(imported as `_`, `ngettext`, `_l`): flask_babel's, with the context's translations,
locale and time zone read once per request instead of through about five context-local
proxy reads per call (a page makes some 150 such calls).
"""

from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale
from babel import dates as babel_dates
from flask import Flask, current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import format_time, get_locale, get_timezone, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user

LOCALE_KEY = "locale"
_MEMO = "waypoint_translations"  # on flask_babel's per-context namespace: (locale, translations)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # A CLI command, a script or a job: English unless it forced a locale itself
        # (flask_babel.force_locale, as a job does with its owner's language).
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get(LOCALE_KEY) in languages:
        return session[LOCALE_KEY]
    return request.accept_languages.best_match(list(languages)) or "en"


# One way to show a moment, everywhere: the locale's medium date ("Dec 3, 2026",
# "3 dic 2026") and short time ("10:15 AM", "10:15"), in the district's time zone
# (WAYPOINT_TIMEZONE); stored datetimes are naive UTC. Templates use the `date`,
# `time` and `datetime` filters; Python code calls these functions.
DATE_FORMAT = "medium"
TIME_FORMAT = "short"


def date_text(value: date | datetime | None) -> str:
    """The day of a date or a moment, e.g. "Dec 3, 2026" (a moment's day where the district is)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        return _moment_day_text(value, current_timezone(), current_locale())
    return _day_text(value, current_locale())


@lru_cache(maxsize=8192)
def _moment_day_text(moment: datetime, zone, locale: Locale) -> str:
    # A page shows the same entries' moments on every view; the time zone sum is ~6 us.
    return _day_text(_in_zone(moment, zone).date(), locale)


@lru_cache(maxsize=8192)
def _day_text(day: date, locale: Locale) -> str:
    # Babel takes ~10 microseconds a date and a family page shows ~50; the days repeat.
    return babel_dates.format_date(day, DATE_FORMAT, locale=locale)


def time_text(value: datetime | None) -> str:
    """The time of day of a moment, e.g. "10:15 AM"."""
    return format_time(value, TIME_FORMAT) if value else ""


def datetime_text(value: date | datetime | None) -> str:
    """A moment as its day and time of day, joined the locale's way: "Dec 3, 2026, 10:15 AM"."""
    if not value:
        return ""
    if not isinstance(value, datetime):
        return date_text(value)
    pattern = current_locale().datetime_formats[DATE_FORMAT]
    return pattern.replace("{1}", date_text(value)).replace("{0}", time_text(value))


def reading_spanish() -> bool:
    """Is this request's page in Spanish (the one translation that has school-owned words)?"""
    locale = current_locale() if has_request_context() else None
    return locale is not None and locale.language == "es" and not locale.territory


def in_locale(default: str | None, spanish: str | None) -> str | None:
    """A school-owned word in the reader's language: the Spanish form when the page is in
    Spanish and the school wrote one, else the default (English) form."""
    if spanish and spanish.strip() and reading_spanish():
        return spanish
    return default


def _babel_state():
    """flask_babel's per-context namespace (`g._flask_babel`), or None; no proxy read."""
    app_ctx = _cv_app.get(None)
    return app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None


def current_locale() -> Locale | None:
    """flask_babel's `get_locale()`, from its per-context slot when it is already chosen."""
    state = _babel_state()
    locale = state.__dict__.get("babel_locale") if state is not None else None
    return locale if locale is not None else get_locale()


def current_timezone():
    """flask_babel's `get_timezone()`, from its per-context slot when it is already chosen."""
    state = _babel_state()
    zone = state.__dict__.get("babel_tzinfo") if state is not None else None
    return zone if zone is not None else get_timezone()


def local_time(value: datetime) -> datetime:
    """A stored (naive UTC) moment in the district's time zone (flask_babel's
    `to_user_timezone`)."""
    return _in_zone(value, current_timezone())


def _in_zone(value: datetime, zone) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return zone.normalize(value.astimezone(zone))


def translations():
    """This context's translations, found once per locale instead of once per string.

    flask_babel looks them up through about nine context-local proxy reads and a
    locale-to-string conversion on every call, and a page has some 200 template strings
    (a tenth of the family page's CPU). The memo sits beside flask_babel's own locale and
    is keyed by that locale object, so `refresh()` and `force_locale()`, which replace or
    drop the locale, make it miss.
    """
    state = _babel_state()
    if state is not None:
        memo = state.__dict__.get(_MEMO)
        if memo is not None and memo[0] is state.__dict__.get("babel_locale"):
            return memo[1]
    found = get_translations()
    state = _babel_state()  # get_translations() creates it on the context's first call
    if state is not None and state.__dict__.get("babel_locale") is not None:
        setattr(state, _MEMO, (state.babel_locale, found))
    return found


# flask_babel's shortcuts, same signatures and same results, through the memo above.


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """A message translated when it is shown (form labels, module-level words)."""
    return LazyString(gettext, string, **variables)


def install_template_gettext(app: Flask) -> None:
    """Templates' `_()` and `ngettext()` through the memo above (after Babel's init_app)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
