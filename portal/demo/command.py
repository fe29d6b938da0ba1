"""`flask --app portal demo`: seed the demo district, once."""

from __future__ import annotations

import importlib
import importlib.util
import os
import random
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from portal.auth.models import User
from portal.auth.passwords import hash_secret
from portal.core.extensions import db
from portal.demo.district import (
    DISTRICT_SOURCE_ID,
    PASSWORD,
    PIN,
    YOUNG_CLASS_CODE,
    Demo,
    DistrictBuilder,
)
from portal.roster.models import Org

# Features add their demo rows in this order: goals need targets, progress needs goals.
FEATURE_SEEDERS = [
    "targets",
    "goals",
    "progress",
    "profiles",
    "conferences",
    "family",
    "rights",
    "insights",
]

SIGN_INS = [
    ("Learner (grade 7)", "maya.johnson", PASSWORD),
    ("Young learner (grade 3)", f"class code {YOUNG_CLASS_CODE}, pick Leo M.", f"PIN {PIN}"),
    ("Teacher", "ms.rivera", PASSWORD),
    ("Family (two children, Spanish)", "ana.garcia", PASSWORD),
    ("School admin", "principal.okafor", PASSWORD),
    ("District admin", "supt.lindqvist", PASSWORD),
    ("PL specialist (both schools)", "pl.moreno", PASSWORD),
]


def seed(rng_seed: int = 2026) -> Demo:
    """Build the whole demo district in the current session; the caller commits."""
    # The demo accounts share one password, so one (slow, salted) hash serves them all.
    demo = Demo(
        session=db.session, rng=random.Random(rng_seed), password_hash=hash_secret(PASSWORD)
    )
    builder = DistrictBuilder(demo)
    builder.orgs()
    teachers = builder.staff()
    by_grade = builder.learners(pin_hash=hash_secret(PIN))
    builder.classes(teachers, by_grade)
    builder.families()
    for feature in FEATURE_SEEDERS:
        module_name = f"portal.{feature}.demo"
        if _exists(module_name):
            importlib.import_module(module_name).seed(demo)
            db.session.flush()
    return demo


def _exists(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # the feature package itself is not there
        return False


def already_seeded() -> bool:
    return db.session.scalar(select(Org.id).where(Org.source_id == DISTRICT_SOURCE_ID)) is not None


def sign_in_url() -> str:
    """Where `make run` serves the sign-in page: its HOST and PORT (the Makefile passes them)."""
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # noqa: S104 (only shown: every interface answers locally)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT') or 5000}/signin"


def print_sign_ins() -> None:
    click.echo(f"Demo sign-ins ({sign_in_url()}):")
    for role, login, secret in SIGN_INS:
        click.echo(f"  {role:<32} {login:<40} {secret}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no users at all.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Seed the demo district (idempotent) and print the demo sign-ins."""
    if already_seeded():
        click.echo("The demo district is already there.")
        print_sign_ins()
        return
    if if_empty and db.session.scalar(select(func.count(User.id))):
        click.echo("The database has users of its own: not seeding the demo.")
        return
    started = time.perf_counter()
    demo = seed()
    db.session.commit()
    click.echo(
        f"Seeded {demo.district.name}: {len(demo.schools)} schools, {len(demo.teachers)} "
        f"teachers, {len(demo.classes)} classes, {len(demo.learners)} learners, "
        f"{len(demo.guardians)} guardians in {time.perf_counter() - started:.1f} s "
        f"({current_app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})."
    )
    print_sign_ins()
