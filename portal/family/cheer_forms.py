"""The family page's cheer forms: one per active goal and one per shared entry.

A page carries many blank cheer forms that differ only in their prefix (field names and
ids), their idempotency token and their action. Rendering each through WTForms and the
`field` macro cost about a fifth of the family page, so the page renders one blank form
through `family/_cheer_form.html` with placeholders for those three, and fills the
placeholders for every other blank form. A form that comes back from a failed post (its
words and errors) is rendered through the template as it is.

tests/test_family_cheer_forms.py checks that the markup is the template's own, form by form.
"""

from __future__ import annotations

import re

from flask import current_app, url_for
from markupsafe import Markup, escape

from portal.family.forms import CheerForm
from portal.progress.forms import new_token

CHEER_FORM = "family/_cheer_form.html"

# Placeholders nothing else on a form contains: markupsafe leaves them as they are, a
# token (URL-safe base64) or a URL never holds an "@@".
_KEY, _TOKEN, _ACTION = "@@key@@", "@@token@@", "@@action@@"
_PLACEHOLDER = re.compile(f"({re.escape(_KEY)}|{re.escape(_TOKEN)}|{re.escape(_ACTION)})")


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
        self._parts: list[str] | None = None  # the blank form split at its placeholders

    def __contains__(self, key: str) -> bool:
        return key in self.posted

    def render(self, goal, entry=None) -> Markup:
        """The cheer form for a goal, or for one of its shared entries."""
        entry_id = entry.id if entry is not None else None
        key = cheer_key(goal.id, entry_id)
        action = cheer_action(goal.id, entry_id)
        form = self.posted.get(key)
        if form is not None:
            return render_cheer_form(goal, entry, form, key, action)
        values = {_KEY: escape(key), _TOKEN: escape(new_token()), _ACTION: escape(action)}
        html = "".join(values.get(part, part) for part in self._blank())
        return Markup(html)  # noqa: S704 (the template's output and escaped values)

    def _blank(self) -> list[str]:
        if self._parts is None:
            form = CheerForm(formdata=None, prefix=_KEY)
            form.token.data = _TOKEN
            html = render_cheer_form(None, None, form, _KEY, _ACTION)
            self._parts = _PLACEHOLDER.split(str(html))
        return self._parts
