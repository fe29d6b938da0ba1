"""Routes of the targets feature."""

from flask import Blueprint

bp = Blueprint("targets", __name__)
