"""The confirmation form for deleting a learner's record."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l
from portal.records.tombstone import REFERENCE_MAX


class DeleteRecordForm(PortalForm):
    """The records request's reference, and the learner's name typed to confirm."""

    reference = StringField(
        _l("Records request reference"),
        validators=[
            DataRequired(_l("Type the records request's reference.")),
            Length(max=REFERENCE_MAX),
        ],
    )
    confirm_name = StringField(
        _l("Type the learner's username or full name to confirm"),
        validators=[DataRequired(_l("Type the learner's username or full name."))],
    )


def names_match(learner, typed: str | None) -> bool:
    """Did the admin type this learner's username or full name (case and spaces aside)?"""
    wanted = " ".join((typed or "").split()).casefold()
    if not wanted:
        return False
    names = {
        learner.username,
        f"{learner.given_name} {learner.family_name}",
        learner.display_name,
    }
    return wanted in {" ".join(n.split()).casefold() for n in names if n}


class PrepareReceiptForm(PortalForm):
    """A bare POST: lay out the receipt again (only the CSRF token)."""
