"""The goal form: drafting, proposing and editing a goal, and the form's buttons (submit,
add or remove a step, search targets), each posting to an endpoint of its own.
"""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.inputs import parse_id, parse_number
from portal.core.timeutil import today
from portal.core.web import redirect_to, render, wants_fragment
from portal.goals import services
from portal.goals.blueprint import bp
from portal.goals.forms import GoalForm, GoalSetting
from portal.goals.goal_form import GoalFormTools, _form_page, _Posted, _posted
from portal.goals.models import Goal, GoalStatus, Horizon
from portal.goals.target_picker import _requested_target_ids, _target_fragment, _target_lists
from portal.policy import Action, load_goal, load_learner, load_offered_template, roles

# --- Drafting, proposing, editing ------------------------------------------------------


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


@bp.route("/learners/<int:learner_id>/goals/targets")
@roles(Role.LEARNER, Role.TEACHER)
def target_options(learner_id: int):
    """Search the learner's school targets as they type (the fragment under the search box)."""
    learner = load_learner(learner_id, Action.EDIT_GOAL)
    chosen, results = _target_lists(
        learner.org_id, learner.grade, _requested_target_ids(), request.args.get("q")
    )
    return _target_fragment(chosen, results, url_for("goals.target_options", learner_id=learner.id))
