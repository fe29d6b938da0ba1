"""Each role's home page, filled with that person's real data."""

from flask import Blueprint
from flask_login import current_user

from portal.auth.models import Role
from portal.conferences import services as conference_services
from portal.core import stamps
from portal.core.web import render, render_cached
from portal.family import cards as family_cards
from portal.policy import Action, can, family_view, load_class, load_learner, roles
from portal.roster import queries

bp = Blueprint("home", __name__)


@bp.route("/")
@roles()
def index():
    """Show the signed-in person's home page for their role."""
    from portal.family.routes import family_home

    return {
        Role.LEARNER: _learner_home,
        Role.TEACHER: _teacher_home,
        Role.GUARDIAN: family_home,
        Role.SCHOOL_ADMIN: _admin_home,
        Role.DISTRICT_ADMIN: _admin_home,
    }[current_user.role]()


def _learner_home():
    """The learner's home comes from the fragment cache while their record is unchanged."""
    key = ("learner-home", current_user.id, *stamps.learner_stamp(current_user.id))
    return render_cached("home/learner.html", key, _learner_context)


def _learner_context() -> dict:
    from portal.goals.queries import home_goals
    from portal.progress.tracker import learner_trackers

    return {
        "classes": queries.classes_of_learner(current_user.id),
        "home_goals": home_goals(current_user.id),
        "home_trackers": learner_trackers(current_user),
        "cheers_card": family_cards.learner_cheers(current_user),
    }


def _teacher_home():
    return render("home/teacher.html", classes=queries.classes_taught_by(current_user))


def _admin_home():
    return render("home/admin.html", schools=queries.schools_managed_by(current_user))


@bp.route("/classes/<int:class_id>")
@roles(Role.TEACHER, Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)
def class_view(class_id: int):
    """Show one class and its learners."""
    school_class = load_class(class_id)
    return render(
        "home/class.html",
        school_class=school_class,
        learners=queries.learners_in_class(class_id),
        teachers=queries.teachers_of_class(class_id),
    )


@bp.route("/learners/<int:learner_id>")
@roles()
def learner(learner_id: int):
    """Show one learner's overview to someone who may see them."""
    person = load_learner(learner_id, record="overview")
    family = {}
    if family_view(person):  # the family cards of the overview
        family = {
            "shared_sections": family_cards.shared_sections(person),
            "family_conferences": family_cards.family_conferences(
                person,
                may_acknowledge=can(Action.ACKNOWLEDGE, person),
                may_mark=conference_services.may_mark(person),
            ),
        }
    return render(
        "home/learner_overview.html",
        learner=person,
        classes=queries.classes_of_learner(person.id),
        **family,
    )
