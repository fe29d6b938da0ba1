"""`flask --app portal records delete --learner-id N [--yes --reference TEXT]`.

Without `--yes` it lists what would be deleted (counts per kind) and deletes nothing.
With `--yes` (and the request's `--reference`, required) it deletes the record in one
transaction, removes the files after the commit, and prints the receipt's counts and the
tombstone's number; it lays out the PDF receipt too (kept with the tombstone, where an
admin of the school downloads it; `--receipt PATH` also writes it to a file).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.records import deletion
from portal.records.cli import records_cli
from portal.records.deletion_receipt import render_receipt
from portal.records.tombstone import RecordDeletion


def _print_counts(counts: dict[str, int]) -> None:
    for kind, n in counts.items():
        click.echo(f"  {deletion.kind_label(kind)} ({kind}): {n}")


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


@records_cli.command("delete")
@click.option("--learner-id", type=int, required=True, help="The learner's Waypoint id.")
@click.option("--yes", is_flag=True, help="Delete for real (otherwise only list).")
@click.option(
    "--reference",
    default="",
    help='The records request\'s reference, e.g. "Records request 2026-114" (required with --yes).',
)
@click.option(
    "--receipt",
    "receipt_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the disposal receipt (PDF) to this file (with --yes).",
)
@with_appcontext
def delete_command(learner_id: int, yes: bool, reference: str, receipt_path: str | None) -> None:
    """List, or with --yes delete, everything about one learner."""
    learner = db.session.get(User, learner_id)
    if learner is None:
        raise click.ClickException(f"No user has id {learner_id}.")
    try:
        if not yes:
            found = deletion.plan(learner)
            click.echo(
                f"Would delete the record of learner {learner.id} "
                f"({found.total} rows, {len(found.file_keys)} files):"
            )
            _print_counts(found.counts())
            click.echo("Nothing was deleted. Run again with --yes --reference TEXT to delete.")
            return
        tombstone = deletion.delete_record(
            learner,
            reference=reference,
            actor=None,
            actor_name=f"command line ({_system_user()})",
        )
    except deletion.DeletionRefused as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    counts, number = dict(tombstone.counts), tombstone.id
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(
            "Something was written to this record while it was being deleted, so nothing "
            "was deleted. Run the command again."
        ) from None
    click.echo(f"Deleted the record of learner {learner_id}: receipt number {number}.")
    _print_counts(counts)
    tombstone = db.session.get(RecordDeletion, number)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        tombstone.receipt_pdf = render_receipt(tombstone)
    tombstone.receipt_made_at = utcnow()
    db.session.commit()
    if receipt_path:
        Path(receipt_path).write_bytes(tombstone.receipt_pdf)
        click.echo(f"Receipt written to {receipt_path}.")
