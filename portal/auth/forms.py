"""Sign-in forms."""

from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l


class PasswordSignInForm(PortalForm):
    login = StringField(
        _l("Username or e-mail"),
        validators=[DataRequired(_l("Enter your username or e-mail.")), Length(max=255)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ClassCodeForm(PortalForm):
    code = StringField(
        _l("Class code"),
        validators=[
            DataRequired(_l("Type the class code your teacher gave you.")),
            Length(max=12, message=_l("A class code is at most 12 letters and numbers.")),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class PinForm(PortalForm):
    pin = PasswordField(
        _l("Your PIN"),
        validators=[
            DataRequired(_l("Type your PIN.")),
            Regexp(r"^\d{4,8}$", message=_l("Your PIN is 4 to 8 numbers.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )
