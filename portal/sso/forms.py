"""Forms of the district admin's sign-in page: add a provider, switch one, the district's
password setting."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import URL, DataRequired, Length, Optional

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.sso.models import MatchField, SsoKind


def kind_choices():
    return [
        (SsoKind.GOOGLE.value, _l("Google Workspace for Education")),
        (SsoKind.CLEVER.value, _l("Clever")),
        (SsoKind.CLASSLINK.value, _l("ClassLink")),
        (SsoKind.OIDC.value, _l("Another OpenID Connect provider (e.g. Microsoft Entra)")),
    ]


def match_choices():
    return [
        ("", _l("The usual for this kind of provider")),
        (MatchField.IDENTIFIER.value, _l("A roster userIds entry")),
        (MatchField.USERNAME.value, _l("The roster username")),
        (MatchField.EMAIL.value, _l("The roster e-mail (only if the provider verified it)")),
    ]


class ProviderForm(PortalForm):
    """A new provider; the secret is write-only."""

    name = StringField(_l("Name on the button"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=kind_choices)
    issuer = StringField(
        _l("Issuer URL"),
        validators=[Optional(), URL(require_tld=False), Length(max=500)],
    )
    client_id = StringField(_l("Client id"), validators=[DataRequired(), Length(max=255)])
    client_secret = PasswordField(
        _l("Client secret"), validators=[DataRequired(), Length(max=2000)]
    )
    google_domains = StringField(_l("Google Workspace domains"), validators=[Length(max=500)])
    clever_district_id = StringField(_l("Clever district id"), validators=[Length(max=255)])
    match_claim = StringField(_l("Claim to match"), validators=[Length(max=80)])
    match_field = SelectField(_l("Matched against"), choices=match_choices, default="")
    identifier_type = StringField(_l("userIds type"), validators=[Length(max=80)])


class ActionForm(PortalForm):
    """A button that changes one provider (switch on or off, remove): CSRF only."""


class PasswordsForm(PortalForm):
    learner_passwords_off = BooleanField(
        _l("Learners may not sign in with a password (class code and PIN still work)")
    )
