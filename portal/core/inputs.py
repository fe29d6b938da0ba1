"""What any input may hold before it reaches the database: ids in range, text without NUL.

Both backends refuse some values outright: PostgreSQL stores no NUL character in text and
no integer outside the column's type; SQLite stores no integer beyond 64 bits; neither
driver can encode a lone surrogate. Such values are answered here, at the edge, as
"not found" (ids in URLs and query strings) or a message next to the field (forms, see
`portal/forms.py`), instead of a database error halfway through a request.
"""

from __future__ import annotations

import re

from flask import Flask, Request, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter as _WerkzeugInteger
from werkzeug.routing import UnicodeConverter as _WerkzeugUnicode
from werkzeug.routing import ValidationError

# Every id column is an INTEGER (signed 32 bits on PostgreSQL), so is every number we store.
ID_MIN = 1
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)

# NUL (PostgreSQL refuses it in text) and lone surrogates (no UTF-8 encoding exists).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_ASCII_DIGITS = re.compile(r"[0-9]+")


def has_forbidden_character(value: str) -> bool:
    return _FORBIDDEN.search(value) is not None


def scrub(value: str) -> str:
    """The value with each forbidden character replaced, safe to show back in a form."""
    return _FORBIDDEN.sub("\ufffd", value)


def parse_number(value, low: int = 0, high: int = INT_MAX) -> int | None:
    """A whole number from a hidden field, button value or query string, else None.

    Only ASCII digits count: `"²".isdigit()` is True, yet `int("²")` fails; and a
    number beyond `high` is no number we could store or look up.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if low <= value <= high else None
    if not isinstance(value, str) or not _ASCII_DIGITS.fullmatch(value.strip()):
        return None
    digits = value.strip().lstrip("0") or "0"
    if len(digits) > len(str(high)):
        return None  # and never int() of thousands of digits
    number = int(digits)
    return number if low <= number <= high else None


def parse_id(value) -> int | None:
    """An object id (1 up to the largest INTEGER), else None."""
    return parse_number(value, ID_MIN)


def parse_int(value: str) -> int:
    """`int` for query-string arguments, refusing what no column could hold (ValueError)."""
    text = value.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(value)
    number = int(text)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(value)
    return number


class IntegerConverter(_WerkzeugInteger):
    """`<int:...>` in URLs: ids from 1 to the largest INTEGER; anything else is not found.

    It keeps werkzeug's class name on purpose: the route tests recognise id arguments by it.
    """

    def __init__(self, map, fixed_digits=0, min=ID_MIN, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        if not value.isascii():  # `\d` also matches other scripts' digits
            raise ValidationError()
        return super().to_python(value)


class UnicodeConverter(_WerkzeugUnicode):
    """`<name>` in URLs: a segment with a NUL character in it matches no page."""

    def to_python(self, value: str) -> str:
        if has_forbidden_character(value):
            raise ValidationError()
        return value


class BoundedArgs(ImmutableMultiDict):
    """Query and form values whose `get(..., type=int)` refuses what no column could hold."""

    def get(self, key, default=None, type=None):  # noqa: A002
        if type is int:
            type = parse_int
        return super().get(key, default=default, type=type)

    def getlist(self, key, type=None):  # noqa: A002
        if type is int:
            type = parse_int
        return super().getlist(key, type=type)


class PortalRequest(Request):
    parameter_storage_class = BoundedArgs


def N_(message: str) -> str:
    """Mark a message for extraction; `portal/errors.py` translates it when shown."""
    return message


def _refuse_unreadable_requests():
    # Flask-WTF would read a JSON body as form data: nested objects, numbers and lists
    # where text belongs, or 100,000 brackets (RecursionError). No page of ours posts JSON.
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.is_json:
        abort(415)
    for key, value in request.args.items(multi=True):
        if has_forbidden_character(key) or has_forbidden_character(value):
            abort(400, N_("The address contains a character that is not allowed."))


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered: rules take their converters when added."""
    app.request_class = PortalRequest
    app.before_request(_refuse_unreadable_requests)
    app.url_map.converters["int"] = IntegerConverter
    app.url_map.converters["default"] = UnicodeConverter
    app.url_map.converters["string"] = UnicodeConverter
