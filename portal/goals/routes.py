"""Mastery goals: a learner's goals, the goal page, its history, status changes and a
class's goals.

The goal form is in `drafting`, templates in `template_routes`, the strategy bank in
`bank_routes`; importing this module registers all of them on the one blueprint, `bp`.
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

# Imported for their routes, which register on `bp`: the app factory imports this module.
import portal.goals.bank_routes  # noqa: F401
import portal.goals.drafting  # noqa: F401
import portal.goals.template_routes  # noqa: F401
from portal.auth.models import STAFF_ROLES, Role, User
from portal.conferences import signing as conference_signing
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.web import redirect_to, render
from portal.goals import diff, queries, services
from portal.goals.blueprint import bp
from portal.goals.forms import ClassGoalFilterForm, StatusForm, choices
from portal.goals.models import Goal, GoalStatus, Horizon
from portal.policy import (
    Action,
    authorize,
    can,
    family_sees_goal,
    family_view,
    goal_condition,
    load_class,
    load_goal,
    load_learner,
    roles,
    shown_version,
    version_condition,
)

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
    agreement = conference_signing.agreement(goal)
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


def _can_edit_goal(goal: Goal) -> bool:
    return goal.is_open and can(Action.EDIT_GOAL, goal.learner)
