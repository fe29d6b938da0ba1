"""Goal conferences: who is due, scheduling, the shared workspace, co-signing, reflection."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import to_utc
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal.auth.models import STAFF_ROLES, Role
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.inputs import parse_id
from portal.core.web import (
    is_background_request,
    redirect_to,
    render,
    render_invalid,
    trigger,
    unchanged,
    wants_fragment,
)
from portal.goals import services as goal_services
from portal.goals.models import Goal, GoalStatus
from portal.goals.queries import learner_goals
from portal.goals.services import GoalContent
from portal.policy import (
    Action,
    can,
    class_has_ended,
    goal_condition,
    load_class,
    load_conference,
    load_goal,
    load_learner,
    load_school,
    roles,
)
from portal.roster.queries import learners_in_class

from . import agenda as agenda_module
from . import cards, cycles, notes, polling, scheduling, signing
from . import history as history_module
from .forms import (
    AcknowledgeForm,
    ConferenceStatusForm,
    LearnerSignForm,
    NoteForm,
    PrepForm,
    ReflectForm,
    RequestForm,
    ScheduleForm,
    SettingsForm,
    SignForm,
    StepDoneForm,
    StepForm,
    WordingForm,
)
from .models import (
    Conference,
    ConferenceStatus,
    NextStep,
    ReflectionChoice,
    SignMethod,
    StepOwner,
)

bp = Blueprint("conferences", __name__)

CHANGED = "conference-changed"
WORKSPACE = "conferences/workspace.html"


def _partial(template: str, status: int = 200, **context):
    """A `_name.html` partial alone, for an htmx request (the page includes the same file)."""
    response = make_response(render_template(template, **context), status)
    return response


# --- Who is due, and scheduling ---------------------------------------------------------


@bp.get("/classes/<int:class_id>/conferences")
@roles(*STAFF_ROLES)
def class_due(class_id: int):
    """Show who in a class is due for a conference, and why."""
    school_class = load_class(class_id)
    rows = cycles.due_for_class(class_id, school_class.school_id, current_user)
    show = "all" if request.args.get("show") == "all" else "due"
    due = [r for r in rows if r.is_due]
    return render(
        "conferences/class.html",
        school_class=school_class,
        rows=due if show == "due" else rows,
        due_count=len(due),
        total=len(rows),
        show=show,
        cycle_days=cycles.cycle_days(school_class.school_id),
    )


@bp.route("/classes/<int:class_id>/conferences/new", methods=["GET", "POST"])
@roles(Role.TEACHER)
def schedule(class_id: int):
    """Schedule a conference, or a series every few weeks, with a learner of my class."""
    school_class = load_class(class_id)
    if class_has_ended(school_class):
        flash(
            _(
                "%(title)s ended with %(term)s: conferences are scheduled in this year's "
                "classes.",
                title=school_class.title,
                term=school_class.term.title,
            ),
            "error",
        )
        return redirect_to(url_for("conferences.class_due", class_id=class_id))
    learners = learners_in_class(class_id)
    if request.method == "GET":
        form = ScheduleForm(formdata=None).bind(learners)
        form.learner.data = request.args.get("learner", type=int)
        return _schedule_page(school_class, form)
    form = ScheduleForm().bind(learners)
    if not form.validate():
        return _schedule_page(school_class, form, status=422)
    learner = load_learner(form.learner.data, Action.SCHEDULE_CONFERENCE)
    made = scheduling.schedule(
        learner,
        current_user,
        to_utc(datetime.combine(form.day.data, form.time.data)),
        class_id=class_id,
        duration_minutes=form.duration.data,
        every_weeks=form.every_weeks.data,
        occurrences=form.occurrences.data,
    )
    db.session.commit()
    flash(
        _("Conference scheduled with %(name)s.", name=learner.display_name)
        if len(made) == 1
        else _("%(n)d conferences scheduled with %(name)s.", n=len(made), name=learner.display_name)
    )
    return redirect_to(url_for("conferences.class_due", class_id=class_id))


def _schedule_page(school_class, form, status: int = 200):
    page = render_invalid if status == 422 else render
    return page("conferences/schedule.html", "schedule_form", school_class=school_class, form=form)


# --- My conferences, asking for one --------------------------------------------------------


@bp.get("/conferences")
@roles(Role.LEARNER, Role.TEACHER)
def mine():
    """List my upcoming conferences; a learner also sees past ones and can ask for one."""
    if current_user.role is Role.TEACHER:
        return render(
            "conferences/mine.html", upcoming=scheduling.upcoming_for_teacher(current_user)
        )
    learner = load_learner(current_user.id, Action.PREPARE_CONFERENCE)
    return render(
        "conferences/mine.html",
        upcoming=[c for c in [scheduling.next_conference(learner.id)] if c],
        items=history_module.history(learner.id, include_private=False),
        learner=learner,
    )


@bp.post("/conferences/ask")
@roles(Role.LEARNER)
def ask():
    """Ask my teachers for a conference, saying what about if I like."""
    learner = load_learner(current_user.id, Action.PREPARE_CONFERENCE)
    form = RequestForm(prefix="ask")
    if not form.validate():
        return _partial("conferences/_ask.html", 422, **cards.ask_card(learner, form))
    scheduling.request_conference(learner, form.note.data)
    db.session.commit()
    if wants_fragment():
        return _partial("conferences/_ask.html", **cards.ask_card(learner))
    flash(_("Your teachers can see that you asked for a conference."))
    return redirect_to(url_for("home.index"))


# --- The workspace ----------------------------------------------------------------------------


@bp.get("/conferences/<int:conference_id>")
@roles(Role.LEARNER, Role.TEACHER)
def workspace(conference_id: int):
    """Open a conference: the agenda, the goals to agree and sign, notes and next steps."""
    conference = load_conference(conference_id, Action.RUN_CONFERENCE)
    load_learner(conference.learner_id, Action.RUN_CONFERENCE, record="conference")
    return render(WORKSPACE, **_workspace(conference))


@bp.get("/conferences/<int:conference_id>/live")
@roles(Role.LEARNER, Role.TEACHER)
def live(conference_id: int):
    """Refresh the read-only live panel; an idle poll gets 204, a closed conference stops (286).

    The panel is a block of the workspace, loaded with only what the block needs; opened
    as a page (typed in, or htmx off) it is the workspace, which has its own URL.
    """
    if not wants_fragment():
        load_conference(conference_id, Action.RUN_CONFERENCE)  # 404 or 403 first
        return redirect(url_for("conferences.workspace", conference_id=conference_id), 303)
    seen = request.args.get("v")
    if seen and is_background_request() and polling.poll_token(conference_id, current_user) == seen:
        return unchanged()
    conference = load_conference(conference_id, Action.RUN_CONFERENCE)
    status = 200 if conference.is_open else 286
    return render(WORKSPACE, "live", status=status, **_workspace(conference, forms=False))


def _workspace(conference: Conference, forms: bool = True, **override) -> dict:
    learner = conference.learner
    goals = _open_goals(learner.id)
    private = can(Action.PRIVATE_NOTES, learner)
    context = {
        "conference": conference,
        "learner": learner,
        "goals": goals,
        "agreements": signing.agreements(goals),
        "notes": notes.notes_for([conference.id], private)[conference.id],
        "steps": notes.steps_for([conference.id])[conference.id],
        "token": polling.token_for(conference),
        "is_teacher": can(Action.SCHEDULE_CONFERENCE, learner),
        "is_learner": can(Action.PREPARE_CONFERENCE, learner),
        "may_private": private,
        "may_mark": notes.may_mark(learner),
        "may_edit": {g.id: _may_edit(g) for g in goals},
    }
    if forms:
        context.update(
            agenda=agenda_module.build(conference),
            note_form=NoteForm(formdata=None),
            step_form=StepForm(formdata=None),
            prep_form=_prep_form(conference),
            status_form=ConferenceStatusForm(formdata=None),
            work={g.id: _goal_forms(g, conference) for g in goals},
        )
    context.update(override)
    return context


def _open_goals(learner_id: int) -> list[Goal]:
    return [g for g in learner_goals(learner_id) if g.is_open]


def _may_edit(goal: Goal) -> bool:
    """May the current user change this goal's wording (an open goal, Action.EDIT_GOAL)?"""
    return goal.is_open and can(Action.EDIT_GOAL, goal.learner)


def _prep_form(conference: Conference) -> PrepForm:
    form = PrepForm(formdata=None)
    form.working.data = conference.prep_working or ""
    form.hard.data = conference.prep_hard or ""
    form.help_wanted.data = conference.prep_help or ""
    return form


def _goal_forms(goal: Goal, conference: Conference | None, **override) -> dict:
    """The forms of one goal's work area; each has its own prefix so ids never repeat."""
    wording = WordingForm(formdata=None, prefix=f"g{goal.id}")
    wording.statement.data = goal.current_version.statement
    wording.lock_version.data = str(goal.lock_version)
    sign = SignForm(formdata=None, prefix=f"s{goal.id}")
    learner_sign = LearnerSignForm(formdata=None, prefix=f"l{goal.id}")
    for form in (sign, learner_sign):
        form.version_id.data = str(goal.current_version_id)
        form.conference_id.data = str(conference.id) if conference else ""
    forms = {"wording": wording, "sign": sign, "learner_sign": learner_sign}
    forms.update(override)
    return forms


def _goal_work(goal: Goal, conference: Conference | None, status: int = 200, **extra):
    """One goal's work area (wording and signing), alone for htmx."""
    return _partial(
        "conferences/_goal_work.html",
        status,
        goal=goal,
        conference=conference,
        agreement=signing.agreement(goal),
        may_edit={goal.id: _may_edit(goal)},
        forms=_goal_forms(goal, conference, **extra.pop("forms", {})),
        **extra,
    )


def _done(conference: Conference, block: str, **fresh):
    """After a change in the workspace: the fresh form for htmx (and refresh the panel)."""
    db.session.commit()
    if wants_fragment():
        response = render(WORKSPACE, block, **_workspace(conference, **fresh))
        return trigger(response, CHANGED)
    return redirect_to(url_for("conferences.workspace", conference_id=conference.id))


@bp.post("/conferences/<int:conference_id>/prep")
@roles(Role.LEARNER)
def prep(conference_id: int):
    """Answer the prep questions before my conference: what works, what is hard, what help."""
    conference = load_conference(conference_id, Action.PREPARE_CONFERENCE)
    form = PrepForm()
    if not form.validate():
        return render_invalid(WORKSPACE, "prep_block", **_workspace(conference, prep_form=form))
    notes.save_prep(conference, form.working.data, form.hard.data, form.help_wanted.data)
    return _done(conference, "prep_block", prep_saved=True)


@bp.post("/conferences/<int:conference_id>/notes")
@roles(Role.LEARNER, Role.TEACHER)
def add_note(conference_id: int):
    """Add a shared note to the conference, or a private one (teachers only)."""
    conference = load_conference(conference_id, Action.RUN_CONFERENCE)
    form = NoteForm()
    if form.private.data and not can(Action.PRIVATE_NOTES, conference.learner):
        abort(403)
    if not form.validate():
        return render_invalid(WORKSPACE, "note_block", **_workspace(conference, note_form=form))
    notes.add_note(conference, current_user, form.body.data, bool(form.private.data))
    return _done(conference, "note_block")


@bp.post("/conferences/<int:conference_id>/steps")
@roles(Role.LEARNER, Role.TEACHER)
def add_step(conference_id: int):
    """Agree a next step: what, who does it, and by when."""
    conference = load_conference(conference_id, Action.RUN_CONFERENCE)
    form = StepForm()
    if not form.validate():
        return render_invalid(WORKSPACE, "step_block", **_workspace(conference, step_form=form))
    notes.add_step(
        conference, current_user, form.text.data, StepOwner(form.owner.data), form.due_date.data
    )
    return _done(conference, "step_block")


def _step_action(step: NextStep) -> Action:
    """The learner marks their own steps; a teacher of the learner marks any step."""
    return notes.STEP_ACTION[step.owner]


@bp.post("/conferences/steps/<int:step_id>/done")
@roles(Role.LEARNER, Role.TEACHER)
def mark_step(step_id: int):
    """Mark an agreed next step done, or not done again."""
    step = db.session.get(NextStep, step_id)
    if step is None:
        abort(404)
    learner = load_learner(step.learner_id, _step_action(step))
    form = StepDoneForm()
    if not form.validate():
        abort(400)
    notes.set_step_done(step, current_user, bool(form.done.data))
    db.session.commit()
    if wants_fragment():
        response = _partial(
            "conferences/_step.html",
            step=step,
            learner=learner,
            back=form.back.data,
            may_mark=notes.may_mark(learner),
        )
        return trigger(response, CHANGED)
    flash(_("Marked as done.") if step.is_done else _("Marked as not done."), "info")
    if (back := parse_id(form.back.data)) is not None:
        target = url_for("conferences.workspace", conference_id=back)
    else:
        target = url_for("conferences.history", learner_id=learner.id)
    return redirect_to(target)


@bp.post("/conferences/<int:conference_id>/status")
@roles(Role.TEACHER)
def set_status(conference_id: int):
    """Mark the conference held, or cancel it."""
    conference = load_conference(conference_id, Action.SCHEDULE_CONFERENCE)
    form = ConferenceStatusForm()
    wanted = form.status.data if form.validate() else None
    if wanted not in (ConferenceStatus.DONE.value, ConferenceStatus.CANCELLED.value):
        abort(400)
    scheduling.set_status(conference, ConferenceStatus(wanted))
    db.session.commit()
    flash(_("Conference marked as held.") if wanted == "done" else _("Conference cancelled."))
    return redirect_to(url_for("conferences.workspace", conference_id=conference.id))


@bp.post("/conferences/<int:conference_id>/goals/<int:goal_id>/wording")
@roles(Role.LEARNER, Role.TEACHER)
def wording(conference_id: int, goal_id: int):
    """Change a goal's wording together in the conference (a new version, to sign again)."""
    conference = load_conference(conference_id, Action.RUN_CONFERENCE)
    goal = load_goal(goal_id, Action.EDIT_GOAL, of_learner=conference.learner_id)
    if not goal.is_open:
        abort(403)
    form = WordingForm(prefix=f"g{goal.id}")
    if not form.validate():
        return _goal_work(goal, conference, 422, forms={"wording": form})
    if form.lock_version.data != str(goal.lock_version):
        return _wording_conflict(goal_id, conference, form)
    old = GoalContent.of(goal.current_version)
    content = GoalContent.build(
        form.statement.data,
        old.target_ids,
        old.target_level,
        old.due_date,
        old.strategies,
        old.supports,
    )
    try:
        goal_services.save_content(goal, current_user, content)
        conference.touch()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return _wording_conflict(goal_id, conference, form)
    if wants_fragment():
        return trigger(_goal_work(goal, conference, saved=True), CHANGED)
    flash(_("Saved: the new wording needs both signatures."))
    return redirect_to(url_for("conferences.workspace", conference_id=conference.id))


def _wording_conflict(goal_id: int, conference: Conference, form: WordingForm):
    """409: someone saved first. Show their version; keep this person's words in the box."""
    goal = load_goal(goal_id, Action.EDIT_GOAL)
    form.lock_version.data = str(goal.lock_version)
    return _goal_work(goal, conference, 409, forms={"wording": form}, conflict=goal.current_version)


# --- Signing and acknowledging -----------------------------------------------------------------


def _conference_of(form: SignForm, goal: Goal) -> Conference | None:
    conference_id = form.conference()
    if conference_id is None:
        return None
    conference = load_conference(conference_id, Action.RUN_CONFERENCE, of_learner=goal.learner_id)
    return conference


@bp.post("/goals/<int:goal_id>/sign")
@roles(Role.LEARNER, Role.TEACHER)
def sign(goal_id: int):
    """Sign the goal's current version as myself: the goal is agreed once we both have."""
    goal = load_goal(goal_id, Action.SIGN_GOAL)
    form = SignForm(prefix=f"s{goal.id}")
    if not form.validate() or form.version() is None:
        abort(400)
    conference = _conference_of(form, goal)
    return _sign(goal, conference, current_user, SignMethod.SESSION, None, form.version())


@bp.post("/goals/<int:goal_id>/sign/learner")
@roles(Role.TEACHER)
def sign_for_learner(goal_id: int):
    """Let the learner sign on my screen, confirming with their own PIN or password."""
    goal = load_goal(goal_id, Action.SIGN_GOAL)
    form = LearnerSignForm(prefix=f"l{goal.id}")
    conference = _conference_of(form, goal)
    if not form.validate() or form.version() is None:
        return _goal_work(goal, conference, 422, forms={"learner_sign": form})
    learner = goal.learner
    checked = signing.verify_learner(learner, form.secret.data)
    if checked.user is None:
        db.session.commit()  # the failure counts towards the lock, as at sign-in
        form.secret.errors = [
            _("Too many tries: wait %(n)d seconds.", n=checked.retry_after)
            if checked.error == "throttled"
            else _("That PIN or password is not right.")
        ]
        form.secret.data = ""
        return _goal_work(goal, conference, 422, forms={"learner_sign": form})
    method = SignMethod.PIN if learner.pin_hash else SignMethod.PASSWORD
    return _sign(goal, conference, learner, method, current_user, form.version())


def _sign(goal, conference, signer, method, witness, version_id):
    try:
        _signature, activated = signing.sign(
            goal, version_id, signer, method=method, witness=witness, conference=conference
        )
    except signing.SignError as error:
        db.session.rollback()
        goal = load_goal(goal.id, Action.SIGN_GOAL)
        message = (
            _("This goal changed before you signed: read the new version, then sign it.")
            if str(error) == "stale"
            else _("This version's content does not match what was saved: it cannot be signed.")
        )
        if conference is not None or wants_fragment():
            return _goal_work(goal, conference, 409, sign_error=message)
        flash(message, "error")
        return redirect_to(url_for("goals.detail", goal_id=goal.id))
    db.session.commit()
    message = _("Signed. The goal is agreed: you both signed it.") if activated else _("Signed.")
    if wants_fragment():
        return trigger(_goal_work(goal, conference, signed=message), CHANGED)
    flash(message)
    if conference is not None:
        return redirect_to(url_for("conferences.workspace", conference_id=conference.id))
    return redirect_to(url_for("goals.detail", goal_id=goal.id))


@bp.post("/goals/<int:goal_id>/acknowledge")
@roles(Role.GUARDIAN)
def acknowledge(goal_id: int):
    """Say our family has seen this agreed goal (this is not a signature)."""
    goal = load_goal(goal_id, Action.ACKNOWLEDGE)
    AcknowledgeForm().validate()  # CSRF only
    done = signing.acknowledge(goal, current_user)
    db.session.commit()
    if wants_fragment():
        return _partial(
            "conferences/_acknowledge.html",
            agreement=signing.agreement(goal),
            goal=goal,
            may_acknowledge=True,  # load_goal allowed Action.ACKNOWLEDGE
        )
    if done is not None:
        flash(_("Thank you: your teachers can see you have read this goal."))
    return redirect_to(url_for("goals.detail", goal_id=goal.id))


# --- Reflect and revise ---------------------------------------------------------------------


@bp.post("/goals/<int:goal_id>/reflect")
@roles(Role.LEARNER)
def reflect(goal_id: int):
    """Answer the end-of-cycle question for one of my goals: met, keep going, or revise."""
    goal = load_goal(goal_id, Action.PREPARE_CONFERENCE)
    if goal.status is not GoalStatus.ACTIVE:
        abort(403)
    form = ReflectForm(prefix=f"r{goal.id}")
    if not form.validate():
        return _partial("conferences/_reflect.html", 422, goal=goal, form=form)
    choice = ReflectionChoice(form.choice.data)
    cycles.reflect(goal, current_user, choice, form.note.data)
    db.session.commit()
    if choice is ReflectionChoice.REVISE:
        flash(_("Change what needs changing; then you and your teacher sign the new version."))
        return redirect_to(url_for("goals.edit", goal_id=goal.id))
    flash(_("Well done: goal met!") if choice is ReflectionChoice.MET else _("Keep going!"))
    return redirect_to(url_for("home.index"))


# --- History and settings -----------------------------------------------------------------------


@bp.get("/learners/<int:learner_id>/conferences")
@roles()
def history(learner_id: int):
    """Show a learner's conferences: dates, goals signed, next steps and notes."""
    learner = load_learner(learner_id, record="conferences")
    return render(
        "conferences/history.html",
        learner=learner,
        items=history_module.history(
            learner.id,
            include_private=can(Action.PRIVATE_NOTES, learner),
            goals=goal_condition(learner),
        ),
        still_to_do=notes.open_steps(learner.id),
        next_conference=scheduling.next_conference(learner.id),
        may_mark=notes.may_mark(learner),
        may_open=can(Action.RUN_CONFERENCE, learner),
    )


@bp.route("/schools/<int:school_id>/conference-settings", methods=["GET", "POST"])
@roles(Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)
def settings(school_id: int):
    """Set how many days a school's conference cycle lasts."""
    school = load_school(school_id)
    form = SettingsForm()
    if request.method == "GET":
        form = SettingsForm(formdata=None)
        form.cycle_days.data = cycles.cycle_days(school_id)
    elif form.validate():
        cycles.save_settings(school_id, form.cycle_days.data, current_user)
        db.session.commit()
        flash(_("Conference cycle saved."))
        return redirect_to(url_for("conferences.settings", school_id=school_id))
    page = render_invalid if request.method == "POST" else render
    return page("conferences/settings.html", "settings_form", school=school, form=form)
