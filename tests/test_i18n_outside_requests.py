"""A message rendered outside a request (a CLI command, a script, a job) is English,
or the language the code forced: it never fails for want of a request."""

import flask_babel
from flask import render_template_string, session
from flask_babel import force_locale, refresh
from flask_babel import lazy_gettext as _l

from portal.core import i18n
from portal.core.i18n import LOCALE_KEY


def test_a_lazy_message_renders_in_a_cli_context(app):
    with app.app_context():
        assert str(_l("Refresh")) == "Refresh"
        with force_locale("es"):
            assert str(_l("Refresh")) == "Actualizar"


def test_template_strings_follow_a_locale_change_within_one_context(app):
    """The templates' translation memo must miss when the locale changes mid-request:
    the language switch saves the choice and calls refresh(); jobs use force_locale()."""
    template = "{{ _('Goals') }}"
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert render_template_string(template) == "Metas"
        with force_locale("en"):
            assert render_template_string(template) == "Goals"
        assert render_template_string(template) == "Metas"
        session[LOCALE_KEY] = "en"
        refresh()
        assert render_template_string(template) == "Goals"


def test_the_apps_gettext_answers_as_flask_babels_and_follows_a_locale_change(app):
    """portal.core.i18n's gettext, ngettext and lazy_gettext (Python code's, through the
    per-context memo) give flask_babel's answers, in a request, in a CLI context, under
    force_locale and after refresh()."""
    def same() -> None:
        assert i18n.gettext("Goals") == flask_babel.gettext("Goals")
        assert i18n.gettext("Signed in as %(name)s", name="Ana") == flask_babel.gettext(
            "Signed in as %(name)s", name="Ana"
        )
        for n in (1, 3):
            ours = i18n.ngettext("%(num)d day ago", "%(num)d days ago", n)
            assert ours == flask_babel.ngettext("%(num)d day ago", "%(num)d days ago", n)
        assert str(i18n.lazy_gettext("Refresh")) == str(flask_babel.lazy_gettext("Refresh"))

    with app.app_context():
        same()
        assert i18n.gettext("Goals") == "Goals"
    with app.test_request_context(headers={"Accept-Language": "es"}):
        same()
        assert i18n.gettext("Goals") == "Metas"
        assert i18n.current_locale() == flask_babel.get_locale()
        with force_locale("en"):
            same()
            assert i18n.gettext("Goals") == "Goals"
        assert i18n.gettext("Goals") == "Metas"
        session[LOCALE_KEY] = "en"
        refresh()
        same()
        assert i18n.gettext("Goals") == "Goals"
