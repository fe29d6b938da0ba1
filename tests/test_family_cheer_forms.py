"""The family page's cheer forms: one blank form rendered per page and filled in for each
goal and shared entry (portal/family/cheer_forms.py), the same markup as the template's."""

from __future__ import annotations

import re

import pytest
from flask import render_template

from portal.core.extensions import db
from portal.family import routes
from portal.family.forms import CheerForm
from portal.goals.models import Goal
from portal.progress.models import ProgressEntry
from tests.fixtures import family as fam
from tests.fixtures import progress as build

FORM = re.compile(r'<form id="cheer-(\w+)".*?</form>', re.DOTALL)
CSRF = re.compile(r'(-csrf_token" type="hidden" value=")([^"]+)"')


@pytest.fixture
def family(make):
    family = fam.build_family(make)
    for i in range(2):
        goal = build.goal(make, family.maya, statement=f"Maya extra goal {i}")
        goal.agreed_version_id = goal.current_version_id
        build.entry(make, goal, 2).shared_with_family = True
        build.entry(make, goal, 3).shared_with_family = True
    make.commit()
    return family


def _expected(app, key: str, page_form: str) -> str:
    """The form as `family/_cheer_form.html` renders it, with the page's token and CSRF."""
    kind, number = key[0], int(key[1:])
    with app.test_request_context():
        if kind == "e":
            entry = db.session.get(ProgressEntry, number)
            goal = db.session.get(Goal, entry.goal_id)
        else:
            entry, goal = None, db.session.get(Goal, number)
        form = CheerForm(formdata=None, prefix=key)
        token = re.search(rf'name="{key}-token" type="hidden" value="([^"]+)"', page_form)
        form.token.data = token[1]
        html = render_template(
            "family/_cheer_form.html", goal=goal, entry=entry, form=form, key=key
        )
    page_csrf = CSRF.search(page_form)
    if page_csrf is not None:
        html = CSRF.sub(lambda m: m[1] + page_csrf[2] + '"', html)
    return html.strip()


@pytest.mark.parametrize("csrf", [False, True])
@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_blank_cheer_form_is_the_templates_own(app, client, auth, family, csrf, locale):
    family.guardian.locale = locale
    db.session.commit()
    auth.login(family.guardian)
    app.config["WTF_CSRF_ENABLED"] = csrf
    page = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    forms = {m[1]: m[0] for m in FORM.finditer(page)}
    assert len(forms) >= 6  # a form per active goal and per shared entry
    tokens = set()
    for key, html in forms.items():
        assert html == _expected(app, key, html)
        assert f'name="{key}-body"' in html and f'id="{key}-body-hint"' in html
        assert ('-csrf_token"' in html) is csrf
        tokens.add(re.search(r'-token" type="hidden" value="([^"]+)"', html)[1])
    assert len(tokens) == len(forms)  # every form its own idempotency token


def test_the_page_builds_one_blank_cheer_form(app, client, auth, family, monkeypatch):
    """Not a WTForms form per goal and per shared entry: one for the whole page."""
    built = []
    original = CheerForm.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("prefix"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(CheerForm, "__init__", counting)
    auth.login(family.guardian)
    page = client.get(f"/family/children/{family.maya.id}").get_data(as_text=True)
    assert len(FORM.findall(page)) >= 6
    assert len(built) == 1, built


def test_a_failed_cheer_comes_back_with_its_words_and_the_rest_blank(app, client, auth, family):
    auth.login(family.guardian)
    goal = family.goal
    key = routes.cheer_key(goal.id, None)
    response = client.post(
        f"/family/goals/{goal.id}/cheers", data={f"{key}-body": "see https://example.com"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    forms = {m[1]: m[0] for m in FORM.finditer(page)}
    failed = forms.pop(key)
    assert "see https://example.com" in failed and 'class="field-error"' in failed
    assert f'aria-describedby="{key}-body-hint {key}-body-error"' in failed
    for other, html in forms.items():
        assert 'class="field-error"' not in html
        assert html == _expected(app, other, html)
