"""`flask --app portal records export --learner-id N OUT.zip`: the same zip as the download.

For a records request answered outside the portal (or a district's own tooling). The
printable copy is in `--language` (English unless told); nothing is logged in the
portal's access log, since no signed-in person asked: whoever runs it answers for it.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.records.cli import records_cli
from portal.records.export import write_zip


@records_cli.command("export")
@click.option("--learner-id", type=int, required=True, help="The learner's id in the portal.")
@click.option(
    "--language",
    type=click.Choice(["en", "es"]),
    default="en",
    show_default=True,
    help="The language of record.pdf.",
)
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_command(learner_id: int, language: str, out: Path) -> None:
    """Write a learner's whole record (record.json, record.pdf, evidence/) to OUT.zip."""
    learner = db.session.get(User, learner_id)
    if learner is None or learner.role is not Role.LEARNER:
        raise click.ClickException(f"No learner has the id {learner_id}.")
    if out.exists() and out.is_dir():
        raise click.ClickException(f"{out} is a folder; give the path of the zip to write.")
    if not out.parent.is_dir():
        raise click.ClickException(f"The folder {out.parent} does not exist.")
    learner_id = learner.id
    db.session.rollback()  # nothing to write: let go of SQLite's write lock before the work
    with force_locale(language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        summary = write_zip(out, learner_id, None)
    click.echo(
        f"Wrote the record of learner {learner_id} to {out}: {summary['bytes']} bytes, "
        f"{summary['evidence_files']} evidence file(s)."
    )
