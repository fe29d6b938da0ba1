"""Mastery goals: drafting, proposing, editing with history, status, class lists, templates."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.auth.models import STAFF_ROLES, Role, User
from portal.conferences import services as conference_services
from portal.core.extensions import db
from portal.core.inputs import parse_id, parse_number
from portal.core.timeutil import today
from portal.core.web import redirect_to, render, render_invalid, wants_fragment
from portal.goals import diff, queries, services
from portal.goals.forms import (
    ClassGoalFilterForm,
    GoalForm,
    GoalSetting,
    StatusForm,
    StrategyForm,
    TemplateForm,
    choices,
)
from portal.goals.models import Goal, GoalStatus, Horizon
from portal.policy import (
    Action,
    authorize,
    can,
    class_has_ended,
    family_sees_goal,
    family_view,
    goal_condition,
    load_class,
    load_goal,
    load_learner,
    load_offered_template,
    load_own_template,
    load_school,
    load_strategy,
    manageable_school_ids,
    roles,
    shown_version,
    version_condition,
)
from portal.roster.models import Org, SchoolClass

bp = Blueprint("goals", __name__)

# --- Lists and pages ----------------------------------------------------------------


@bp.route("/goals")
@roles(Role.LEARNER)
def mine():
    """List my goals: active first, then proposed, drafts and closed ones."""
    return _goal_list(current_user)


@bp.route("/learners/<int:learner_id>/goals")
@roles()
def for_learner(learner_id: int):
    """List one learner's goals for someone who may see them."""
    learner = load_learner(learner_id, record="goals")
    return _goal_list(learner)


def _goal_list(learner: User):
    goals = queries.learner_goals(learner.id, goal_condition(learner))
    groups = {
        "active": [g for g in goals if g.status is GoalStatus.ACTIVE],
        "proposed": [g for g in goals if g.status is GoalStatus.PROPOSED],
        "draft": [g for g in goals if g.status is GoalStatus.DRAFT],
        "closed": [g for g in goals if g.status in queries.CLOSED_STATUSES],
    }
    return render(
        "goals/list.html",
        learner=learner,
        groups=groups,
        scale=queries.scale_for_school(learner.org_id),
        own=learner.id == current_user.id,
    )


@bp.route("/goals/<int:goal_id>")
@roles()
def detail(goal_id: int):
    """Show one goal: its current wording, plan, status and what can be done next."""
    goal = load_goal(goal_id, record="goals")
    return _detail(goal)


def _detail(goal: Goal, status: int = 200, error: str | None = None):
    """The goal page's data, all of it gathered here: the template runs no query."""
    learner = goal.learner
    parent = goal.parent_goal
    if parent is not None and family_view(learner) and not family_sees_goal(parent):
        parent = None
    children = (
        queries.child_goals(goal.id, goal_condition(learner))
        if goal.horizon is Horizon.LONG
        else []
    )
    # The signing state loads the current and agreed versions with targets and strategies.
    agreement = conference_services.agreement(goal)
    version = shown_version(goal)
    return render(
        "goals/detail.html",
        "goal_status",
        status=status,
        goal=goal,
        learner=learner,
        version=version,
        author=version.author,
        parent=parent,
        parent_version=shown_version(parent) if parent is not None else None,
        scale=queries.scale_for_school(learner.org_id),
        children=[(child, shown_version(child)) for child in children],
        agreement=agreement,
        may_acknowledge=can(Action.ACKNOWLEDGE, learner),
        may_edit=_can_edit_goal(goal),
        next_statuses=services.next_statuses(goal),
        transition_action=services.TRANSITION_ACTION,
        status_error=error,
    )


@bp.route("/goals/<int:goal_id>/history")
@roles()
def history(goal_id: int):
    """Show every version of a goal with what changed each time."""
    goal = load_goal(goal_id, record="goals")
    return render(
        "goals/history.html",
        goal=goal,
        entries=diff.history(queries.versions_of(goal.id, version_condition(goal))),
        scale=queries.scale_for_school(goal.learner.org_id),
    )


# --- Drafting, proposing, editing ------------------------------------------------------


@dataclass
class _Posted:
    """A goal form as posted, and the page it belongs to (where it is re-rendered)."""

    form: GoalForm
    learner: User
    goal: Goal | None
    form_url: str


def _posted(learner: User, goal: Goal | None, form_url: str) -> _Posted:
    form = GoalForm().bind(GoalSetting.for_learner(learner, goal), goal)
    return _Posted(form, learner, goal, form_url)


@bp.route("/goals/new", methods=["GET", "POST"])
@roles(Role.LEARNER)
def new():
    """Draft a new goal in my own words."""
    learner = load_learner(current_user.id, Action.EDIT_GOAL)
    return _new_goal(learner, url_for("goals.new"))


@bp.route("/learners/<int:learner_id>/goals/new", methods=["GET", "POST"])
@roles(Role.TEACHER)
def propose(learner_id: int):
    """Propose a goal to one of my learners."""
    learner = load_learner(learner_id, Action.PROPOSE_GOAL)
    return _new_goal(learner, url_for("goals.propose", learner_id=learner.id))


def _new_goal(learner: User, form_url: str):
    if request.method == "GET":
        form = GoalForm(formdata=None).bind(GoalSetting.for_learner(learner))
        _prefill(form, learner)
        form.set_defaults()
        return _form_page(form, learner, None, form_url)
    posted = _posted(learner, None, form_url)
    return _stale_action(posted) or _create_goal(posted, submit=False)


def _create_goal(posted: _Posted, *, submit: bool):
    """Create the goal (and share it, for `submit`); a learner's htmx save stays in place."""
    form, learner = posted.form, posted.learner
    if not form.validate():
        return _form_page(form, learner, None, posted.form_url, status=422)
    goal = services.create_goal(
        learner,
        current_user,
        form.content(),
        horizon=Horizon(form.horizon.data),
        parent=form.parent_goal(),
        template=_posted_template(form, learner),
    )
    if submit and goal.status is GoalStatus.DRAFT:
        services.transition(goal, GoalStatus.PROPOSED, current_user)
    db.session.commit()
    own = learner.id == current_user.id
    if own and not submit and wants_fragment():
        response = _saved_in_place(goal, _("Draft saved."))
        response.headers["HX-Replace-Url"] = url_for("goals.edit", goal_id=goal.id)
        return response
    flash(_("Your goal is saved.") if own else _("Goal proposed."))
    return redirect_to(url_for("goals.detail", goal_id=goal.id))


def _prefill(form: GoalForm, learner: User) -> None:
    """Start from a class template, or from an earlier goal being revised."""
    template_id = request.args.get("template", type=int)
    from_goal = request.args.get("from_goal", type=int)
    if template_id:
        form.fill_from_template(load_offered_template(template_id, learner))
    elif from_goal:
        source = load_goal(from_goal, Action.EDIT_GOAL, of_learner=learner.id)
        form.fill_from_version(source.current_version, source)
        if form.due_date.data and form.due_date.data < today():
            form.due_date.data = None  # a new due date is part of revising


def _posted_template(form: GoalForm, learner: User):
    template_id = parse_id(form.template_id.data)
    if template_id is None:
        return None
    return load_offered_template(template_id, learner)


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@roles(Role.LEARNER, Role.TEACHER)
def edit(goal_id: int):
    """Change a goal's wording, targets, level, strategies, due date or supports."""
    if request.method == "GET":
        goal = _open_goal(goal_id)
        setting = GoalSetting.for_learner(goal.learner, goal)
        return _form_page(_form_for(goal, setting), goal.learner, goal, _edit_url(goal))
    posted = _posted_edit(goal_id)
    return _stale_action(posted) or _save_goal(posted, submit=False)


def _open_goal(goal_id: int) -> Goal:
    """The goal to edit: one this person may edit, and still open (else 403)."""
    goal = load_goal(goal_id, Action.EDIT_GOAL)
    if not goal.is_open:
        abort(403)
    return goal


def _edit_url(goal: Goal) -> str:
    return url_for("goals.edit", goal_id=goal.id)


def _save_goal(posted: _Posted, *, submit: bool):
    """Save a new version (and share a draft, for `submit`); 409 if someone saved first."""
    form, goal = posted.form, posted.goal
    if not form.validate():
        return _form_page(form, goal.learner, goal, posted.form_url, status=422)
    if form.lock_version.data != str(goal.lock_version):
        return _conflict(form, goal, GoalSetting.for_learner(goal.learner, goal), posted.form_url)
    try:
        services.set_plan(goal, Horizon(form.horizon.data), form.parent_goal())
        services.save_content(goal, current_user, form.content())
        if submit and goal.status is GoalStatus.DRAFT:
            services.transition(goal, GoalStatus.PROPOSED, current_user)
        db.session.commit()
    except StaleDataError:
        # Someone saved between our read and our write: keep this person's text.
        db.session.rollback()
        goal = load_goal(goal.id, Action.EDIT_GOAL)
        return _conflict(form, goal, GoalSetting.for_learner(goal.learner, goal), posted.form_url)
    if not submit and wants_fragment():
        return _saved_in_place(goal, _("Saved."))
    flash(_("Saved."))
    return redirect_to(url_for("goals.detail", goal_id=goal.id))


def _form_for(goal: Goal, setting: GoalSetting) -> GoalForm:
    form = GoalForm(formdata=None).bind(setting, goal)
    form.fill_from_version(goal.current_version, goal)
    form.lock_version.data = str(goal.lock_version)
    return form


def _saved_in_place(goal: Goal, message: str):
    """After an htmx save: the edit form again, fresh from the saved version."""
    setting = GoalSetting.for_learner(goal.learner, goal)
    form = _form_for(goal, setting)
    return _form_page(form, goal.learner, goal, _edit_url(goal), saved=message)


def _conflict(form: GoalForm, goal: Goal, setting: GoalSetting, form_url: str):
    """409: show the newer version, keep what this person typed, let them save over it."""
    form.bind(setting, goal)
    form.lock_version.data = str(goal.lock_version)
    return _form_page(form, goal.learner, goal, form_url, status=409, conflict=goal.current_version)


# --- The goal form's buttons: each posts the whole form to an endpoint of its own ----------
# Without JavaScript a button's `formaction` sends the form here and the page comes back
# with everything typed kept; with htmx the same endpoint answers with the form's block.


def _posted_new() -> _Posted:
    learner = load_learner(current_user.id, Action.EDIT_GOAL)
    return _posted(learner, None, url_for("goals.new"))


def _posted_proposal(learner_id: int) -> _Posted:
    learner = load_learner(learner_id, Action.PROPOSE_GOAL)
    return _posted(learner, None, url_for("goals.propose", learner_id=learner.id))


def _posted_edit(goal_id: int) -> _Posted:
    goal = _open_goal(goal_id)
    return _posted(goal.learner, goal, _edit_url(goal))


@bp.route("/goals/new/submit", methods=["POST"])
@roles(Role.LEARNER)
def new_submit():
    """Save my new goal and share it with my teacher."""
    return _create_goal(_posted_new(), submit=True)


@bp.route("/goals/<int:goal_id>/edit/submit", methods=["POST"])
@roles(Role.LEARNER, Role.TEACHER)
def edit_submit(goal_id: int):
    """Save the goal and, if it is still a draft, share it."""
    return _save_goal(_posted_edit(goal_id), submit=True)


@bp.route("/goals/new/strategies/add", methods=["POST"])
@roles(Role.LEARNER)
def new_add_strategy():
    """Add a row for a step of my own to the new goal; nothing is saved."""
    return _add_strategy(_posted_new())


@bp.route("/learners/<int:learner_id>/goals/new/strategies/add", methods=["POST"])
@roles(Role.TEACHER)
def propose_add_strategy(learner_id: int):
    """Add a row for a step to the goal I am proposing; nothing is saved."""
    return _add_strategy(_posted_proposal(learner_id))


@bp.route("/goals/<int:goal_id>/edit/strategies/add", methods=["POST"])
@roles(Role.LEARNER, Role.TEACHER)
def edit_add_strategy(goal_id: int):
    """Add a row for a step of one's own to the goal being edited; nothing is saved."""
    return _add_strategy(_posted_edit(goal_id))


@bp.route("/goals/new/strategies/<int:step>/remove", methods=["POST"])
@roles(Role.LEARNER)
def new_remove_strategy(step: int):
    """Take step `step` (from 1) out of the new goal's own steps; nothing is saved."""
    return _remove_strategy(_posted_new(), step)


@bp.route("/learners/<int:learner_id>/goals/new/strategies/<int:step>/remove", methods=["POST"])
@roles(Role.TEACHER)
def propose_remove_strategy(learner_id: int, step: int):
    """Take a step out of the goal I am proposing; nothing is saved."""
    return _remove_strategy(_posted_proposal(learner_id), step)


@bp.route("/goals/<int:goal_id>/edit/strategies/<int:step>/remove", methods=["POST"])
@roles(Role.LEARNER, Role.TEACHER)
def edit_remove_strategy(goal_id: int, step: int):
    """Take a step out of the goal being edited; nothing is saved."""
    return _remove_strategy(_posted_edit(goal_id), step)


@bp.route("/goals/new/targets/search", methods=["POST"])
@roles(Role.LEARNER)
def new_search_targets():
    """Search targets for the new goal (the search button without JS); nothing is saved."""
    return _search_targets(_posted_new())


@bp.route("/learners/<int:learner_id>/goals/new/targets/search", methods=["POST"])
@roles(Role.TEACHER)
def propose_search_targets(learner_id: int):
    """Search targets for the goal I am proposing; nothing is saved."""
    return _search_targets(_posted_proposal(learner_id))


@bp.route("/goals/<int:goal_id>/edit/targets/search", methods=["POST"])
@roles(Role.LEARNER, Role.TEACHER)
def edit_search_targets(goal_id: int):
    """Search targets for the goal being edited; nothing is saved."""
    return _search_targets(_posted_edit(goal_id))


def _add_strategy(posted: _Posted):
    if len(posted.form.strategies()) < services.MAX_STRATEGIES:
        posted.form.add_strategy_row()
    return _strategy_rows(posted)


def _remove_strategy(posted: _Posted, step: int):
    posted.form.remove_strategy_row(step - 1)
    return _strategy_rows(posted)


def _strategy_rows(posted: _Posted):
    """htmx: the strategy rows alone (the form page's block); else the whole page, as typed."""
    if wants_fragment():
        return render(
            "goals/form.html",
            "strategy_rows",
            form=posted.form,
            tools=GoalFormTools(posted.learner, posted.goal),
            max_strategies=services.MAX_STRATEGIES,
        )
    return _form_page(posted.form, posted.learner, posted.goal, posted.form_url, pad=False)


def _search_targets(posted: _Posted):
    return _form_page(posted.form, posted.learner, posted.goal, posted.form_url)


def _stale_action(posted: _Posted):
    """A page from before the buttons had endpoints of their own posts `action=`: honour it.

    None for "save" (or anything else): the endpoint's own action then runs.
    """
    action = request.form.get("action", "save")
    if action == "submit":
        if posted.goal is None:
            return _create_goal(posted, submit=True)
        return _save_goal(posted, submit=True)
    if action == "add_strategy":
        return _add_strategy(posted)
    if action.startswith("remove_strategy-"):
        row = parse_number(action.removeprefix("remove_strategy-"), 0, services.MAX_STRATEGIES)
        return _remove_strategy(posted, row + 1) if row is not None else _strategy_rows(posted)
    if action == "search":
        return _search_targets(posted)
    return None


class GoalFormTools:
    """The URLs the goal form's buttons post to, for a new goal, a proposal or an edit."""

    def __init__(self, learner: User, goal: Goal | None):
        if goal is not None:
            self.page, self.args = "goals.edit", {"goal_id": goal.id}
        elif learner.id == current_user.id:
            self.page, self.args = "goals.new", {}
        else:
            self.page, self.args = "goals.propose", {"learner_id": learner.id}

    def url(self, button: str, **args) -> str:
        """The endpoint of one button: submit, add_strategy, remove_strategy, search_targets."""
        return url_for(f"{self.page}_{button}", **self.args, **args)


def _form_page(
    form: GoalForm,
    learner: User,
    goal: Goal | None,
    form_url: str,
    status: int = 200,
    pad: bool = True,
    **extra,
):
    if pad:
        form.pad_strategy_rows()
    chosen, results = _target_lists(learner.org_id, learner.grade, form.targets.data, form.q.data)
    if status == 422:
        return render_invalid(
            "goals/form.html",
            "goal_form",
            **_form_context(form, learner, goal, form_url, chosen, results),
            **extra,
        )
    return render(
        "goals/form.html",
        "goal_form",
        status=status,
        **_form_context(form, learner, goal, form_url, chosen, results),
        **extra,
    )


def _form_context(form, learner, goal, form_url, chosen, results) -> dict:
    return {
        "form": form,
        "learner": learner,
        "goal": goal,
        "form_url": form_url,
        "tools": GoalFormTools(learner, goal),
        "picker_url": url_for("goals.target_options", learner_id=learner.id),
        "chosen": chosen,
        "results": results,
        "own": learner.id == current_user.id,
        "max_strategies": services.MAX_STRATEGIES,
        "max_targets": services.MAX_TARGETS,
    }


def _target_lists(school_id, grade, chosen_ids, text, band_of_class=None):
    """The chosen targets (checked) and what to offer next: a search, or the grade's targets
    (for a class's template: the targets of its learners' grades first)."""
    chosen_ids = [i for i in dict.fromkeys(chosen_ids or []) if isinstance(i, int)]
    chosen = queries.targets_by_ids(chosen_ids)
    text = (text or "").strip()
    if school_id is None:
        return chosen, []
    if text:
        results = queries.search_targets(school_id, text, limit=20)
    elif band_of_class is not None:
        results = queries.band_first_targets(school_id, queries.class_grade_band(band_of_class))
    else:
        results = queries.suggested_targets(school_id, grade)
    chosen_set = set(chosen_ids)
    return chosen, [t for t in results if t.id not in chosen_set]


def _requested_target_ids() -> list[int]:
    return [i for i in map(parse_id, request.args.getlist("targets")) if i is not None]


@bp.route("/learners/<int:learner_id>/goals/targets")
@roles(Role.LEARNER, Role.TEACHER)
def target_options(learner_id: int):
    """Search the learner's school targets as they type (the fragment under the search box)."""
    learner = load_learner(learner_id, Action.EDIT_GOAL)
    chosen, results = _target_lists(
        learner.org_id, learner.grade, _requested_target_ids(), request.args.get("q")
    )
    return _target_fragment(chosen, results, url_for("goals.target_options", learner_id=learner.id))


def _target_fragment(chosen, results, picker_url):
    response = make_response(
        render_template(
            "goals/_target_lists.html",
            chosen=chosen,
            results=results,
            picker_url=picker_url,
            max_targets=services.MAX_TARGETS,
            q=request.args.get("q", ""),
        )
    )
    return response


# --- Status -------------------------------------------------------------------------------


@bp.route("/goals/<int:goal_id>/status", methods=["POST"])
@roles(Role.LEARNER, Role.TEACHER)
def change_status(goal_id: int):
    """Move a goal along: share it, agree it, take it back, or close it."""
    goal = load_goal(goal_id)
    form = StatusForm()
    to = form.new_status() if form.validate() else None
    if to is None:
        abort(400)
    authorize(goal.learner, services.TRANSITION_ACTION[to])
    if to is GoalStatus.ACTIVE:
        # Agreeing is co-signing: it happens when the second signature lands (conferences).
        return _detail(goal, status=409, error=_("A goal becomes active when you both sign it."))
    if not services.can_transition(goal, to):
        return _detail(goal, status=409, error=_("This goal cannot move to that status now."))
    services.transition(goal, to, current_user)
    db.session.commit()
    if to is GoalStatus.REVISED:
        if current_user.id == goal.learner_id:
            return redirect_to(url_for("goals.new", from_goal=goal.id))
        return redirect_to(url_for("goals.propose", learner_id=goal.learner_id, from_goal=goal.id))
    return redirect_to(url_for("goals.detail", goal_id=goal.id))


# --- A class's goals ----------------------------------------------------------------------


@bp.route("/classes/<int:class_id>/goals")
@roles(*STAFF_ROLES)
def class_goals(class_id: int):
    """List the goals of a class's learners, filtered by status, target and due date."""
    school_class = load_class(class_id)
    form = ClassGoalFilterForm(formdata=request.args)
    targets = queries.class_goal_targets(current_user, class_id)
    form.target.choices = choices(
        [("", _("Any target"))]
        + [(t.id, f"{t.code} · {t.statement}" if t.code else t.statement) for t in targets]
    )
    form.validate()
    goals = queries.class_goals(
        current_user,
        class_id,
        status=form.status.data if not form.status.errors else None,
        target_id=form.target.data if not form.target.errors else None,
        due_by=form.due_by.data if not form.due_by.errors else None,
    )
    return render(
        "goals/class_goals.html",
        "goal_table",
        school_class=school_class,
        form=form,
        goals=goals,
        scale=queries.scale_for_school(school_class.school_id),
    )


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


def _can_edit_goal(goal: Goal) -> bool:
    return goal.is_open and can(Action.EDIT_GOAL, goal.learner)


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


# --- The school's strategy bank -------------------------------------------------------------
# Teachers keep their own school's bank; admins the banks of the schools they manage.
# Entries are reworded or retired, never deleted: goal versions keep their own copy.

KEEPERS = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)


@bp.route("/strategies", methods=["GET", "POST"])
@roles(*KEEPERS)
def strategies():
    """List my school's strategy bank, active and retired, and add a strategy to it."""
    school = load_school(request.args.get("school", type=int), keeper=True, own_by_default=True)
    if school is None:
        return render("goals/strategies.html", school=None, schools=_keepable_schools())
    form = StrategyForm(prefix="new").bind(school.id)
    if request.method == "POST":
        if not form.validate():
            return render_invalid(
                "goals/strategies.html", "strategy_bank", **_bank_context(school, form)
            )
        strategy = services.add_strategy(school.id, form.text.data, form.text_es.data)
        db.session.commit()
        if wants_fragment():
            return _bank_fragment(school, _("Strategy added: %(text)s", text=strategy.text))
        flash(_("Strategy added."))
        return redirect_to(url_for("goals.strategies", school=school.id))
    return render("goals/strategies.html", "strategy_bank", **_bank_context(school, form))


@bp.route("/strategies/<int:strategy_id>/edit", methods=["GET", "POST"])
@roles(*KEEPERS)
def edit_strategy(strategy_id: int):
    """Reword one strategy of my school's bank (the row in place, or the page without JS)."""
    strategy = load_strategy(strategy_id)
    form = StrategyForm(
        prefix=f"s{strategy.id}", formdata=None if request.method == "GET" else request.form
    ).bind(strategy.school_id, strategy)
    if request.method == "GET":
        form.text.data = strategy.text
        form.text_es.data = strategy.text_es or ""
        return _bank_row_or_page(strategy, form)
    if not form.validate():
        return _bank_row_or_page(strategy, form, status=422)
    services.reword_strategy(strategy, form.text.data, form.text_es.data)
    db.session.commit()
    if wants_fragment():
        return _bank_row_or_page(strategy, None)
    flash(_("Strategy saved."))
    return redirect_to(url_for("goals.strategies", school=strategy.school_id))


@bp.route("/strategies/<int:strategy_id>/retire", methods=["POST"])
@roles(*KEEPERS)
def retire_strategy(strategy_id: int):
    """Stop offering a strategy to learners; goals that chose it keep its wording."""
    return _set_strategy_active(strategy_id, active=False)


@bp.route("/strategies/<int:strategy_id>/restore", methods=["POST"])
@roles(*KEEPERS)
def restore_strategy(strategy_id: int):
    """Offer a retired strategy to learners again."""
    return _set_strategy_active(strategy_id, active=True)


def _set_strategy_active(strategy_id: int, *, active: bool):
    strategy = load_strategy(strategy_id)
    services.set_strategy_active(strategy, active)
    db.session.commit()
    school = db.session.get(Org, strategy.school_id)
    if active:
        message = _("Strategy restored: %(text)s", text=strategy.text)
    else:
        message = _("Strategy retired: %(text)s", text=strategy.text)
    if wants_fragment():
        return _bank_fragment(school, message)
    flash(message)
    return redirect_to(url_for("goals.strategies", school=school.id))


def _keepable_schools() -> list[Org]:
    return list(
        db.session.scalars(
            select(Org).where(Org.id.in_(manageable_school_ids(current_user))).order_by(Org.name)
        )
    )


def _bank_context(school: Org, form: StrategyForm, **extra) -> dict:
    bank = queries.school_strategies(school.id)
    return {
        "school": school,
        "schools": [],
        "form": form,
        "active": [s for s in bank if s.active],
        "retired": [s for s in bank if not s.active],
        "edit_forms": {},
        **extra,
    }


def _bank_fragment(school: Org, message: str):
    """After an htmx change: the whole bank again, with a fresh add form and a status line."""
    form = StrategyForm(prefix="new", formdata=None).bind(school.id)
    return render(
        "goals/strategies.html", "strategy_bank", **_bank_context(school, form, saved=message)
    )


def _bank_row_or_page(strategy, form: StrategyForm | None, status: int = 200):
    """htmx: just the strategy's row (edit mode when form is given); else the whole page."""
    if wants_fragment():
        response = make_response(
            render_template("goals/_bank_row.html", strategy=strategy, edit_form=form), status
        )
        return response
    school = db.session.get(Org, strategy.school_id)
    add_form = StrategyForm(prefix="new", formdata=None).bind(school.id)
    edit_forms = {strategy.id: form} if form is not None else {}
    context = _bank_context(school, add_form, edit_forms=edit_forms)
    response = make_response(render_template("goals/strategies.html", **context), status)
    return response
