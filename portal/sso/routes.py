"""Sign in through the district's identity provider (OpenID Connect); the signed-out page.

The flow: `start` (the sign-in page's button) or `initiate` (the provider's own portal,
OIDC third-party-initiated login) keeps state, nonce and PKCE verifier on the server and
sends the browser to the provider; `callback` checks the state, exchanges the code,
verifies the ID token and matches its claims to a rostered person. A match signs in
exactly as a password does (auth.routes.complete_sign_in); anything else shows a page
that says what happened and, when the provider vouched for someone, logs an SsoAttempt.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, redirect, request, session, url_for

from portal.auth import services as auth_services
from portal.auth.routes import complete_sign_in
from portal.core.database import writing
from portal.core.i18n import gettext as _
from portal.core.web import render, safe_next
from portal.policy import public
from portal.sso import crypto, oidc, services
from portal.sso.models import SsoProvider

bp = Blueprint("sso", __name__, url_prefix="/sso")
log = logging.getLogger(__name__)


def refusal_message(reason: str) -> str:
    """What a refused person reads, by reason code (the admin page shows the code too)."""
    return {
        services.UNKNOWN: _("Your school has not added you to Waypoint yet: tell your teacher."),
        services.AMBIGUOUS: _(
            "Your account matches more than one person in Waypoint. Tell your teacher, who "
            "can ask the school office to fix the roster."
        ),
        services.DEACTIVATED: _(
            "Your Waypoint account is switched off. If you think that is a mistake, ask your "
            "school office."
        ),
        services.WRONG_DOMAIN: _(
            "That Google account is not one of your school's. Sign in with your school "
            "account, or ask your teacher."
        ),
        services.WRONG_DISTRICT: _(
            "That Clever account belongs to another district. Sign in with your school's "
            "Clever account, or ask your teacher."
        ),
        services.EMAIL_UNVERIFIED: _(
            "Your sign-in service has not confirmed your e-mail address, so Waypoint cannot "
            "tell who you are. Ask your teacher."
        ),
        services.NO_CLAIM: _(
            "Your sign-in service did not say who you are. Ask your teacher or the school "
            "office to check how Waypoint is connected."
        ),
        services.STATE: _(
            "This sign-in link was already used or has expired. Start again from the sign-in page."
        ),
        services.TOKEN: _(
            "Waypoint could not trust the answer from your sign-in service. Start again from "
            "the sign-in page; if it keeps happening, tell your school office."
        ),
        services.PROVIDER: _(
            "Waypoint could not reach your sign-in service just now. Wait a moment and try "
            "again, or sign in another way."
        ),
        "cancelled": _("Signing in was cancelled. You can try again, or sign in another way."),
        "disabled": _("Signing in this way is switched off for now. Sign in another way."),
    }[reason]


def _refused(provider: SsoProvider | None, reason: str, status: int = 403):
    return render(
        "sso/refused.html",
        status=status,
        provider=provider,
        reason=reason,
        message=refusal_message(reason),
    )


def _enabled_provider(slug: str) -> SsoProvider:
    provider = services.provider_by_slug(slug)
    if provider is None:
        abort(404)
    return provider


def _begin(provider: SsoProvider, next_url: str | None, login_hint: str | None = None):
    if not provider.enabled:
        return _refused(provider, "disabled")
    try:
        with writing():  # the flow row: a write in a GET, committed here
            url = services.start(provider, safe_next(next_url), login_hint)
    except (oidc.ProviderError, crypto.SecretUnreadable) as exc:
        log.warning("sso %s: cannot start: %s", provider.slug, exc)
        return _refused(provider, services.PROVIDER, status=502)
    return redirect(url, code=303)


@bp.route("/<slug>/start")
@public
def start(slug: str):
    """Send the browser to the district's provider to sign in (the sign-in page's button)."""
    return _begin(_enabled_provider(slug), request.args.get("next"))


@bp.route("/<slug>/initiate")
@public
def initiate(slug: str):
    """Sign-in started by the provider (Clever portal, Instant Login, OIDC third-party
    initiated login, which may use GET): begin the normal flow, with its own state and nonce."""
    provider = _enabled_provider(slug)
    issuer = request.args.get("iss")
    if issuer is not None and issuer != provider.issuer:
        return _refused(provider, services.TOKEN, status=400)
    hint = (request.args.get("login_hint") or "")[:255] or None
    return _begin(provider, request.args.get("target_link_uri"), hint)


@bp.route("/<slug>/callback")
@public
def callback(slug: str):
    """Finish a sign-in: check state, trade the code, verify the ID token, find the person."""
    provider = _enabled_provider(slug)
    if request.args.get("error"):
        session.pop(services.STATE_KEY, None)
        return _refused(provider, "cancelled", status=400)
    if "state" not in request.args and request.args.get("code"):
        # Clever Instant Login and portal links arrive with a code but no state: that code
        # proves nothing about this browser, so it is dropped and a proper flow begins.
        return _begin(provider, None)
    code = request.args.get("code")
    # Two short writes around the provider's answer, so no lock waits on the network: the
    # flow is used up (committed) before its code is traded, so it can serve only once.
    with writing():
        flow = services.take_flow(provider, request.args.get("state"))
    if flow is None or not code:
        # Not kept as an SsoAttempt: nobody was vouched for, and anyone can send this.
        log.info("sso %s: callback with a missing, used or foreign state", provider.slug)
        return _refused(provider, services.STATE, status=400)
    if not provider.enabled:
        return _refused(provider, "disabled")
    claims, reason = None, None
    try:
        claims = services.finish(provider, flow, code[:2048])
    except oidc.TokenRejected as exc:
        log.warning("sso %s: ID token refused (%s)", provider.slug, exc.reason)
        reason = services.TOKEN
    except (oidc.ProviderError, crypto.SecretUnreadable) as exc:
        log.warning("sso %s: provider error: %s", provider.slug, exc)
        reason = services.PROVIDER
    with writing():
        found = services.match(provider, claims) if claims is not None else None
        if found is not None and found.user is not None:
            response = complete_sign_in(found.user, flow.next_url, auth_services.browser_client())
            session[services.SIGNED_IN_WITH] = provider.slug
            return response
        reason = reason or found.reason
        services.log_attempt(provider, reason, claims)
    return _refused(provider, reason, status=502 if reason == services.PROVIDER else 403)


@bp.route("/signed-out")
@public
def signed_out():
    """Waypoint's session has ended; the provider's may not have: say so, and link to end it."""
    provider, end_url = services.sign_out_url(request.args.get("provider"))
    if provider is None:
        return redirect(url_for("auth.login", signed_out=1))
    return render("sso/signed_out.html", provider=provider, end_url=end_url)
