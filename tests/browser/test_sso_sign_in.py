"""A learner signs in with the district's identity provider in Chromium, end to end.

The district admin's provider points at a real OpenID Connect provider on loopback
(oidc-provider-mock); the learner clicks "Sign in with ...", signs in on the provider's
own page and lands on their home, signed in exactly as a password would sign them in.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from portal import create_app
from portal.auth.models import LoginSession, User
from portal.core.extensions import db
from portal.sso import services
from portal.sso.models import MatchField, SsoKind, SsoProvider

pytestmark = pytest.mark.browser
_n = itertools.count(1)


@pytest.fixture
def district_provider(live_db, live_server, oidc_mock, demo_accounts):
    """A provider of the demo learner's district (as `sso add` or /admin/sso would make it),
    removed afterwards so the other browser tests see the sign-in page they expect."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{live_db}",
            "SECRET_KEY": "browser-tests",
            "SSO_ALLOW_LOOPBACK": True,  # the provider runs on 127.0.0.1
        }
    )
    with app.app_context():
        learner = db.session.scalar(
            select(User).where(User.username == demo_accounts.usernames["learner"])
        )
        provider = services.add_provider(
            services.ProviderInput(
                name=f"District Login {next(_n)}",
                kind=SsoKind.OIDC,
                district_id=services.district_of(learner),
                client_id="waypoint-browser",
                client_secret="browser-secret",
                issuer=oidc_mock.issuer,
                match_claim="preferred_username",
                match_field=MatchField.USERNAME,
            )
        )
        db.session.commit()
        found = (provider.id, provider.name, learner.id, learner.username)
    try:
        yield app, found
    finally:
        with app.app_context():
            services.remove_provider(db.session.get(SsoProvider, found[0]))
            db.session.commit()
            db.engine.dispose()


def test_learner_signs_in_with_the_district_provider(pages, district_provider, oidc_mock):
    app, (provider_id, name, learner_id, username) = district_provider
    before = _sessions(app, learner_id)
    sub = f"browser-learner-{provider_id}"
    oidc_mock.set_user(sub, preferred_username=username)
    page = pages.new()
    # The provider's page is the mock's, which links a stylesheet on a CDN: no internet here.
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    page.goto("/signin")
    page.get_by_role("button", name=f"Sign in with {name}").click()
    page.wait_for_url(f"{oidc_mock.issuer}/oauth2/authorize*")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: url.startswith(pages.base_url) and "/sso/" not in url)
    page.wait_for_load_state()
    assert page.url == pages.base_url + "/"
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert not pages.failed_requests, pages.failed_requests
    assert _sessions(app, learner_id) == before + 1  # the server-side session a password makes

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sso/signed-out*")
    assert f"Your {name} account is still signed in on this device" in page.inner_text("main")
    assert page.get_by_role("button", name=f"Sign out of {name}").get_attribute("href") == (
        f"{oidc_mock.issuer}/oauth2/end_session"
    )
    assert _sessions(app, learner_id) == before


def _sessions(app, user_id: int) -> int:
    with app.app_context():
        rows = db.session.scalars(select(LoginSession.id).where(LoginSession.user_id == user_id))
        count = len(list(rows))
        db.session.remove()
        return count
