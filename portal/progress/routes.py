"""Progress: log entries with evidence, teacher feedback, live trackers, the class view."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.auth.models import STAFF_ROLES, Role
from portal.core.extensions import db, htmx
from portal.core.i18n import gettext as _
from portal.core.i18n import ngettext, reading_spanish
from portal.core.web import (
    is_background_request,
    link_pattern,
    redirect_to,
    render,
    render_invalid,
    render_partial,
    stop_polling,
    unchanged,
    wants_fragment,
)
from portal.goals.models import Goal, GoalStatus
from portal.policy import (
    Action,
    can,
    entry_condition,
    feedback_condition,
    load_class,
    load_entry,
    load_goal,
    load_school,
    roles,
    shown_version,
)
from portal.progress import live, scales, services, tracker, uploads
from portal.progress.forms import EntryForm, FeedbackForm, SettingsForm, ShareForm, is_token
from portal.progress.mastery import Method
from portal.progress.models import Feedback, LevelMethod, ProgressEntry
from portal.roster import queries as roster

bp = Blueprint("progress", __name__)


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is used."""
    return message


UPLOAD_MESSAGES = {
    "too_big": N_("That file is too large: the limit is %(mb)d MB."),
    "empty": N_("That file is empty."),
    "type": N_(
        "That kind of file cannot be added. Use a photo (JPEG, PNG, GIF, WebP), "
        "a PDF, or a Word, Excel, PowerPoint or OpenDocument file."
    ),
}


# --- Loading -----------------------------------------------------------------------


def _entries(goal: Goal, learner) -> list[ProgressEntry]:
    feedback = ProgressEntry.feedback.and_(feedback_condition(learner))
    query = select(ProgressEntry).where(ProgressEntry.goal_id == goal.id, entry_condition(learner))
    if reading_spanish():  # each entry's strategy in the bank's Spanish (display_strategy)
        query = query.options(selectinload(ProgressEntry.version_strategy))
    return list(
        db.session.scalars(
            query.options(selectinload(feedback))
            .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
            # The feedback collection is filtered per viewer: never reuse a loaded one.
            .execution_options(populate_existing=True)
        )
    )


def _goal_feedback(goal: Goal, learner) -> list[Feedback]:
    query = select(Feedback).where(
        Feedback.goal_id == goal.id, Feedback.entry_id.is_(None), feedback_condition(learner)
    )
    return list(db.session.scalars(query.order_by(Feedback.created_at.desc(), Feedback.id.desc())))


def _page(goal, learner, *, entry_form=None, feedback_forms=None, goal_form=None, status=200):
    t = tracker.tracker_for(goal, shown_version(goal))
    entries = _entries(goal, learner)
    giving = can(Action.GIVE_FEEDBACK, learner)
    feedback_forms = feedback_forms or {}
    if giving:
        for entry in entries:
            feedback_forms.setdefault(
                entry.id, FeedbackForm(formdata=None, prefix=f"entry{entry.id}", scale=t.scale)
            )
    logged = request.args.get("logged", type=int)
    return dict(
        goal=goal,
        learner=learner,
        t=t,
        entries=entries,
        goal_feedback=_goal_feedback(goal, learner),
        entry_form=entry_form
        or (
            EntryForm(formdata=None, goal_version=goal.current_version, scale=t.scale)
            if can(Action.LOG_PROGRESS, learner)
            else None
        ),
        feedback_forms=feedback_forms,
        goal_form=goal_form
        or (FeedbackForm(formdata=None, prefix="goal", scale=t.scale) if giving else None),
        logged=next((e for e in entries if e.id == logged), None),
        target_levels=tracker.target_levels(t),
        readonly=not can(Action.LOG_PROGRESS, learner),
        upload_limit_mb=uploads.max_bytes() // (1024 * 1024),
    )


# --- The goal's progress page ------------------------------------------------------


@bp.get("/goals/<int:goal_id>/progress")
@roles()
def goal_page(goal_id: int):
    """Show a goal's tracker, its progress entries and feedback, and the forms to add more."""
    goal = load_goal(goal_id, record="progress")
    learner = goal.learner
    return render("progress/goal.html", **_page(goal, learner))


@bp.post("/goals/<int:goal_id>/progress")
@roles(Role.LEARNER)
def log_progress(goal_id: int):
    """Log a progress entry on an active goal; a retried submission returns the first one."""
    goal = load_goal(goal_id, Action.LOG_PROGRESS)
    learner = goal.learner
    token = request.form.get("token", "")
    if is_token(token) and (existing := services.entry_by_token(token)) is not None:
        return _already_logged(existing)
    if goal.status is not GoalStatus.ACTIVE:
        return render("progress/goal.html", "log_form", status=409, **_page(goal, learner))
    t = tracker.tracker_for(goal)
    form = EntryForm(goal_version=goal.current_version, scale=t.scale)
    stored = None
    if form.validate_on_submit():
        upload = form.evidence.data
        if upload and getattr(upload, "filename", None):
            try:
                stored = uploads.save(upload)
            except uploads.EvidenceError as error:
                form.evidence.errors = [
                    _(UPLOAD_MESSAGES[str(error)], mb=uploads.max_bytes() // (1024 * 1024))
                ]
    if form.errors or not form.is_submitted() or form.evidence.errors:
        context = _page(goal, learner, entry_form=form)
        return render_invalid("progress/goal.html", "log_form", **context)
    try:
        entry = services.log_entry(
            goal,
            token=form.token.data,
            strategy=form.strategy.data,
            other_strategy=form.other_strategy.data,
            self_rating=form.self_rating.data,
            reflection=form.reflection.data,
            link_url=(form.link.data or "").strip() or None,
            stored=stored,
            shared_with_family=form.shared_with_family.data,
        )
        db.session.commit()
    except IntegrityError:
        # The same token raced in from a second request: answer with the first entry.
        db.session.rollback()
        if stored:
            uploads.remove(stored.key)
        existing = services.entry_by_token(form.token.data)
        if existing is None:
            raise
        return _already_logged(existing)
    return redirect_to(url_for(".goal_page", goal_id=goal.id, logged=entry.id, _anchor="next-step"))


def _already_logged(entry: ProgressEntry):
    if entry.learner_id != current_user.id:
        abort(409)
    return redirect_to(
        url_for(".goal_page", goal_id=entry.goal_id, logged=entry.id, _anchor="next-step")
    )


# --- Teacher feedback --------------------------------------------------------------


@bp.post("/progress/entries/<int:progress_entry_id>/feedback")
@roles(Role.TEACHER)
def entry_feedback(progress_entry_id: int):
    """Add a teacher's feedback and rating to one progress entry."""
    entry, goal = load_entry(progress_entry_id, Action.GIVE_FEEDBACK)
    learner = goal.learner
    form = FeedbackForm(prefix=f"entry{entry.id}", scale=scales.scale_for(learner.org_id))
    if (existing := services.feedback_by_token(form.token.data or "")) is not None:
        return _feedback_done(existing)
    if not form.validate_on_submit():
        if wants_fragment():
            t = tracker.tracker_for(goal)
            return render_partial(
                "progress/_entry.html", 422, entry=entry, t=t, learner=learner, feedback_form=form
            )
        context = _page(goal, learner, feedback_forms={entry.id: form})
        return render_invalid("progress/goal.html", **context)
    return _save_feedback(form, goal, entry)


@bp.post("/goals/<int:goal_id>/feedback")
@roles(Role.TEACHER)
def goal_feedback(goal_id: int):
    """Add a teacher's feedback and rating to the goal as a whole."""
    goal = load_goal(goal_id, Action.GIVE_FEEDBACK)
    learner = goal.learner
    form = FeedbackForm(prefix="goal", scale=scales.scale_for(learner.org_id))
    if (existing := services.feedback_by_token(form.token.data or "")) is not None:
        return _feedback_done(existing)
    if not form.validate_on_submit():
        context = _page(goal, learner, goal_form=form)
        return render_invalid("progress/goal.html", "goal_feedback_form", **context)
    return _save_feedback(form, goal)


def _save_feedback(form: FeedbackForm, goal, entry=None):
    """Add the feedback and commit; the same token raced in from a second request: the first."""
    try:
        feedback = services.add_feedback(
            goal,
            current_user,
            token=form.token.data,
            body=form.body.data,
            rating=form.rating_value,
            for_families=form.for_families.data,
            entry=entry,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        feedback = services.feedback_by_token(form.token.data)
        if feedback is None:
            raise
    return _feedback_done(feedback)


def _feedback_done(feedback):
    if feedback.author_id != current_user.id:
        abort(409)
    anchor = f"entry-{feedback.entry_id}" if feedback.entry_id else "goal-feedback"
    return redirect_to(url_for(".goal_page", goal_id=feedback.goal_id, _anchor=anchor))


# --- Sharing an entry with family ---------------------------------------------------


@bp.post("/progress/entries/<int:progress_entry_id>/share")
@roles(Role.LEARNER)
def share_entry(progress_entry_id: int):
    """Show one of my progress entries to my family, or stop showing it."""
    entry, goal = load_entry(progress_entry_id, Action.SET_AUDIENCE)
    learner = goal.learner
    form = ShareForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_shared(goal, entry, form.shared.data)
    db.session.commit()
    if wants_fragment():
        return render_partial(
            "progress/_entry.html", entry=entry, t=tracker.tracker_for(goal), learner=learner
        )
    return redirect_to(url_for(".goal_page", goal_id=goal.id, _anchor=f"entry-{entry.id}"))


# --- Evidence files ----------------------------------------------------------------


@bp.get("/progress/entries/<int:progress_entry_id>/evidence")
@roles()
def evidence(progress_entry_id: int):
    """Send an entry's uploaded file to someone who may see it (family: if shared); never run it."""
    entry, _goal = load_entry(progress_entry_id, Action.VIEW, record="evidence")
    if not entry.file_key:
        abort(404)
    try:
        path = uploads.path_of(entry.file_key)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    inline = entry.file_type in uploads.INLINE_TYPES
    response = send_file(
        path,
        mimetype=entry.file_type or "application/octet-stream",
        as_attachment=not inline,
        download_name=entry.file_name or "evidence",
        max_age=0,
        conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- Live trackers -----------------------------------------------------------------


@bp.before_request
def _learner_idle_poll():
    """Answer a learner's unchanged poll before sign-in machinery runs: one query, no body."""
    if request.endpoint != "progress.goal_tracker" or not is_background_request():
        return None
    if request.args.get("readonly"):  # staff and family trackers: the learner's own never are
        return None
    seen = request.args.get("v")
    if seen and live.learner_poll_unchanged(request.view_args["goal_id"], seen):
        return unchanged()
    return None


@bp.get("/goals/<int:goal_id>/tracker")
@roles()
def goal_tracker(goal_id: int):
    """Render one goal's tracker; an idle poll gets 204, a closed goal stops polling (286)."""
    seen = request.args.get("v")
    if seen and is_background_request():
        state = live.goal_poll_state(goal_id, current_user)
        if state is not None and state[0] is GoalStatus.ACTIVE and state[1] == seen:
            return unchanged()
    goal = load_goal(goal_id)
    learner = goal.learner
    if not htmx:
        # The tracker alone is not a page: opened as one, show the goal's progress page.
        return redirect(url_for("progress.goal_page", goal_id=goal.id), code=303)
    t = tracker.tracker_for(goal, shown_version(goal))
    readonly = request.args.get("readonly") == "1" or not can(Action.LOG_PROGRESS, learner)
    context = dict(t=t, readonly=readonly, link_goal=True)
    if not t.active:  # its final state: no more polls
        return stop_polling(render_template("progress/_tracker.html", **context))
    return render_partial("progress/_tracker.html", **context)


# --- The class view ----------------------------------------------------------------

SORTS = ("name", "last", "level")
FILTERS = ("all", "quiet", "stuck", "ready")


def _class_rows(class_id: int) -> list[tracker.LearnerRow]:
    learners = roster.learners_in_class(class_id)
    school_of = {x.id: x.org_id for x in learners}
    # The ids as a list, not the enrollment subquery again: a list's statement keys faster.
    cells = tracker.class_cells(list(school_of), school_of, current_user)
    return [tracker.LearnerRow(learner, cells.get(learner.id, [])) for learner in learners]


def _last_entry_words(rows: list[tracker.LearnerRow]) -> dict[int | None, str]:
    """The "last entry" cell's words for each number of days the rows show, worded once."""
    words: dict[int | None, str] = {None: _("never"), 0: _("today")}
    for row in rows:
        days = row.days_since_last
        if days not in words:
            words[days] = ngettext("%(num)d day ago", "%(num)d days ago", days)
    return words


@bp.get("/classes/<int:class_id>/progress")
@roles(*STAFF_ROLES)
def class_progress(class_id: int):
    """Show one row per learner of a class with their goals' progress; sortable and filterable."""
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    show = request.args.get("show", "all")
    show = show if show in FILTERS else "all"
    token = live.class_token(class_id, current_user)
    if token is not None and token == request.args.get("v") and is_background_request():
        return unchanged()
    if token is None:  # not allowed, or no such class: load_class answers 404
        return render(
            "progress/class.html", "class_table", **_class_page(class_id, sort, show, token)
        )
    return render("progress/class.html", "class_table", **_class_page(class_id, sort, show, token))


def _class_page(class_id: int, sort: str, show: str, token: str | None) -> dict:
    school_class = load_class(class_id)
    rows = _class_rows(class_id)
    counts = {name: sum(1 for r in rows if r.matches(name)) for name in FILTERS}
    shown = tracker.sort_rows([r for r in rows if r.matches(show)], sort)
    return {
        "school_class": school_class,
        "rows": shown,
        "learner_link": link_pattern("home.learner", "learner_id"),
        "goal_link": link_pattern("progress.goal_page", "goal_id"),
        "last_entry_words": _last_entry_words(shown),
        "counts": counts,
        "sort": sort,
        "show": show,
        "token": token,
    }


# --- School settings ---------------------------------------------------------------


@bp.route("/schools/<int:school_id>/progress-settings", methods=["GET", "POST"])
@roles(Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)
def school_settings(school_id: int):
    """Choose how the school computes a learner's current level from the ratings."""
    school = load_school(school_id)
    current = services.settings_for(school_id)
    form = SettingsForm(obj=current)
    if current is None and not form.is_submitted():
        form.method.data = LevelMethod.DECAYING.value
    if form.validate_on_submit():
        services.save_settings(
            school_id,
            method=LevelMethod(form.method.data),
            n=form.n.data,
            decay_percent=form.decay_percent.data,
            by=current_user,
        )
        db.session.commit()
        flash(_("Saved. Trackers now use the new method."), "success")
        return redirect_to(url_for(".school_settings", school_id=school_id))
    context = dict(school=school, form=form, method=Method.of(current))
    if form.is_submitted():
        return render_invalid("progress/settings.html", "settings_form", **context)
    return render("progress/settings.html", "settings_form", **context)

