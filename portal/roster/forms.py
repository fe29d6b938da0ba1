"""Forms for the school administration of people, classes, enrollments and family links."""

from __future__ import annotations

from wtforms import Form, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from portal.auth.models import Role
from portal.core.forms import PortalForm
from portal.core.i18n import lazy_gettext as _l


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options (WTForms deprecates bare tuples)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TEACHER: _l("Teacher"),
    Role.GUARDIAN: _l("Family member"),
    Role.SCHOOL_ADMIN: _l("School admin"),
    Role.DISTRICT_ADMIN: _l("District admin"),
    Role.PL_SPECIALIST: _l("PL specialist"),
}

GRADE_LABELS = {"": _l("Choose a grade"), "0": _l("Kindergarten")} | {
    str(g): str(g) for g in range(1, 13)
}

RELATIONSHIP_LABELS = {
    "parent": _l("Parent"),
    "mother": _l("Mother"),
    "father": _l("Father"),
    "guardian": _l("Legal guardian"),
    "grandparent": _l("Grandparent"),
    "foster_parent": _l("Foster parent"),
    "aunt_uncle": _l("Aunt or uncle"),
    "sibling": _l("Adult sibling"),
    "other": _l("Other caregiver"),
}

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
# Deliberately loose (the email_validator package is not installed): one @, a dot after it.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _blank_to_none(value):
    return value or None


class PersonForm(PortalForm):
    """Create or edit a person; role-dependent rules are checked in validate()."""

    given_name = StringField(
        _l("Given name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a given name.")), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    family_name = StringField(
        _l("Family name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a family name.")), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    preferred_name = StringField(
        _l("Preferred name (optional)"),
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    username = StringField(
        _l("Username"),
        filters=[_lower],
        validators=[
            DataRequired(_l("Enter a username.")),
            Length(min=3, max=80, message=_l("A username is 3 to 80 characters.")),
            Regexp(
                USERNAME_PATTERN,
                message=_l("Use lowercase letters, digits, dots, dashes or underscores."),
            ),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    email = StringField(
        _l("E-mail (optional)"),
        filters=[_lower, _blank_to_none],
        validators=[
            Optional(),
            Length(max=255),
            Regexp(EMAIL_PATTERN, message=_l("Enter an e-mail address like name@example.org.")),
        ],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )
    role = SelectField(_l("Role"), choices=[])
    school = SelectField(_l("School"), choices=[])
    grade = SelectField(_l("Grade"), choices=choices(GRADE_LABELS.items()))
    password = PasswordField(
        _l("Password"),
        validators=[
            Optional(),
            Length(min=10, max=200, message=_l("A password is at least 10 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    pin = PasswordField(
        _l("PIN (learners only)"),
        validators=[Optional(), Regexp(r"^\d{4,8}$", message=_l("A PIN is 4 to 8 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )
    learner = StringField(
        _l("Learner they follow (username)"),
        filters=[_lower],
        validators=[Length(max=80)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    relationship = SelectField(_l("Relationship"), choices=choices(RELATIONSHIP_LABELS.items()))

    def setup(self, roles, schools, creating: bool) -> PersonForm:
        """Offer only the roles and schools this admin may assign."""
        self.creating = creating
        self.role.choices = choices((r.value, ROLE_LABELS[r]) for r in roles)
        self.school.choices = choices(
            [("", _l("No school (families, district staff)"))] + [(s.id, s.name) for s in schools]
        )
        return self

    @property
    def role_value(self) -> Role | None:
        try:
            return Role(self.role.data)
        except ValueError:
            return None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        role = self.role_value
        if role is None:
            return False
        if role in (Role.LEARNER, Role.TEACHER, Role.SCHOOL_ADMIN) and not self.school.data:
            self.school.errors.append(_l("Choose the school this person belongs to."))
            ok = False
        if role is Role.LEARNER and self.grade.data == "":
            self.grade.errors.append(_l("Choose the learner's grade."))
            ok = False
        if role is not Role.LEARNER and self.pin.data:
            self.pin.errors.append(_l("Only learners sign in with a PIN."))
            ok = False
        if self.creating:
            if role is Role.LEARNER and not (self.password.data or self.pin.data):
                self.password.errors.append(_l("Give the learner a password, a PIN or both."))
                ok = False
            elif role is not Role.LEARNER and not self.password.data:
                self.password.errors.append(_l("Set a first password (at least 10 characters)."))
                ok = False
            if role is Role.GUARDIAN and not self.learner.data:
                self.learner.errors.append(
                    _l("A family account follows at least one learner: enter their username.")
                )
                ok = False
        return ok

    @property
    def school_id(self) -> int | None:
        return int(self.school.data) if self.school.data else None

    @property
    def grade_value(self) -> int | None:
        return int(self.grade.data) if self.grade.data != "" else None


class ClassForm(PortalForm):
    school = SelectField(_l("School"), choices=[])
    title = StringField(
        _l("Class title"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a class title.")), Length(max=160)],
    )
    period = StringField(
        _l("Period (optional)"),
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=40)],
    )
    course_title = StringField(
        _l("Course (optional)"),
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=160)],
    )
    term = SelectField(_l("Term"), choices=[])

    def setup(self, schools, terms) -> ClassForm:
        self.school.choices = choices((s.id, s.name) for s in schools)
        self.term.choices = choices((t.id, t.title) for t in terms)
        return self


class EnrollForm(PortalForm):
    username = StringField(
        _l("Username of a learner or teacher"),
        filters=[_lower],
        validators=[DataRequired(_l("Enter the username of the person to add.")), Length(max=80)],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "none",
            "spellcheck": "false",
            "list": "enroll-candidates",
        },
    )


class GuardianLinkForm(PortalForm):
    guardian = StringField(
        _l("Family member's username or e-mail"),
        filters=[_lower],
        validators=[
            DataRequired(_l("Enter the username or e-mail of a family account.")),
            Length(max=255),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    relationship = SelectField(_l("Relationship"), choices=choices(RELATIONSHIP_LABELS.items()))


class StatusForm(PortalForm):
    """Turn something on or off: an account or a family link."""

    active = HiddenField(validators=[AnyOf(["0", "1"])])


class ConfirmForm(PortalForm):
    """A bare POST (remove, regenerate): only the CSRF token."""


class PeopleFilterForm(Form):
    """The GET filters of the people list; no CSRF: it changes nothing."""

    q = StringField(_l("Search by name, username or e-mail"), filters=[_strip])
    school = SelectField(_l("School"), choices=[], validate_choice=False)
    role = SelectField(_l("Role"), choices=[], validate_choice=False)


class ClassFilterForm(Form):
    school = SelectField(_l("School"), choices=[], validate_choice=False)
