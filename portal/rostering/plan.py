"""The dry run: what importing a OneRoster package would do, entity by entity.

    with read_package(path, existing=existing_ids()) as package:
        plan = plan_import(package, scope=district)
    plan.ok, plan.entities["learners"].counts["new"], plan.warnings, plan.fingerprint

Nothing is written. `apply_import` re-reads the file, plans again and refuses when the
fingerprint differs from the one the admin confirmed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from portal.auth.models import User
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.oneroster import Package, RosterError
from portal.roster.models import Org, SchoolClass, Term
from portal.rostering.engine import (
    DEACTIVATED,
    ENTITIES,
    OUTCOMES,
    PEOPLE,
    ProgressFn,
    Run,
    Sample,
)

ERROR_COLUMNS = ("file", "row", "column", "value", "message")


@dataclass
class EntityPlan:
    """Counts per outcome (new, changed, unchanged, deactivated, reactivated, matched,
    kept) and samples of each: Sample(key, label, changes ["email: a@x -> b@x"])."""

    counts: dict[str, int]
    samples: dict[str, list[Sample]]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict:
        return {
            "counts": dict(self.counts),
            "samples": {k: [s.as_dict() for s in v] for k, v in self.samples.items() if v},
        }


@dataclass
class ImportPlan:
    file_name: str
    sha256: str
    version: str | None
    modes: dict[str, str]  # {"users": "bulk", ...} for each file read
    entities: dict[str, EntityPlan]  # ENTITIES, people by the role they get
    errors: list[RosterError]  # the reader's and the plan's, first 200 of each
    error_count: int
    warnings: list[str]  # every warning, the header-drift report first
    header_drift: dict[str, list[str]]  # file -> ["sourceID read as sourcedId", ...]
    unused_files: list[str]
    deactivation_share: dict[str, float]  # people kind -> share of its active people
    needs_second_confirmation: bool
    guard: float
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def matched(self) -> list[Sample]:
        """People typed in by hand before the first import that this file adopts."""
        return [s for kind in PEOPLE.values() for s in self.entities[kind].samples["matched"]]

    def counts_json(self) -> dict:
        return {
            "entities": {name: dict(plan.counts) for name, plan in self.entities.items()},
            "deactivation_share": self.deactivation_share,
            "needs_second_confirmation": self.needs_second_confirmation,
            "errors": self.error_count,
            "warnings": len(self.warnings),
        }

    def as_dict(self) -> dict:
        """The whole plan as JSON (a job's result, the history row)."""
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "version": self.version,
            "modes": self.modes,
            "entities": {name: plan.as_dict() for name, plan in self.entities.items()},
            "errors": [self._row(e) for e in self.errors],
            "error_count": self.error_count,
            "warnings": self.warnings,
            "header_drift": self.header_drift,
            "unused_files": self.unused_files,
            "deactivation_share": self.deactivation_share,
            "needs_second_confirmation": self.needs_second_confirmation,
            "guard": self.guard,
            "fingerprint": self.fingerprint,
            "notes": self.notes,
        }

    def errors_csv(self) -> str:
        """Every row error as CSV (file,row,column,value,message) for the SIS team."""
        out = io.StringIO()
        writer = csv.DictWriter(out, ERROR_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for error in self.errors:
            writer.writerow(self._row(error))
        return out.getvalue()

    @staticmethod
    def _row(error: RosterError) -> dict:
        return {
            "file": error.file,
            "row": "" if error.row is None else str(error.row),
            "column": error.column or "",
            "value": error.value or "",
            "message": say(error.message),
        }

    def summary(self) -> list[str]:
        """Lines for the CLI: per entity what would happen, then warnings and errors."""
        lines = []
        for name, plan in self.entities.items():
            if plan.total:
                parts = ", ".join(f"{plan.counts[o]} {o}" for o in OUTCOMES if plan.counts[o])
                lines.append(f"{name}: {parts}")
        lines.extend(str(n) for n in self.notes)
        lines.extend(self.warnings)
        lines.extend(say(e) for e in self.errors)
        return lines


def say(message) -> str:
    """A lazy message as text: in the request's (or the job's forced) language, else in
    the default language (a CLI command or a script has no request to choose one)."""
    try:
        return str(message)
    except RuntimeError:  # outside a request, no locale forced: the selector needs one
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            return str(message)


def file_sha256(path: str | Path) -> str:
    """sha256 of a zip, or of a folder's CSV files (names and contents, in name order)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


class KnownIds:
    """The sourcedIds of one table, as a container the reader asks `value in ids`.

    The reader asks only about references into a file that is delta or absent (those
    into a bulk file are checked against the file), so a bulk re-import asks nothing and
    a 500-row delta asks a few hundred times: each answer is one indexed query, cached.
    Past `LOAD_ALL` questions the whole column is read once instead."""

    LOAD_ALL = 2000

    def __init__(self, column):
        self.column = column
        self.known: dict[str, bool] = {}
        self.everything: set[str] | None = None

    def __contains__(self, value) -> bool:
        if self.everything is not None:
            return value in self.everything
        found = self.known.get(value)
        if found is None:
            if len(self.known) >= self.LOAD_ALL:
                self.everything = set(
                    db.session.scalars(select(self.column).where(self.column.is_not(None)))
                )
                return value in self.everything
            found = self.known[value] = (
                db.session.scalar(select(self.column).where(self.column == value).limit(1))
                is not None
            )
        return found


def existing_ids(scope: Org | None = None) -> dict[str, KnownIds]:
    """sourcedIds Waypoint already has, for the reader's checks of delta references."""
    return {
        "orgs": KnownIds(Org.source_id),
        "academicSessions": KnownIds(Term.source_id),
        "classes": KnownIds(SchoolClass.source_id),
        "users": KnownIds(User.source_id),
    }


def plan_import(
    package: Package,
    *,
    scope: Org,
    sha256: str = "",
    file_name: str = "",
    progress: ProgressFn | None = None,
) -> ImportPlan:
    """Compare the package with the database and say what importing it would do."""
    run = Run(package, scope, samples=current_app.config["ROSTER_SAMPLES"], progress=progress)
    if package.ok:
        run.run()
    return build_plan(run, sha256=sha256, file_name=file_name)


def build_plan(run: Run, *, sha256: str, file_name: str) -> ImportPlan:
    package = run.package
    guard = float(current_app.config["ROSTER_DEACTIVATION_GUARD"])
    entities = {
        name: EntityPlan(dict(run.tallies[name].counts), dict(run.tallies[name].samples))
        for name in ENTITIES
    }
    for plan in entities.values():
        for outcome in OUTCOMES:
            plan.samples.setdefault(outcome, [])
    share = {}
    for kind in PEOPLE.values():
        active = run.active_before[kind]
        share[kind] = entities[kind].counts[DEACTIVATED] / active if active else 0.0
    needs_second = package.mode("users") == "bulk" and any(v > guard for v in share.values())
    drift = {}
    for entity, header in package.headers.items():
        if header.drifted:
            drift[f"{entity}.csv"] = [
                f"{c.header} -> {c.field or '—'} ({c.how})"
                for c in header.columns
                if c.how != "exact"
            ]
    warnings = [
        say(_l("%(file)s: header drift: %(columns)s", file=f, columns="; ".join(cols)))
        for f, cols in drift.items()
    ]
    warnings += [say(w) for w in package.warnings] + [say(w) for w in run.problems.warnings]
    notes = []
    new_people = sum(entities[k].counts["new"] for k in PEOPLE.values())
    if new_people:
        notes.append(
            _l(
                "%(n)d new people get no password and no PIN: they cannot sign in until "
                "single sign-on is set up or an admin sets one.",
                n=new_people,
            )
        )
    plan = ImportPlan(
        file_name=file_name,
        sha256=sha256,
        version=package.version,
        modes={e: package.mode(e) for e in package.used()},
        entities=entities,
        errors=list(package.errors) + list(run.problems.errors),
        error_count=package.error_count + run.problems.error_count,
        warnings=warnings,
        header_drift=drift,
        unused_files=list(package.unused_files),
        deactivation_share=share,
        needs_second_confirmation=needs_second,
        guard=guard,
        notes=[say(n) for n in notes],
    )
    plan.fingerprint = fingerprint(plan, run.scope.id)
    return plan


def fingerprint(plan: ImportPlan, scope_id: int) -> str:
    """The file and what it would do: confirming a dry run confirms exactly this."""
    body = json.dumps(
        {"sha256": plan.sha256, "scope": scope_id, "counts": plan.counts_json()},
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()
