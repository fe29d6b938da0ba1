"""One form per screen: log progress, give feedback, choose the school's level method."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.progress.models import LevelMethod
from portal.progress.services import OTHER

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def is_token(value: str) -> bool:
    """A token as new_token makes them (anything else names no entry: no need to look)."""
    return _TOKEN.fullmatch(value or "") is not None


def new_token() -> str:
    return secrets.token_urlsafe(18)


class TokenForm(PortalForm):
    """A form whose submission is idempotent: the token names the row it creates."""

    token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted() or not self.token.data:
            self.token.data = new_token()

    def validate_token(self, field):
        if not _TOKEN.match(field.data or ""):
            raise ValidationError(_l("This form is out of date. Reload the page and try again."))


def _http_only(form, field):
    if field.data:
        parts = urlsplit(field.data.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValidationError(_l("Use a web link that starts with http:// or https://."))


def _described(level) -> str:
    return f": {level.display_description}" if level.display_description else ""


def level_choices(scale) -> list[SelectChoice]:
    return [
        SelectChoice(
            str(lv.value),
            f"{lv.value} · {lv.display_label}{_described(lv)}",
        )
        for lv in scale.levels
    ]


class EntryForm(TokenForm):
    strategy = SelectField(_l("What I did"), validators=[DataRequired()])
    other_strategy = StringField(
        _l("Something else: what did you do?"), validators=[Length(max=200)]
    )
    self_rating = RadioField(
        _l("Where am I now?"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose the level that fits best."))],
    )
    reflection = TextAreaField(
        _l("My reflection"),
        validators=[
            DataRequired(message=_l("Write a sentence or two about how it went.")),
            Length(max=1000),
        ],
    )
    link = StringField(
        _l("Link to my work (optional)"),
        validators=[Optional(), Length(max=2000), URL(require_tld=False), _http_only],
    )
    evidence = FileField(_l("Upload a file (optional)"))
    shared_with_family = BooleanField(_l("Show this to my family"), default=False)

    def __init__(self, *args, goal_version=None, scale=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = (
            [SelectChoice(str(s.id), s.display_text) for s in goal_version.strategies]
            if goal_version
            else []
        )
        self.strategy.choices = [*choices, SelectChoice(OTHER, _l("Something else"))]
        self.self_rating.choices = level_choices(scale) if scale else []

    def validate_other_strategy(self, field):
        if self.strategy.data == OTHER and not (field.data or "").strip():
            raise ValidationError(_l("Say what you did."))


class FeedbackForm(TokenForm):
    body = TextAreaField(
        _l("Feedback"),
        validators=[DataRequired(message=_l("Write your feedback.")), Length(max=2000)],
    )
    rating = SelectField(_l("Your rating (optional)"), coerce=str, validators=[Optional()])
    for_families = BooleanField(_l("Share with the family"))

    def __init__(self, *args, scale=None, **kwargs):
        super().__init__(*args, **kwargs)
        levels = level_choices(scale) if scale else []
        self.rating.choices = [SelectChoice("", _l("No rating")), *levels]

    @property
    def rating_value(self) -> int | None:
        return int(self.rating.data) if self.rating.data else None


class ShareForm(PortalForm):
    """A learner shows one entry to their family (shared checked), or stops (absent)."""

    shared = BooleanField()


class SettingsForm(PortalForm):
    method = RadioField(
        _l("How is the current level computed?"),
        choices=[
            SelectChoice(LevelMethod.MOST_RECENT.value, _l("The most recent rating")),
            SelectChoice(LevelMethod.HIGHEST.value, _l("The highest rating so far")),
            SelectChoice(LevelMethod.MEAN_LAST_N.value, _l("The average of the last N ratings")),
            SelectChoice(
                LevelMethod.DECAYING.value, _l("A decaying average (newer ratings count more)")
            ),
        ],
        validators=[InputRequired()],
    )
    n = IntegerField(
        _l("N: how many recent ratings to average"),
        default=3,
        validators=[InputRequired(), NumberRange(min=1, max=10)],
    )
    decay_percent = IntegerField(
        _l("How much the newest rating counts, in percent"),
        default=65,
        validators=[InputRequired(), NumberRange(min=10, max=90)],
    )
