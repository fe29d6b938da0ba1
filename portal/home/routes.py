"""Each role's home page, filled with that person's real data.

Every page here gathers what it shows in its route (the card functions of each feature:
`goals.queries`, `progress.tracker`, `conferences.cards`, `profiles.cards`) and hands
the template plain data: no template asks the database.
"""

from flask import Blueprint
from flask_login import current_user

from portal import school_settings
from portal.auth.models import Role
from portal.conferences import cards as conference_cards
from portal.conferences import cycles as conference_cycles
from portal.conferences import notes as conference_notes
from portal.conferences import scheduling as conference_scheduling
from portal.core.stamps import site_stamp_column
from portal.core.web import render
from portal.family import cards as family_cards
from portal.family.routes import family_home
from portal.goals.models import GoalStatus
from portal.goals.queries import home_goals, home_goals_query
from portal.policy import (
    Action,
    assigned_schools,
    can,
    family_view,
    load_class,
    load_learner,
    roles,
)
from portal.profiles import cards as profile_cards
from portal.progress.tracker import trackers_for
from portal.roster import queries

bp = Blueprint("home", __name__)
HOME_GOALS = 6  # goal cards on the learner home; every active goal has its tracker
# The home's goals with when each one's conference cycle started: built once per process.
_HOME_GOALS_QUERY = home_goals_query(conference_cycles.cycle_start())
# The conference card's state with the site change stamp: built once per process.
_CARD_QUERY = conference_scheduling.learner_card_query(site_stamp_column())


@bp.route("/")
@roles()
def index():
    """Show the signed-in person's home page for their role."""
    return {
        Role.LEARNER: _learner_home,
        Role.TEACHER: _teacher_home,
        Role.GUARDIAN: family_home,
        Role.SCHOOL_ADMIN: _admin_home,
        Role.DISTRICT_ADMIN: _admin_home,
        Role.PL_SPECIALIST: _specialist_home,
    }[current_user.role]()


def _learner_home():
    return render("home/learner.html", **_learner_context())


def _learner_context() -> dict:
    """Everything the learner home shows, gathered before it renders.

    The goals are read once: every open goal, in the home's order, with its content,
    progress summary and when its conference cycle started. The first few are the goal
    cards; each active one, oldest first, has a tracker (the order
    `progress.tracker.learner_trackers` gives) and may be due for reflection. The
    conference card's next meeting and open request come in one statement that also reads
    the site change stamp, under which the school's settings (scale, progress method,
    conference cycle, extra profile sections) usually need no query: `school_settings`.
    """
    learner = current_user
    open_goals, summaries, extra = home_goals(learner.id, query=_HOME_GOALS_QUERY)
    active = sorted(
        (g for g in open_goals if g.status is GoalStatus.ACTIVE), key=lambda g: (g.created_at, g.id)
    )
    card = conference_scheduling.learner_card_state(learner.id, query=_CARD_QUERY)
    (stamp,) = card.extra
    stamp = stamp or 0
    settings = school_settings.for_schools({learner.org_id}, stamp).get(learner.org_id)
    return {
        "classes": queries.classes_of_learner(learner.id),
        "home_goals": open_goals[:HOME_GOALS],
        "home_trackers": trackers_for(
            active, {learner.id: learner.org_id}, summaries=summaries, site_stamp=stamp
        ),
        "conference_card": conference_cards.conference_home(
            learner,
            active,
            card,
            started={goal_id: values[0] for goal_id, values in extra.items()},
            cycle_days=settings.cycle_days if settings else None,
        ),
        "profile_summary": profile_cards.profile_summary(
            learner, settings.section_specs if settings else ()
        ),
        "cheers_card": family_cards.learner_cheers(learner),
    }


def _teacher_home():
    return render(
        "home/teacher.html",
        classes=queries.classes_taught_by(current_user),
        upcoming_conferences=conference_cards.upcoming_conferences(current_user),
    )


def _admin_home():
    return render("home/admin.html", schools=queries.schools_managed_by(current_user))


def _specialist_home():
    return render("home/pl_specialist.html", schools=assigned_schools(current_user))


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
        review_requests=profile_cards.review_requests_for_class(class_id, current_user),
    )


@bp.route("/learners/<int:learner_id>")
@roles()
def learner(learner_id: int):
    """Show one learner's overview to someone who may see them."""
    person = load_learner(learner_id, record="overview")
    staff_view = can(Action.VIEW_STAFF_ONLY, person)
    family = {}
    if family_view(person):  # the family cards of the overview
        family = {
            "shared_sections": family_cards.shared_sections(person),
            "family_conferences": family_cards.family_conferences(
                person,
                may_acknowledge=can(Action.ACKNOWLEDGE, person),
                may_mark=conference_notes.may_mark(person),
            ),
        }
    return render(
        "home/learner_overview.html",
        learner=person,
        classes=queries.classes_of_learner(person.id),
        profile_summary=profile_cards.profile_summary(person) if staff_view else None,
        **family,
    )
