"""Routes of the goals feature."""

from flask import Blueprint

bp = Blueprint("goals", __name__)
