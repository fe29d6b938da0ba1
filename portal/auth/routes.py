"""Sign in with a password or a class code and PIN; sign out; choose a language."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.auth import drafts, services
from portal.auth.forms import ClassCodeForm, PasswordSignInForm, PinForm
from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.core.i18n import LOCALE_KEY, ngettext
from portal.core.i18n import gettext as _
from portal.core.inputs import parse_id
from portal.core.web import redirect_to, render, render_invalid, safe_next, unchanged
from portal.policy import public, roles
from portal.roster.models import Enrollment, EnrollmentRole
from portal.sso import services as sso_services

bp = Blueprint("auth", __name__)


def complete_sign_in(user: User, next_url: str | None, client: services.Client):
    """The one way a sign-in ends (password, PIN or identity provider): device cookie,
    a rotated server-side session, commit, and on to the page the person came for."""
    device_cookie = services.remember_device(user, client)
    services.start_session(user, request.user_agent.string[:255] or None)
    login_user(user)
    db.session.commit()
    waiting = drafts.waiting_for(user)
    target = url_for("auth.resume") if waiting else safe_next(next_url) or url_for("home.index")
    response = redirect_to(target)
    cfg = current_app.config
    # Only sign-in pages need it; it names no one and survives sign-out (see logout).
    response.set_cookie(
        services.DEVICE_COOKIE,
        device_cookie,
        max_age=int(timedelta(days=cfg["LOGIN_DEVICE_DAYS"]).total_seconds()),
        path=url_for("auth.login"),
        secure=cfg["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def refused_message(result: services.SignInResult, wrong: str) -> str:
    if result.error == "class_throttled":
        return _(
            "Too many wrong PINs in this class just now. Wait %(wait)s, or ask your teacher.",
            wait=_wait_words(result.retry_after),
        )
    if result.error == "throttled":
        return _(
            "Too many tries. Wait %(wait)s, or sign in on a device you have used before.",
            wait=_wait_words(result.retry_after),
        )
    return wrong


@bp.route("/signin", methods=["GET", "POST"])
@public
def login():
    """Sign in with a username or e-mail and a password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = PasswordSignInForm(next=request.args.get("next", ""))
    page = {"code_form": ClassCodeForm(), "sso_choices": _sso_choices()}
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("auth/login.html", "signin_form", status=status, form=form, **page)
    client = services.browser_client()
    result = services.check_password(form.login.data, form.password.data, client)
    if result.user and not sso_services.password_refused(result.user):
        return complete_sign_in(result.user, form.next.data, client)
    db.session.commit()  # the failure is part of the outcome
    if result.user:
        wrong = _("Your school signs learners in with its sign-in service: use its button.")
        page["sso_choices"] = sso_services.sign_in_choices(sso_services.district_of(result.user))
    else:
        wrong = _("That username or password is not right. Check them and try again.")
    form.password.errors = [refused_message(result, wrong)]
    return render_invalid("auth/login.html", "signin_form", form=form, **page)


def _sso_choices():
    """The district's sign-in buttons: `?district=<id>`, or the only district with any."""
    return sso_services.sign_in_choices(parse_id(request.args.get("district")))


@bp.route("/signin/class", methods=["GET", "POST"])
@public
def class_code():
    """Young learners: start signing in with the class code."""
    form = ClassCodeForm()
    if form.validate_on_submit():
        try:
            school_class = services.class_by_code(form.code.data)
        except services.ClassEnded as ended:
            form.code.errors = [_ended_class_message(ended.school_class)]
            return render_invalid("auth/class_code.html", "code_form", form=form)
        if school_class is not None:
            return redirect_to(url_for("auth.pick_name", code=school_class.class_code))
        form.code.errors = [
            _("We could not find a class with that code. Check it with your teacher.")
        ]
        return render_invalid("auth/class_code.html", "code_form", form=form)
    status = 422 if form.is_submitted() else 200
    return render("auth/class_code.html", "code_form", status=status, form=form)


def _ended_class_message(school_class) -> str:
    return _(
        "The class %(title)s ended with %(term)s: its code no longer signs in. Ask your "
        "teacher for this year's class code.",
        title=school_class.title,
        term=school_class.term.title,
    )


def _open_class(code: str):
    """The class a sign-in URL names; last year's sends the learner back to the code step."""
    try:
        return services.class_by_code(code) or abort(404), None
    except services.ClassEnded as ended:
        flash(_ended_class_message(ended.school_class), "error")
        return None, redirect_to(url_for("auth.class_code"))


@bp.route("/signin/class/<code>")
@public
def pick_name(code: str):
    """Show the learners of a class (first name, last initial) to pick from."""
    school_class, refused = _open_class(code)
    if refused:
        return refused
    learners = services.pin_learners(school_class)
    return render("auth/pick_name.html", school_class=school_class, learners=learners)


@bp.route("/signin/class/<code>/<int:learner_id>", methods=["GET", "POST"])
@public
def pin(code: str, learner_id: int):
    """Finish a class-code sign-in with the learner's PIN."""
    school_class, refused = _open_class(code)
    if refused:
        return refused
    learner = _learner_in_class(school_class.id, learner_id)
    form = PinForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render(
            "auth/pin.html",
            "pin_form",
            status=status,
            form=form,
            school_class=school_class,
            learner=learner,
        )
    client = services.browser_client()
    result = services.check_pin(learner, form.pin.data, client, school_class)
    if result.user:
        return complete_sign_in(result.user, None, client)
    db.session.commit()
    form.pin.errors = [
        refused_message(result, _("That PIN is not right. Try again, or ask your teacher."))
    ]
    return render_invalid(
        "auth/pin.html", "pin_form", form=form, school_class=school_class, learner=learner
    )


def _learner_in_class(class_id: int, learner_id: int) -> User:
    learner = db.session.scalar(
        select(User)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(
            User.id == learner_id,
            User.role == Role.LEARNER,
            Enrollment.class_id == class_id,
            Enrollment.role == EnrollmentRole.LEARNER,
        )
    )
    if learner is None:
        abort(404)
    return learner


@bp.route("/signout", methods=["POST"])
@public
def logout():
    """Sign out and make the browser forget everything it kept of this person."""
    if current_user.is_authenticated:
        drafts.forget(current_user.id)
    provider = session.get(sso_services.SIGNED_IN_WITH)
    services.end_session()
    logout_user()
    db.session.commit()
    session.clear()
    if provider:  # the provider's own session is still open on this device: say so
        after = url_for("sso.signed_out", provider=provider)
    else:
        after = url_for("auth.login", signed_out=1)
    response = make_response(redirect_to(after))
    # Shared Chromebooks: the next learner must not find anything, Back button included.
    # The session cookie is expired above (session.clear); cookies are not wiped
    # wholesale, so the device cookies (opaque tokens, one per account that signed in
    # here) stay and each learner can still sign in on this device while strangers wait.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/language", methods=["POST"])
@public
def language():
    """Remember the chosen language, for the account when signed in."""
    choice = request.form.get("locale", "")
    if choice not in current_app.config["LANGUAGES"]:
        abort(400)
    session[LOCALE_KEY] = choice
    if current_user.is_authenticated:
        current_user.locale = choice
        db.session.commit()
    return redirect_to(safe_next(request.form.get("next")) or url_for("home.index"))


@bp.route("/session/keep-alive", methods=["GET", "POST"])
@roles()
def keep_alive():
    """POST: the idle warning's "Stay signed in", the session counts as active now.

    GET as a background request (X-Waypoint-Poll) only tells the time left, in the
    X-Waypoint-Idle-Seconds header, without counting as activity; once the session
    has ended it answers like any signed-out request (401 + HX-Redirect for htmx).
    """
    if request.method == "POST":
        services.keep_alive(current_user)
        db.session.commit()
    if request.headers.get("HX-Request"):
        return unchanged()
    return redirect(safe_next(request.referrer) or url_for("home.index"), code=303)


@bp.route("/signin/resume")
@roles()
def resume():
    """Offer back the form this person sent after their session had ended."""
    pending = drafts.waiting_for(current_user)
    if pending is None:
        return redirect(url_for("home.index"))
    return render(
        "auth/resume.html",
        pending=pending,
        fields=drafts.fields_of(pending),
        resume_field=drafts.RESUME_FIELD,
    )


@bp.route("/signin/resume/discard", methods=["POST"])
@roles()
def discard_resume():
    """Throw away what was kept from before signing in again."""
    drafts.forget(current_user.id)
    db.session.commit()
    flash(_("What you sent before signing in again was thrown away."), "info")
    return redirect_to(url_for("home.index"))
