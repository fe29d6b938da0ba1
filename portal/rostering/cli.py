"""`flask --app portal roster ...`: import OneRoster files from the command line or a drop folder.

    flask --app portal roster import PATH [--dry-run] [--district-id N | --school-id N] [--yes]
    flask --app portal roster import --watch DIR [--once] [--settle S] [--interval S] ...
    flask --app portal roster history [--limit N]

PATH is a OneRoster zip or a folder of its CSV files. The command prints what the file
does per entity (created, updated, unchanged, deactivated, ...) and every warning and
error. Exit codes: 0 done (or a clean dry run), 1 the file has errors or the import
failed (nothing was written), 3 a bulk file would deactivate more than
ROSTER_DEACTIVATION_GUARD of a kind of people and --yes was not given (nothing written).

`--watch DIR` is the nightly SFTP drop folder: each *.zip in DIR (oldest first) is
imported and then moved to DIR/done or DIR/failed, beside a .log of its summary. A file
modified in the last --settle seconds may still be arriving and waits for the next pass.
`--once` processes what is there and exits (for cron); without it the folder is checked
every --interval seconds until Ctrl-C. Only one watcher works on a folder at a time.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.roster.models import Org, OrgType
from portal.rostering.apply import ImportRefused, apply_import, dry_run
from portal.rostering.engine import OUTCOMES
from portal.rostering.models import RosterImport
from portal.rostering.plan import ImportPlan, say

roster_cli = AppGroup("roster", help="Rostering from the SIS: OneRoster CSV imports.")

OK, FILE_ERRORS, GUARD = 0, 1, 3
# The CLI's words for the plan's outcomes (the issue's: created, updated, ...).
OUTCOME_WORDS = {
    "new": "created",
    "changed": "updated",
    "unchanged": "unchanged",
    "deactivated": "deactivated",
    "reactivated": "reactivated",
    "matched": "matched",
    "kept": "kept",
}
DONE_DIR, FAILED_DIR, LOCK_FILE = "done", "failed", ".roster-watch.lock"


@dataclass
class Outcome:
    code: int
    lines: list[str] = field(default_factory=list)
    import_id: int | None = None


def summary_lines(plan: ImportPlan, *, applied: bool) -> list[str]:
    """Per entity what the file does (did), then notes, warnings and errors."""
    verb = "" if applied else "would be "
    lines = [f"{plan.file_name}: OneRoster {plan.version or '?'}, " + _modes(plan)]
    width = max(len(name) for name in plan.entities)
    for name, entity in plan.entities.items():
        if not entity.total:
            continue
        parts = ", ".join(
            f"{entity.counts[o]} {verb if o != 'unchanged' else ''}{OUTCOME_WORDS[o]}"
            for o in OUTCOMES
            if entity.counts[o]
        )
        lines.append(f"  {name:<{width}}  {parts}")
    lines += [f"note: {n}" for n in plan.notes]
    for kind, share in plan.deactivation_share.items():
        if share > plan.guard:
            lines.append(
                f"guard: {plan.entities[kind].counts['deactivated']} {kind} "
                f"({share:.0%} of the active ones) would be deactivated; the limit without "
                f"--yes is {plan.guard:.0%}"
            )
    if plan.unused_files:
        lines.append("ignored (not used by Waypoint): " + ", ".join(plan.unused_files))
    lines += [f"warning: {w}" for w in plan.warnings]
    lines += [f"error: {say(e)}" for e in plan.errors]
    if plan.error_count > len(plan.errors):
        lines.append(f"... {plan.error_count} errors in all (the history's CSV has those kept)")
    return lines


def _modes(plan: ImportPlan) -> str:
    modes = sorted(set(plan.modes.values()))
    return "/".join(modes) if modes else "no files"


def run_import(path: Path, scope: Org, *, only_dry_run: bool, yes: bool) -> Outcome:
    """Dry-run or apply one file set; what to print and the exit code."""
    if only_dry_run:
        plan, row = dry_run(path, scope=scope, actor=None, file_name=path.name)
        db.session.commit()
        lines = ["Dry run (nothing was written):", *summary_lines(plan, applied=False)]
        if not plan.ok:
            lines.append(f"{plan.error_count} errors: this file cannot be imported.")
            return Outcome(FILE_ERRORS, lines, row.id)
        if plan.needs_second_confirmation:
            lines.append("Importing it needs --yes (the deactivation guard).")
        return Outcome(OK, lines, row.id)
    try:
        result = apply_import(
            path, scope=scope, actor=None, confirmed_guard=yes, file_name=path.name
        )
    except ImportRefused as refused:
        lines = ["Nothing was imported:", f"  {say(refused.message)}"]
        if refused.plan is not None:
            lines += summary_lines(refused.plan, applied=False)
        guard_only = (
            refused.plan is not None
            and refused.plan.ok
            and refused.plan.needs_second_confirmation
            and not yes
        )
        if guard_only:
            lines.append("Look at the counts; if the file is right, run again with --yes.")
        return Outcome(GUARD if guard_only else FILE_ERRORS, lines, refused.import_id)
    lines = [
        f"Imported ({result.written} rows written):",
        *summary_lines(result.plan, applied=True),
    ]
    return Outcome(OK, lines, result.import_id)


def resolve_scope(district_id: int | None, school_id: int | None) -> Org:
    """The district or school the file is for: named, or the only district there is."""
    if district_id is not None and school_id is not None:
        raise click.UsageError("give --district-id or --school-id, not both")
    if school_id is not None:
        school = db.session.get(Org, school_id)
        if school is None or school.type is not OrgType.SCHOOL:
            raise click.BadParameter(
                f"there is no school with id {school_id}", param_hint="--school-id"
            )
        return school
    if district_id is not None:
        district = db.session.get(Org, district_id)
        if district is None or district.type is not OrgType.DISTRICT:
            raise click.BadParameter(
                f"there is no district with id {district_id}", param_hint="--district-id"
            )
        return district
    districts = db.session.scalars(select(Org).where(Org.type == OrgType.DISTRICT)).all()
    if len(districts) != 1:
        names = ", ".join(f"{d.id} {d.name}" for d in districts) or "none yet"
        raise click.UsageError(
            f"name the district with --district-id (districts: {names}); create the first one "
            "by hand (or with `flask --app portal demo`) before its first import"
        )
    return districts[0]


@roster_cli.command("import")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--dry-run", "only_dry_run", is_flag=True, help="Show what it would do; write nothing."
)
@click.option("--district-id", type=int, help="The district the file is for (the whole district).")
@click.option("--school-id", type=int, help="A school: its file may hold only that school.")
@click.option("--yes", is_flag=True, help="Confirm a bulk file over the deactivation guard.")
@click.option(
    "--watch",
    type=click.Path(file_okay=False, path_type=Path),
    help="A drop folder: import each new .zip in it, oldest first.",
)
@click.option("--once", is_flag=True, help="With --watch: process what is there, then exit.")
@click.option(
    "--settle",
    type=float,
    default=30.0,
    show_default=True,
    help="With --watch: seconds a file must be unchanged before it is read.",
)
@click.option(
    "--interval",
    type=float,
    default=60.0,
    show_default=True,
    help="With --watch: seconds between looks at the folder.",
)
@with_appcontext
def import_command(path, only_dry_run, district_id, school_id, yes, watch, once, settle, interval):
    """Import a OneRoster zip or folder (or, with --watch, every zip dropped in a folder)."""
    if (path is None) == (watch is None):
        raise click.UsageError("give PATH, or --watch DIR")
    scope = resolve_scope(district_id, school_id)
    scope_id = scope.id
    if watch is None:
        outcome = run_import(path, scope, only_dry_run=only_dry_run, yes=yes)
        stream_err = outcome.code != OK
        for line in outcome.lines:
            click.echo(line, err=stream_err and line.startswith(("error:", "Nothing")))
        raise SystemExit(outcome.code)
    code = watch_folder(
        watch,
        scope_id,
        only_dry_run=only_dry_run,
        yes=yes,
        once=once,
        settle=settle,
        interval=interval,
    )
    raise SystemExit(code)


# --- The drop folder ------------------------------------------------------------------------


def ready_files(folder: Path, settle: float, now: float | None = None) -> list[Path]:
    """The zips waiting in the folder, oldest first, that nobody is still writing."""
    now = time.time() if now is None else now
    found = []
    for candidate in folder.iterdir():
        if not candidate.is_file() or candidate.suffix.lower() != ".zip":
            continue
        stat = candidate.stat()
        if now - stat.st_mtime >= settle:
            found.append((stat.st_mtime, candidate.name, candidate))
    return [p for _m, _n, p in sorted(found)]


@contextmanager
def folder_lock(folder: Path) -> Iterator[bool]:
    """An exclusive lock on the folder (True), or False if another watcher holds it."""
    with (folder / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_file(file: Path, scope_id: int, *, only_dry_run: bool, yes: bool) -> Outcome:
    """Import one dropped file, then move it to done/ or failed/ beside its .log."""
    scope = db.session.get(Org, scope_id)
    started = datetime.now(UTC)
    try:
        outcome = run_import(file, scope, only_dry_run=only_dry_run, yes=yes)
    except Exception as exc:  # noqa: BLE001 (one bad file must not stop the folder)
        db.session.rollback()
        outcome = Outcome(FILE_ERRORS, [f"Nothing was imported: {type(exc).__name__}: {exc}"])
    db.session.remove()
    target = file.parent / (DONE_DIR if outcome.code == OK else FAILED_DIR)
    target.mkdir(exist_ok=True)
    stem = f"{started:%Y%m%dT%H%M%SZ}-{file.stem}"
    moved = target / f"{stem}{file.suffix}"
    n = 1
    while moved.exists():
        n += 1
        moved = target / f"{stem}-{n}{file.suffix}"
    header = [
        f"file: {file.name}",
        f"read at: {started:%Y-%m-%d %H:%M:%S} UTC",
        f"result: {'ok' if outcome.code == OK else 'failed'} (exit code {outcome.code})",
    ]
    if outcome.import_id is not None:
        header.append(f"import id: {outcome.import_id}")
    moved.with_suffix(".log").write_text("\n".join(header + outcome.lines) + "\n", encoding="utf-8")
    file.rename(moved)
    return outcome


def watch_folder(
    folder: Path,
    scope_id: int,
    *,
    only_dry_run: bool,
    yes: bool,
    once: bool,
    settle: float,
    interval: float,
) -> int:
    """Process the drop folder (once, or until interrupted); non-zero if a file failed."""
    folder.mkdir(parents=True, exist_ok=True)
    worst = OK
    with folder_lock(folder) as locked:
        if not locked:
            click.echo(f"Another watcher is working on {folder}; nothing done.")
            return OK
        try:
            while True:
                for file in ready_files(folder, settle):
                    click.echo(f"{file.name}: reading ...")
                    outcome = process_file(file, scope_id, only_dry_run=only_dry_run, yes=yes)
                    for line in outcome.lines:
                        click.echo(f"  {line}")
                    state = "done" if outcome.code == OK else "failed"
                    click.echo(f"{file.name}: {state} (moved to {state}/)")
                    worst = max(worst, outcome.code)
                if once:
                    return worst
                time.sleep(interval)
        except KeyboardInterrupt:
            return worst


# --- History --------------------------------------------------------------------------------


@roster_cli.command("history")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@with_appcontext
def history_command(limit: int) -> None:
    """List the latest roster imports: when, who, which file, state, counts, errors."""
    rows = db.session.execute(
        select(RosterImport, User.username, Org.name)
        .outerjoin(User, User.id == RosterImport.actor_id)
        .join(Org, Org.id == RosterImport.scope_org_id)
        .order_by(RosterImport.created_at.desc(), RosterImport.id.desc())
        .limit(limit)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(RosterImport))
    if not rows:
        click.echo("No roster imports yet.")
        return
    for record, username, scope in rows:
        entities = (record.counts or {}).get("entities") or {}
        totals = {
            o: sum(int(c.get(o, 0)) for c in entities.values())
            for o in ("new", "changed", "deactivated")
        }
        click.echo(
            f"#{record.id}  {record.created_at:%Y-%m-%d %H:%M}  {record.state:<8}  {scope}  "
            f"{record.file_name}  by {username or 'command line'}  "
            f"created {totals['new']}, updated {totals['changed']}, "
            f"deactivated {totals['deactivated']}, errors {record.error_count}"
        )
        if record.message:
            click.echo(f"      {record.message}")
    if total > len(rows):
        click.echo(f"({len(rows)} of {total}; --limit shows more)")
