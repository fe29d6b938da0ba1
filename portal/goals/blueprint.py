"""The goals blueprint, on its own: each route module registers on it, none imports another's
routes, so there is no import cycle (`routes` imports them all, for the app factory)."""

from flask import Blueprint

bp = Blueprint("goals", __name__)
