"""Picture sign-in badges: a teacher prints, revokes and pictures them; a learner scans one."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth import services as auth_services
from portal.auth.models import Role, User

# The one way a sign-in ends (session rotation, device cookie) and its refusal words.
from portal.auth.routes import complete_sign_in, refused_message
from portal.badges import services
from portal.badges.forms import BadgeButtonForm, BadgeSignInForm, PrintClassForm, SymbolForm
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.security import talisman
from portal.core.web import redirect_to, render, render_invalid, render_partial, wants_fragment
from portal.policy import Action, class_has_ended, load_class, load_learner, public, roles
from portal.roster.models import SchoolClass

bp = Blueprint("badges", __name__)

BADGE_STAFF = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)
# Only the scan page may use the camera (the site's policy turns it off everywhere else).
CAMERA_PAGE = {"camera": "(self)", "microphone": "()", "geolocation": "()"}


# --- The teacher's page ------------------------------------------------------------------


def _class_for_badges(class_id: int) -> SchoolClass:
    """The class, if the user may see it (404) and change its badges (403: staff of a
    class whose term ended, or anyone the RULES do not let manage badges)."""
    school_class = load_class(class_id)
    if class_has_ended(school_class):
        abort(403)
    return school_class


def _manageable(school_class: SchoolClass) -> list[User]:
    """The class's learners whose badges the user manages: in a running class the user
    may see, every learner they relate to is theirs (a teacher's, or an admin's)."""
    return services.class_learners(school_class, current_user)


def _learner_of(school_class: SchoolClass, learner_id: int) -> User:
    learner = load_learner(learner_id, Action.MANAGE_BADGES)
    if not services.in_class(school_class, learner):
        abort(404)
    return learner


@bp.route("/classes/<int:class_id>/badges")
@roles(*BADGE_STAFF)
def class_badges(class_id: int):
    """List a class's learners with their badge and picture."""
    school_class = _class_for_badges(class_id)
    rows = services.rows_for(_manageable(school_class))
    return render(
        "badges/class.html",
        school_class=school_class,
        rows=rows,
        print_form=PrintClassForm(),
        button_form=BadgeButtonForm(),
        symbols=services.SYMBOLS,
    )


def _issued(school_class: SchoolClass, learners: list[User]):
    """Print new badges and commit; None when someone printed the same badge at the same
    moment (one live badge per learner: the database refuses the second)."""
    try:
        cards = services.issue(learners, current_user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(
            _(
                "Someone else printed badges for these learners at the same moment, so "
                "nothing was printed here. Look at the list, then print again if needed."
            ),
            "error",
        )
        return None
    services.reload_learners(cards)
    return cards


def _print_page(school_class: SchoolClass, cards: list[services.PrintedCard]):
    """The cards with their secrets: shown once, kept by no cache (no-store, as every page)."""
    return render(
        "badges/print.html",
        school_class=school_class,
        cards=cards,
        # The scheme from the configuration: behind a TLS proxy the request looks like http.
        sign_in_url=url_for(
            "badges.sign_in", _external=True, _scheme=current_app.config["PREFERRED_URL_SCHEME"]
        ),
    )


@bp.route("/classes/<int:class_id>/badges/print", methods=["POST"])
@roles(*BADGE_STAFF)
def print_class(class_id: int):
    """Make new badges for the class (everyone, or those without one) and show them to print."""
    school_class = _class_for_badges(class_id)
    form = PrintClassForm()
    if not form.validate_on_submit():
        flash(_("Choose which badges to print, then try again."), "error")
        return redirect_to(url_for("badges.class_badges", class_id=class_id))
    learners = _manageable(school_class)
    if form.which.data == "missing":
        learners = services.learners_without_badge(learners)
    if not learners:
        flash(_("Every learner in this class already has a badge."), "info")
        return redirect_to(url_for("badges.class_badges", class_id=class_id))
    if (cards := _issued(school_class, learners)) is None:
        return redirect_to(url_for("badges.class_badges", class_id=class_id))
    return _print_page(school_class, cards)


@bp.route("/classes/<int:class_id>/badges/<int:learner_id>/print", methods=["POST"])
@roles(*BADGE_STAFF)
def print_one(class_id: int, learner_id: int):
    """Make a new badge for one learner (the old one stops working) and show it to print."""
    school_class = _class_for_badges(class_id)
    learner = _learner_of(school_class, learner_id)
    if not BadgeButtonForm().validate_on_submit():
        abort(400)
    if (cards := _issued(school_class, [learner])) is None:
        return redirect_to(url_for("badges.class_badges", class_id=class_id))
    return _print_page(school_class, cards)


def _row_answer(school_class: SchoolClass, learner: User):
    """htmx: the learner's row, redrawn; without JavaScript: back to the class's page."""
    if wants_fragment():
        return render_partial(
            "badges/_row.html",
            school_class=school_class,
            row=services.rows_for([learner])[0],
            button_form=BadgeButtonForm(),
            symbols=services.SYMBOLS,
        )
    return redirect_to(url_for("badges.class_badges", class_id=school_class.id))


@bp.route("/classes/<int:class_id>/badges/<int:learner_id>/revoke", methods=["POST"])
@roles(*BADGE_STAFF)
def revoke(class_id: int, learner_id: int):
    """Turn off a lost badge at once: its next scan is refused."""
    school_class = _class_for_badges(class_id)
    learner = _learner_of(school_class, learner_id)
    if not BadgeButtonForm().validate_on_submit():
        abort(400)
    if services.revoke(learner):
        flash(_("%(name)s's badge is turned off.", name=learner.given_name), "info")
    else:
        flash(_("%(name)s has no badge to turn off.", name=learner.given_name), "info")
    db.session.commit()
    return _row_answer(school_class, learner)


@bp.route("/classes/<int:class_id>/badges/<int:learner_id>/symbol", methods=["POST"])
@roles(*BADGE_STAFF)
def choose_symbol(class_id: int, learner_id: int):
    """Change the picture on a learner's badge (printed from now on)."""
    school_class = _class_for_badges(class_id)
    learner = _learner_of(school_class, learner_id)
    form = SymbolForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the pictures in the list."), "error")
        return _row_answer(school_class, learner)
    try:
        services.set_symbol(learner, form.symbol.data)
        db.session.commit()
    except IntegrityError:  # two people chose a first picture at once: theirs stands
        db.session.rollback()
        flash(_("Someone else changed this picture at the same moment. Look, then try again."))
    return _row_answer(school_class, learner)


# --- Scanning a badge to sign in -----------------------------------------------------------


_PROBLEMS = {
    "unknown": lambda: _(
        "We do not know this badge. Ask your teacher, or sign in with your class code."
    ),
    "revoked": lambda: _(
        "This badge was turned off. Ask your teacher for a new one, or sign in with your "
        "class code."
    ),
    "inactive": lambda: _(
        "This badge's account is closed. Ask your teacher, or sign in with your class code."
    ),
}


@bp.route("/signin/badge", methods=["GET", "POST"])
@public
@talisman(permissions_policy=CAMERA_PAGE)
def sign_in():
    """Scan a badge with the camera (GET), and sign in with the code it holds (POST)."""
    if request.method == "GET" and current_user.is_authenticated:
        return redirect_to(url_for("home.index"))
    form = BadgeSignInForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("badges/scan.html", status=status, form=form, problem=None)
    secret = services.secret_from_code(form.code.data)
    scanned = services.find(secret)
    client = auth_services.browser_client()
    key = auth_services.badge_key(services.secret_hash(secret or ""))
    result = auth_services.check_badge(
        scanned.learner, key, scanned.problem in (None, "inactive"), client
    )
    if result.user:
        return complete_sign_in(result.user, None, client)
    db.session.commit()  # the failure is part of the outcome
    problem = scanned.problem or "unknown"
    message = refused_message(result, _PROBLEMS[problem]())
    return render_invalid("badges/scan.html", form=BadgeSignInForm(formdata=None), problem=message)
