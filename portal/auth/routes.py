"""Sign in with a password or a class code and PIN; sign out; choose a language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.auth import services
from portal.auth.forms import ClassCodeForm, PasswordSignInForm, PinForm
from portal.auth.models import Role, User
from portal.extensions import db
from portal.i18n import LOCALE_KEY
from portal.policy import public, roles
from portal.roster.models import Enrollment, EnrollmentRole
from portal.web import redirect_to, render, render_invalid

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Keep only a path on this site, so `next` can never send someone elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _signed_in(user: User, next_url: str | None):
    services.start_session(user, request.user_agent.string[:255] or None)
    login_user(user)
    db.session.commit()
    return redirect_to(safe_next(next_url) or url_for("home.index"))


def _throttled_message(result: services.SignInResult) -> str:
    return _(
        "Too many wrong tries for this account. Wait %(seconds)s seconds and try again.",
        seconds=result.retry_after,
    )


@bp.route("/signin", methods=["GET", "POST"])
@public
def login():
    """Sign in with a username or e-mail and a password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = PasswordSignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render(
            "auth/login.html", "signin_form", status=status, form=form, code_form=ClassCodeForm()
        )
    result = services.check_password(form.login.data, form.password.data)
    db.session.commit()  # failure counters are part of the outcome
    if result.user:
        return _signed_in(result.user, form.next.data)
    message = (
        _throttled_message(result)
        if result.error == "throttled"
        else _("That username or password is not right. Check them and try again.")
    )
    form.password.errors = [message]
    return render_invalid("auth/login.html", "signin_form", form=form, code_form=ClassCodeForm())


@bp.route("/signin/class", methods=["GET", "POST"])
@public
def class_code():
    """Young learners: start signing in with the class code."""
    form = ClassCodeForm()
    if form.validate_on_submit():
        school_class = services.class_by_code(form.code.data)
        if school_class is not None:
            return redirect_to(url_for("auth.pick_name", code=school_class.class_code))
        form.code.errors = [
            _("We could not find a class with that code. Check it with your teacher.")
        ]
        return render_invalid("auth/class_code.html", "code_form", form=form)
    status = 422 if form.is_submitted() else 200
    return render("auth/class_code.html", "code_form", status=status, form=form)


@bp.route("/signin/class/<code>")
@public
def pick_name(code: str):
    """Show the learners of a class (first name, last initial) to pick from."""
    school_class = services.class_by_code(code) or abort(404)
    learners = services.pin_learners(school_class)
    return render("auth/pick_name.html", school_class=school_class, learners=learners)


@bp.route("/signin/class/<code>/<int:learner_id>", methods=["GET", "POST"])
@public
def pin(code: str, learner_id: int):
    """Finish a class-code sign-in with the learner's PIN."""
    school_class = services.class_by_code(code) or abort(404)
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
    result = services.check_pin(learner, form.pin.data)
    db.session.commit()
    if result.user:
        return _signed_in(result.user, None)
    form.pin.errors = [
        _throttled_message(result)
        if result.error == "throttled"
        else _("That PIN is not right. Try again, or ask your teacher.")
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
    services.end_session()
    logout_user()
    db.session.commit()
    session.clear()
    response = make_response(redirect_to(url_for("auth.login", signed_out=1)))
    # Shared Chromebooks: the next learner must not find anything, Back button included.
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
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
        return "", 204
    return redirect(safe_next(request.referrer) or url_for("home.index"), code=303)
