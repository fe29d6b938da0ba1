"""School administration of classes, people, enrollments and guardian links."""

from flask import Blueprint

from portal.auth.models import Role
from portal.policy import roles
from portal.web import render

bp = Blueprint("roster", __name__, url_prefix="/admin")
ADMIN = (Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)


@bp.route("/people")
@roles(*ADMIN)
def people():
    """List the people of the admin's schools."""
    return render("roster/people.html")


@bp.route("/people/new")
@roles(*ADMIN)
def new_person():
    """Add a person."""
    return render("roster/people.html")


@bp.route("/classes")
@roles(*ADMIN)
def classes():
    """List classes."""
    return render("roster/people.html")


@bp.route("/classes/new")
@roles(*ADMIN)
def new_class():
    """Add a class."""
    return render("roster/people.html")
