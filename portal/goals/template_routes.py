"""Goal templates: the ones a teacher offers a class (add, edit, retire) and the ones a
learner may start a goal from.
"""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user

from portal.auth.models import Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.web import redirect_to, render
from portal.goals import queries, services
from portal.goals.blueprint import bp
from portal.goals.forms import TemplateForm
from portal.goals.models import Horizon
from portal.goals.target_picker import _requested_target_ids, _target_fragment, _target_lists
from portal.policy import class_has_ended, load_class, load_own_template, roles
from portal.roster.models import SchoolClass

# --- Templates ------------------------------------------------------------------------------


@bp.route("/classes/<int:class_id>/goal-templates", methods=["GET", "POST"])
@roles(Role.TEACHER)
def class_templates(class_id: int):
    """Keep the goal templates I offer to a class, and add new ones."""
    school_class = load_class(class_id)
    form = _class_template_form(school_class)
    if request.method == "POST" and (refused := _refuse_if_ended(school_class)):
        return refused
    # A page from before the search button had its own endpoint posts action=search.
    if request.method == "GET" or request.form.get("action") == "search":
        return _class_templates_page(school_class, form)
    if not form.validate():
        return _class_templates_page(school_class, form, status=422)
    services.create_template(
        current_user,
        class_id,
        title=form.title.data,
        statement=form.statement.data,
        horizon=Horizon(form.horizon.data),
        target_level=form.target_level.data,
        target_ids=form.targets.data,
        strategies=form.strategy_lines(),
    )
    db.session.commit()
    flash(_("Template offered to the class."))
    return redirect_to(url_for("goals.class_templates", class_id=class_id))


@bp.route("/classes/<int:class_id>/goal-templates/targets/search", methods=["POST"])
@roles(Role.TEACHER)
def class_template_search_targets(class_id: int):
    """Search targets for a new template (the search button); nothing is saved."""
    school_class = load_class(class_id)
    if refused := _refuse_if_ended(school_class):
        return refused
    return _class_templates_page(school_class, _class_template_form(school_class))


def _refuse_if_ended(school_class: SchoolClass | None):
    """Last year's class offers nothing new: say so and change nothing (None if running)."""
    if school_class is None or not class_has_ended(school_class):
        return None
    flash(
        _(
            "%(title)s ended with %(term)s: its templates are kept as history and cannot "
            "be changed.",
            title=school_class.title,
            term=school_class.term.title,
        ),
        "error",
    )
    return redirect_to(url_for("goals.class_templates", class_id=school_class.id))


def _template_class(template) -> SchoolClass | None:
    return db.session.get(SchoolClass, template.class_id) if template.class_id else None


def _class_template_form(school_class: SchoolClass) -> TemplateForm:
    scale = queries.scale_for_school(school_class.school_id)
    return TemplateForm().bind(school_class.school_id, scale)


def _class_templates_page(school_class: SchoolClass, form: TemplateForm, status: int = 200):
    chosen, results = _target_lists(
        school_class.school_id, None, form.targets.data, form.q.data, band_of_class=school_class.id
    )
    return render(
        "goals/class_templates.html",
        "template_form",
        status=status,
        school_class=school_class,
        form=form,
        templates=queries.templates_of_class(school_class.id),
        chosen=chosen,
        results=results,
        picker_url=url_for("goals.template_target_options", class_id=school_class.id),
        max_targets=services.MAX_TARGETS,
        scale=form.scale,
    )


@bp.route("/classes/<int:class_id>/goal-templates/targets")
@roles(Role.TEACHER)
def template_target_options(class_id: int):
    """Search the class's school targets for a template (the fragment under the search box)."""
    school_class = load_class(class_id)
    chosen, results = _target_lists(
        school_class.school_id,
        None,
        _requested_target_ids(),
        request.args.get("q"),
        band_of_class=class_id,
    )
    return _target_fragment(
        chosen, results, url_for("goals.template_target_options", class_id=class_id)
    )


@bp.route("/goal-templates/<int:template_id>/retire", methods=["POST"])
@roles(Role.TEACHER)
def retire_template(template_id: int):
    """Stop offering one of my templates."""
    template = load_own_template(template_id)
    if refused := _refuse_if_ended(_template_class(template)):
        return refused
    services.retire_template(template)
    db.session.commit()
    flash(_("Template no longer offered."))
    if template.class_id is None:
        return redirect_to(url_for("home.index"))
    return redirect_to(url_for("goals.class_templates", class_id=template.class_id))


@bp.route("/goals/templates")
@roles(Role.LEARNER)
def templates():
    """Show the goal templates my teachers offer, to start a goal from."""
    return render(
        "goals/templates.html",
        offered=queries.templates_for_learner(current_user.id),
        scale=queries.scale_for_school(current_user.org_id),
    )


@bp.route("/goal-templates/<int:template_id>/edit", methods=["GET", "POST"])
@roles(Role.TEACHER)
def edit_template(template_id: int):
    """Change one of my goal templates; goals already started from it keep their wording."""
    template = load_own_template(template_id)
    if refused := _refuse_if_ended(_template_class(template)):
        return refused
    if request.method == "GET":
        form = _template_form(template, formdata=None)
        form.fill_from_template(template)
        return _edit_template_page(template, form)
    form = _template_form(template)
    # A page from before the search button had its own endpoint posts action=search.
    if request.form.get("action") == "search":
        return _edit_template_page(template, form)
    if not form.validate():
        return _edit_template_page(template, form, status=422)
    services.update_template(
        template,
        title=form.title.data,
        statement=form.statement.data,
        horizon=Horizon(form.horizon.data),
        target_level=form.target_level.data,
        target_ids=form.targets.data,
        strategies=form.strategy_lines(),
    )
    db.session.commit()
    flash(_("Template saved."))
    if template.class_id is None:
        return redirect_to(url_for("home.index"))
    return redirect_to(url_for("goals.class_templates", class_id=template.class_id))


@bp.route("/goal-templates/<int:template_id>/targets/search", methods=["POST"])
@roles(Role.TEACHER)
def edit_template_search_targets(template_id: int):
    """Search targets while editing one of my templates (the search button); nothing is saved."""
    template = load_own_template(template_id)
    return _edit_template_page(template, _template_form(template))


def _template_form(template, **kwargs) -> TemplateForm:
    school_id = template_school_id(template)
    return TemplateForm(**kwargs).bind(school_id, queries.scale_for_school(school_id))


def _edit_template_page(template, form: TemplateForm, status: int = 200):
    chosen, results = _target_lists(form.school_id, None, form.targets.data, form.q.data)
    return render(
        "goals/template_edit.html",
        "template_form",
        status=status,
        goal_template=template,
        form=form,
        chosen=chosen,
        results=results,
        picker_url=url_for("goals.edit_template_target_options", template_id=template.id),
        max_targets=services.MAX_TARGETS,
        scale=form.scale,
    )


@bp.route("/goal-templates/<int:template_id>/targets")
@roles(Role.TEACHER)
def edit_template_target_options(template_id: int):
    """Search the school's targets while editing one of my templates."""
    template = load_own_template(template_id)
    chosen, results = _target_lists(
        template_school_id(template), None, _requested_target_ids(), request.args.get("q")
    )
    return _target_fragment(
        chosen, results, url_for("goals.edit_template_target_options", template_id=template.id)
    )


def template_school_id(template) -> int | None:
    """The school a template's targets and scale come from: its class's, else its teacher's."""
    if template.class_id is not None:
        school_class = db.session.get(SchoolClass, template.class_id)
        if school_class is not None:
            return school_class.school_id
    return current_user.org_id
