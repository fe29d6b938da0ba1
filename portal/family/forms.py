"""One form per screen: a cheer, hiding a cheer, redeeming, creating and revoking an invite."""

from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.family.models import CHEER_MAX
from portal.family.services import contains_link
from portal.progress.forms import TokenForm


def _no_links(form, field):
    # Past CHEER_MAX, Length has said so: the link search is quadratic on long runs of
    # non-spaces (100,000 characters took 40 s), so it only reads a cheer of cheer size.
    if len(field.data or "") <= CHEER_MAX and contains_link(field.data or ""):
        raise ValidationError(
            _l("Please leave out web addresses and e-mail addresses. Just write your own words.")
        )


class CheerForm(TokenForm):
    """A cheer; its token makes a second send of the same form the same cheer."""

    body = TextAreaField(
        _l("Your cheer"),
        validators=[
            DataRequired(_l("Write a few kind words first.")),
            Length(max=CHEER_MAX, message=_l("Please keep it short: at most 280 characters.")),
            _no_links,
        ],
        render_kw={"maxlength": CHEER_MAX, "rows": 2},
    )


class HideCheerForm(PortalForm):
    hidden = BooleanField()  # absent: show the cheer again


class RedeemForm(PortalForm):
    code = StringField(
        _l("Family invite code"),
        validators=[
            DataRequired(_l("Type the code from the school.")),
            Length(max=40, message=_l("That is too long for a code.")),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class InviteForm(PortalForm):
    """Only the CSRF token: creating a code needs no input."""


class RevokeInviteForm(PortalForm):
    """Only the CSRF token: the code to revoke is in the URL."""
