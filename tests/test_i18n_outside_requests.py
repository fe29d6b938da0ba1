"""A message rendered outside a request (a CLI command, a script, a job) is English,
or the language the code forced: it never fails for want of a request."""

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l


def test_a_lazy_message_renders_in_a_cli_context(app):
    with app.app_context():
        assert str(_l("Refresh")) == "Refresh"
        with force_locale("es"):
            assert str(_l("Refresh")) == "Actualizar"
