"""Forms of the insights pages: district success indicators and PL specialists' schools."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, InputRequired, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l


class IndicatorForm(PortalForm):
    """Set or edit one target: a share measure, a percent and a due date."""

    org = SelectField(_l("For"), choices=[], validators=[DataRequired(_l("Choose where."))])
    measure = SelectField(
        _l("Measure"), choices=[], validators=[DataRequired(_l("Choose a measure."))]
    )
    percent = IntegerField(
        _l("Target (percent of learners)"),
        validators=[
            InputRequired(_l("Enter a percent from 1 to 100.")),
            NumberRange(1, 100, _l("Enter a percent from 1 to 100.")),
        ],
    )
    due_on = DateField(_l("Due by"), validators=[InputRequired(_l("Enter the date it is due."))])


class ConfirmForm(PortalForm):
    """A button and its CSRF token."""


class SpecialistSchoolsForm(PortalForm):
    """The schools a PL specialist is assigned to."""

    schools = SelectMultipleField(
        _l("Schools"),
        choices=[],
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class ProgramsUploadForm(PortalForm):
    """A CSV of program flags: sourcedId or username, then ell, iep, 504, gifted."""

    file = FileField(
        _l("Program flags (.csv)"),
        validators=[FileRequired(_l("Choose the .csv file."))],
        render_kw={"accept": ".csv,text/csv"},
    )
