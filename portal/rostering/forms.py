"""Forms of the roster import pages: the upload, and the confirmation of a dry run."""

from __future__ import annotations

import zipfile

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, ValidationError
from wtforms.validators import DataRequired

from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l


def upload_limit_mb() -> int:
    return int(current_app.config["ROSTER_UPLOAD_MB"])


def too_large():
    """The words of the server's 413 (portal/core/errors.py), with this page's limit."""
    return _l("That file is too large: the limit is %(mb)d MB.", mb=upload_limit_mb())


class UploadForm(PortalForm):
    """A OneRoster zip and the district or school it is for."""

    package = FileField(
        _l("OneRoster file (.zip)"),
        validators=[FileRequired(_l("Choose the .zip file your SIS exported."))],
        render_kw={"accept": ".zip,application/zip"},
    )
    scope_id = SelectField(
        _l("Import for"),
        coerce=int,
        choices=[],
        validate_choice=False,  # checked below, with a message an admin understands
    )

    def validate_scope_id(self, field) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("You may import files only for your own district or school."))

    def validate_package(self, field) -> None:
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size == 0:
            raise ValidationError(_l("That file is empty. Export the roster again and upload it."))
        if size > upload_limit_mb() * 1024 * 1024:
            raise ValidationError(too_large())
        try:
            is_zip = zipfile.is_zipfile(stream)
        finally:
            stream.seek(0)
        if not is_zip:
            raise ValidationError(
                _l(
                    "That is not a zip file. Export the OneRoster CSV files from your SIS "
                    "as one .zip file and upload that."
                )
            )


class ConfirmForm(PortalForm):
    """Apply the dry run the admin looked at: its fingerprint, and the guard's tick."""

    fingerprint = HiddenField(validators=[DataRequired(_l("This confirmation is incomplete."))])
    deactivate = BooleanField(_l("Yes, deactivate them: this file is the complete roster."))
