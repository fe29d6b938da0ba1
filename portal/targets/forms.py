"""Forms of the targets feature: one per screen."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.core.inputs import parse_number
from portal.targets.models import TargetKind
from portal.targets.queries import code_taken, goal_use_count, has_children
from portal.targets.scales import LevelSpec
from portal.targets.services import TargetData

MIN_LEVELS, MAX_LEVELS = 2, 7


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


GRADE_CHOICES = choices([("", "—"), ("0", "K")] + [(str(g), str(g)) for g in range(1, 13)])


def _grade(value: str | None) -> int | None:
    """A grade from the select (K = 0); anything else was refused by the choices check."""
    return parse_number(value, 0, 12) if value not in (None, "") else None


class BrowseForm(PortalForm):
    """The filters of the browse page (GET, so no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search code or words"), validators=[Optional(), Length(max=100)])
    grade = SelectField(_l("Grade"), choices=GRADE_CHOICES, default="", validators=[Optional()])
    framework = SelectField(_l("Framework"), choices=[], validators=[Optional()])

    @property
    def grade_value(self) -> int | None:
        return _grade(self.grade.data) if not self.grade.errors else None


class FrameworkForm(PortalForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the framework a title.")), Length(max=255)],
    )
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=120)])
    org_id = SelectField(_l("Owned by"), coerce=int, choices=[])


class TargetForm(PortalForm):
    kind = RadioField(
        _l("Kind"),
        choices=choices(
            [
                (TargetKind.TARGET.value, _l("Learning target: an “I can ...” statement")),
                (
                    TargetKind.GROUP.value,
                    _l("Group: a subject, strand or standard that holds targets"),
                ),
            ]
        ),
        default=TargetKind.TARGET.value,
        validators=[InputRequired(_l("Choose what kind of entry this is."))],
    )
    parent_id = SelectField(_l("Inside"), choices=[], validators=[Optional()])
    code = StringField(
        _l("Code"),
        validators=[Length(max=80)],
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
    )
    statement = TextAreaField(
        _l("Statement"),
        validators=[DataRequired(_l("Write the statement.")), Length(max=2000)],
        render_kw={"rows": 3},
    )
    family_statement = TextAreaField(
        _l("In plain words for families"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    family_statement_es = TextAreaField(
        _l("In plain words for families, in Spanish"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2, "lang": "es"},
    )
    grade_low = SelectField(_l("From grade"), choices=GRADE_CHOICES, default="")
    grade_high = SelectField(
        _l("To grade"), choices=GRADE_CHOICES, default="", validators=[Optional()]
    )

    def __init__(
        self,
        *args,
        framework_id: int,
        target=None,
        groups: list[tuple[int, str]] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.framework_id = framework_id
        self.target = target
        self.parent_id.choices = choices(
            [("", _l("Top level of the framework"))]
            + [(str(group_id), label) for group_id, label in groups]
        )

    @property
    def is_target(self) -> bool:
        return self.kind.data == TargetKind.TARGET.value

    def validate_code(self, field):
        code = (field.data or "").strip()
        if not code:
            if self.is_target:
                raise ValidationError(_l("Give the target a code, e.g. MATH.4.NF.1."))
            return
        if code_taken(self.framework_id, code, self.target.id if self.target else None):
            raise ValidationError(_l("Another entry of this framework already has this code."))

    def validate_grade_low(self, field):
        if self.is_target and not field.data:
            raise ValidationError(_l("Choose the grade this target starts at."))

    def validate_grade_high(self, field):
        low, high = _grade(self.grade_low.data), _grade(field.data)
        if low is not None and high is not None and high < low:
            raise ValidationError(_l("The last grade cannot be before the first grade."))

    def validate_kind(self, field):
        if self.target is None:
            return
        if field.data == TargetKind.TARGET.value and has_children(self.target):
            raise ValidationError(_l("This group has entries inside it, so it must stay a group."))
        if field.data == TargetKind.GROUP.value and goal_use_count(self.target):
            raise ValidationError(
                _l("Goals aim at this target, so it must stay a learning target.")
            )

    def target_data(self):
        return TargetData(
            kind=TargetKind(self.kind.data),
            parent_id=int(self.parent_id.data) if self.parent_id.data else None,
            code=self.code.data,
            statement=self.statement.data,
            family_statement=self.family_statement.data,
            family_statement_es=self.family_statement_es.data,
            grade_low=_grade(self.grade_low.data),
            grade_high=_grade(self.grade_high.data),
        )


class CaseImportForm(PortalForm):
    package = FileField(
        _l("CASE package (CFPackage JSON)"),
        validators=[
            FileRequired(_l("Choose the CFPackage .json file to import.")),
            FileAllowed(["json"], _l("Choose a .json file: a CASE CFPackage.")),
        ],
        render_kw={"accept": ".json,application/json"},
    )
    org_id = SelectField(_l("Import for"), coerce=int, choices=[])


class LevelForm(Form):
    """One level of a scale (a subform: the outer form carries the CSRF token)."""

    value = IntegerField(
        _l("Value"),
        validators=[
            InputRequired(_l("Give the level a number.")),
            NumberRange(0, 10, _l("Use a number from 0 to 10.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": 10},
    )
    label = StringField(
        _l("Label"), validators=[DataRequired(_l("Name the level.")), Length(max=40)]
    )
    description = StringField(_l("What it looks like"), validators=[Optional(), Length(max=300)])
    label_es = StringField(
        _l("Label in Spanish"), validators=[Optional(), Length(max=40)], render_kw={"lang": "es"}
    )
    description_es = StringField(
        _l("What it looks like, in Spanish"),
        validators=[Optional(), Length(max=300)],
        render_kw={"lang": "es"},
    )


class ScaleForm(PortalForm):
    name = StringField(
        _l("Scale name"), validators=[DataRequired(_l("Name the scale.")), Length(max=120)]
    )
    levels = FieldList(FormField(LevelForm))
    mastery = RadioField(
        _l("Mastery level"),
        choices=[],
        validators=[InputRequired(_l("Mark exactly one level as mastery."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.levels_errors: list[str] = []
        self.refresh_choices()

    def refresh_choices(self) -> None:
        self.mastery.choices = choices(
            (str(i), _l("Mastery")) for i in range(len(self.levels.entries))
        )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        count = len(self.levels.entries)
        if not MIN_LEVELS <= count <= MAX_LEVELS:
            self.levels_errors.append(
                _l("A scale has from %(low)d to %(high)d levels.", low=MIN_LEVELS, high=MAX_LEVELS)
            )
            ok = False
        seen: dict[int, int] = {}
        for entry in self.levels.entries:
            value = entry.form.value
            if value.data is None or value.errors:
                continue
            if value.data in seen:
                value.errors = [*value.errors, _l("Another level already has this number.")]
                ok = False
            seen.setdefault(value.data, 1)
        return ok

    def level_specs(self):
        mastery = int(self.mastery.data)
        return [
            LevelSpec(
                value=entry.form.value.data,
                label=entry.form.label.data.strip(),
                description=(entry.form.description.data or "").strip() or None,
                is_mastery=i == mastery,
                label_es=(entry.form.label_es.data or "").strip() or None,
                description_es=(entry.form.description_es.data or "").strip() or None,
            )
            for i, entry in enumerate(self.levels.entries)
        ]
