"""Conference forms: one per screen or panel. Forms repeated per goal take a prefix."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.core.inputs import parse_id
from portal.core.timeutil import today
from portal.goals.forms import StatementRequired, choices
from portal.goals.services import clean_text

from .models import ReflectionChoice, StepOwner

DURATIONS = choices(
    [(10, _l("10 minutes")), (15, _l("15 minutes")), (20, _l("20 minutes")), (30, _l("30 minutes"))]
)
REPEATS = choices(
    [
        (0, _l("Does not repeat")),
        (1, _l("Every week")),
        (2, _l("Every 2 weeks")),
        (3, _l("Every 3 weeks")),
        (4, _l("Every 4 weeks")),
        (6, _l("Every 6 weeks")),
    ]
)


def _not_past(form, field):
    if field.data and field.data < today():
        raise ValidationError(_l("Choose today or a later date."))


class ScheduleForm(PortalForm):
    learner = SelectField(_l("Learner"), coerce=int, validate_choice=False)
    day = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date.")), _not_past])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Choose a time."))])
    duration = SelectField(_l("Length"), coerce=int, choices=DURATIONS, default=15)
    every_weeks = SelectField(_l("Repeat"), coerce=int, choices=REPEATS, default=0)
    occurrences = IntegerField(
        _l("How many conferences in the series"),
        default=1,
        validators=[
            InputRequired(_l("Say how many.")),
            NumberRange(1, 10, message=_l("Between 1 and 10.")),
        ],
    )

    learner_ids: set[int]

    def bind(self, learners) -> ScheduleForm:
        self.learner.choices = choices((lr.id, lr.display_name) for lr in learners)
        self.learner_ids = {lr.id for lr in learners}
        return self

    def validate_learner(self, field):
        if field.data not in self.learner_ids:
            raise ValidationError(_l("Choose a learner of this class."))

    def validate_duration(self, field):
        if field.data not in {int(c.value) for c in DURATIONS}:
            raise ValidationError(_l("Choose a length from the list."))

    def validate_every_weeks(self, field):
        if field.data not in {int(c.value) for c in REPEATS}:
            raise ValidationError(_l("Choose how often from the list."))


class RequestForm(PortalForm):
    note = TextAreaField(
        _l("What do you want to talk about? (optional)"),
        validators=[Optional(), Length(max=300, message=_l("Keep it under 300 characters."))],
        render_kw={"rows": 2},
    )


class PrepForm(PortalForm):
    working = TextAreaField(
        _l("What is working?"),
        validators=[Length(max=2000, message=_l("Keep it under 2000 characters."))],
        render_kw={"rows": 2},
    )
    hard = TextAreaField(
        _l("What is hard?"),
        validators=[Length(max=2000, message=_l("Keep it under 2000 characters."))],
        render_kw={"rows": 2},
    )
    help_wanted = TextAreaField(
        _l("What help do I need?"),
        validators=[Length(max=2000, message=_l("Keep it under 2000 characters."))],
        render_kw={"rows": 2},
    )

    def validate_working(self, field):
        if not any(clean_text(f.data) for f in (field, self.hard, self.help_wanted)):
            raise ValidationError(_l("Answer at least one question."))


class NoteForm(PortalForm):
    body = TextAreaField(
        _l("Note"),
        validators=[
            StatementRequired(_l("Write the note first.")),
            Length(max=2000, message=_l("Keep a note under 2000 characters.")),
        ],
        render_kw={"rows": 2},
    )
    private = BooleanField(_l("Private: only teachers see it"))


class StepForm(PortalForm):
    text = TextAreaField(
        _l("Next step"),
        validators=[
            StatementRequired(_l("Say what the next step is.")),
            Length(max=300, message=_l("Keep a step under 300 characters.")),
        ],
        render_kw={"rows": 1},
    )
    owner = RadioField(
        _l("Who does it"),
        choices=choices(
            [(StepOwner.LEARNER.value, _l("Learner")), (StepOwner.TEACHER.value, _l("Teacher"))]
        ),
        default=StepOwner.LEARNER.value,
        validators=[InputRequired(_l("Say who does it."))],
    )
    due_date = DateField(_l("By (optional)"), validators=[Optional(), _not_past])


class StepDoneForm(PortalForm):
    """Mark a next step done (done=y) or not done (done empty); where to go back to."""

    done = BooleanField()
    back = HiddenField()  # a conference id: back to its workspace; empty: the history


class WordingForm(PortalForm):
    statement = TextAreaField(
        _l("Goal wording"),
        validators=[
            StatementRequired(_l("Write the goal in a sentence or two.")),
            Length(max=1000, message=_l("Keep the goal under 1000 characters.")),
        ],
        render_kw={"rows": 3},
    )
    lock_version = HiddenField()


class SignForm(PortalForm):
    version_id = HiddenField(validators=[InputRequired()])
    conference_id = HiddenField()

    def version(self) -> int | None:
        return parse_id(self.version_id.data)

    def conference(self) -> int | None:
        return parse_id(self.conference_id.data)


class LearnerSignForm(SignForm):
    """The learner confirms on the teacher's screen with their own PIN or password."""

    secret = PasswordField(
        _l("Learner's PIN or password"),
        validators=[InputRequired(_l("The learner types their PIN or password."))],
        render_kw={"autocomplete": "off"},
    )


class ConferenceStatusForm(PortalForm):
    status = HiddenField(validators=[InputRequired()])


class AcknowledgeForm(PortalForm):
    pass


class ReflectForm(PortalForm):
    choice = RadioField(
        _l("How is this goal going?"),
        choices=choices(
            [
                (ReflectionChoice.MET.value, _l("I met it")),
                (ReflectionChoice.KEEP_GOING.value, _l("Keep going: it still fits")),
                (ReflectionChoice.REVISE.value, _l("Revise it with my teacher")),
            ]
        ),
        validators=[InputRequired(_l("Choose one."))],
    )
    note = TextAreaField(
        _l("Why? (optional)"),
        validators=[Optional(), Length(max=1000, message=_l("Keep it under 1000 characters."))],
        render_kw={"rows": 2},
    )


class SettingsForm(PortalForm):
    cycle_days = IntegerField(
        _l("Days in a cycle (learn and practise, then reflect and revise)"),
        validators=[
            InputRequired(_l("Say how many days.")),
            NumberRange(7, 120, message=_l("Between 7 and 120 days.")),
        ],
    )
