"""`flask --app portal backup ...`: back up and restore the portal's database and uploads.

    flask --app portal backup create PATH             # PATH: a new directory
    flask --app portal backup verify PATH             # checks a copy (sizes, sha256, format)
    flask --app portal backup restore PATH [--force]  # into the configured database

Exit codes: 0 done; 1 refused or failed (a damaged or mismatched backup, a target that is
not empty without --force): the message says why, and nothing was changed.
Stop the portal (and the job worker) before `restore`; `create` runs while it serves.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from portal.backup import service
from portal.backup.archive import BackupRefused

backup_cli = AppGroup("backup", help="Back up and restore the database and the uploads.")

PATH = click.Path(path_type=Path, file_okay=False)


TROUBLE = (DBAPIError, sqlite3.Error, OSError)


def _trouble(error: Exception) -> click.ClickException:
    """A database or file error as a message: the likely cause, not a traceback."""
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    hint = ""
    if "locked" in detail:
        hint = " The database is in use: stop the portal and the job worker, then try again."
    return click.ClickException(f"Could not finish: {detail}.{hint}")


@contextmanager
def _failing_with_a_message():
    """A refusal, or a database or file error, ends the command with its message (exit 1)."""
    try:
        yield
    except BackupRefused as error:
        raise click.ClickException(str(error)) from None
    except TROUBLE as error:
        raise _trouble(error) from None


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


@backup_cli.command("create")
@click.argument("path", type=PATH)
def create_command(path: Path) -> None:
    """Write a backup into the new directory PATH while the portal keeps serving."""
    with _failing_with_a_message():
        done = service.create(path)
    manifest = done.manifest
    click.echo(
        f"Backed up the {manifest.backend} database (revision "
        f"{manifest.alembic_revision or 'not stamped'}) and "
        f"{len(manifest.files) - 1} uploaded files to {done.path}: "
        f"{_mb(done.bytes)} in {done.seconds:.1f} s."
    )


@backup_cli.command("verify")
@click.argument("path", type=PATH)
def verify_command(path: Path) -> None:
    """Check that the backup at PATH is whole and fits this portal; change nothing."""
    with _failing_with_a_message():
        manifest = service.check(path)
    click.echo(
        f"The backup at {path} is whole: {len(manifest.files)} files, {manifest.backend}, "
        f"revision {manifest.alembic_revision or 'not stamped'}, made {manifest.created_at}."
    )


@backup_cli.command("restore")
@click.argument("path", type=PATH)
@click.option("--force", is_flag=True, help="Replace a database or upload folder that has data.")
def restore_command(path: Path, force: bool) -> None:
    """Restore the backup at PATH into the configured database and upload folder."""
    with _failing_with_a_message():
        done = service.restore(path, force=force)
    manifest = done.manifest
    click.echo(
        f"Restored the backup made {manifest.created_at} ({manifest.backend}, "
        f"{len(manifest.files) - 1} uploaded files) in {done.seconds:.1f} s."
    )
    if done.upgraded_from:
        click.echo(f"Upgraded the database from revision {done.upgraded_from} to this code's.")
    if manifest.alembic_revision is None:
        click.echo("The backup's database was never stamped by Alembic: no upgrade was run.")
    if done.failed_jobs:
        click.echo(f"{done.failed_jobs} jobs queued or running at backup time marked failed.")
