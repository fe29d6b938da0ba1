"""A message rendered outside a request (a CLI command, a script, a job) is English,
or the language the code forced: it never fails for want of a request."""

from flask import render_template_string, session
from flask_babel import force_locale, refresh
from flask_babel import lazy_gettext as _l

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
