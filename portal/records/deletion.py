"""Deleting a learner's whole record on request: every row about them, then their files.

Which rows: found by walking the schema's foreign keys (`db.metadata`), never from a hand
list, so a table added later is covered the day it references a learner or a row of
their record:

1. the learner's `users` row;
2. every row with a foreign key to a row already in the record belongs to the record
   and is deleted with it (goals -> versions -> signatures, entries -> feedback and
   cheers, profile sections -> entries -> revisions, conferences -> notes, sessions,
   devices, pending writes, enrollments, family links, the access log rows about them,
   their own background jobs...), and so on until nothing new is found;
3. except where the foreign key says `ondelete="SET NULL"`: that column only credits
   someone (who hid a cheer, who used an invite, who ran an import) in a row that belongs
   to somebody else, so the row stays and the reference is cleared.

Decisions this makes, on purpose:

- A teacher's feedback, comment or note on the learner's record belongs to the record:
  deleted (it references the learner's goal, entry or conference).
- A guardian's account stays; only the link to this learner goes (a guardian may follow
  other children, and their account is theirs, not the learner's record).
- Access-log rows about the learner are deleted, not anonymised: their subject is the
  learner, and a row saying "someone read a deleted record" keeps nothing a district
  needs once the tombstone records the deletion itself.
- Rows the learner wrote in another learner's record would be deleted too (the walk
  does not ask who owns the record a row sits in; the words are the learner's). Today
  no feature lets a learner write in another learner's record.
- Aggregates are computed from the rows, so insights simply stop counting them.

Everything happens in the caller's one transaction (this module flushes, never commits);
uploaded files are removed only after that transaction commits (`after_commit`), so a
failed deletion leaves the record and its files whole. The change stamps of the learner
and of the site are bumped, so every per-process memo or page keyed by them
(school_settings, polled trackers) reloads rather than showing what was deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask_sqlalchemy.session import Session
from sqlalchemy import Table, delete, event, func, select, update

from portal.auth.models import LoginFailure, Role, User
from portal.core import stamps
from portal.core.extensions import db
from portal.core.i18n import lazy_gettext as _l
from portal.core.jobs import Job
from portal.core.timeutil import utcnow
from portal.progress import uploads
from portal.records.tombstone import REFERENCE_MAX, RecordDeletion
from portal.roster.models import Org

FILES = "files"  # the counts' key for uploaded files
_REMOVE_AFTER_COMMIT = "records.remove_after_commit"
_CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit

# Plain names for the kinds of rows a receipt lists; a table not named here is listed
# under its table name (still counted, never skipped).
KIND_LABELS = {
    "users": _l("Learner account"),
    "goals": _l("Goals"),
    "goal_versions": _l("Goal versions"),
    "goal_version_targets": _l("Learning targets named in goal versions"),
    "goal_version_strategies": _l("Strategies chosen in goal versions"),
    "goal_signatures": _l("Goal signatures"),
    "goal_acknowledgements": _l("Family acknowledgements of goals"),
    "goal_reflections": _l("End-of-cycle reflections"),
    "goal_progress": _l("Tracker summaries"),
    "progress_entries": _l("Progress entries"),
    "progress_feedback": _l("Teacher feedback"),
    "family_cheers": _l("Family cheers"),
    "family_invites": _l("Family invite codes"),
    "profile_sections": _l("Profile sections"),
    "profile_entries": _l("Profile entries and comments"),
    "profile_entry_revisions": _l("Profile entry revisions"),
    "profile_review_requests": _l("Profile review requests"),
    "conferences": _l("Conferences"),
    "conference_notes": _l("Conference notes"),
    "conference_next_steps": _l("Next steps"),
    "conference_requests": _l("Conference requests"),
    "enrollments": _l("Class enrollments"),
    "guardian_links": _l("Links to family accounts"),
    "login_sessions": _l("Sign-in sessions"),
    "login_failures": _l("Failed sign-in attempts"),
    "trusted_devices": _l("Remembered devices"),
    "pending_writes": _l("Forms kept for after sign-in"),
    "demographics": _l("Demographics"),
    "user_identifiers": _l("Roster identifiers"),
    "access_log": _l("Access log entries"),
    "jobs": _l("Background jobs"),
    "retention_due": _l("Due-for-deletion listings"),
    "insight_facts": _l("Per-learner figures behind the insights"),
    FILES: _l("Stored files (evidence, downloads, printed reports)"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


class DeletionRefused(ValueError):
    """The deletion cannot go ahead; the message is for the admin."""


@dataclass
class Plan:
    """Every row of one learner's record, by table, and the references to clear."""

    learner_id: int
    rows: dict[str, set[int]] = field(default_factory=dict)  # table -> primary keys
    # (table, column) -> primary keys of rows outside the record whose column is cleared
    cleared: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    file_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, column, value)
    # Rows of tables keyed by several columns (a learner's precomputed insight facts), found
    # and deleted by the reference itself: (table, column) -> referenced ids, and their count.
    by_reference: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    by_reference_rows: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows per table (and files), in a stable order: what the receipt prints."""
        found = {name: len(ids) for name, ids in self.rows.items() if ids}
        for name, count in self.by_reference_rows.items():
            found[name] = found.get(name, 0) + count
        found = dict(sorted(found.items()))
        if self.file_keys:
            found[FILES] = len(self.file_keys)
        return found

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.rows.values()) + sum(self.by_reference_rows.values())


# --- Finding the record ---------------------------------------------------------------


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _pk(table: Table):
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        # A table with a composite key that references a record row must say how its rows
        # are found; none does today (change_stamps has no foreign key).
        raise NotImplementedError(f"{table.name}: composite primary key in a learner's record")
    return columns[0]


def _add_by_reference(found: Plan, table: Table, fk, values: set) -> None:
    """Rows of a table with a composite key that point at the record: counted now, deleted
    by the reference. Nothing may point at such rows in turn (the walk stops there)."""
    count = sum(
        db.session.scalar(select(func.count()).select_from(table).where(fk.parent.in_(chunk)))
        for chunk in _chunks(values)
    )
    if not count:
        return  # e.g. a PL specialist's schools: never a learner's row
    if _incoming().get(table.name):
        raise NotImplementedError(f"{table.name}: rows keyed by several columns are referenced")
    found.by_reference.setdefault((table.name, fk.parent.name), set()).update(values)
    found.by_reference_rows[table.name] = found.by_reference_rows.get(table.name, 0) + count


def _chunks(values: Iterable, size: int = _CHUNK):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _incoming() -> dict[str, list]:
    """Target table name -> the foreign keys that point at it (every table, every FK)."""
    found: dict[str, list] = {}
    for table in db.metadata.tables.values():
        for fk in table.foreign_keys:
            found.setdefault(fk.column.table.name, []).append(fk)
    return found


def plan(learner: User) -> Plan:
    """Walk the foreign keys out from the learner's row: everything their record holds."""
    if learner.role is not Role.LEARNER:
        raise DeletionRefused(_l("Only a learner's record can be deleted here."))
    session = db.session
    incoming = _incoming()
    found = Plan(learner.id, rows={"users": {learner.id}})
    frontier: dict[str, set[int]] = {"users": {learner.id}}
    while frontier:
        table_name, new_ids = frontier.popitem()
        parent = _table(table_name)
        parent_pk = _pk(parent)
        for fk in incoming.get(table_name, ()):
            child = fk.parent.table
            values = new_ids
            if fk.column is not parent_pk:
                values = set()
                for chunk in _chunks(new_ids):
                    values |= set(
                        session.scalars(select(fk.column).where(parent_pk.in_(chunk))).all()
                    )
                values.discard(None)
            if not values:
                continue
            if len(child.primary_key.columns) != 1:
                _add_by_reference(found, child, fk, values)
                continue
            child_pk = _pk(child)
            hits: set[int] = set()
            for chunk in _chunks(values):
                hits |= set(session.scalars(select(child_pk).where(fk.parent.in_(chunk))).all())
            if not hits:
                continue
            if (fk.ondelete or "").upper() == "SET NULL":
                found.cleared.setdefault((child.name, fk.parent.name), set()).update(hits)
                continue
            fresh = hits - found.rows.get(child.name, set())
            if fresh:
                found.rows.setdefault(child.name, set()).update(fresh)
                frontier.setdefault(child.name, set()).update(fresh)
    # A cleared reference inside a row that is deleted anyway needs no update.
    for (table_name, column), ids in list(found.cleared.items()):
        ids -= found.rows.get(table_name, set())
        if not ids:
            del found.cleared[(table_name, column)]
    # Failed sign-ins name an account by a key, not a foreign key ("u<id>").
    failures = set(
        session.scalars(
            select(LoginFailure.id).where(LoginFailure.account_key == f"u{learner.id}")
        ).all()
    )
    if failures:
        found.rows.setdefault(LoginFailure.__tablename__, set()).update(failures)
    found.file_keys = _stored_files(found)
    _jobs_about(found)
    return found


# Columns that name a stored file, and where that file lives: the files of the record's
# rows are removed after the commit. A feature that keeps files about a learner (an
# export waiting for download, say) registers its column here with `stores_files`.
FILE_COLUMNS: dict[tuple[str, str], Callable[[str], Path]] = {
    ("progress_entries", "file_key"): uploads.path_of,
}


def stores_files(table: str, column: str, path_of: Callable[[str], Path]) -> None:
    """Declare that `table.column` names a file found at `path_of(value)`."""
    FILE_COLUMNS[(table, column)] = path_of


# Background jobs that made a file about a learner for someone else (a guardian's record
# download, a teacher's goal report): their owner is not the learner, so no foreign key
# leads to them. Such a job names the learner in `params["learner_id"]`; its kind says
# where the file its result names lives.
JOB_FILES: dict[str, Callable[[dict], Path | None]] = {}


def job_makes_files(kind: str, path_of_result: Callable[[dict], Path | None]) -> None:
    """Declare that a finished job of `kind` keeps a file about `params["learner_id"]`."""
    JOB_FILES[kind] = path_of_result


def _jobs_about(found: Plan) -> None:
    """The jobs that made a file about the learner for someone else, and those files."""
    if not JOB_FILES:
        return
    rows = db.session.execute(
        select(Job.id, Job.kind, Job.result).where(
            Job.kind.in_(sorted(JOB_FILES)),
            Job.params["learner_id"].as_integer() == found.learner_id,
        )
    ).all()
    for job_id, kind, result in rows:
        found.rows.setdefault(Job.__tablename__, set()).add(job_id)
        path = JOB_FILES[kind](result if isinstance(result, dict) else {})
        if path is not None:
            found.file_keys.append(("jobs", kind, str(path)))


def _stored_files(found: Plan) -> list[tuple[str, str, str]]:
    """(table, column, value) for every file a row of the record names."""
    files: list[tuple[str, str, str]] = []
    for (table_name, column), _path_of in sorted(FILE_COLUMNS.items()):
        table = _table(table_name)
        for chunk in _chunks(found.rows.get(table_name, ())):
            files += [
                (table_name, column, value)
                for value in db.session.scalars(
                    select(table.c[column]).where(
                        _pk(table).in_(chunk), table.c[column].is_not(None)
                    )
                )
            ]
    return sorted(files)


# --- Deleting it ------------------------------------------------------------------------


def _delete_order() -> list[Table]:
    """Children before parents (the reverse of create order)."""
    return list(reversed(db.metadata.sorted_tables))


def _break_cycles(found: Plan) -> None:
    """Clear nullable references between rows that are all deleted, where the tables'
    order cannot settle who goes first: goals <-> their versions, an entry and the
    comments on it, a goal and the short-term goals under it."""
    for name, ids in found.rows.items():
        table = _table(name)
        for fk in table.foreign_keys:
            target = fk.column.table.name
            cyclic = fk.use_alter or fk.constraint.use_alter or target == name
            if not (cyclic and fk.parent.nullable and found.rows.get(target)):
                continue
            for chunk in _chunks(ids):
                db.session.execute(
                    update(table).where(_pk(table).in_(chunk)).values({fk.parent.name: None})
                )


def check_reference(learner: User, reference: str) -> str:
    """The request's reference, stripped; refused when empty, too long or naming the
    learner (the tombstone keeps no personal data of theirs)."""
    reference = " ".join((reference or "").split())
    if not reference:
        raise DeletionRefused(_l("Type the records request's reference."))
    if len(reference) > REFERENCE_MAX:
        raise DeletionRefused(_l("The reference can be at most %(n)d characters.", n=REFERENCE_MAX))
    lowered = reference.casefold()
    for value in _identifying(learner):
        if value.casefold() in lowered:
            raise DeletionRefused(
                _l(
                    "The reference must not name the learner: the record of the deletion "
                    "keeps no personal data. Use the request's number instead."
                )
            )
    return reference


def _identifying(learner: User) -> list[str]:
    values = [
        learner.username,
        learner.email,
        learner.source_id,
        learner.given_name,
        learner.family_name,
        learner.preferred_name,
    ]
    return [v for v in values if v and len(v) >= 3]


def delete_record(
    learner: User, *, reference: str, actor: User | None, actor_name: str | None = None
) -> RecordDeletion:
    """Delete the learner's whole record and write its tombstone; flush, never commit.

    The evidence files are removed after the caller's commit succeeds."""
    if learner.role is not Role.LEARNER:
        raise DeletionRefused(_l("Only a learner's record can be deleted here."))
    reference = check_reference(learner, reference)
    school = db.session.get(Org, learner.org_id) if learner.org_id else None
    district = school.parent if school is not None else None
    found = plan(learner)
    session = db.session
    session.flush()
    # The rows go by statement, not through the ORM: expunge what the session holds of
    # them so no later flush tries to write a row that no longer exists.
    _forget(found)
    for (table_name, column), ids in found.cleared.items():
        table = _table(table_name)
        for chunk in _chunks(ids):
            session.execute(update(table).where(_pk(table).in_(chunk)).values({column: None}))
    for (table_name, column), ids in found.by_reference.items():
        table = _table(table_name)
        for chunk in _chunks(ids):
            session.execute(delete(table).where(table.c[column].in_(chunk)))
    _break_cycles(found)
    for table in _delete_order():
        ids = found.rows.get(table.name)
        for chunk in _chunks(ids or ()):
            session.execute(delete(table).where(_pk(table).in_(chunk)))
    connection = session.connection()
    stamps.bump(connection, stamps.LEARNER_SCOPE, [learner.id])
    stamps.bump(connection, stamps.SITE_SCOPE, [0])
    tombstone = RecordDeletion(
        deleted_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor_name or (actor.display_name if actor is not None else ""))[:200],
        school_id=school.id if school is not None else None,
        school_name=school.name if school is not None else "",
        district_name=district.name if district is not None else None,
        reference=reference,
        counts=found.counts(),
    )
    session.add(tombstone)
    session.flush()
    session.info.setdefault(_REMOVE_AFTER_COMMIT, []).extend(found.file_keys)
    return tombstone


def _forget(found: Plan) -> None:
    """Expunge the session's objects for rows about to be deleted by statement."""
    session = db.session
    for obj in list(session.identity_map.values()):
        table = getattr(type(obj), "__table__", None)
        if table is None or table.name not in found.rows:
            continue
        key = db.inspect(obj).identity
        if key is not None and len(key) == 1 and key[0] in found.rows[table.name]:
            session.expunge(obj)


# --- Files, after the commit ------------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _remove_files(session):
    files = session.info.pop(_REMOVE_AFTER_COMMIT, None)
    for table_name, column, value in files or ():
        with contextlib.suppress(OSError):  # FileNotFoundError included: already gone
            # A job's file is kept as its path (see _jobs_about); a column's, as its value.
            FILE_COLUMNS.get((table_name, column), Path)(value).unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files(session, _previous):
    session.info.pop(_REMOVE_AFTER_COMMIT, None)

