"""Forms of the learner profile: one class per screen."""

from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.profiles.services import MAX_TEXT


class ChipsField(SelectMultipleField):
    """Choice chips: checkboxes, so they work without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EntryForm(PortalForm):
    """Write or revise an entry in one section (chips only where the section has them)."""

    text = TextAreaField(
        _l("Your words"),
        validators=[Length(max=MAX_TEXT, message=_l("Please keep it under 4000 characters."))],
        render_kw={"rows": 4},
    )
    # Unknown keys are dropped by the service rather than failing the whole entry.
    chips = ChipsField(_l("Pick any that fit"), choices=[], validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not (self.text.data or "").strip() and not self.chips.data:
            self.text.errors.append(_l("Write something or pick a choice."))
            return False
        return True


class AudienceForm(PortalForm):
    """Share a section with family, or keep it to learner and staff."""

    audience = HiddenField(validators=[DataRequired()])


class LockForm(PortalForm):
    """Lock a section to staff and learner, or unlock it."""

    locked = HiddenField(validators=[DataRequired()])


class ReviewRequestForm(PortalForm):
    """Ask my teacher to review my profile with me."""

    note = TextAreaField(
        _l("Anything you want to talk about? (optional)"),
        validators=[
            Optional(),
            Length(max=300, message=_l("Please keep it under 300 characters.")),
        ],
        render_kw={"rows": 2},
    )


class ResolveReviewForm(PortalForm):
    """Mark a review request as done."""


class SectionDefForm(PortalForm):
    """Add or rename a school's extra profile section."""

    title = StringField(
        _l("Section title"),
        validators=[
            DataRequired(_l("Give the section a title.")),
            Length(max=80, message=_l("Please keep the title under 80 characters.")),
        ],
    )
    prompt = StringField(
        _l("Prompt for learners (optional)"),
        validators=[
            Optional(),
            Length(max=200, message=_l("Please keep the prompt under 200 characters.")),
        ],
    )
    retired = BooleanField(_l("Retired (hidden from profiles, entries kept)"))
