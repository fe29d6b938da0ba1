"""Program flags from a simple CSV, for rosters that do not carry them.

The file names each learner by `sourcedId` or `username` and has one column per flag
(`ell`, `iep`, `504`, `gifted`) holding yes/no (true/false, 1/0; blank leaves the flag
as it is). Every row is checked first; if any row is wrong nothing is written and each
problem is reported with its row and column, in the page. Otherwise the changes are
written by a background job (`insights.program_flags`: up to 20,000 rows is long work
for a request) in one transaction, for the learners the admin still manages when it
runs. Flags land in `Demographics.programs`, where the roster's `metadata.*` columns go
and insights reads them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.core import jobs
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.policy import manageable_school_ids
from portal.rostering.models import Demographics

FLAGS = ("ell", "iep", "504", "gifted")
YES = frozenset({"yes", "y", "true", "t", "1"})
NO = frozenset({"no", "n", "false", "f", "0"})
MAX_ROWS = 20000
KIND = "insights.program_flags"


@dataclass(frozen=True)
class Problem:
    row: int  # 1 is the header
    column: str
    value: str
    message: str


def parse(text: str, admin: User) -> tuple[dict[int, dict[str, bool]], list[Problem]]:
    """(learner id -> {flag: on}, problems) for the CSV `text`, for this admin's learners."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    lower = {name.lower(): name for name in header}
    key = next((lower[k] for k in ("sourcedid", "username") if k in lower), None)
    flags = [(flag, lower[flag]) for flag in FLAGS if flag in lower]
    problems: list[Problem] = []
    if key is None:
        problems.append(Problem(1, "", "", _("Add a sourcedId or username column.")))
    if not flags:
        problems.append(
            Problem(1, "", "", _("Add at least one flag column: ell, iep, 504 or gifted."))
        )
    if problems:
        return {}, problems
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        return {}, [Problem(1, "", "", _("A file may have at most %(n)s rows.", n=MAX_ROWS))]
    wanted = {(row.get(key) or "").strip() for row in rows} - {""}
    column = User.source_id if key.lower() == "sourcedid" else User.username
    found = (
        dict(
            db.session.execute(
                select(column, User.id).where(
                    User.role == Role.LEARNER,
                    User.org_id.in_(manageable_school_ids(admin)),
                    column.in_(wanted),
                )
            ).all()
        )
        if wanted
        else {}
    )
    changes: dict[int, dict[str, bool]] = {}
    for number, row in enumerate(rows, start=2):
        who = (row.get(key) or "").strip()
        learner_id = found.get(who)
        if learner_id is None:
            problems.append(
                Problem(number, key, who, _("No learner of your schools has this identifier."))
            )
            continue
        values = {}
        for flag, name in flags:
            raw = (row.get(name) or "").strip()
            if not raw:
                continue
            if raw.lower() in YES:
                values[flag] = True
            elif raw.lower() in NO:
                values[flag] = False
            else:
                problems.append(
                    Problem(number, name, raw, _("Write yes or no (or leave it blank)."))
                )
        changes.setdefault(learner_id, {}).update(values)
    return changes, problems


def apply(changes: dict[int, dict[str, bool]]) -> int:
    """Write the flags (creating demographics rows where none exist); flush only."""
    if not changes:
        return 0
    existing = {
        d.user_id: d
        for d in db.session.scalars(
            select(Demographics).where(Demographics.user_id.in_(list(changes)))
        )
    }
    for learner_id, flags in changes.items():
        row = existing.get(learner_id)
        if row is None:
            row = Demographics(user_id=learner_id, programs={})
            db.session.add(row)
        programs = dict(row.programs or {})
        programs.update({flag: "true" if on else "false" for flag, on in flags.items()})
        row.programs = programs
    db.session.flush()
    return len(changes)


def start(changes: dict[int, dict[str, bool]], admin: User) -> jobs.Job:
    """Queue the checked changes for the worker; the route's commit sends them."""
    params = {str(learner_id): flags for learner_id, flags in changes.items()}
    return jobs.enqueue(KIND, admin, changes=params, admin_id=admin.id)


@jobs.job(
    KIND,
    title=_l("Program flags from a CSV"),
    result_url=lambda job: url_for("insights.programs_upload"),
)
def apply_upload(progress, changes: dict, admin_id: int) -> dict:
    """Write a checked upload, for the learners its admin still manages (asked again)."""
    admin = db.session.get(User, admin_id)
    if admin is None or not admin.active:
        raise jobs.JobError(_("These program flags can no longer be saved for you."))
    wanted = {int(learner_id): flags for learner_id, flags in changes.items()}
    still = set(
        db.session.scalars(
            select(User.id).where(
                User.id.in_(list(wanted)),
                User.role == Role.LEARNER,
                User.org_id.in_(manageable_school_ids(admin)),
            )
        )
    )
    kept = {learner_id: flags for learner_id, flags in wanted.items() if learner_id in still}
    progress.step(0, len(kept), _("Saving program flags"))
    count = apply(kept)
    progress.step(count, len(kept), _("Program flags saved for %(n)s learners.", n=count))
    return {"learners": count, "skipped": len(wanted) - len(kept)}
