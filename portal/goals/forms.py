"""Goal forms: one per screen. Rules that need the learner's school are checked here too."""

from __future__ import annotations

from dataclasses import dataclass, field

from wtforms import (
    DateField,
    FieldList,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.auth.models import User
from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.core.timeutil import today
from portal.goals import queries
from portal.goals.models import Goal, GoalStatus, GoalTemplate, GoalVersion, Horizon, Strategy
from portal.goals.services import MAX_STRATEGIES, MAX_TARGETS, GoalContent, clean_text
from portal.targets.models import MasteryScale

BLANK_STRATEGY_ROWS = 2  # without JS: this many empty rows to write one's own steps in


def choices(pairs) -> list[SelectChoice]:
    return [
        SelectChoice(value="" if value is None else str(value), label=label)
        for value, label in pairs
    ]


HORIZON_CHOICES = choices(
    [
        (Horizon.SHORT.value, _l("Short-term: a few days up to about 6 weeks")),
        (Horizon.LONG.value, _l("Long-term: a term or a whole year")),
    ]
)


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


@dataclass
class GoalSetting:
    """What a goal form for one learner offers: scale, targets, strategy bank, parents."""

    learner: User
    scale: MasteryScale
    bank: list[Strategy]
    parents: list[Goal] = field(default_factory=list)

    @classmethod
    def for_learner(cls, learner: User, goal: Goal | None = None) -> GoalSetting:
        return cls(
            learner=learner,
            scale=queries.scale_for_school(learner.org_id),
            bank=queries.strategy_bank(learner.org_id),
            parents=queries.long_term_goals(learner.id, exclude_id=goal.id if goal else None),
        )


class StatementRequired:
    """Whitespace is not a goal."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not clean_text(field.data):
            raise ValidationError(self.message)


class GoalForm(PortalForm):
    statement = TextAreaField(
        _l("My goal, in my own words"),
        validators=[
            StatementRequired(_l("Write your goal in a sentence or two.")),
            Length(max=1000, message=_l("Keep your goal under 1000 characters.")),
        ],
        render_kw={"rows": 3},
    )
    horizon = RadioField(_l("How long is this goal?"), choices=HORIZON_CHOICES, default="short")
    parent_goal_id = SelectField(
        _l("Part of my long-term goal (optional)"), coerce=_int_or_none, validate_choice=False
    )
    targets = SelectMultipleField(_l("Learning targets"), coerce=int, validate_choice=False)
    q = StringField(_l("Find a learning target"), render_kw={"type": "search"})
    target_level = SelectField(_l("The level I aim for"), coerce=int, validate_choice=False)
    due_date = DateField(
        _l("Due date"),
        validators=[InputRequired(_l("Choose the date you want to reach this goal by."))],
    )
    bank_strategies = SelectMultipleField(
        _l("Strategies from my school"),
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    own_strategies = FieldList(
        StringField(
            _l("My own step"),
            validators=[Length(max=200, message=_l("Keep each step under 200 characters."))],
        ),
        min_entries=0,
    )
    supports = TextAreaField(
        _l("Help I want from my teacher (optional)"),
        validators=[Optional(), Length(max=1000, message=_l("Keep this under 1000 characters."))],
        render_kw={"rows": 2},
    )
    lock_version = HiddenField()
    template_id = HiddenField()

    setting: GoalSetting
    goal: Goal | None = None

    def bind(self, setting: GoalSetting, goal: Goal | None = None) -> GoalForm:
        """Fill the choices for this learner, and keep a few blank strategy rows."""
        self.setting = setting
        self.goal = goal
        self.target_level.choices = choices(
            (level.value, f"{level.value} · {level.display_label}")
            for level in setting.scale.levels
        )
        self.parent_goal_id.choices = choices(
            [("", _l("Not part of a long-term goal"))]
            + [
                (g.id, _short(g.current_version.statement))
                for g in setting.parents
                if g.current_version
            ]
        )
        self.bank_strategies.choices = choices((s.id, s.display_text) for s in setting.bank)
        return self

    def pad_strategy_rows(self, blanks: int = BLANK_STRATEGY_ROWS) -> None:
        filled = [e.data for e in self.own_strategies.entries if clean_text(e.data)]
        while len(self.own_strategies.entries):
            self.own_strategies.pop_entry()
        room = max(0, MAX_STRATEGIES - len(self.bank_strategies.data or []))
        for text in filled:
            self.own_strategies.append_entry(text)
        for _ in range(max(0, min(blanks, room - len(filled)))):
            self.own_strategies.append_entry("")

    def add_strategy_row(self) -> None:
        self.own_strategies.append_entry("")

    def remove_strategy_row(self, index: int) -> None:
        texts = [e.data for e in self.own_strategies.entries]
        if 0 <= index < len(texts):
            del texts[index]
        while len(self.own_strategies.entries):
            self.own_strategies.pop_entry()
        for text in texts:
            self.own_strategies.append_entry(text)

    # --- prefilling -----------------------------------------------------------------

    def fill_from_version(self, version: GoalVersion, goal: Goal) -> None:
        self.statement.data = version.statement
        self.horizon.data = goal.horizon.value
        self.parent_goal_id.data = goal.parent_goal_id
        self.targets.data = [link.target_id for link in version.targets]
        self.target_level.data = version.target_level
        self.due_date.data = version.due_date
        # A strategy since retired from the bank stays, as a step in the learner's words.
        offered = {s.id for s in self.setting.bank}
        self.bank_strategies.data = [
            s.strategy_id for s in version.strategies if s.strategy_id in offered
        ]
        for text in [s.text for s in version.strategies if s.strategy_id not in offered]:
            self.own_strategies.append_entry(text)
        self.supports.data = version.supports or ""

    def fill_from_template(self, template: GoalTemplate) -> None:
        setting = self.setting
        self.statement.data = template.statement
        self.horizon.data = template.horizon.value
        self.template_id.data = str(template.id)
        self.targets.data = [
            link.target_id for link in template.targets
        ]  # checked against the school on save
        if setting.scale.level(template.target_level) is not None:
            self.target_level.data = template.target_level
        bank = {clean_text(s.text).lower(): s.id for s in setting.bank}
        chosen = []
        for line in (template.strategies_text or "").splitlines():
            text = clean_text(line)
            if not text:
                continue
            if text.lower() in bank:
                chosen.append(bank[text.lower()])
            else:
                self.own_strategies.append_entry(text)
        self.bank_strategies.data = chosen

    def set_defaults(self) -> None:
        mastery = self.setting.scale.mastery_level
        if self.target_level.data is None and mastery is not None:
            self.target_level.data = mastery.value
        if self.horizon.data is None:
            self.horizon.data = Horizon.SHORT.value

    # --- checks that need the learner ---------------------------------------------

    def validate_targets(self, field):
        ids = list(dict.fromkeys(field.data or []))
        if not ids:
            raise ValidationError(_l("Choose at least one learning target."))
        if len(ids) > MAX_TARGETS:
            raise ValidationError(
                _l("Choose at most %(n)d learning targets for one goal.", n=MAX_TARGETS)
            )
        if queries.unavailable_target_ids(self.setting.learner.org_id, ids):
            raise ValidationError(
                _l("One of these targets is not used at your school. Choose from the list.")
            )

    def validate_target_level(self, field):
        if field.data is None or self.setting.scale.level(field.data) is None:
            raise ValidationError(_l("Choose a level on your school's scale."))

    def validate_due_date(self, field):
        if field.data and field.data < today():
            raise ValidationError(_l("The due date cannot be in the past."))

    def validate_bank_strategies(self, field):
        bank_ids = {s.id for s in self.setting.bank}
        if any(i not in bank_ids for i in field.data or []):
            raise ValidationError(_l("Choose strategies from your school's list."))
        if len(self.strategies()) > MAX_STRATEGIES:
            raise ValidationError(
                _l("Choose at most %(n)d strategies, so you can really do them.", n=MAX_STRATEGIES)
            )

    def validate_parent_goal_id(self, field):
        if field.data is None:
            return
        if self.horizon.data != Horizon.SHORT.value:
            raise ValidationError(_l("Only a short-term goal can be part of a long-term goal."))
        if field.data not in {g.id for g in self.setting.parents}:
            raise ValidationError(_l("Choose one of your own long-term goals."))

    def validate_horizon(self, field):
        if (
            self.goal is not None
            and field.data == Horizon.SHORT.value
            and self.goal.horizon is Horizon.LONG
            and queries.child_goals(self.goal.id)
        ):
            raise ValidationError(
                _l("Short-term goals are part of this one, so it stays long-term.")
            )

    # --- reading it back ------------------------------------------------------------

    def strategies(self) -> list[tuple[int | None, str]]:
        bank = {s.id: s.text for s in self.setting.bank}
        chosen = [(i, bank[i]) for i in (self.bank_strategies.data or []) if i in bank]
        own = [(None, e.data) for e in self.own_strategies.entries if clean_text(e.data)]
        return chosen + own

    def content(self) -> GoalContent:
        return GoalContent.build(
            statement=self.statement.data,
            target_ids=self.targets.data or [],
            target_level=self.target_level.data,
            due_date=self.due_date.data,
            strategies=self.strategies(),
            supports=self.supports.data,
        )

    def parent_goal(self) -> Goal | None:
        if self.parent_goal_id.data is None:
            return None
        return next((g for g in self.setting.parents if g.id == self.parent_goal_id.data), None)


def _short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


class StatusForm(PortalForm):
    status = HiddenField(validators=[InputRequired()])

    def new_status(self) -> GoalStatus | None:
        try:
            return GoalStatus(self.status.data)
        except ValueError:
            return None


STATUS_FILTER_CHOICES = choices(
    [
        ("", _l("All")),
        ("open", _l("Open (active, proposed, draft)")),
        (GoalStatus.ACTIVE.value, _l("Active")),
        (GoalStatus.PROPOSED.value, _l("Proposed")),
        (GoalStatus.DRAFT.value, _l("Draft")),
        ("closed", _l("Closed")),
    ]
)


class ClassGoalFilterForm(PortalForm):
    """The GET filter above a class's goals (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=STATUS_FILTER_CHOICES, default="")
    target = SelectField(_l("Learning target"), coerce=_int_or_none, validate_choice=False)
    due_by = DateField(_l("Due by"), validators=[Optional()])


class TemplateForm(PortalForm):
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(_l("Give the template a short title.")),
            Length(max=160, message=_l("Keep the title under 160 characters.")),
        ],
    )
    statement = TextAreaField(
        _l("Suggested goal wording"),
        validators=[
            StatementRequired(_l("Write a goal learners can start from.")),
            Length(max=1000, message=_l("Keep it under 1000 characters.")),
        ],
        render_kw={"rows": 3},
    )
    horizon = RadioField(_l("Horizon"), choices=HORIZON_CHOICES, default="short")
    target_level = SelectField(_l("Level to aim for"), coerce=int, validate_choice=False)
    targets = SelectMultipleField(_l("Learning targets"), coerce=int, validate_choice=False)
    q = StringField(_l("Find a learning target"), render_kw={"type": "search"})
    strategies_text = TextAreaField(
        _l("Suggested strategies, one per line (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )

    school_id: int
    scale: MasteryScale

    def bind(self, school_id: int, scale: MasteryScale) -> TemplateForm:
        self.school_id = school_id
        self.scale = scale
        self.target_level.choices = choices(
            (lv.value, f"{lv.value} · {lv.display_label}") for lv in scale.levels
        )
        if self.target_level.data is None and scale.mastery_level is not None:
            self.target_level.data = scale.mastery_level.value
        return self

    def validate_targets(self, field):
        ids = list(dict.fromkeys(field.data or []))
        if not ids:
            raise ValidationError(_l("Choose at least one learning target."))
        if len(ids) > MAX_TARGETS:
            raise ValidationError(
                _l("Choose at most %(n)d learning targets for one goal.", n=MAX_TARGETS)
            )
        if queries.unavailable_target_ids(self.school_id, ids):
            raise ValidationError(_l("One of these targets is not used at this school."))

    def validate_target_level(self, field):
        if field.data is None or self.scale.level(field.data) is None:
            raise ValidationError(_l("Choose a level on the school's scale."))

    def validate_strategies_text(self, field):
        lines = [line for line in (field.data or "").splitlines() if clean_text(line)]
        if len(lines) > MAX_STRATEGIES:
            raise ValidationError(_l("Suggest at most %(n)d strategies.", n=MAX_STRATEGIES))
        if any(len(clean_text(line)) > 200 for line in lines):
            raise ValidationError(_l("Keep each strategy under 200 characters."))

    def fill_from_template(self, template: GoalTemplate) -> None:
        self.title.data = template.title
        self.statement.data = template.statement
        self.horizon.data = template.horizon.value
        self.target_level.data = template.target_level
        self.targets.data = [link.target_id for link in template.targets]
        self.strategies_text.data = template.strategies_text or ""

    def strategy_lines(self) -> list[str]:
        return [clean_text(line) for line in (self.strategies_text.data or "").splitlines()]


class StrategyForm(PortalForm):
    """One entry of a school's strategy bank: add or reword it."""

    text = StringField(
        _l("Strategy"),
        validators=[
            StatementRequired(_l("Write the strategy in a few words.")),
            Length(min=3, max=200, message=_l("Use 3 to 200 characters.")),
        ],
        filters=[lambda value: clean_text(value) if isinstance(value, str) else value],
        render_kw={"maxlength": 200, "autocomplete": "off"},
    )
    text_es = StringField(
        _l("The same strategy in Spanish"),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
        filters=[lambda value: clean_text(value) if isinstance(value, str) else value],
        render_kw={"maxlength": 200, "autocomplete": "off", "lang": "es"},
    )

    school_id: int
    strategy: Strategy | None = None

    def bind(self, school_id: int, strategy: Strategy | None = None) -> StrategyForm:
        self.school_id = school_id
        self.strategy = strategy
        return self

    def validate_text(self, field):
        exclude = self.strategy.id if self.strategy is not None else None
        if queries.strategy_text_taken(self.school_id, field.data, exclude_id=exclude):
            raise ValidationError(_l("This school's bank already has this strategy."))
