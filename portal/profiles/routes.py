"""Routes of the profiles feature."""

from flask import Blueprint

bp = Blueprint("profiles", __name__)
