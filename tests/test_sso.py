"""District sign-in through OpenID Connect, end to end against real providers on loopback.

The test client goes to the provider for real: `start` answers with the provider's
authorization URL, the provider's own form is filled in over HTTP (`MockProvider.
authorize`), and the provider's redirect back is followed into the portal's callback.
"""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import func, select

from portal.auth.models import LoginSession
from portal.core.extensions import db
from portal.rostering.models import UserIdentifier
from portal.sso import crypto, services
from portal.sso.models import SsoAttempt, SsoDistrictSettings, SsoFlow, SsoProvider
from tests.oidc_provider import portal_path, query_of

_subs = itertools.count(1)
SECRET = "very-secret-client-secret-1234"


def _sub(prefix: str) -> str:
    # The mock provider lives for the whole session: every test uses subjects of its own.
    return f"{prefix}-{next(_subs)}-{time.monotonic_ns()}"


def _provider(issuer: str, kind: str = "google", **fields) -> SsoProvider:
    defaults = {
        "google": {"google_domains": "lincoln.k12.example"},
        "clever": {"clever_district_id": "clever-district-1"},
    }.get(kind, {})
    return services.add_provider(
        services.ProviderInput(
            name=fields.pop("name", f"{kind.title()} {next(_subs)}"),
            kind=kind,
            district_id=fields.pop("district_id"),
            client_id=fields.pop("client_id", "waypoint-client"),
            client_secret=SECRET,
            issuer=issuer,
            **{**defaults, **fields},
        )
    )


def _go_to_provider(client, provider: SsoProvider, **args):
    response = client.get(f"/sso/{provider.slug}/start", query_string=args)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _sign_in(client, provider: SsoProvider, idp, sub: str):
    back = idp.authorize(_go_to_provider(client, provider), sub)
    return client.get(portal_path(back))


def _sessions_of(user) -> int:
    return db.session.scalar(
        select(func.count(LoginSession.id)).where(LoginSession.user_id == user.id)
    )


def _attempts() -> list[SsoAttempt]:
    db.session.expire_all()
    return list(db.session.scalars(select(SsoAttempt).order_by(SsoAttempt.id)))


@pytest.fixture
def world(make):
    district = make.default_district()
    school = make.default_school()
    learner = make.learner(email=f"ana{next(_subs)}@lincoln.k12.example")
    teacher = make.teacher(school=school)
    make.commit()
    return district, school, learner, teacher


# --- Success ----------------------------------------------------------------------------


def test_rostered_learner_signs_in_with_google_and_signs_out(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "google", district_id=district.id)
    db.session.commit()
    sub = _sub("google")
    oidc_mock.set_user(sub, email=learner.email, email_verified=True, hd="lincoln.k12.example")

    start = _go_to_provider(client, provider, next="/goals")
    sent = query_of(start)
    assert sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    assert sent["nonce"] and sent["state"] and "code_verifier" not in sent
    with client.session_transaction() as kept:
        assert kept[services.STATE_KEY] == sent["state"]  # the browser holds the state only
    assert db.session.scalar(select(func.count(SsoFlow.id))) == 1

    response = client.get(portal_path(oidc_mock.authorize(start, sub)))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/goals")
    assert "waypoint_device" in response.headers.get("Set-Cookie", "")  # as a password does
    assert _sessions_of(learner) == 1
    assert db.session.scalar(select(func.count(SsoFlow.id))) == 0  # used up
    home = client.get("/")
    assert home.status_code == 200 and learner.given_name in home.get_data(as_text=True)

    out = client.post("/signout")
    assert out.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert out.headers["Location"].endswith(f"/sso/signed-out?provider={provider.slug}")
    assert _sessions_of(learner) == 0
    page = client.get(portal_path(out.headers["Location"])).get_data(as_text=True)
    assert f"Your {provider.name} account is still signed in on this device" in page
    assert f'href="{oidc_mock.issuer}/oauth2/end_session"' in page  # from discovery
    assert client.get("/").status_code == 302  # Waypoint's session is gone


def test_rostered_teacher_signs_in_with_clever_by_roster_id(app, client, make, world, oidc_mock):
    district, _school, _learner, teacher = world
    clever_id = _sub("clever")
    db.session.add(UserIdentifier(user_id=teacher.id, type="Clever", identifier=clever_id))
    provider = _provider(oidc_mock.issuer, "clever", district_id=district.id)
    db.session.commit()
    oidc_mock.set_user(clever_id, district="clever-district-1", email="nobody@else.example")

    response = _sign_in(client, provider, oidc_mock, clever_id)
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert _sessions_of(teacher) == 1
    assert _attempts() == []


# --- Refusals the issue names -----------------------------------------------------------


def _refused(response, words: str, status: int = 403) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert words in response.get_data(as_text=True)
    assert (
        "Set-Cookie" not in response.headers
        or "waypoint_device" not in response.headers["Set-Cookie"]
    )


def test_google_account_of_another_domain_is_refused(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "google", district_id=district.id)
    db.session.commit()
    sub = _sub("hd")
    # Same e-mail as the learner, verified, but the token's hd is someone else's domain.
    oidc_mock.set_user(sub, email=learner.email, email_verified=True, hd="evil.example")
    _refused(_sign_in(client, provider, oidc_mock, sub), "not one of your school")
    assert _sessions_of(learner) == 0
    [attempt] = _attempts()
    assert (attempt.reason, attempt.detail, attempt.email) == (
        services.WRONG_DOMAIN,
        "evil.example",
        learner.email,
    )


def test_google_without_hd_claim_is_refused_even_if_hd_was_requested(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "google", district_id=district.id)
    db.session.commit()
    sub = _sub("nohd")
    oidc_mock.set_user(sub, email=learner.email, email_verified=True)  # a consumer account
    start = _go_to_provider(client, provider)
    assert query_of(start)["hd"] == "lincoln.k12.example"  # asked for, proves nothing
    _refused(client.get(portal_path(oidc_mock.authorize(start, sub))), "not one of your school")
    assert _sessions_of(learner) == 0


def test_clever_account_of_another_district_is_refused(app, client, world, oidc_mock):
    district, _school, _learner, teacher = world
    clever_id = _sub("clever")
    db.session.add(UserIdentifier(user_id=teacher.id, type="Clever", identifier=clever_id))
    provider = _provider(oidc_mock.issuer, "clever", district_id=district.id)
    db.session.commit()
    oidc_mock.set_user(clever_id, district="another-clever-district")
    _refused(_sign_in(client, provider, oidc_mock, clever_id), "belongs to another district")
    assert _sessions_of(teacher) == 0
    assert [a.reason for a in _attempts()] == [services.WRONG_DISTRICT]


def test_clever_never_matches_on_email_alone(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "clever", district_id=district.id)
    db.session.commit()
    sub = _sub("clever-mail")  # no UserIdentifier: only the e-mail would match
    oidc_mock.set_user(sub, district="clever-district-1", email=learner.email, email_verified=True)
    _refused(_sign_in(client, provider, oidc_mock, sub), "has not added you to Waypoint yet")
    assert _sessions_of(learner) == 0


def test_unverified_email_is_refused_where_email_is_the_match(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)  # matches e-mail
    db.session.commit()
    sub = _sub("unverified")
    oidc_mock.set_user(sub, email=learner.email, email_verified=False)
    _refused(_sign_in(client, provider, oidc_mock, sub), "has not confirmed your e-mail")
    assert _sessions_of(learner) == 0
    assert [a.reason for a in _attempts()] == [services.EMAIL_UNVERIFIED]


def test_unknown_person_gets_the_tell_your_teacher_page_and_is_logged(
    app, client, make, world, oidc_mock
):
    district, _school, _learner, _teacher = world
    far = make.district("Far District")
    far_learner = make.learner(school=make.school("Far School", far), email="far@far.example")
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    db.session.commit()
    users_before = db.session.scalar(select(func.count()).select_from(LoginSession))
    for email in ("stranger@lincoln.k12.example", far_learner.email):  # nobody; other district
        sub = _sub("unknown")
        oidc_mock.set_user(sub, email=email, email_verified=True)
        response = _sign_in(client, provider, oidc_mock, sub)
        _refused(response, "Your school has not added you to Waypoint yet: tell your teacher.")
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == users_before
    attempts = _attempts()
    assert [(a.reason, a.match_value) for a in attempts] == [
        (services.UNKNOWN, "stranger@lincoln.k12.example"),
        (services.UNKNOWN, far_learner.email),
    ]
    assert all(a.subject for a in attempts)


def test_deactivated_person_is_refused(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    learner.active = False
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    db.session.commit()
    sub = _sub("off")
    oidc_mock.set_user(sub, email=learner.email, email_verified=True)
    _refused(_sign_in(client, provider, oidc_mock, sub), "account is switched off")
    assert _sessions_of(learner) == 0
    assert [a.reason for a in _attempts()] == [services.DEACTIVATED]


def test_replayed_state_is_refused(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    db.session.commit()
    sub = _sub("replay")
    oidc_mock.set_user(sub, email=learner.email, email_verified=True)
    back = portal_path(oidc_mock.authorize(_go_to_provider(client, provider), sub))
    with client.session_transaction() as kept:
        saved = dict(kept)  # the session cookie as it was before the callback
    assert client.get(back).status_code == 303
    client.post("/signout")
    with client.session_transaction() as kept:
        kept.update(saved)  # replay with the old cookie, state included
    _refused(client.get(back), "already used or has expired", status=400)
    assert _sessions_of(learner) == 0


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
def test_tampered_state_is_refused(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    db.session.commit()
    sub = _sub("tamper")
    oidc_mock.set_user(sub, email=learner.email, email_verified=True)
    back = portal_path(oidc_mock.authorize(_go_to_provider(client, provider), sub))
    state = query_of(back)["state"]
    _refused(client.get(back.replace(state, state[:-2] + "xy")), "already used", status=400)
    assert _sessions_of(learner) == 0
    assert _attempts() == []  # nobody was vouched for: nothing for the admin to act on
    _refused(client.get(back), "already used", status=400)  # the state was spent


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
def test_callback_from_a_browser_that_did_not_start_is_refused(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    db.session.commit()
    sub = _sub("csrf")
    oidc_mock.set_user(sub, email=learner.email, email_verified=True)
    back = portal_path(oidc_mock.authorize(_go_to_provider(client, provider), sub))
    other = app.test_client()  # a victim sent the attacker's callback link
    _refused(other.get(back), "already used", status=400)
    assert _sessions_of(learner) == 0


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
@pytest.mark.parametrize(
    ("claims", "signed_by_stranger"),
    [
        pytest.param(
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, False, id="expired"
        ),
        pytest.param({"aud": "another-client"}, False, id="other-audience"),
        pytest.param(
            {"aud": ["waypoint-client", "another"], "azp": "another"},
            False,
            id="shared-audience-other-azp",
        ),
        pytest.param({"iss": "https://impostor.example"}, False, id="other-issuer"),
        pytest.param({"nonce": "not-the-one-we-sent"}, False, id="wrong-nonce"),
        pytest.param({}, True, id="stranger-key"),
    ],
)
def test_id_token_failing_a_check_is_refused(
    app, client, world, oidc_forger, claims, signed_by_stranger
):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_forger.issuer, "oidc", district_id=district.id)
    db.session.commit()
    oidc_forger.next_claims = {"email": learner.email, "email_verified": True, **claims}
    oidc_forger.sign_with = (
        oidc_forger.key.generate_key(2048, parameters={"kid": "forge-1"}, private=True)
        if signed_by_stranger
        else None
    )
    try:
        back = oidc_forger.authorize(_go_to_provider(client, provider))
        response = client.get(portal_path(back))
    finally:
        oidc_forger.next_claims, oidc_forger.sign_with = {}, None
    _refused(response, "could not trust the answer")
    assert _sessions_of(learner) == 0
    assert [a.reason for a in _attempts()] == [services.TOKEN]


def test_forging_provider_signs_in_with_a_good_token(app, client, world, oidc_forger):
    """The control for the cases above: the same provider, a token that passes."""
    district, _school, learner, _teacher = world
    provider = _provider(oidc_forger.issuer, "oidc", district_id=district.id)
    db.session.commit()
    oidc_forger.next_claims = {"email": learner.email, "email_verified": True}
    try:
        response = client.get(portal_path(oidc_forger.authorize(_go_to_provider(client, provider))))
    finally:
        oidc_forger.next_claims = {}
    assert response.status_code == 303 and _sessions_of(learner) == 1


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
def test_provider_refusing_the_code_is_a_clear_page_not_a_500(app, client, world, oidc_forger):
    district = world[0]
    provider = _provider(oidc_forger.issuer, "oidc", district_id=district.id)
    db.session.commit()
    oidc_forger.refuse_code = True
    try:
        response = client.get(portal_path(oidc_forger.authorize(_go_to_provider(client, provider))))
    finally:
        oidc_forger.refuse_code = False
    _refused(response, "could not reach your sign-in service", status=502)
    assert [a.reason for a in _attempts()] == [services.PROVIDER]
    # A provider that is down before the flow starts: the same page, nothing written.
    down = _provider("http://127.0.0.1:9", "oidc", district_id=district.id)
    db.session.commit()
    _refused(client.get(f"/sso/{down.slug}/start"), "could not reach", status=502)


@pytest.mark.sqlite_only("claims of the wrong type are refused before any SQL")
def test_claims_of_the_wrong_type_are_refused_not_a_500(app, client, world, oidc_forger):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_forger.issuer, "google", district_id=district.id)
    db.session.commit()
    for odd in ({"hd": 5}, {"hd": ["lincoln.k12.example"]}, {"email_verified": "true"}):
        oidc_forger.next_claims = {
            "email": learner.email,
            "email_verified": True,
            "hd": "lincoln.k12.example",
            **odd,
        }
        try:
            response = client.get(
                portal_path(oidc_forger.authorize(_go_to_provider(client, provider)))
            )
        finally:
            oidc_forger.next_claims = {}
        assert response.status_code == 403, (odd, response.status_code)
    assert _sessions_of(learner) == 0


# --- Started by the provider ------------------------------------------------------------


def test_provider_initiated_login_starts_the_normal_flow(app, client, world, oidc_mock):
    district, _school, learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    db.session.commit()
    response = client.get(
        f"/sso/{provider.slug}/initiate",
        query_string={"iss": oidc_mock.issuer, "login_hint": learner.email},
    )
    assert response.status_code == 303
    sent = query_of(response.headers["Location"])
    assert sent["login_hint"] == learner.email and sent["state"] and sent["nonce"]
    wrong = client.get(f"/sso/{provider.slug}/initiate", query_string={"iss": "https://x.example"})
    assert wrong.status_code == 400
    # Clever Instant Login: a code without state is not trusted; a proper flow begins.
    instant = client.get(f"/sso/{provider.slug}/callback", query_string={"code": "abc"})
    assert instant.status_code == 303
    assert instant.headers["Location"].startswith(oidc_mock.issuer + "/oauth2/authorize?")


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
def test_disabled_or_unknown_provider_does_not_start(app, client, world, oidc_mock):
    district, _school, _learner, _teacher = world
    provider = _provider(oidc_mock.issuer, "oidc", district_id=district.id)
    provider.enabled = False
    db.session.commit()
    assert client.get(f"/sso/{provider.slug}/start").status_code == 403
    assert client.get("/sso/nobody/start").status_code == 404
    assert client.get("/sso/nobody/callback?state=x&code=y").status_code == 404


# --- Passwords off for learners -----------------------------------------------------------


def test_district_can_turn_learner_passwords_off(app, client, auth, world, oidc_mock):
    district, _school, learner, teacher = world
    _provider(oidc_mock.issuer, "oidc", name="Entra", district_id=district.id)
    db.session.add(SsoDistrictSettings(district_id=district.id, learner_passwords_off=True))
    db.session.commit()
    refused = client.post(
        "/signin", data={"login": learner.username, "password": "correct horse battery"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "signs learners in with its sign-in service" in page
    assert "Sign in with Entra" in page
    assert _sessions_of(learner) == 0
    auth.login(teacher)  # staff keep their passwords
    assert _sessions_of(teacher) == 1


def test_sign_in_page_shows_the_district_buttons(app, client, make, world, oidc_mock):
    district, _school, _learner, _teacher = world
    _provider(oidc_mock.issuer, "oidc", name="Entra", district_id=district.id)
    db.session.commit()
    assert "Sign in with Entra" in client.get("/signin").get_data(as_text=True)
    far = make.district("Far")
    _provider(oidc_mock.issuer, "oidc", name="Far Entra", district_id=far.id)
    db.session.commit()
    assert "Sign in with" not in client.get("/signin").get_data(as_text=True)  # which one?
    page = client.get(f"/signin?district={far.id}").get_data(as_text=True)
    assert "Sign in with Far Entra" in page and "Sign in with Entra<" not in page


# --- The admin page and the CLI -------------------------------------------------------------


def test_district_admin_connects_switches_and_removes_a_provider(
    app, client, auth, make, world, oidc_mock
):
    district, _school, _learner, _teacher = world
    admin = make.district_admin(district)
    far_admin = make.district_admin(make.district("Far"))
    make.commit()
    auth.login(admin)
    bad = client.post(
        "/admin/sso",
        data={"name": "Google", "kind": "google", "client_id": "c", "client_secret": SECRET},
    )
    assert bad.status_code == 422 and "Workspace domain" in bad.get_data(as_text=True)
    fragment = client.post("/admin/sso", headers={"HX-Request": "true"}, data={"name": ""})
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    done = client.post(
        "/admin/sso",
        data={
            "name": "Lincoln Google",
            "kind": "google",
            "client_id": "cid",
            "client_secret": SECRET,
            "google_domains": "lincoln.k12.example",
        },
    )
    assert done.status_code == 303
    provider = db.session.scalar(select(SsoProvider))
    assert (
        provider.client_secret_encrypted != SECRET
        and SECRET not in provider.client_secret_encrypted
    )
    assert crypto.decrypt(provider.client_secret_encrypted) == SECRET
    page = client.get("/admin/sso").get_data(as_text=True)
    assert SECRET not in page and SECRET[-4:] not in page
    assert "http://localhost/sso/lincoln-google/callback" in page
    assert client.post(f"/admin/sso/{provider.id}/toggle").status_code == 303
    db.session.expire_all()
    assert provider.enabled is False
    client.post("/signout")
    auth.login(far_admin)
    assert client.post(f"/admin/sso/{provider.id}/remove").status_code == 404
    assert client.get("/admin/sso").get_data(as_text=True).count("lincoln-google") == 0
    client.post("/signout")
    auth.login(admin)
    assert (
        client.post("/admin/sso/passwords", data={"learner_passwords_off": "y"}).status_code == 303
    )
    assert client.post(f"/admin/sso/{provider.id}/remove").status_code == 303
    assert db.session.scalar(select(func.count(SsoProvider.id))) == 0
    assert db.session.get(SsoDistrictSettings, district.id).learner_passwords_off is True


def test_teacher_may_not_open_the_admin_page(app, client, auth, world):
    auth.login(world[3])
    assert client.get("/admin/sso").status_code == 403


def test_cli_adds_lists_and_removes_with_the_secret_from_stdin(app, world, oidc_mock, caplog):
    district = world[0]
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "sso",
            "add",
            "Lincoln Clever",
            "--kind",
            "clever",
            "--issuer",
            oidc_mock.issuer,
            "--client-id",
            "cid",
            "--client-secret",
            "-",
            "--district-id",
            str(district.id),
            "--clever-district",
            "clever-district-1",
        ],
        input=SECRET + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "/sso/lincoln-clever/callback" in added.output and SECRET not in added.output
    listed = runner.invoke(args=["sso", "list"])
    assert "lincoln-clever" in listed.output and SECRET not in listed.output
    assert SECRET not in caplog.text
    db.session.expire_all()
    stored = db.session.scalar(select(SsoProvider))
    assert crypto.decrypt(stored.client_secret_encrypted) == SECRET
    wrong = runner.invoke(
        args=[
            "sso",
            "add",
            "X",
            "--kind",
            "google",
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--district-id",
            str(district.id),
        ]
    )
    assert wrong.exit_code != 0 and "domain" in wrong.output
    removed = runner.invoke(args=["sso", "remove", "Lincoln Clever"])
    assert removed.exit_code == 0, removed.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SsoProvider.id))) == 0


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
def test_loopback_issuer_only_where_allowed(app, world):
    app.testing = False
    with pytest.raises(services.Invalid):
        _provider("http://127.0.0.1:8080", "oidc", district_id=world[0].id)
    with pytest.raises(services.Invalid):
        _provider("http://sso.example", "oidc", district_id=world[0].id)
    app.config["SSO_ALLOW_LOOPBACK"] = True
    assert _provider("http://127.0.0.1:8080", "oidc", district_id=world[0].id).id


@pytest.mark.sqlite_only("the protocol checks run before any SQL that differs by backend")
def test_secret_key_from_config_or_derived(app):
    app.config["SSO_SECRET_KEY"] = None
    derived = crypto.encrypt("s")
    assert crypto.decrypt(derived) == "s"
    app.config["SSO_SECRET_KEY"] = "x" * 43 + "="
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(derived)
