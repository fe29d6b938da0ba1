"""The district admin's sign-in page: connect, switch and remove providers, see refusals."""

from __future__ import annotations

from flask import Blueprint, flash, url_for

from portal.auth.models import Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.web import redirect_to, render
from portal.policy import load_sso_provider, roles, sso_district_id
from portal.sso import services
from portal.sso.forms import ActionForm, PasswordsForm, ProviderForm
from portal.sso.models import MatchField, SsoKind

bp = Blueprint("sso_admin", __name__, url_prefix="/admin/sso")


def _page(district_id: int, form: ProviderForm | None = None, status: int = 200):
    settings = services.district_settings(district_id)
    providers = services.providers_of(district_id)
    return render(
        "sso/admin.html",
        "provider_form",
        status=status,
        form=form or ProviderForm(),
        providers=providers,
        redirect_uris={p.id: services.redirect_uri(p) for p in providers},
        action_form=ActionForm(),
        passwords_form=PasswordsForm(learner_passwords_off=settings.learner_passwords_off),
        attempts=services.recent_attempts(district_id),
        reason_words={code: _reason_label(code) for code in _REASONS},
        example_uri=url_for("sso.callback", slug="SLUG", _external=True),
    )


_REASONS = (
    services.UNKNOWN,
    services.DEACTIVATED,
    services.WRONG_DOMAIN,
    services.WRONG_DISTRICT,
    services.EMAIL_UNVERIFIED,
    services.NO_CLAIM,
    services.AMBIGUOUS,
    services.TOKEN,
    services.PROVIDER,
)


def _reason_label(code: str) -> str:
    return {
        services.UNKNOWN: _("Not in the roster"),
        services.DEACTIVATED: _("Deactivated in the roster"),
        services.WRONG_DOMAIN: _("Google domain is not the district's"),
        services.WRONG_DISTRICT: _("Clever district is not this one"),
        services.EMAIL_UNVERIFIED: _("E-mail not verified by the provider"),
        services.NO_CLAIM: _("The provider sent no value to match"),
        services.AMBIGUOUS: _("Matches more than one person"),
        services.TOKEN: _("ID token failed a check (signature, issuer, audience, expiry)"),
        services.PROVIDER: _("Provider unreachable or refused the code"),
    }[code]


@bp.route("", methods=["GET", "POST"])
@roles(Role.DISTRICT_ADMIN)
def index():
    """List the district's providers and add one."""
    district_id = sso_district_id()
    form = ProviderForm()
    if not form.validate_on_submit():
        return _page(district_id, form, status=422 if form.is_submitted() else 200)
    try:
        provider = services.add_provider(
            services.ProviderInput(
                name=form.name.data,
                kind=SsoKind(form.kind.data),
                district_id=district_id,
                client_id=form.client_id.data,
                client_secret=form.client_secret.data,
                issuer=form.issuer.data or None,
                match_claim=form.match_claim.data or None,
                match_field=MatchField(form.match_field.data) if form.match_field.data else None,
                identifier_type=form.identifier_type.data or None,
                google_domains=form.google_domains.data,
                clever_district_id=form.clever_district_id.data,
            )
        )
    except services.Invalid as invalid:
        db.session.rollback()
        field = getattr(form, invalid.field, form.name)
        field.errors = [*field.errors, _invalid_words(invalid.field)]
        return _page(district_id, form, status=422)
    db.session.commit()
    flash(
        _(
            "%(name)s is connected. Register this redirect URI with it: %(uri)s",
            name=provider.name,
            uri=services.redirect_uri(provider),
        ),
        "success",
    )
    return redirect_to(url_for("sso_admin.index"))


def _invalid_words(field: str) -> str:
    return {
        "issuer": _("The issuer must be an https URL."),
        "slug": _("Give a name with letters or digits."),
        "name": _("Another provider already has that name."),
        "client_id": _("Both the client id and the client secret are needed."),
        "match_field": _("Clever sign-ins match the Clever id in the roster (a userIds entry)."),
        "identifier_type": _("Say which userIds type holds the id (e.g. Clever)."),
        "google_domains": _("Give the district's Google Workspace domain(s)."),
        "clever_district_id": _("Give the district's Clever district id."),
        "district_id": _("There is no district with that id."),
    }[field]


@bp.route("/<int:provider_id>/toggle", methods=["POST"])
@roles(Role.DISTRICT_ADMIN)
def toggle(provider_id: int):
    """Switch a provider's sign-in button on or off."""
    provider = load_sso_provider(provider_id)
    if ActionForm().validate_on_submit():
        provider.enabled = not provider.enabled
        db.session.commit()
        if provider.enabled:
            flash(_("Sign-in with %(name)s is on.", name=provider.name), "success")
        else:
            flash(_("Sign-in with %(name)s is off.", name=provider.name), "success")
    return redirect_to(url_for("sso_admin.index"))


@bp.route("/<int:provider_id>/remove", methods=["POST"])
@roles(Role.DISTRICT_ADMIN)
def remove(provider_id: int):
    """Remove a provider and its logged refusals."""
    provider = load_sso_provider(provider_id)
    if ActionForm().validate_on_submit():
        name = provider.name
        services.remove_provider(provider)
        db.session.commit()
        flash(_("%(name)s was removed.", name=name), "success")
    return redirect_to(url_for("sso_admin.index"))


@bp.route("/passwords", methods=["POST"])
@roles(Role.DISTRICT_ADMIN)
def passwords():
    """Turn learners' password sign-in off (or back on) for the district."""
    district_id = sso_district_id()
    form = PasswordsForm()
    if form.validate_on_submit():
        services.set_learner_passwords_off(district_id, bool(form.learner_passwords_off.data))
        db.session.commit()
        if form.learner_passwords_off.data:
            flash(
                _("Learners now sign in with the district's provider or a class code."),
                "success",
            )
        else:
            flash(_("Learners may sign in with a password again."), "success")
    return redirect_to(url_for("sso_admin.index"))
