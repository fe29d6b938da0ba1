"""`flask --app portal targets import-case FILE --org-id N`: import a CASE package."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.core.extensions import db
from portal.roster.models import Org
from portal.targets.case_import import CaseImportError, import_case

targets_cli = click.Group("targets", help="Learning targets and frameworks.")


@targets_cli.command("import-case")
@click.argument("file", type=click.File("rb"))
@click.option("--org-id", type=int, required=True, help="The district or school that owns it.")
@with_appcontext
def import_case_command(file, org_id: int) -> None:
    """Import (or update) a 1EdTech CASE CFPackage JSON file as a framework."""
    if db.session.get(Org, org_id) is None:
        raise click.BadParameter(f"there is no org with id {org_id}", param_hint="--org-id")
    try:
        summary = import_case(file.read(), org_id)
    except CaseImportError as exc:
        db.session.rollback()
        click.echo("Nothing was imported:", err=True)
        for message in exc.errors:
            click.echo(f"  - {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    verb = "Created" if summary.framework_created else "Updated"
    click.echo(
        f"{verb} framework “{summary.framework.title}” (id {summary.framework.id}): "
        f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged "
        f"({summary.groups} groups, {summary.targets} targets)."
    )
