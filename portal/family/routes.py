"""The family view of each child, cheers and their moderation, family invite codes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.models import STAFF_ROLES, Role
from portal.conferences import notes as conference_notes
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.timeutil import utcnow
from portal.core.web import redirect_to, render, render_invalid, wants_fragment
from portal.family import cards, services
from portal.family.cheer_forms import CheerForms, cheer_key
from portal.family.forms import (
    CheerForm,
    HideCheerForm,
    InviteForm,
    RedeemForm,
    RevokeInviteForm,
)
from portal.family.models import Cheer, FamilyInvite
from portal.family.page import family_page
from portal.goals.models import Goal
from portal.policy import (
    Action,
    can,
    family_view,
    guardian_children,
    load_entry,
    load_goal,
    load_learner,
    roles,
)
from portal.progress.forms import new_token
from portal.progress.models import ProgressEntry

bp = Blueprint("family", __name__, url_prefix="/family")

FAMILY_PAGE = "home/family.html"


# --- The family page -------------------------------------------------------------------


def family_context(guardian, selected=None, cheer_forms=None, children=None) -> dict:
    """The guardian home's data: the children, and the chosen one's view (the first by default).

    `children` is `policy.guardian_children(guardian)` when the route has it already;
    `cheer_forms` the form a failed post brings back, by key (the others render blank).
    """
    if children is None:
        children = guardian_children(guardian)
    if selected is None and children:
        selected = children[0]
    context = {"children": children, "child": None, "cheer_forms": CheerForms(cheer_forms)}
    if selected is None:
        return context
    # The guardian's own children, or a child load_learner let through: the access is
    # decided; what follows only gathers the cards' data.
    page = family_page(selected)
    context.update(
        child=page.child,
        learner=selected,
        shared_sections=page.sections,
        family_conferences=cards.FamilyConferences(
            page.conferences,
            may_acknowledge=can(Action.ACKNOWLEDGE, selected),
            may_mark=conference_notes.may_mark(selected),
        ),
    )
    return context


def family_home():
    """The guardian's home: their first child's page."""
    return render(FAMILY_PAGE, **family_context(current_user))


@bp.get("/children/<int:learner_id>")
@roles(Role.GUARDIAN)
def child(learner_id: int):
    """Show one of my children: goals and trackers, shared work, cheers, shared profile."""
    children = guardian_children(current_user)  # my own children: load_learner asks no more
    learner = load_learner(learner_id)
    context = family_context(current_user, learner, children=children)
    return render(FAMILY_PAGE, "family_main", **context)


def _entry_of(goal: Goal, entry_id: int | None) -> ProgressEntry | None:
    """An entry of this goal that the family sees (shared with them)."""
    if entry_id is None:
        return None
    entry, _goal = load_entry(entry_id, of_goal=goal.id)
    return entry


def _prefix(goal: Goal, entry: ProgressEntry | None) -> str:
    """Each cheer form on the page has its own field names and ids."""
    return cheer_key(goal.id, entry.id if entry is not None else None)


@bp.post("/goals/<int:goal_id>/cheers")
@roles(Role.GUARDIAN)
def cheer(goal_id: int):
    """Leave a short cheer on my child's goal, or on one of its entries (?entry=id)."""
    goal = load_goal(goal_id, Action.CHEER)  # 404 for drafts, proposals and the rest
    entry = _entry_of(goal, request.args.get("entry", type=int))
    key = _prefix(goal, entry)
    form = CheerForm(prefix=key)
    if (existing := _resent(form)) is not None:
        return _cheer_sent(existing)
    if not form.validate_on_submit():
        if wants_fragment():
            body = render_template(
                "family/_cheer_form.html", goal=goal, entry=entry, form=form, key=key
            )
            response = make_response(body, 422)
            return response
        context = family_context(current_user, goal.learner, {key: form})
        return render_invalid(FAMILY_PAGE, **context)
    try:
        sent = services.add_cheer(goal, current_user, form.body.data, entry, form.token.data)
        db.session.commit()
    except IntegrityError:
        # The same form raced in from a second request: answer with the first cheer (or,
        # from a second tab with other words, keep this one under a token of its own).
        db.session.rollback()
        if (first := _resent(form)) is not None:
            return _cheer_sent(first)
        sent = services.add_cheer(goal, current_user, form.body.data, entry, form.token.data)
        db.session.commit()
    flash(_("Your cheer was sent. %(name)s will see it.", name=_first_name(goal.learner)), "info")
    return _cheer_sent(sent)


def _resent(form: CheerForm) -> Cheer | None:
    """The cheer this very form already sent (a double click, a retry), if any.

    The family page is cached per session, so two tabs of it can carry the same token:
    a different message under a known token is a new cheer and gets a token of its own.
    """
    cheer = services.cheer_by_token(form.token.data)
    if cheer is None:
        return None
    if cheer.author_id == current_user.id and cheer.body == services.clean_cheer(
        form.body.data or ""
    ):
        return cheer
    form.token.data = new_token()
    return None


def _cheer_sent(cheer: Cheer):
    """Back to the child's goal the cheer is on (a resent form finds its first cheer)."""
    if cheer.author_id != current_user.id:
        abort(409)
    return redirect_to(
        url_for("family.child", learner_id=cheer.learner_id, _anchor=f"goal-{cheer.goal_id}")
    )


def _first_name(user) -> str:
    return user.preferred_name or user.given_name


# --- Moderation and the learner's cheers -----------------------------------------------


@bp.get("/learners/<int:learner_id>/cheers")
@roles()
def cheers(learner_id: int):
    """List the cheers on a learner's goals; teachers and admins may hide them."""
    learner = load_learner(learner_id, record="cheers" if current_user.is_staff else None)
    moderating = can(Action.MODERATE, learner)
    return render(
        "family/cheers.html",
        learner=learner,
        rows=services.cheers_for_learner(
            learner.id, include_hidden=moderating, limit=200, family=family_view(learner)
        ),
        moderating=moderating,
    )


@bp.post("/cheers/<int:cheer_id>/hide")
@roles(*STAFF_ROLES)
def hide_cheer(cheer_id: int):
    """Hide a cheer from the learner, or show it again."""
    cheer = db.session.get(Cheer, cheer_id)
    if cheer is None:
        abort(404)
    learner = load_learner(cheer.learner_id, Action.MODERATE)
    form = HideCheerForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_hidden(cheer, current_user, form.hidden.data)
    db.session.commit()
    return redirect_to(url_for("family.cheers", learner_id=learner.id, _anchor=f"cheer-{cheer.id}"))


# --- Invite codes -----------------------------------------------------------------------


@bp.route("/learners/<int:learner_id>/invites", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def invites(learner_id: int):
    """Create a single-use family invite code for a learner, and list the earlier ones.

    The new code is shown in the answer to the POST and never again: only its hash is
    kept, so there is nothing to redirect to.
    """
    learner = load_learner(learner_id, Action.INVITE_FAMILY)
    form = InviteForm()
    code = None
    if form.validate_on_submit():
        _, code = services.create_invite(learner, current_user)
        db.session.commit()
    elif form.is_submitted():
        abort(400)
    return _invite_panel(learner, code=code)


def _invite_panel(learner, status: int = 200, code: str | None = None, **extra):
    """The invite page, or only its panel for htmx: the new code (once) and every code."""
    return render(
        "family/invites.html",
        "invite_panel",
        status=status,
        learner=learner,
        code=code,
        invites=services.invites_for(learner),
        now=utcnow(),
        lifetime_days=services.INVITE_LIFETIME.days,
        **extra,
    )


@bp.post("/invites/<int:invite_id>/revoke")
@roles(*STAFF_ROLES)
def revoke_invite(invite_id: int):
    """Revoke an unused family invite code so that nobody can redeem it."""
    invite = db.session.get(FamilyInvite, invite_id)
    if invite is None:
        abort(404)
    learner = load_learner(invite.learner_id, Action.INVITE_FAMILY)
    if not RevokeInviteForm().validate_on_submit():
        abort(400)
    revoked = services.revoke_invite(invite, current_user)
    db.session.commit()
    if not revoked:
        # Used, expired or already revoked meanwhile: say so, change nothing.
        problem = _("This code can no longer be revoked: it was used, has expired or is revoked.")
        if wants_fragment():
            return _invite_panel(learner, status=409, problem=problem)
        flash(problem, "error")
    elif not wants_fragment():
        flash(_("Code revoked. Nobody can use it now."), "info")
    if wants_fragment():
        return _invite_panel(learner, revoked_id=invite.id)
    return redirect_to(url_for("family.invites", learner_id=learner.id))


@bp.route("/redeem", methods=["GET", "POST"])
@roles(Role.GUARDIAN)
def redeem():
    """Link my account to a child with the family invite code the school gave me."""
    form = RedeemForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("family/redeem.html", "redeem_form", status=status, form=form)
    result = services.redeem(current_user, form.code.data)
    db.session.commit()  # the miss counter is part of the outcome
    if result.learner is not None:
        name = _first_name(result.learner)
        if result.error == "already":
            flash(_("You already follow %(name)s.", name=name), "info")
        else:
            flash(_("Done! You now follow %(name)s.", name=name), "info")
        return redirect_to(url_for("family.child", learner_id=result.learner.id))
    if result.error == "locked":
        minutes = max(1, (result.retry_after + 59) // 60)
        message = _(
            "Too many wrong codes. Please wait %(minutes)s minutes and try again.",
            minutes=minutes,
        )
    elif result.error == "paused":
        message = _("The school has paused your link to this child. Please contact the school.")
    else:
        message = _(
            "That code does not work. Check it, or ask the school for a new one. "
            "Codes work once and for 7 days."
        )
    form.code.errors = [message]
    return render_invalid("family/redeem.html", "redeem_form", form=form)
