"""Waypoint: learner-driven mastery goals, progress and profiles."""

from __future__ import annotations

import os

from flask import Flask

from portal import models  # noqa: F401  (register every table before anything uses them)
from portal.auth import sessions
from portal.auth.routes import bp as auth_bp
from portal.backup.cli import backup_cli
from portal.badges.routes import bp as badges_bp
from portal.conferences.routes import bp as conferences_bp
from portal.core import assets, errors, inputs, security
from portal.core import config as config_module
from portal.core.database import init_engine
from portal.core.extensions import babel, csrf, db, htmx, login_manager, migrate
from portal.core.i18n import install_template_gettext, select_locale
from portal.core.jobs import jobs_cli
from portal.demo.command import demo_command
from portal.family.routes import bp as family_bp
from portal.goals.routes import bp as goals_bp
from portal.home.routes import bp as home_bp
from portal.insights.cli import insights_cli
from portal.insights.routes import bp as insights_bp
from portal.jobs.routes import bp as jobs_bp
from portal.policy import templating
from portal.profiles.routes import bp as profiles_bp
from portal.progress.routes import bp as progress_bp
from portal.records import (
    deletion_cli,  # noqa: F401 (registers `records delete`)
    export_cli,  # noqa: F401 (registers `records export`)
)
from portal.records.cli import records_cli
from portal.records.deletion_routes import bp as records_deletion_bp
from portal.records.export_routes import bp as record_export_bp
from portal.reports.routes import bp as reports_bp
from portal.rights.routes import bp as rights_bp
from portal.roster.routes import bp as roster_bp
from portal.rostering import jobs as rostering_jobs  # noqa: F401 (registers the job kinds)
from portal.rostering.cli import roster_cli
from portal.rostering.routes import bp as rostering_bp
from portal.sso.admin import bp as sso_admin_bp
from portal.sso.cli import sso_cli
from portal.sso.routes import bp as sso_bp
from portal.targets.cli import targets_cli
from portal.targets.routes import bp as targets_bp


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, security and CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(config_module.load(app.instance_path))
    if config:
        app.config.update(config)
        if "MAX_UPLOAD_MB" in config and "MAX_CONTENT_LENGTH" not in config:
            app.config["MAX_CONTENT_LENGTH"] = config_module.request_limit(config["MAX_UPLOAD_MB"])
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        config_module.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
    )

    inputs.init_app(app)  # URL converters first: rules take theirs when they are added
    db.init_app(app)
    init_engine(app)
    migrate.init_app(
        app, db, directory=os.path.normpath(os.path.join(app.root_path, "..", "migrations"))
    )
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    login_manager.init_app(app)

    sessions.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    assets.init_app(app)  # WhiteNoise in front of the app for /static
    _register_blueprints(app)
    _register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    for bp in (
        auth_bp,
        home_bp,
        roster_bp,
        targets_bp,
        goals_bp,
        progress_bp,
        profiles_bp,
        family_bp,
        conferences_bp,
        jobs_bp,
        rostering_bp,
        record_export_bp,
        rights_bp,
        reports_bp,
        sso_bp,
        sso_admin_bp,
        records_deletion_bp,
        insights_bp,
        badges_bp,
    ):
        app.register_blueprint(bp)


def _register_commands(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(targets_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(roster_cli)
    app.cli.add_command(records_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(sso_cli)
    app.cli.add_command(insights_cli)
