"""School administration of classes, people, enrollments and guardian links.

School admins manage their school; district admins every school of their
district. Every object comes through policy: people via load_user_for_admin,
classes via load_class, schools via load_school (404 for another school).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.auth.models import ADMIN_ROLES, Role, User
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.web import redirect_to, render, render_invalid
from portal.policy import (
    Action,
    can,
    class_has_ended,
    load_class,
    load_learner_for_admin,
    load_school,
    load_user_for_admin,
    roles,
)
from portal.roster import services
from portal.roster.forms import (
    GRADE_LABELS,
    RELATIONSHIP_LABELS,
    ROLE_LABELS,
    ClassFilterForm,
    ClassForm,
    ConfirmForm,
    EnrollForm,
    GuardianLinkForm,
    PeopleFilterForm,
    PersonForm,
    StatusForm,
    choices,
)
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, SchoolClass
from portal.roster.services import FieldErrors

bp = Blueprint("roster", __name__, url_prefix="/admin")
PEOPLE_PER_PAGE = 25
CLASSES_PER_PAGE = 50


@bp.app_context_processor
def _labels():
    return {
        "role_labels": ROLE_LABELS,
        "relationship_label": lambda value: RELATIONSHIP_LABELS.get(value, value),
        "grade_label": lambda grade: "" if grade is None else GRADE_LABELS.get(str(grade), grade),
    }


def _filter_args(*names: str) -> dict[str, str]:
    return {name: request.args[name] for name in names if request.args.get(name)}


def _show_errors(form, errors: dict[str, str]) -> None:
    """Undo the half-done change and put each refusal next to its field."""
    db.session.rollback()
    for name, message in errors.items():
        field = form[name]
        field.errors = [*field.errors, message]


def _refuse_if_ended(school_class: SchoolClass):
    """Last year's class is history: say so and change nothing (None if it is running)."""
    if not class_has_ended(school_class):
        return None
    flash(
        _(
            "%(title)s ended with %(term)s: it is kept as history and can no longer be changed.",
            title=school_class.title,
            term=school_class.term.title,
        ),
        "error",
    )
    return redirect_to(url_for("roster.class_detail", class_id=school_class.id))


def _status_from(form: StatusForm) -> bool:
    if not form.validate_on_submit():
        abort(400)
    return form.active.data == "1"


# --- People -----------------------------------------------------------------------


@bp.route("/people")
@roles(*ADMIN_ROLES)
def people():
    """List, filter and search the people of the admin's schools."""
    filters = PeopleFilterForm(request.args)
    filters.school.choices = choices(
        [("", _("All schools"))]
        + [(s.id, s.name) for s in services.manageable_schools(current_user)]
    )
    filters.role.choices = choices(
        [("", _("All roles"))]
        + [(r.value, ROLE_LABELS[r]) for r in services.allowed_roles(current_user)]
    )
    search_url = url_for("roster.people")
    filters.q.render_kw = {
        "type": "search",
        "autocomplete": "off",
        "hx-get": search_url,
        "hx-trigger": "input changed delay:300ms, search",
    }
    on_change = {"hx-get": search_url, "hx-trigger": "change"}
    filters.school.render_kw = filters.role.render_kw = on_change
    role = filters.role.data if filters.role.data in set(Role) else None
    school = load_school(filters.school.data)
    stmt = services.people_query(
        current_user,
        q=filters.q.data or "",
        school_id=school.id if school else None,
        role=Role(role) if role else None,
    )
    page = db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int),
        per_page=PEOPLE_PER_PAGE,
        error_out=False,
    )
    return render(
        "roster/people.html",
        "results",
        filters=filters,
        page=page,
        filter_args=_filter_args("q", "school", "role"),
    )


def _person_input(form: PersonForm) -> services.PersonInput:
    return services.PersonInput(
        given_name=form.given_name.data,
        family_name=form.family_name.data,
        preferred_name=form.preferred_name.data,
        username=form.username.data,
        email=form.email.data,
        role=form.role_value,
        school_id=form.school_id,
        grade=form.grade_value,
        password=form.password.data or None,
        pin=form.pin.data or None,
        learner_username=form.learner.data if "learner" in form else None,
        relationship=form.relationship.data if "relationship" in form else "parent",
    )


def _person_page(person: User | None, form: PersonForm, status: int = 200, block=None, **extra):
    context = {"person": person, "form": form}
    if person is not None:
        context["classes"] = services.classes_of_person(person)
        if person.role is Role.LEARNER:
            context["may_delete_record"] = can(Action.DELETE_RECORD, person)
            context["links"] = services.guardian_links_of(person)
            context.setdefault("link_form", GuardianLinkForm(formdata=None))
        if person.role is Role.GUARDIAN:
            context["followed"] = services.followed_learners(current_user, person)
    context.update(extra)
    return render("roster/person.html", block, status=status, **context)


@bp.route("/people/new", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def new_person():
    """Add a learner, teacher, family member or admin."""
    form = PersonForm().setup(
        services.allowed_roles(current_user),
        services.manageable_schools(current_user),
        creating=True,
    )
    if not form.is_submitted():
        if school := load_school(request.args.get("school")):
            form.school.data = str(school.id)
        if request.args.get("role") in set(Role):
            form.role.data = request.args["role"]
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _person_page(None, form, status=status, block="person_form")
    try:
        person = services.create_person(current_user, _person_input(form))
    except FieldErrors as exc:
        _show_errors(form, exc.errors)
        return _person_page(None, form, status=422, block="person_form")
    db.session.commit()
    flash(_("%(name)s was added.", name=person.display_name), "info")
    return redirect_to(url_for("roster.edit_person", user_id=person.id))


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def edit_person(user_id: int):
    """Edit a person's details, sign-in secrets, family links and account status."""
    person = load_user_for_admin(user_id)
    if request.method == "GET":
        return _person_page(person, _readonly_person_form(person))
    form = PersonForm().setup(
        services.editable_roles(current_user, person),
        services.manageable_schools(current_user),
        creating=False,
    )
    del form.learner, form.relationship
    if not form.validate_on_submit():
        return _person_page(person, form, status=422, block="person_form")
    try:
        services.update_person(current_user, person, _person_input(form))
    except FieldErrors as exc:
        _show_errors(form, exc.errors)
        return _person_page(person, form, status=422, block="person_form")
    db.session.commit()
    flash(_("Changes to %(name)s were saved.", name=person.display_name), "info")
    return redirect_to(url_for("roster.edit_person", user_id=person.id))


@bp.route("/people/<int:user_id>/status", methods=["POST"])
@roles(*ADMIN_ROLES)
def person_status(user_id: int):
    """Deactivate or reactivate an account."""
    person = load_user_for_admin(user_id)
    active = _status_from(StatusForm())
    try:
        services.set_active(current_user, person, active)
    except FieldErrors as exc:
        db.session.rollback()
        return _person_page(
            person, _readonly_person_form(person), status=422, status_error=exc.errors["active"]
        )
    db.session.commit()
    message = (
        _("%(name)s can sign in again.", name=person.display_name)
        if active
        else _("%(name)s is deactivated and signed out.", name=person.display_name)
    )
    flash(message, "info")
    return redirect_to(url_for("roster.edit_person", user_id=person.id))


@bp.route("/people/<int:user_id>/guardians", methods=["POST"])
@roles(*ADMIN_ROLES)
def add_guardian_link(user_id: int):
    """Let an existing family account follow this learner."""
    learner = load_learner_for_admin(user_id)
    link_form = GuardianLinkForm()
    if link_form.validate_on_submit():
        try:
            link = services.link_guardian(
                learner, link_form.guardian.data, link_form.relationship.data
            )
        except FieldErrors as exc:
            _show_errors(link_form, exc.errors)
        else:
            db.session.commit()
            flash(
                _(
                    "%(guardian)s now follows %(learner)s.",
                    guardian=link.guardian.display_name,
                    learner=learner.display_name,
                ),
                "info",
            )
            return redirect_to(url_for("roster.edit_person", user_id=learner.id) + "#guardians")
    form = _readonly_person_form(learner)
    return _person_page(learner, form, status=422, block="guardians", link_form=link_form)


def _readonly_person_form(person: User) -> PersonForm:
    """The person form as saved, for re-rendering the page around another form's errors."""
    form = PersonForm(obj=person, formdata=None).setup(
        services.editable_roles(current_user, person),
        services.manageable_schools(current_user),
        creating=False,
    )
    del form.learner, form.relationship
    form.role.data = person.role.value
    form.school.data = str(person.org_id) if person.role in services.SCHOOL_ROLES else ""
    form.grade.data = "" if person.grade is None else str(person.grade)
    return form


@bp.route("/people/<int:user_id>/guardians/<int:link_id>/status", methods=["POST"])
@roles(*ADMIN_ROLES)
def guardian_link_status(user_id: int, link_id: int):
    """Pause or restore a family member's access to this learner."""
    learner = load_learner_for_admin(user_id)
    link = db.session.get(GuardianLink, link_id)
    if link is None or link.learner_id != learner.id:
        abort(404)
    active = _status_from(StatusForm())
    services.set_link_active(link, active)
    db.session.commit()
    flash(
        _("Access restored for %(name)s.", name=link.guardian.display_name)
        if active
        else _("Access paused for %(name)s.", name=link.guardian.display_name),
        "info",
    )
    return redirect_to(url_for("roster.edit_person", user_id=learner.id) + "#guardians")


# --- Classes ----------------------------------------------------------------------


@bp.route("/classes")
@roles(*ADMIN_ROLES)
def classes():
    """List the classes of the admin's schools."""
    filters = ClassFilterForm(request.args)
    filters.school.choices = choices(
        [("", _("All schools"))]
        + [(s.id, s.name) for s in services.manageable_schools(current_user)]
    )
    school = load_school(filters.school.data)
    stmt = services.classes_query(current_user, school.id if school else None)
    page = db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int),
        per_page=CLASSES_PER_PAGE,
        error_out=False,
    )
    return render(
        "roster/classes.html",
        filters=filters,
        page=page,
        counts=services.enrollment_counts([c.id for c in page.items]),
        filter_args=_filter_args("school"),
    )


def _class_input(form: ClassForm) -> services.ClassInput:
    return services.ClassInput(
        title=form.title.data,
        period=form.period.data,
        course_title=form.course_title.data,
        term_id=int(form.term.data) if form.term.data else None,
        school_id=int(form.school.data) if "school" in form and form.school.data else None,
    )


@bp.route("/classes/new", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def new_class():
    """Add a class to one of the admin's schools."""
    form = ClassForm().setup(
        services.manageable_schools(current_user), services.terms_for(current_user)
    )
    if not form.is_submitted() and (school := load_school(request.args.get("school"))):
        form.school.data = str(school.id)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render(
            "roster/class_form.html", "class_form", status=status, form=form, school_class=None
        )
    try:
        school_class = services.create_class(current_user, _class_input(form))
    except FieldErrors as exc:
        _show_errors(form, exc.errors)
        return render_invalid("roster/class_form.html", "class_form", form=form, school_class=None)
    db.session.commit()
    flash(_("%(title)s was added.", title=school_class.title), "info")
    return redirect_to(url_for("roster.class_detail", class_id=school_class.id))


@bp.route("/classes/<int:class_id>/edit", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def edit_class(class_id: int):
    """Edit a class's title, period, course and term."""
    school_class = load_class(class_id)
    if refused := _refuse_if_ended(school_class):
        return refused
    form = ClassForm(
        obj=school_class,
        course_title=school_class.course.title if school_class.course else None,
        term=str(school_class.term_id),
    ).setup([], services.terms_for(current_user))
    del form.school  # a class stays in its school: its enrollments depend on it
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render(
            "roster/class_form.html",
            "class_form",
            status=status,
            form=form,
            school_class=school_class,
        )
    try:
        services.update_class(school_class, _class_input(form))
    except FieldErrors as exc:
        _show_errors(form, exc.errors)
        return render_invalid(
            "roster/class_form.html", "class_form", form=form, school_class=school_class
        )
    db.session.commit()
    flash(_("Changes to %(title)s were saved.", title=school_class.title), "info")
    return redirect_to(url_for("roster.class_detail", class_id=school_class.id))


def _enroll_form(school_class: SchoolClass, **kwargs) -> EnrollForm:
    form = EnrollForm(**kwargs)
    # An htmx search picker fills the <datalist>; without JS it is a plain text field.
    form.username.render_kw = {
        **(form.username.render_kw or {}),
        "hx-get": url_for("roster.class_candidates", class_id=school_class.id),
        "hx-trigger": "input changed delay:300ms",
        "hx-target": "#enroll-candidates",
        "hx-swap": "outerHTML",
    }
    return form


def _class_page(
    school_class: SchoolClass, enroll_form: EnrollForm, block=None, status: int = 200, **extra
):
    members = services.class_members(school_class)
    context = {
        "school_class": school_class,
        # Gathered here, not lazily by the template: a page's data is read off its route.
        "school": school_class.school,
        "course": school_class.course,
        "enroll_form": enroll_form,
        "teachers": [e for e in members if e.role is EnrollmentRole.TEACHER],
        "learners": [e for e in members if e.role is EnrollmentRole.LEARNER],
        "candidates": [],
        "ended": class_has_ended(school_class),
    }
    context.update(extra)
    return render("roster/class.html", block, status=status, **context)


@bp.route("/classes/<int:class_id>")
@roles(*ADMIN_ROLES)
def class_detail(class_id: int):
    """Show a class's code, teachers and learners, and add or remove people."""
    school_class = load_class(class_id)
    return _class_page(school_class, _enroll_form(school_class))


@bp.route("/classes/<int:class_id>/candidates")
@roles(*ADMIN_ROLES)
def class_candidates(class_id: int):
    """Suggest learners and teachers of the class's school for the enrollment picker."""
    school_class = load_class(class_id)
    q = request.args.get("username", "").strip()
    ended = class_has_ended(school_class)  # no one joins a class that ended
    candidates = services.enrollment_candidates(school_class, q) if q and not ended else []
    return _class_page(
        school_class,
        _enroll_form(school_class, formdata=request.args),
        "candidates",
        candidates=candidates,
    )


@bp.route("/classes/<int:class_id>/code", methods=["POST"])
@roles(*ADMIN_ROLES)
def regenerate_code(class_id: int):
    """Give the class a new sign-in code."""
    school_class = load_class(class_id)
    if refused := _refuse_if_ended(school_class):
        return refused
    if not ConfirmForm().validate_on_submit():
        abort(400)
    code = services.regenerate_code(school_class)
    db.session.commit()
    flash(_("The new class code is %(code)s.", code=code), "info")
    return redirect_to(url_for("roster.class_detail", class_id=school_class.id))


@bp.route("/classes/<int:class_id>/enrollments", methods=["POST"])
@roles(*ADMIN_ROLES)
def add_enrollment(class_id: int):
    """Enroll a learner or teacher of the class's school."""
    school_class = load_class(class_id)
    if refused := _refuse_if_ended(school_class):
        return refused
    form = _enroll_form(school_class)
    if form.validate_on_submit():
        try:
            enrollment = services.enroll(school_class, form.username.data)
        except FieldErrors as exc:
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s was added to %(title)s.",
                    name=enrollment.user.display_name,
                    title=school_class.title,
                ),
                "info",
            )
            return redirect_to(url_for("roster.class_detail", class_id=school_class.id))
    return _class_page(school_class, form, "enroll_form", status=422)


@bp.route("/classes/<int:class_id>/enrollments/<int:enrollment_id>/remove", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def remove_enrollment(class_id: int, enrollment_id: int):
    """Ask to confirm, then remove someone from a class."""
    school_class = load_class(class_id)
    if refused := _refuse_if_ended(school_class):
        return refused
    enrollment = db.session.get(Enrollment, enrollment_id, options=[joinedload(Enrollment.user)])
    if enrollment is None or enrollment.class_id != school_class.id:
        abort(404)
    if request.method == "GET":
        return render(
            "roster/remove_enrollment.html", school_class=school_class, enrollment=enrollment
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = enrollment.user.display_name
    services.remove_enrollment(enrollment)
    db.session.commit()
    flash(_("%(name)s was removed from %(title)s.", name=name, title=school_class.title), "info")
    return redirect_to(url_for("roster.class_detail", class_id=school_class.id))
