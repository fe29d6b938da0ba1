"""The insights pages: district, school, class and a teacher's classes, each measure's
page, CSV of any table, district success indicators, and PL specialists' schools.

Every page loads its scope through `portal.policy` (404 when out of reach), asks
`compute.measure_table` (suppression is applied inside) and hands the template plain
numbers and chart geometry. No page shows any child's name: rows are schools, grades,
classes, teachers or groups; a teacher's drill-down to their learners is the class page
they may already see.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.i18n import date_text
from portal.core.i18n import gettext as _
from portal.core.timeutil import today
from portal.core.web import redirect_to, render, render_invalid
from portal.insights import charts, compute, export, targets
from portal.insights import programs as program_flags
from portal.insights import specialists as specialist_schools_of
from portal.insights.forms import (
    ConfirmForm,
    IndicatorForm,
    ProgramsUploadForm,
    SpecialistSchoolsForm,
)
from portal.insights.measures import BY_KEY, MEASURES, PERIOD_NOTE
from portal.insights.scope import Scope
from portal.insights.suppression import MinCellError
from portal.policy import (
    INSIGHTS_ROLES,
    InsightsView,
    allowed_breakdowns,
    assigned_schools,
    insights_school_ids,
    load_indicator,
    load_insights_class,
    load_insights_district,
    load_insights_school,
    load_insights_teaching,
    load_specialist,
    may_set_targets,
    roles,
    target_org_ids,
    target_setting_org_ids,
    teaching_class_ids,
)
from portal.roster.models import Org

bp = Blueprint("insights", __name__, url_prefix="/insights")
TREND_CYCLES = 6


def indicator_title(indicator: str) -> str:
    return {
        "1.1": _("1.1 Goal setting"),
        "1.2": _("1.2 Monitoring"),
        "1.3": _("1.3 Profiles"),
        "family": _("Families"),
    }.get(indicator, indicator)


def _scope(view: InsightsView) -> Scope:
    return Scope(view.district_id, view.school_ids, view.class_ids)


def _pick_by(view: InsightsView, notices: list[str]) -> tuple[str | None, list[str]]:
    """The breakdown asked for, if this viewer may have it; and the ones on offer."""
    available = compute.available_breakdowns(_scope(view), teacher=not view.groups)
    offered = allowed_breakdowns(view, tuple(available), compute.GROUP_BREAKDOWNS)
    by = request.args.get("by") or None
    if by is not None and by not in offered:
        notices.append(_("That breakdown is not available here; showing all learners."))
        by = None
    return by, offered


def _pick_as_of(
    scope: Scope, notices: list[str]
) -> tuple[datetime | None, list[tuple[datetime, datetime]]]:
    """The end of the past cycle asked for (`as_of=YYYY-MM-DD`), if it is one."""
    cycles = compute.past_cycles(scope)
    asked = request.args.get("as_of") or None
    if asked is None:
        return None, cycles
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        day = None
    for _start, end in cycles:
        if day is not None and end.date() == day:
            return end, cycles
    notices.append(_("That date is not the end of a past cycle; showing the current cycle."))
    return None, cycles


def breakdown_label(by: str) -> str:
    labels = {
        "school": _("School"),
        "grade": _("Grade"),
        "class": _("Class"),
        "teacher": _("Teacher"),
        "sex": _("Sex"),
        "race": _("Race"),
        "ethnicity": _("Ethnicity"),
    }
    if by.startswith("program:"):
        return _("Program: %(flag)s", flag=by.split(":", 1)[1])
    return labels.get(by, by)


def _row_link(view: InsightsView, row) -> str | None:
    """A school or class row links to that school's or class's own page."""
    kind, _sep, raw = row.key.partition(":")
    if not raw.isdigit():
        return None
    if kind == "school" and view.level == "district":
        return url_for("insights.school", school_id=int(raw))
    if kind == "class" and view.level in ("school", "teaching"):
        return url_for("insights.class_page", class_id=int(raw))
    return None


def _csv(table, name: str) -> Response:
    return Response(
        "\ufeff" + export.table_csv(table),  # a BOM: spreadsheet programs then read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="insights-{name}.csv"'},
    )


def _here(**changes) -> str:
    """This page's URL with some query arguments changed (None drops one)."""
    args = {k: v for k, v in request.args.items() if k not in changes}
    args.update({k: v for k, v in changes.items() if v is not None})
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def _chart_value(cell) -> float | None:
    """What a chart draws for a cell: its value, a banded share at 5% / 95%, or nothing."""
    if cell.value is not None:
        return cell.value
    return {"under": 0.05, "over": 0.95}.get(getattr(cell, "band", None))


def _goal_chart(table):
    rows = [*table.rows, table.total] if table.rows else [table.total]
    return charts.goal_setting_bars(
        [
            (
                row.label,
                (_chart_value(row.cells["agreed_goal"]), row.cells["agreed_goal"].shown),
                (_chart_value(row.cells["never_started"]), row.cells["never_started"].shown),
            )
            for row in rows
        ],
        agreed_label=_("Agreed goal"),
        never_label=_("Never started"),
        rest_label=_("Goal, not yet agreed"),
    )


def _scope_page(view: InsightsView, title: str, name: str):
    scope = _scope(view)
    notices: list[str] = []
    by, offered = _pick_by(view, notices)
    as_of, cycles = _pick_as_of(scope, notices)
    table = compute.measure_table(scope, by=by, as_of=as_of)
    if request.args.get("format") == "csv":
        return _csv(table, name)
    return render(
        "insights/scope.html",
        "insights_table",
        view=view,
        notices=notices,
        title=title,
        table=table,
        by=by,
        offered=[(key, breakdown_label(key)) for key in offered],
        cycles=cycles,
        as_of=as_of,
        measures=MEASURES,
        indicator_title=indicator_title,
        goal_chart=_goal_chart(table),
        row_link=lambda row: _row_link(view, row),
        csv_url=_here(format="csv"),
        measure_url=lambda key: url_for(
            _MEASURE_ENDPOINT[view.level], key=key, **_view_args(view), **_kept_args()
        ),
        progress=_targets_progress(view) if view.level in ("district", "school") else [],
        status_labels=targets.STATUS_LABELS,
    )


_MEASURE_ENDPOINT = {
    "district": "insights.district_measure",
    "school": "insights.school_measure",
    "class": "insights.class_measure",
    "teaching": "insights.teaching_measure",
}


def _view_args(view: InsightsView) -> dict:
    if view.level == "school":
        return {"school_id": view.org.id}
    if view.level == "class":
        return {"class_id": view.school_class.id}
    return {}


def _kept_args() -> dict:
    return {k: request.args[k] for k in ("by", "as_of") if request.args.get(k)}


@bp.errorhandler(MinCellError)
def _misconfigured(error):
    """INSIGHTS_MIN_CELL below the safe minimum: say so; never show unprotected numbers."""
    message = _(
        "Insights are switched off: the smallest group shown (INSIGHTS_MIN_CELL) is set "
        "below 5. Ask your administrator to fix the setting."
    )
    return render("insights/none.html", status=503, message=message)


# --- Pages --------------------------------------------------------------------------


@bp.route("/")
@roles(*INSIGHTS_ROLES)
def index():
    """Send each viewer to the widest insights page they may see."""
    user = current_user
    if user.role is Role.DISTRICT_ADMIN:
        return redirect_to(url_for("insights.district"))
    if user.role is Role.SCHOOL_ADMIN and user.org_id is not None:
        return redirect_to(url_for("insights.school", school_id=user.org_id))
    if user.role is Role.TEACHER:
        if teaching_class_ids(user):
            return redirect_to(url_for("insights.teaching"))
        return render("insights/none.html", message=_("You teach no classes this term yet."))
    schools = assigned_schools(user)
    if len(schools) == 1:
        return redirect_to(url_for("insights.school", school_id=schools[0].id))
    if schools:
        return redirect_to(url_for("insights.district"))
    return render("insights/none.html")


@bp.route("/district")
@roles(Role.DISTRICT_ADMIN, Role.PL_SPECIALIST)
def district():
    """Show the district's measures (a PL specialist: their schools together)."""
    view = load_insights_district()
    if view.school_ids is None:
        title = view.org.name if view.org else _("The district")
    else:
        title = _("Your schools in %(district)s", district=view.org.name if view.org else "")
    return _scope_page(view, title, "district")


@bp.route("/schools/<int:school_id>")
@roles(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN, Role.PL_SPECIALIST)
def school(school_id: int):
    """Show one school's measures."""
    view = load_insights_school(school_id)
    return _scope_page(view, view.org.name, f"school-{school_id}")


@bp.route("/classes/<int:class_id>")
@roles(*INSIGHTS_ROLES)
def class_page(class_id: int):
    """Show one class's measures (to its teacher without group breakdowns)."""
    view = load_insights_class(class_id)
    return _scope_page(view, view.school_class.title, f"class-{class_id}")


@bp.route("/teaching")
@roles(Role.TEACHER)
def teaching():
    """Show the measures of the classes the teacher teaches."""
    view = load_insights_teaching()
    return _scope_page(view, _("My classes"), "my-classes")


# --- One measure --------------------------------------------------------------------


def _measure_page(view: InsightsView, key: str, name: str):
    measure = BY_KEY.get(key)
    if measure is None:
        abort(404)
    scope = _scope(view)
    notices: list[str] = []
    by, offered = _pick_by(view, notices)
    as_of, cycles = _pick_as_of(scope, notices)
    table = compute.measure_table(scope, by=by, as_of=as_of)
    if request.args.get("format") == "csv":
        return _csv(table, f"{name}-{key}")
    history = compute.trend(scope, cycles=TREND_CYCLES)
    target = _target_for(view, key)
    share = measure.kind == "share"
    target_value = target.target_percent / 100 if (target and share) else None
    target_text = (
        _("Target: %(percent)s%% by %(date)s", percent=target.target_percent, date=target.due_on)
        if target
        else ""
    )
    rows = [*table.rows, table.total] if table.rows else [table.total]
    bars = charts.bar_chart(
        [(row.label, _chart_value(row.cells[key]), row.cells[key].shown) for row in rows],
        kind=measure.kind,
        target=target_value,
        target_label=target_text,
        css="bar-never" if key == "never_started" else "bar-value",
    )
    points = [
        (date_text(t.as_of.date()), _chart_value(t.total.cells[key]), t.total.cells[key].shown)
        for t in history
    ]
    line = charts.trend_chart(
        points, kind=measure.kind, target=target_value, target_label=target_text
    )
    teacher_url = None
    if view.by_teacher and "teacher" in offered:
        teacher_url = _here(by="teacher")
    elif current_user.role is Role.TEACHER and view.school_class is not None:
        teacher_url = url_for("home.class_view", class_id=view.school_class.id)
    return render(
        "insights/measure.html",
        "insights_table",
        view=view,
        notices=notices,
        measure=measure,
        table=table,
        rows=rows,
        by=by,
        offered=[(k, breakdown_label(k)) for k in offered],
        cycles=cycles,
        as_of=as_of,
        bars=bars,
        line=line,
        points=points,
        history=history,
        target=target,
        target_text=target_text,
        teacher_url=teacher_url,
        back_url=url_for(_SCOPE_ENDPOINT[view.level], **_view_args(view), **_kept_args()),
        csv_url=_here(format="csv"),
        indicator_title=indicator_title,
        period_note=PERIOD_NOTE,
    )


_SCOPE_ENDPOINT = {
    "district": "insights.district",
    "school": "insights.school",
    "class": "insights.class_page",
    "teaching": "insights.teaching",
}


@bp.route("/district/measures/<key>")
@roles(Role.DISTRICT_ADMIN, Role.PL_SPECIALIST)
def district_measure(key: str):
    """Show one measure for the district: definition, breakdown, trend, target."""
    return _measure_page(load_insights_district(), key, "district")


@bp.route("/schools/<int:school_id>/measures/<key>")
@roles(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN, Role.PL_SPECIALIST)
def school_measure(school_id: int, key: str):
    """Show one measure for a school."""
    return _measure_page(load_insights_school(school_id), key, f"school-{school_id}")


@bp.route("/classes/<int:class_id>/measures/<key>")
@roles(*INSIGHTS_ROLES)
def class_measure(class_id: int, key: str):
    """Show one measure for a class."""
    return _measure_page(load_insights_class(class_id), key, f"class-{class_id}")


@bp.route("/teaching/measures/<key>")
@roles(Role.TEACHER)
def teaching_measure(key: str):
    """Show one measure for the teacher's classes."""
    return _measure_page(load_insights_teaching(), key, "my-classes")


# --- District success indicators ----------------------------------------------------


def _target_for(view: InsightsView, key: str):
    """The soonest-due target that applies here: this school's own, else the district's."""
    if view.level not in ("district", "school"):
        return None
    orgs = [view.org.id] if view.level == "school" else []
    orgs.append(view.district_id)
    found = [i for i in targets.indicators_for(orgs) if i.measure_key == key]
    own = [i for i in found if i.org_id == view.org.id]
    return (own or found or [None])[0]


def _targets_progress(view: InsightsView) -> list[dict]:
    """Each target that applies here, with each school's progress toward it."""
    orgs = [view.district_id] if view.level == "district" else [view.org.id, view.district_id]
    indicators = targets.indicators_for(orgs)
    if not indicators:
        return []
    scope = _scope(view)
    by = "school" if view.level == "district" else None
    table = compute.measure_table(scope, by=by)
    history = compute.trend(scope, cycles=TREND_CYCLES)
    results = []
    for indicator in indicators:
        measure = BY_KEY.get(indicator.measure_key)
        if measure is None:
            continue
        goal = indicator.target_percent / 100
        rows = table.rows if (by and table.rows) else [table.total]
        baseline = _baseline(history, indicator)
        lines = []
        for row in rows:
            cell = row.cells[indicator.measure_key]
            lines.append(
                (
                    row,
                    cell,
                    targets.progress_toward(
                        goal,
                        indicator.set_on,
                        indicator.due_on,
                        baseline,
                        cell.value,
                    ),
                )
            )
        points = [
            (
                date_text(t.as_of.date()),
                _chart_value(t.total.cells[measure.key]),
                t.total.cells[measure.key].shown,
            )
            for t in history
        ]
        results.append(
            {
                "indicator": indicator,
                "measure": measure,
                "lines": lines,
                "trend": charts.trend_chart(points, kind=measure.kind, target=goal),
                "points": points,
            }
        )
    return results


def _baseline(history, indicator) -> float | None:
    """The total's value at the end of the cycle in which the target was set."""
    for table in history:
        if table.as_of.date() >= indicator.set_on:
            return table.total.cells[indicator.measure_key].value
    return history[-1].total.cells[indicator.measure_key].value if history else None


def _target_orgs(user: User) -> list[Org]:
    """The orgs this user may set targets for: a district admin's district and schools,
    a school admin's school."""
    if user.role is Role.DISTRICT_ADMIN:
        district = db.session.get(Org, user.org_id)
        return [district, *assigned_schools(user)] if district else []
    if user.role is Role.SCHOOL_ADMIN and user.org is not None:
        return [user.org]
    return []


def _indicator_form(indicator=None) -> IndicatorForm:
    form = IndicatorForm(
        obj=None,
        data=(
            {
                "org": str(indicator.org_id),
                "measure": indicator.measure_key,
                "percent": indicator.target_percent,
                "due_on": indicator.due_on,
            }
            if indicator is not None
            else None
        ),
    )
    form.org.choices = [(str(o.id), o.name) for o in _target_orgs(current_user)]
    form.measure.choices = [(m.key, m.label) for m in MEASURES if m.kind == "share"]
    return form


def _targets_page(form, editing=None, status: int = 200):
    orgs = target_org_ids(current_user)
    names = {o.id: o.name for o in db.session.scalars(select(Org).where(Org.id.in_(orgs)))}
    return render(
        "insights/targets.html",
        status=status,
        indicators=targets.indicators_for(orgs),
        org_names=names,
        form=form,
        editing=editing,
        delete_form=ConfirmForm(),
        settable=target_setting_org_ids(current_user),  # read here: templates never query
        measures=BY_KEY,
    )


def _validated_input(form: IndicatorForm):
    """(org id, measure key, percent, due date) if the form is valid and allowed."""
    if not form.validate_on_submit():
        return None
    org_id = int(form.org.data)
    if not may_set_targets(current_user, org_id):
        form.org.errors = [*form.org.errors, _("Choose one of your schools or your district.")]
        return None
    if form.due_on.data <= today():
        form.due_on.errors = [*form.due_on.errors, _("Choose a date in the future.")]
        return None
    return org_id, form.measure.data, form.percent.data, form.due_on.data


@bp.route("/targets", methods=["GET", "POST"])
@roles(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN, Role.PL_SPECIALIST)
def targets_page():
    """List the success indicators in reach; admins add one."""
    if request.method == "POST" and not target_setting_org_ids(current_user):
        abort(403)  # a PL specialist reads the targets, never sets one
    form = _indicator_form()
    if request.method == "POST":
        values = _validated_input(form)
        if values is None:
            return _targets_page(form, status=422)
        targets.add_indicator(*values, by_id=current_user.id)
        db.session.commit()
        flash(_("Target saved."), "success")
        return redirect_to(url_for("insights.targets_page"))
    return _targets_page(form)


@bp.route("/targets/<int:indicator_id>", methods=["GET", "POST"])
@roles(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)
def edit_target(indicator_id: int):
    """Change a target's measure, percent or date."""
    indicator = load_indicator(indicator_id, edit=True)
    form = _indicator_form(indicator)
    if request.method == "POST":
        values = _validated_input(form)
        if values is None:
            return render_invalid("insights/target_form.html", form=form, indicator=indicator)
        targets.update_indicator(indicator, *values)
        db.session.commit()
        flash(_("Target saved."), "success")
        return redirect_to(url_for("insights.targets_page"))
    return render("insights/target_form.html", form=form, indicator=indicator)


@bp.route("/targets/<int:indicator_id>/delete", methods=["POST"])
@roles(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)
def delete_target(indicator_id: int):
    """Remove a target."""
    indicator = load_indicator(indicator_id, edit=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    targets.remove_indicator(indicator)
    db.session.commit()
    flash(_("Target removed."), "success")
    return redirect_to(url_for("insights.targets_page"))


# --- PL specialists' schools --------------------------------------------------------


def _specialists() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.PL_SPECIALIST, User.org_id == current_user.org_id)
            .order_by(User.family_name, User.given_name, User.id)
        )
    )


def _schools_form(person: User, schools: list[Org], formdata=None) -> SpecialistSchoolsForm:
    form = SpecialistSchoolsForm(
        formdata=formdata,
        data={"schools": specialist_schools_of.assigned_school_ids(person)},
        prefix=f"p{person.id}",
    )
    form.schools.choices = [(s.id, s.name) for s in schools]
    return form


@bp.route("/specialists")
@roles(Role.DISTRICT_ADMIN)
def specialists():
    """List the district's PL specialists and the schools each is assigned to."""
    schools = assigned_schools(current_user)
    people = _specialists()
    return render(
        "insights/specialists.html",
        rows=[(p, _schools_form(p, schools, formdata=None)) for p in people],
    )


@bp.route("/specialists/<int:specialist_id>/schools", methods=["POST"])
@roles(Role.DISTRICT_ADMIN)
def specialist_schools(specialist_id: int):
    """Assign a PL specialist to schools of the district."""
    person = load_specialist(specialist_id)
    schools = assigned_schools(current_user)
    form = _schools_form(person, schools, formdata=request.form)
    if not form.validate_on_submit():
        return render_invalid(
            "insights/specialists.html",
            rows=[
                (p, form if p.id == person.id else _schools_form(p, schools))
                for p in _specialists()
            ],
        )
    allowed = set(db.session.scalars(insights_school_ids(current_user)))
    specialist_schools_of.set_schools(person, set(form.schools.data or ()) & allowed)
    db.session.commit()
    flash(_("Schools saved for %(name)s.", name=person.display_name), "success")
    return redirect_to(url_for("insights.specialists"))


# --- Program flags by CSV -----------------------------------------------------------


@bp.route("/programs", methods=["GET", "POST"])
@roles(Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)
def programs_upload():
    """Set learners' program flags (ell, iep, 504, gifted) from a simple CSV."""
    form = ProgramsUploadForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("insights/programs.html", status=status, form=form, problems=[])
    try:
        text = form.file.data.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors = [_("Save the file as CSV in UTF-8 and try again.")]
        return render_invalid("insights/programs.html", form=form, problems=[])
    changes, problems = program_flags.parse(text, current_user)
    if problems:
        return render_invalid("insights/programs.html", form=form, problems=problems)
    job = program_flags.start(changes, current_user)
    db.session.commit()
    return redirect_to(url_for("jobs.status", job_id=job.id))
