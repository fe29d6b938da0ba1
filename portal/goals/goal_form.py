"""The goal form's page: the form as posted, the page it is rendered on, and the URLs its
buttons post to (`drafting` holds the endpoints)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user

from portal.auth.models import User
from portal.core.web import render, render_invalid
from portal.goals import services
from portal.goals.forms import GoalForm, GoalSetting
from portal.goals.models import Goal
from portal.goals.target_picker import _target_lists


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
