"""Every route says who may call it, and every object id in a URL is exercised by the matrix.

This walks the real `app.url_map`, so routes added by any feature are covered the
moment they are registered: nothing to list by hand except the public pages.
"""

from __future__ import annotations

import pytest

from portal.policy import public, roles
from tests.test_policy_matrix import OUT_OF_REACH, _id_args

# The only views anyone may call without signing in. Adding one is a decision: say why.
PUBLIC_ENDPOINTS = {
    "auth.login",  # the sign-in page
    "auth.class_code",  # young learners: class code
    "auth.pick_name",  # young learners: pick your name (first name, last initial)
    "auth.pin",  # young learners: PIN
    "badges.sign_in",  # young learners: scan a picture badge (its secret signs in)
    "auth.logout",  # signing out must work with an expired session too
    "auth.language",  # choosing a language before signing in
    "sso.start",  # district sign-in: off to the identity provider
    "sso.initiate",  # district sign-in started by the provider's portal
    "sso.callback",  # district sign-in: back from the identity provider
    "sso.signed_out",  # after signing out: the provider's session is still open
}


def _views(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule, app.view_functions[rule.endpoint]


def test_every_view_is_marked_public_or_roles(app):
    unmarked = sorted(
        f"{rule.endpoint} ({rule.rule})"
        for rule, view in _views(app)
        if getattr(view, "access", None) is None
    )
    assert not unmarked, (
        "These views lack @public or @roles(...) from portal/policy/ "
        f"(put the marker directly under @bp.route): {unmarked}"
    )


def test_markers_are_well_formed(app):
    for rule, view in _views(app):
        access = view.access
        if access == "public":
            continue
        assert isinstance(access, tuple) and access[0] == "roles", (rule.endpoint, access)
        assert access[1], f"{rule.endpoint}: @roles() with an empty set of roles"


def test_public_endpoints_are_exactly_the_allowlist(app):
    public_now = {rule.endpoint for rule, view in _views(app) if view.access == "public"}
    unexpected = public_now - PUBLIC_ENDPOINTS
    assert not unexpected, (
        f"New @public views {sorted(unexpected)}: a public view shows anything to anyone. "
        "If that is really meant, add it to PUBLIC_ENDPOINTS in tests/test_policy_coverage.py."
    )
    gone = PUBLIC_ENDPOINTS - public_now
    assert not gone, f"Allowlisted but no longer public (remove them from the list): {gone}"


def test_every_object_id_in_a_url_has_an_out_of_reach_factory(app):
    missing = sorted(
        f"{rule.rule} ({rule.endpoint}): add '{name}' to OUT_OF_REACH"
        for rule, _ in _views(app)
        for name in _id_args(rule)
        if name not in OUT_OF_REACH
    )
    assert not missing, (
        "The role matrix cannot build these objects out of the callers' reach; add one "
        "small factory per kind to OUT_OF_REACH in tests/test_policy_matrix.py: "
        + "; ".join(missing)
    )


def _guarded_rules(app):
    for rule, view in _views(app):
        if view.access != "public":
            yield rule


def test_signed_out_visitors_are_sent_to_sign_in_everywhere(app, client):
    """No guarded route answers anything but a redirect to sign-in when nobody is signed in."""
    for rule in _guarded_rules(app):
        url = _placeholder_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/signin"), (method, url)


def test_signed_out_htmx_requests_get_hx_redirect_not_a_form(app, client):
    for rule in _guarded_rules(app):
        url = _placeholder_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={}, headers={"HX-Request": "true"})
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.headers["HX-Redirect"].startswith("/signin"), (method, url)
            assert b"<form" not in response.data


def _placeholder_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = 1 if kind in ("IntegerConverter", "FloatConverter") else "x"
    return rule.build(values, append_unknown=False)[1]


# --- The markers themselves ---------------------------------------------------------


def test_roles_marker_refuses_other_roles_with_403(app, client, auth, make):
    from portal.auth.models import Role

    @roles(Role.TEACHER)
    def only_teachers():
        return "ok"

    app.add_url_rule("/_test/only-teachers", "only_teachers", only_teachers)
    learner = make.learner()
    teacher = make.teacher()
    make.commit()
    assert client.get("/_test/only-teachers").status_code == 302
    auth.login(learner)
    assert client.get("/_test/only-teachers").status_code == 403
    auth.logout()
    auth.login(teacher)
    assert client.get("/_test/only-teachers").data == b"ok"


def test_public_marker_sets_access():
    @public
    def view():
        return "ok"

    assert view.access == "public"


@pytest.mark.parametrize("role_count", [0, 2])
def test_roles_marker_records_allowed_roles(role_count):
    from portal.auth.models import Role

    allowed = list(Role)[:role_count]
    wrapped = roles(*allowed)(lambda: "ok")
    assert wrapped.access == ("roles", frozenset(allowed) or frozenset(Role))
