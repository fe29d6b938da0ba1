"""The conference cards on other pages: the data each route gathers before it renders.

The learner home's card and the teacher home's list come from here, called by the route
that renders the page and by the htmx route that renders a card alone; no template asks
the database.
"""

from __future__ import annotations

from portal.auth.models import User
from portal.goals.models import Goal

from . import cycles, scheduling
from .forms import ReflectForm, RequestForm
from .models import Conference

UPCOMING_ON_HOME = 5


def conference_home(
    learner: User,
    active_goals: list[Goal],
    state: scheduling.LearnerCardState | None = None,
    *,
    started: dict[int, object] | None = None,
    cycle_days: int | None = None,
) -> dict:
    """The learner home's conference card: next meeting, ask for one, end-of-cycle prompts.

    `active_goals` are the learner's active goals with their current versions, which the
    home has loaded already for its trackers; `state` (`scheduling.learner_card_state`),
    `started` (each goal's `cycles.cycle_start()`) and `cycle_days` (the school's cycle)
    likewise when the home read them with its other statements; else they are read here.
    """
    if state is None:
        state = scheduling.learner_card_state(learner.id)
    due, _next_due_at = cycles.reflections_due(
        learner, active_goals, started=started, days=cycle_days
    )
    return {
        "next": state.next,
        "next_teacher": state.teacher.display_name if state.teacher else None,
        **ask_card(learner, asked=state.request),
        "reflect": [(g, ReflectForm(formdata=None, prefix=f"r{g.id}")) for g in due],
    }


_UNREAD = object()


def ask_card(learner: User, form: RequestForm | None = None, asked=_UNREAD) -> dict:
    """The "ask for a conference" part of the card: its form and the open request, if any
    (`asked`, when the caller read it already)."""
    return {
        "ask_form": form or RequestForm(formdata=None, prefix="ask"),
        "asked": scheduling.open_request(learner.id) if asked is _UNREAD else asked,
    }


def upcoming_conferences(teacher: User, limit: int = UPCOMING_ON_HOME) -> list[Conference]:
    """The teacher home's list: my next conferences, each with its learner loaded."""
    return scheduling.upcoming_for_teacher(teacher, limit)
