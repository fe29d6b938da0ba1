"""`flask --app portal insights export`: the insights CSV on the command line.

    flask --app portal insights export --district-id N [--school-id N]
        [--by school|grade|class|teacher|group|<breakdown>] [--as-of YYYY-MM-DD]
    flask --app portal insights refresh --district-id N

Prints exactly what the pages' CSV export gives: suppression applied. `--by group` prints
every group breakdown (sex, race, ethnicity, programs) one after another.
"""

from __future__ import annotations

from datetime import datetime, time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.core.extensions import db
from portal.roster.models import Org, OrgType

from .compute import BREAKDOWNS, GROUP_BREAKDOWNS, measure_table
from .export import tables_csv
from .scope import Scope
from .snapshots import refresh
from .suppression import MinCellError

insights_cli = AppGroup("insights", help="Insights for leaders: protected aggregates.")


@insights_cli.command("export")
@click.option("--district-id", type=int, required=True, help="The district.")
@click.option("--school-id", type=int, help="One school of the district (default: all).")
@click.option(
    "--by",
    type=click.Choice(["group", *BREAKDOWNS]),
    help="One row per group of this breakdown (default: the total only).",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The numbers as they stood at the end of this day (UTC).",
)
def export_command(district_id: int, school_id: int | None, by: str | None, as_of) -> None:
    """Print an insights table as CSV, small groups protected."""
    district = db.session.get(Org, district_id)
    if district is None or district.type is not OrgType.DISTRICT:
        raise click.BadParameter(
            f"there is no district with id {district_id}", param_hint="--district-id"
        )
    if (
        school_id is not None
        and db.session.scalar(
            select(Org.id).where(Org.id == school_id, Org.parent_id == district_id)
        )
        is None
    ):
        raise click.BadParameter(
            f"there is no school with id {school_id} in district {district_id}",
            param_hint="--school-id",
        )
    scope = Scope(district_id, (school_id,) if school_id is not None else None)
    when = datetime.combine(as_of.date(), time.max) if as_of is not None else None
    kinds = sorted(GROUP_BREAKDOWNS, key=BREAKDOWNS.index) if by == "group" else [by]
    try:
        tables = [measure_table(scope, by=kind, as_of=when) for kind in kinds]
    except MinCellError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tables_csv(tables), nl=False)


@insights_cli.command("refresh")
@click.option("--district-id", type=int, required=True, help="The district.")
def refresh_command(district_id: int) -> None:
    """Recompute the district's precomputed facts now (the worker does it nightly)."""
    district = db.session.get(Org, district_id)
    if district is None or district.type is not OrgType.DISTRICT:
        raise click.BadParameter(
            f"there is no district with id {district_id}", param_hint="--district-id"
        )
    result = refresh(district_id, commit=db.session.commit)
    db.session.commit()
    click.echo(f"Wrote {result['snapshots']} snapshot(s) for district {district_id}.")
