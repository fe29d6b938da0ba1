"""Forms of the record rights: one class per screen."""

from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.rights.models import CorrectionStatus

MAX_MESSAGE = 2000


class CorrectionForm(PortalForm):
    """Ask for a correction: which part, and what is wrong with it."""

    part = SelectField(_l("Which part of the record?"), choices=[], validate_choice=False)
    message = TextAreaField(
        _l("What is wrong, and what should it say?"),
        validators=[
            DataRequired(message=_l("Please say what is wrong.")),
            Length(max=MAX_MESSAGE, message=_l("Please keep it under 2000 characters.")),
        ],
        render_kw={"rows": 4},
    )


class AnswerForm(PortalForm):
    """The school's answer to a correction request."""

    status = SelectField(
        _l("Status"),
        choices=[
            (CorrectionStatus.IN_REVIEW.value, _l("Being looked at")),
            (CorrectionStatus.CORRECTED.value, _l("Corrected")),
            (CorrectionStatus.DECLINED.value, _l("Not changed")),
        ],
    )
    answer = TextAreaField(
        _l("Answer to the family or learner"),
        validators=[Length(max=MAX_MESSAGE, message=_l("Please keep it under 2000 characters."))],
        render_kw={"rows": 4},
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.status.data != CorrectionStatus.IN_REVIEW and not (self.answer.data or "").strip():
            self.answer.errors.append(_l("Say what was corrected, or why nothing was changed."))
            return False
        return True
