"""Badge forms: the teacher's buttons (CSRF only), a picture choice, a scanned code."""

from wtforms import HiddenField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from portal.badges.services import SYMBOLS
from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l


class BadgeButtonForm(PortalForm):
    """Print, revoke: a button and its CSRF token."""


class PrintClassForm(PortalForm):
    which = RadioField(
        _l("Which badges"),
        choices=[
            SelectChoice(value="missing", label=_l("Only learners without a badge")),
            SelectChoice(value="all", label=_l("Everyone (all old badges stop working)")),
        ],
        default="missing",
        validators=[DataRequired()],
    )


class SymbolForm(PortalForm):
    symbol = SelectField(_l("Picture"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.symbol.choices = [
            SelectChoice(value=key, label=f"{pic} {name}") for key, (pic, name) in SYMBOLS.items()
        ]


class BadgeSignInForm(PortalForm):
    code = HiddenField()
