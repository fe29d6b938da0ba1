"""The base of every form: what was typed must be storable before any validator looks at it.

A value the database cannot hold (a NUL character, a lone surrogate, a number beyond the
column's type, a file where text belongs) gets a message next to its field and is
replaced by something harmless, so validators, queries and the re-rendered form never
see it. Declare forms as `class SomethingForm(PortalForm)`; nested forms (`FormField`,
`FieldList`) are checked through their parent.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from babel import support
from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import Field, FieldList, FormField
from wtforms.i18n import messages_path

from portal.core.i18n import current_locale
from portal.core.i18n import lazy_gettext as _l
from portal.core.inputs import INT_MAX, INT_MIN, has_forbidden_character, scrub

NOT_ALLOWED = _l("This field contains a character that is not allowed.")
NOT_TEXT = _l("This field takes text, not a file.")
TOO_BIG = _l("That number is too large.")


@functools.cache
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalForm(FlaskForm):
    """A FlaskForm (CSRF included) that refuses values no column can store."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            """WTForms' own messages in the page's language, loaded once per process.

            Flask-WTF reads WTForms' catalog from disk again on every request that builds
            a form (about as long as a whole hello-world request); the catalog never
            changes while the process runs."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(str(current_locale() or "en"))

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
        for field in leaf_fields(self):
            _check(field)


def leaf_fields(form) -> Iterator[Field]:
    for field in form:
        if isinstance(field, FormField):
            yield from leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from leaf_fields(entry.form)
                else:
                    yield entry
        else:
            yield field


def _check(field: Field) -> None:
    raw = getattr(field, "raw_data", None) or []
    if isinstance(field, FileField):
        return
    if any(isinstance(value, FileStorage) for value in raw):
        field.process_errors.append(NOT_TEXT)
        field.raw_data = []
        field.data = [] if isinstance(field.data, list) else None
        return
    if any(isinstance(value, str) and has_forbidden_character(value) for value in raw):
        field.process_errors.append(NOT_ALLOWED)
        field.raw_data = [scrub(value) for value in raw if isinstance(value, str)]
        field.data = _harmless(field.data)
        return
    if raw and _out_of_range(field.data):
        field.process_errors.append(TOO_BIG)
        field.data = [] if isinstance(field.data, list) else None


def _harmless(data):
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, list):
        return [scrub(item) if isinstance(item, str) else item for item in data]
    return data


def _out_of_range(data) -> bool:
    values = data if isinstance(data, list | tuple) else [data]
    return any(
        isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX
        for value in values
    )
