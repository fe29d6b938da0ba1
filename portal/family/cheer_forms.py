"""The family page's cheer forms: one per active goal and one per shared entry.

A page carries many blank cheer forms that differ only in their prefix (field names and
ids), their idempotency token, their action and the session's CSRF token. Rendering each
through WTForms and the `field` macro cost about a fifth of the family page, so one blank
form is rendered through `family/_cheer_form.html` with placeholders for those four, once
per process and language (its words are the catalog's), and every blank form on every
page fills in the placeholders. A form that comes back from a failed post (its words and
errors) is rendered through the template as it is.

tests/test_family_cheer_forms.py checks that the markup is the template's own, form by form.
"""

from __future__ import annotations

import re

from flask import current_app, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.core.i18n import translations
from portal.core.web import link_pattern
from portal.family.forms import CheerForm
from portal.progress.forms import new_token

CHEER_FORM = "family/_cheer_form.html"

# Placeholders nothing else on a form contains: markupsafe leaves them as they are, a
# token (URL-safe base64 or itsdangerous's signed form) or a URL never holds an "@@".
_KEY, _TOKEN, _ACTION, _CSRF = "@@key@@", "@@token@@", "@@action@@", "@@csrf@@"
_PLACEHOLDER = re.compile("(" + "|".join(map(re.escape, (_KEY, _TOKEN, _ACTION, _CSRF))) + ")")

# The blank form split at its placeholders, per app (its templates) and catalog (its
# words) and whether forms carry a CSRF token; the objects are kept to check identity.
_BLANKS: dict[tuple[int, int, bool], tuple[object, object, list[str]]] = {}


def cheer_key(goal_id: int, entry_id: int | None) -> str:
    """Each cheer form on the page has its own field names and ids."""
    return f"e{entry_id}" if entry_id is not None else f"g{goal_id}"


def cheer_action(goal_id: int, entry_id: int | None) -> str:
    return url_for("family.cheer", goal_id=goal_id, entry=entry_id)


def render_cheer_form(goal, entry, form: CheerForm, key: str, action: str) -> Markup:
    """One cheer form through its template, as a part of the page being rendered."""
    template = current_app.jinja_env.get_template(CHEER_FORM)
    html = template.render(goal=goal, entry=entry, form=form, key=key, cheer_action=action)
    return Markup(html)  # noqa: S704 (an autoescaped template's output)


class CheerForms:
    """The page's cheer forms by key: the posted ones as they came back, the rest blank."""

    def __init__(self, posted: dict[str, CheerForm] | None = None):
        self.posted = dict(posted or {})
        self._csrf: str | None = None  # this session's CSRF token, escaped, once asked
        self._actions: tuple[str, str] | None = None  # the goal's and an entry's URL pattern

    def _action(self, goal_id: int, entry_id: int | None) -> str:
        """`cheer_action`, from two URL patterns made once per page (a page has ~20 forms)."""
        if self._actions is None:
            self._actions = (
                link_pattern("family.cheer", "goal_id"),
                link_pattern("family.cheer", "goal_id", "entry"),
            )
        if entry_id is None:
            return self._actions[0] % goal_id
        return self._actions[1] % (goal_id, entry_id)

    def __contains__(self, key: str) -> bool:
        return key in self.posted

    def render(self, goal, entry=None) -> Markup:
        """The cheer form for a goal, or for one of its shared entries."""
        entry_id = entry.id if entry is not None else None
        key = cheer_key(goal.id, entry_id)
        action = self._action(goal.id, entry_id)
        form = self.posted.get(key)
        if form is not None:
            return render_cheer_form(goal, entry, form, key, action)
        parts = _blank_parts()
        values = {_KEY: escape(key), _TOKEN: escape(new_token()), _ACTION: escape(action)}
        if _CSRF in parts:
            if self._csrf is None:
                self._csrf = str(escape(generate_csrf()))
            values[_CSRF] = self._csrf
        html = "".join(values.get(part, part) for part in parts)
        return Markup(html)  # noqa: S704 (the template's output and escaped values)


def _blank_parts() -> list[str]:
    """The blank cheer form in this request's language, split at its placeholders."""
    env, catalog = current_app.jinja_env, translations()
    csrf_on = bool(current_app.config.get("WTF_CSRF_ENABLED", True))
    key = (id(env), id(catalog), csrf_on)
    kept = _BLANKS.get(key)
    if kept is not None and kept[0] is env and kept[1] is catalog:
        return kept[2]
    form = CheerForm(formdata=None, prefix=_KEY)
    form.token.data = _TOKEN
    csrf_field = getattr(form, "csrf_token", None)  # absent when CSRF is off
    if csrf_field is not None:
        csrf_field.current_token = _CSRF
    parts = _PLACEHOLDER.split(str(render_cheer_form(None, None, form, _KEY, _ACTION)))
    if len(_BLANKS) > 32:  # apps gone (tests make many apps)
        _BLANKS.clear()
    _BLANKS[key] = (env, catalog, parts)
    return parts
