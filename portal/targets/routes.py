"""Browse and edit learning targets, import CASE packages, set a school's mastery scale."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.auth.models import ADMIN_ROLES, STAFF_ROLES, Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.inputs import parse_number
from portal.core.web import redirect_to, render, render_invalid
from portal.policy import (
    framework_org_ids,
    load_framework,
    load_school,
    load_target,
    manageable_school_ids,
    roles,
)
from portal.roster.models import Org
from portal.targets import queries, services
from portal.targets.case_import import CaseImportError, import_case
from portal.targets.forms import (
    MAX_LEVELS,
    BrowseForm,
    CaseImportForm,
    FrameworkForm,
    ScaleForm,
    TargetForm,
    choices,
)
from portal.targets.scales import DEFAULT_SPECS, LevelSpec, existing_scale, save_scale

bp = Blueprint("targets", __name__, url_prefix="/targets")

MAX_SHOWN = 500


# --- Browse --------------------------------------------------------------------------


@bp.route("/")
@roles(Role.LEARNER, *STAFF_ROLES)
def browse():
    """Browse the frameworks and targets this person's school uses, filtered by grade and words."""
    frameworks = queries.visible_frameworks(framework_org_ids(current_user))
    form = BrowseForm(request.args)
    form.framework.choices = choices(
        [("", _("All frameworks"))] + [(str(f.id), f.title) for f in frameworks]
    )
    form.validate()
    chosen = [f for f in frameworks if str(f.id) == form.framework.data]
    text = (form.q.data or "").strip() if not form.q.errors else ""
    grade = form.grade_value
    trees = None
    if chosen or text or grade is not None:
        trees = queries.target_trees(chosen or frameworks, grade, text, limit=MAX_SHOWN)
    return render(
        "targets/browse.html",
        "results",
        form=form,
        frameworks=frameworks,
        counts=queries.target_counts([f.id for f in frameworks]),
        trees=trees,
        truncated=trees is not None and sum(t.matches for t in trees) >= MAX_SHOWN,
        max_shown=MAX_SHOWN,
        filtering=bool(text or grade is not None),
        editable=current_user.is_staff,
        owners=_org_names({f.org_id for f in frameworks}),
    )


def _org_names(org_ids: set[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    return dict(
        db.session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids))).tuples().all()
    )


# --- Frameworks and targets ----------------------------------------------------------


@bp.route("/frameworks/new", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def new_framework():
    """Start a framework of the school's or district's own targets."""
    form = FrameworkForm()
    form.org_id.choices = choices((o.id, o.name) for o in services.editable_orgs(current_user))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("targets/framework_form.html", "framework_form", status=status, form=form)
    framework = services.create_framework(form.org_id.data, form.title.data, form.subject.data)
    db.session.commit()
    flash(_("Framework created. Add its groups and targets."), "success")
    return redirect_to(url_for("targets.browse", framework=framework.id))


@bp.route("/frameworks/<int:framework_id>/targets/new", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def new_target(framework_id: int):
    """Add a learning target or a group to a framework."""
    framework = load_framework(framework_id, edit=True)
    form = TargetForm(
        framework_id=framework.id,
        groups=queries.group_choices(framework.id),
        parent_id=request.args.get("parent", ""),
    )
    if not form.validate_on_submit():
        return _target_form(form, framework, None)
    services.create_target(framework, form.target_data())
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect_to(url_for("targets.browse", framework=framework.id))


@bp.route("/<int:target_id>/edit", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def edit_target(target_id: int):
    """Edit a learning target or a group."""
    target = load_target(target_id, edit=True)
    framework = target.framework
    exclude = queries.descendant_ids(target) | {target.id}
    form = TargetForm(
        framework_id=framework.id,
        target=target,
        groups=queries.group_choices(framework.id, exclude),
        data={
            "kind": target.kind.value,
            "parent_id": str(target.parent_id or ""),
            "code": target.code or "",
            "statement": target.statement,
            "family_statement": target.family_statement or "",
            "family_statement_es": target.family_statement_es or "",
            "grade_low": "" if target.grade_low is None else str(target.grade_low),
            "grade_high": "" if target.grade_high is None else str(target.grade_high),
        },
    )
    if not form.validate_on_submit():
        return _target_form(form, framework, target)
    services.update_target(target, form.target_data())
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect_to(url_for("targets.browse", framework=framework.id))


def _target_form(form: TargetForm, framework, target):
    status = 422 if form.is_submitted() else 200
    return render(
        "targets/target_form.html",
        "target_form",
        status=status,
        form=form,
        framework=framework,
        target=target,
    )


# --- CASE import ---------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def import_package():
    """Import a state's or district's standards from a 1EdTech CASE package."""
    form = CaseImportForm()
    form.org_id.choices = choices((o.id, o.name) for o in services.editable_orgs(current_user))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("targets/import.html", "import_form", status=status, form=form, problems=[])
    try:
        summary = import_case(form.package.data.read(), form.org_id.data)
    except CaseImportError as exc:
        db.session.rollback()
        return render_invalid("targets/import.html", "import_form", form=form, problems=exc.errors)
    db.session.commit()
    flash(
        _(
            "Imported “%(title)s”: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.",
            title=summary.framework.title,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        ),
        "success",
    )
    return redirect_to(url_for("targets.browse", framework=summary.framework.id))


# --- Mastery scale -------------------------------------------------------------------


@bp.route("/scale")
@roles(*ADMIN_ROLES)
def scales():
    """Open the school's mastery scale, or list the district's schools to choose one."""
    schools = list(
        db.session.scalars(
            select(Org).where(Org.id.in_(manageable_school_ids(current_user))).order_by(Org.name)
        )
    )
    if len(schools) == 1:
        return redirect_to(url_for("targets.scale", school_id=schools[0].id))
    return render("targets/scales.html", schools=schools)


@bp.route("/scale/<int:school_id>", methods=["GET", "POST"])
@roles(*ADMIN_ROLES)
def scale(school_id: int):
    """Edit a school's mastery scale: labels, descriptions, levels and which one is mastery."""
    school = load_school(school_id)
    if request.method == "GET":
        return _scale_form(_scale_form_for(school_id), school)
    form = ScaleForm()
    # A page from before "Add" and "Remove" had endpoints of their own posts action=.
    action = request.form.get("action", "save")
    if action == "add":
        return _scale_form(_with_level_added(form), school)
    if action.startswith("remove-"):
        row = parse_number(action.removeprefix("remove-"))
        return _scale_form(_with_level_removed(form, row), school)
    if not form.validate_on_submit():
        return _scale_form(form, school, status=422)
    save_scale(school_id, form.name.data.strip(), form.level_specs())
    db.session.commit()
    flash(_("Mastery scale saved."), "success")
    return redirect_to(url_for("targets.scale", school_id=school_id))


@bp.route("/scale/<int:school_id>/levels/add", methods=["POST"])
@roles(*ADMIN_ROLES)
def scale_add_level(school_id: int):
    """Add a blank level to the scale being edited; nothing is saved until "Save"."""
    school = load_school(school_id)
    return _scale_form(_with_level_added(ScaleForm()), school)


@bp.route("/scale/<int:school_id>/levels/<int:row>/remove", methods=["POST"])
@roles(*ADMIN_ROLES)
def scale_remove_level(school_id: int, row: int):
    """Take level `row` (from 1) out of the scale being edited; nothing is saved until "Save"."""
    school = load_school(school_id)
    return _scale_form(_with_level_removed(ScaleForm(), row - 1), school)


def _scale_form_for(school_id: int) -> ScaleForm:
    existing = existing_scale(school_id)
    specs = (
        [
            LevelSpec(
                lv.value, lv.label, lv.description, lv.is_mastery, lv.label_es, lv.description_es
            )
            for lv in existing.levels
        ]
        if existing
        else DEFAULT_SPECS
    )
    mastery = next((i for i, s in enumerate(specs) if s.is_mastery), None)
    return ScaleForm(
        formdata=None,
        data={
            "name": existing.name if existing else _("Mastery scale"),
            "levels": [
                {
                    "value": s.value,
                    "label": s.label,
                    "description": s.description or "",
                    "label_es": s.label_es or "",
                    "description_es": s.description_es or "",
                }
                for s in specs
            ],
            "mastery": None if mastery is None else str(mastery),
        },
    )


def _with_level_added(form: ScaleForm) -> ScaleForm:
    """The posted scale with one more blank level (numbered after the highest), up to 7."""
    levels = form.levels.data
    if len(levels) < MAX_LEVELS:
        values = [lv["value"] for lv in levels if isinstance(lv["value"], int)]
        levels.append(
            {
                "value": max(values, default=0) + 1,
                "label": "",
                "description": "",
                "label_es": "",
                "description_es": "",
            }
        )
    return _redrawn(form, levels, _posted_mastery(form))


def _with_level_removed(form: ScaleForm, index: int | None) -> ScaleForm:
    """The posted scale without the level at `index`; the mastery mark stays on its level."""
    levels = form.levels.data
    mastery = _posted_mastery(form)
    if index is not None and 0 <= index < len(levels):
        levels.pop(index)
        if mastery == index:
            mastery = None
        elif mastery is not None and mastery > index:
            mastery -= 1
    return _redrawn(form, levels, mastery)


def _posted_mastery(form: ScaleForm) -> int | None:
    mastery = form.mastery.data
    return parse_number(str(mastery)) if mastery not in (None, "", "None") else None


def _redrawn(form: ScaleForm, levels: list[dict], mastery: int | None) -> ScaleForm:
    """A fresh form of these rows: adding or removing a row only redraws, it saves nothing."""
    return ScaleForm(
        formdata=None,
        data={
            "name": form.name.data,
            "levels": levels,
            "mastery": None if mastery is None else str(mastery),
        },
    )


def _scale_form(form: ScaleForm, school: Org, status: int = 200):
    return render(
        "targets/scale.html",
        "scale_form",
        status=status,
        form=form,
        school=school,
        max_levels=MAX_LEVELS,
    )
