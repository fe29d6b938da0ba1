"""The numbers: per-learner facts from a few grouped statements, aggregated per group.

Every table is computed live, in a fixed number of statements whatever the size of the
scope (docs/performance.md has the measurements): the learners, their goals (with the
versions both signed), per-learner counters (one UNION ALL of grouped counts), the
ratings either side of the cycle's start, and the breakdown's labels. Aggregation and
medians happen here, then `suppression.protect` hides what must not be shown. Callers
only ever get protected cells.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)

from portal.auth.models import LoginSession, Role, User
from portal.conferences.cycles import cycle_days
from portal.conferences.models import (
    DEFAULT_CYCLE_DAYS,
    Conference,
    ConferenceStatus,
    GoalAcknowledgement,
    GoalSignature,
    SignerRole,
)
from portal.core.extensions import db
from portal.core.i18n import gettext as _
from portal.core.timeutil import utcnow
from portal.family.models import Cheer
from portal.goals.models import Goal, GoalStatus, GoalVersion, GoalVersionStrategy, Voice
from portal.profiles.models import Audience, ProfileEntry, ProfileEntryRevision, ProfileSection
from portal.profiles.prompts import BUILT_IN_KEYS
from portal.progress.models import Feedback, ProgressEntry
from portal.roster.models import Enrollment, EnrollmentRole, GuardianLink, Org, SchoolClass, Term
from portal.rostering.models import Demographics

from .measures import MEASURES
from .models import InsightCell, InsightFact, InsightSnapshot
from .scope import Scope, learner_ids_stmt, school_ids_stmt
from .suppression import Cell, RawRow, configured_min_cell, protect

# Cycles are consecutive periods of the school's cycle length counted from this Monday,
# so a past cycle keeps its dates from one day to the next (docs/architecture.md).
CYCLE_EPOCH = datetime(2024, 1, 1)
CLOSED = (GoalStatus.MET, GoalStatus.NOT_MET, GoalStatus.REVISED, GoalStatus.ARCHIVED)
PROGRAM_FLAGS = ("ell", "iep", "504", "gifted")
# Roster metadata names understood as each program flag (lower case).
PROGRAM_NAMES = {
    "ell": ("ell", "el", "english_learner", "englishlearner", "lep"),
    "iep": ("iep", "sped", "special_education"),
    "504": ("504", "section504", "section_504", "plan504"),
    "gifted": ("gifted", "gifted_talented", "gt", "tag"),
}
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
RACES = (
    "american_indian_or_alaska_native",
    "asian",
    "black_or_african_american",
    "native_hawaiian_or_other_pacific_islander",
    "white",
)

BREAKDOWNS: tuple[str, ...] = (
    "school",
    "grade",
    "class",
    "teacher",
    "sex",
    "race",
    "ethnicity",
    *(f"program:{flag}" for flag in PROGRAM_FLAGS),
)
GROUP_BREAKDOWNS: frozenset[str] = frozenset(
    {"sex", "race", "ethnicity", *(f"program:{flag}" for flag in PROGRAM_FLAGS)}
)


class UnknownBreakdown(ValueError):
    """A breakdown name that is not one of BREAKDOWNS."""


@dataclass(frozen=True)
class Row:
    key: str  # group key ("school:12", "grade:6", "sex:female", "all")
    label: str  # human label
    learners: Cell  # count of learners in the group (suppressed when small)
    cells: dict[str, Cell]  # measure key -> Cell


@dataclass(frozen=True)
class Table:
    scope: Scope
    by: str | None
    as_of: datetime  # when the numbers were true (now, or the end of the cycle shown)
    cycle_start: datetime
    cycle_end: datetime
    computed_at: datetime
    rows: list[Row]  # one per group (empty when by is None)
    total: Row
    min_cell: int


# --- Cycles ------------------------------------------------------------------------------


def cycle_length(scope: Scope) -> int:
    """The school's cycle for one school; the default 30 days for a district or several."""
    if scope.school_ids is not None and len(scope.school_ids) == 1:
        return cycle_days(scope.school_ids[0])
    return DEFAULT_CYCLE_DAYS


def cycle_bounds(days: int, at: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the cycle `at` falls in; a cycle's own end belongs to it."""
    span = timedelta(days=days)
    index = (at - CYCLE_EPOCH - timedelta(microseconds=1)) // span
    start = CYCLE_EPOCH + index * span
    return start, start + span


def past_cycles(scope: Scope, *, count: int = 12) -> list[tuple[datetime, datetime]]:
    """(start, end) of the last `count` finished cycles, newest first."""
    return _past_cycles(cycle_length(scope), utcnow(), count)


def _past_cycles(days: int, now: datetime, count: int) -> list[tuple[datetime, datetime]]:
    start, _end = cycle_bounds(days, now)
    span = timedelta(days=days)
    return [(start - span * (k + 1), start - span * k) for k in range(count)]


# --- Per-learner facts ---------------------------------------------------------------------


@dataclass
class Facts:
    """One learner's facts at the end: what every measure counts (see models.InsightFact)."""

    school_id: int | None
    grade: int | None
    sex: str = "not_reported"
    race: str = "not_reported"
    ethnicity: str = "not_reported"
    programs: str = ""  # the program flags carried, space-separated
    agreed: bool = False
    own_words: bool = False
    strategy: bool = False
    started: bool = False
    logged: bool = False
    feedback: bool = False
    conference: bool = False
    profile_complete: bool = False
    profile_updated: bool = False
    profile_shared: bool = False
    guardian_linked: bool = False
    family_active: bool = False
    entries: int = 0
    rose: int = 0
    rose_of: int = 0
    met: int = 0
    met_of: int = 0


FACT_FIELDS = tuple(f for f in Facts.__dataclass_fields__)


def _sex_key(sex: str | None) -> str:
    value = (sex or "").strip().lower()
    if value in SEX_LABELS:
        return value
    return "not_reported" if value in ("", "unspecified") else "other"


def _race_key(races, two) -> str:
    marked = [name for name, flag in zip(RACES, races, strict=True) if flag]
    if two or len(marked) > 1:
        return "two_or_more_races"
    return marked[0] if marked else "not_reported"


def _ethnicity_key(hispanic) -> str:
    return {True: "hispanic_or_latino", False: "not_hispanic_or_latino"}.get(
        hispanic, "not_reported"
    )


def _learners(ids) -> dict[int, Facts]:
    stmt = (
        select(
            User.id,
            User.org_id,
            User.grade,
            Demographics.sex,
            *(getattr(Demographics, race) for race in RACES),
            Demographics.two_or_more_races,
            Demographics.hispanic_or_latino_ethnicity,
            Demographics.programs,
        )
        .outerjoin(Demographics, Demographics.user_id == User.id)
        .where(User.id.in_(ids))
    )
    out = {}
    for row in db.session.execute(stmt):
        races, two, hispanic, programs = row[4:9], row[9], row[10], row[11]
        out[row[0]] = Facts(
            row[1],
            row[2],
            sex=_sex_key(row[3]),
            race=_race_key(races, two),
            ethnicity=_ethnicity_key(hispanic),
            programs=" ".join(f for f in PROGRAM_FLAGS if has_program(programs, f)),
        )
    return out


def _goals(facts: dict[int, Facts], ids, as_of: datetime, start: datetime) -> set[int]:
    """Fill the goal facts; return the ids of the goals agreed at `as_of`."""
    has_strategy = exists().where(GoalVersionStrategy.version_id == GoalSignature.version_id)
    signed = (
        select(
            GoalSignature.goal_id.label("goal_id"),
            func.max(case((has_strategy, 1), else_=0)).label("strategy"),
        )
        .where(GoalSignature.signed_at <= as_of, GoalSignature.learner_id.in_(ids))
        .group_by(GoalSignature.goal_id, GoalSignature.version_id)
        .having(func.count(distinct(GoalSignature.role)) == len(SignerRole))
        .subquery()
    )
    agreed = (
        select(signed.c.goal_id, func.max(signed.c.strategy).label("strategy"))
        .group_by(signed.c.goal_id)
        .subquery()
    )
    first = GoalVersion.__table__.alias("first_version")
    current = GoalVersion.__table__.alias("current_version")
    stmt = (
        select(
            Goal.id,
            Goal.learner_id,
            Goal.status,
            Goal.updated_at,
            first.c.voice,
            current.c.due_date,
            agreed.c.goal_id.is_not(None),
            agreed.c.strategy,
        )
        .outerjoin(first, and_(first.c.goal_id == Goal.id, first.c.number == 1))
        .outerjoin(current, current.c.id == Goal.current_version_id)
        .outerjoin(agreed, agreed.c.goal_id == Goal.id)
        .where(Goal.learner_id.in_(ids), Goal.created_at <= as_of)
    )
    window = (start.date(), as_of.date())
    agreed_ids: set[int] = set()
    for (
        goal_id,
        learner_id,
        status,
        updated,
        voice,
        due,
        was_agreed,
        strategy,
    ) in db.session.execute(stmt):
        f = facts.get(learner_id)
        if f is None:
            continue
        f.started = True
        closed_by_then = status in CLOSED and updated <= as_of
        if was_agreed and not closed_by_then:
            agreed_ids.add(goal_id)
            f.agreed = True
            f.own_words = f.own_words or voice == Voice.LEARNER
            f.strategy = f.strategy or bool(strategy)
        if due is not None and status != GoalStatus.DRAFT and window[0] <= due <= window[1]:
            f.met_of += 1
            # When a goal was marked met is its last change (goal_versions keep no status).
            if status == GoalStatus.MET and updated.date() <= due:
                f.met += 1
    return agreed_ids


def _counters(facts: dict[int, Facts], ids, as_of: datetime, start: datetime) -> None:
    d14, d30, d90 = (as_of - timedelta(days=n) for n in (14, 30, 90))

    def grouped(kind, learner_col, *where, count=None):
        return (
            select(
                learner_col.label("learner_id"),
                literal(kind).label("kind"),
                (count if count is not None else func.count()).label("n"),
            )
            .where(learner_col.in_(ids), *where)
            .group_by(learner_col)
        )

    guardian_seen = (
        select(GuardianLink.learner_id)
        .join(User, User.id == GuardianLink.guardian_id)
        .join(LoginSession, LoginSession.user_id == GuardianLink.guardian_id)
        .where(
            LoginSession.last_seen > d30,
            LoginSession.created_at <= as_of,
            GuardianLink.active.is_(True),
            User.role == Role.GUARDIAN,
        )
    )
    parts = [
        grouped(
            "e14",
            ProgressEntry.learner_id,
            ProgressEntry.created_at > d14,
            ProgressEntry.created_at <= as_of,
        ),
        grouped(
            "ecy",
            ProgressEntry.learner_id,
            ProgressEntry.created_at > start,
            ProgressEntry.created_at <= as_of,
        ),
        grouped(
            "f14", Feedback.learner_id, Feedback.created_at > d14, Feedback.created_at <= as_of
        ),
        grouped(
            "conf",
            Conference.learner_id,
            Conference.status == ConferenceStatus.DONE,
            func.coalesce(Conference.held_at, Conference.scheduled_at) > start,
            func.coalesce(Conference.held_at, Conference.scheduled_at) <= as_of,
        ),
        grouped(
            "filled",
            ProfileSection.learner_id,
            ProfileSection.key.in_(sorted(BUILT_IN_KEYS)),
            ProfileSection.id.in_(
                select(ProfileEntry.section_id).where(
                    ProfileEntry.parent_id.is_(None), ProfileEntry.created_at <= as_of
                )
            ),
            count=func.count(distinct(ProfileSection.key)),
        ),
        select(ProfileSection.learner_id, literal("p90"), func.count())
        .join(ProfileEntry, ProfileEntry.section_id == ProfileSection.id)
        .join(ProfileEntryRevision, ProfileEntryRevision.entry_id == ProfileEntry.id)
        .where(
            ProfileSection.learner_id.in_(ids),
            ProfileEntryRevision.created_at > d90,
            ProfileEntryRevision.created_at <= as_of,
        )
        .group_by(ProfileSection.learner_id),
        grouped(
            "shared",
            ProfileSection.learner_id,
            ProfileSection.audience == Audience.FAMILY,
            ProfileSection.locked.is_(False),
            or_(
                ProfileSection.audience_changed_at.is_(None),
                ProfileSection.audience_changed_at <= as_of,
            ),
        ),
        grouped(
            "linked",
            GuardianLink.learner_id,
            GuardianLink.created_at <= as_of,
            or_(GuardianLink.active.is_(True), GuardianLink.deactivated_at > as_of),
        ),
        grouped("fam", Cheer.learner_id, Cheer.created_at > d30, Cheer.created_at <= as_of),
        select(Goal.learner_id, literal("fam"), func.count())
        .join(GoalAcknowledgement, GoalAcknowledgement.goal_id == Goal.id)
        .where(
            Goal.learner_id.in_(ids),
            GoalAcknowledgement.acknowledged_at > d30,
            GoalAcknowledgement.acknowledged_at <= as_of,
        )
        .group_by(Goal.learner_id),
        grouped("fam", GuardianLink.learner_id, GuardianLink.learner_id.in_(guardian_seen)),
    ]
    counters: dict[int, dict[str, int]] = defaultdict(dict)
    for learner_id, kind, n in db.session.execute(union_all(*parts)):
        counters[learner_id][kind] = counters[learner_id].get(kind, 0) + n
    for learner_id, c in counters.items():
        f = facts.get(learner_id)
        if f is None:
            continue
        f.logged = bool(c.get("e14"))
        f.entries = c.get("ecy", 0)
        f.feedback = bool(c.get("f14"))
        f.conference = bool(c.get("conf"))
        f.profile_complete = c.get("filled", 0) >= len(BUILT_IN_KEYS)
        f.profile_updated = bool(c.get("p90"))
        f.profile_shared = bool(c.get("shared"))
        f.guardian_linked = bool(c.get("linked"))
        f.family_active = bool(c.get("fam")) and f.guardian_linked


def _ratings(
    facts: dict[int, Facts], ids, as_of: datetime, start: datetime, agreed: set[int]
) -> None:
    """For each goal agreed at the end, its latest rating before the cycle and by the end."""
    ratings = union_all(
        select(
            ProgressEntry.goal_id.label("goal_id"),
            ProgressEntry.learner_id.label("lid"),
            ProgressEntry.created_at.label("at"),
            ProgressEntry.self_rating.label("r"),
        ).where(ProgressEntry.learner_id.in_(ids), ProgressEntry.created_at <= as_of),
        select(Feedback.goal_id, Feedback.learner_id, Feedback.created_at, Feedback.rating).where(
            Feedback.learner_id.in_(ids), Feedback.rating.is_not(None), Feedback.created_at <= as_of
        ),
    ).subquery()
    before = case((ratings.c.at <= start, 1), else_=0)
    ranked = select(
        ratings.c.goal_id,
        ratings.c.lid,
        before.label("before"),
        ratings.c.r,
        func.row_number()
        .over(partition_by=(ratings.c.goal_id, before), order_by=ratings.c.at.desc())
        .label("rank"),
    ).subquery()
    latest: dict[int, dict[int, int]] = defaultdict(dict)
    owner = {}
    for goal_id, lid, was_before, r in db.session.execute(
        select(ranked.c.goal_id, ranked.c.lid, ranked.c.before, ranked.c.r).where(
            ranked.c.rank == 1
        )
    ):
        latest[goal_id][was_before] = r
        owner[goal_id] = lid
    for goal_id, seen in latest.items():
        f = facts.get(owner[goal_id])
        if f is None or 1 not in seen or goal_id not in agreed:
            continue
        f.rose_of += 1
        if seen.get(0) is not None and seen[0] > seen[1]:
            f.rose += 1


# --- Grouping ----------------------------------------------------------------------------


def _grade_label(grade):
    return _("No grade") if grade is None else _("Grade %(n)s", n=grade)


SEX_LABELS = {"female": "Female", "male": "Male"}


def _group_keys(by: str, lid: int, f: Facts, member: dict) -> list[str]:
    if by == "school":
        return [f"school:{f.school_id}"]
    if by == "grade":
        return [f"grade:{'none' if f.grade is None else f.grade}"]
    if by in ("class", "teacher"):
        return [f"{by}:{gid}" for gid in member.get(lid, ())]
    if by in ("sex", "race", "ethnicity"):
        return [f"{by}:{getattr(f, by)}"]
    flag = by.split(":", 1)[1]
    return [f"{by}:{'yes' if flag in f.programs.split() else 'no'}"]


def has_program(programs: dict | None, flag: str) -> bool:
    """Whether the roster's metadata marks this program (a true-like value under a known name)."""
    if not programs:
        return False
    names = PROGRAM_NAMES[flag]
    for name, value in programs.items():
        if str(name).strip().lower() in names and str(value).strip().lower() in TRUE_WORDS:
            return True
    return False


def _labels(by: str, keys: list[str], member_labels: dict) -> dict[str, str]:
    if by == "school":
        ids = [int(k.split(":")[1]) for k in keys if k.split(":")[1] != "None"]
        names = dict(db.session.execute(select(Org.id, Org.name).where(Org.id.in_(ids))).all())
        return {
            k: names.get(int(k.split(":")[1]), _("No school"))
            if k.split(":")[1] != "None"
            else _("No school")
            for k in keys
        }
    if by == "grade":
        return {k: _grade_label(None if k == "grade:none" else k.split(":")[1]) for k in keys}
    if by in ("class", "teacher"):
        return {k: member_labels.get(k, k) for k in keys}
    words = {
        "sex:female": _("Female"),
        "sex:male": _("Male"),
        "sex:other": _("Another sex"),
        "sex:not_reported": _("Not reported"),
        "race:american_indian_or_alaska_native": _("American Indian or Alaska Native"),
        "race:asian": _("Asian"),
        "race:black_or_african_american": _("Black or African American"),
        "race:native_hawaiian_or_other_pacific_islander": _(
            "Native Hawaiian or Other Pacific Islander"
        ),
        "race:white": _("White"),
        "race:two_or_more_races": _("Two or more races"),
        "race:not_reported": _("Not reported"),
        "ethnicity:hispanic_or_latino": _("Hispanic or Latino"),
        "ethnicity:not_hispanic_or_latino": _("Not Hispanic or Latino"),
        "ethnicity:not_reported": _("Not reported"),
    }
    programs = {
        "ell": _("English learner"),
        "iep": _("IEP"),
        "504": _("504 plan"),
        "gifted": _("Gifted"),
    }
    out = {}
    for k in keys:
        if k in words:
            out[k] = words[k]
        else:
            _p, flag, yes = k.split(":")
            out[k] = (
                programs[flag] if yes == "yes" else _("%(program)s: no", program=programs[flag])
            )
    return out


def _memberships(by: str, ids, scope: Scope, as_of: datetime):
    """learner id -> class (or teacher) ids of the current-term classes in scope, and labels."""
    on = as_of.date()
    stmt = (
        select(Enrollment.user_id, SchoolClass.id, SchoolClass.title, SchoolClass.period)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(Term, Term.id == SchoolClass.term_id)
        .where(
            Enrollment.user_id.in_(ids),
            Enrollment.role == EnrollmentRole.LEARNER,
            SchoolClass.school_id.in_(school_ids_stmt(scope)),
            Term.start_date <= on,
            Term.end_date >= on,
        )
    )
    if scope.class_ids is not None:
        stmt = stmt.where(SchoolClass.id.in_(scope.class_ids))
    member: dict[int, list] = defaultdict(list)
    labels = {}
    if by == "class":
        for lid, cid, title, period in db.session.execute(stmt):
            member[lid].append(cid)
            labels[f"class:{cid}"] = f"{title} ({period})" if period else title
        return member, labels
    teaching = Enrollment.__table__.alias("teaching")
    stmt = (
        stmt.join(
            teaching,
            and_(teaching.c.class_id == SchoolClass.id, teaching.c.role == EnrollmentRole.TEACHER),
        )
        .join(User, User.id == teaching.c.user_id)
        .with_only_columns(
            Enrollment.user_id, User.id, User.given_name, User.preferred_name, User.family_name
        )
        .distinct()
    )
    for lid, tid, given, preferred, family in db.session.execute(stmt):
        if tid not in member[lid]:
            member[lid].append(tid)
        labels[f"teacher:{tid}"] = f"{preferred or given} {family}"
    return member, labels


def _raw(key: str, label: str, members: list[Facts]) -> RawRow:
    row = RawRow(key, label, len(members))
    n = len(members)
    for measure_key, field_name in (
        ("agreed_goal", "agreed"),
        ("own_words", "own_words"),
        ("chose_strategy", "strategy"),
        ("logged_14d", "logged"),
        ("feedback_14d", "feedback"),
        ("conference_this_cycle", "conference"),
        ("profile_complete", "profile_complete"),
        ("profile_updated_90d", "profile_updated"),
        ("profile_shared", "profile_shared"),
        ("guardian_linked", "guardian_linked"),
        ("family_active_30d", "family_active"),
    ):
        row.shares[measure_key] = (sum(getattr(f, field_name) for f in members), n)
    row.shares["never_started"] = (sum(not f.started for f in members), n)
    row.shares["level_rose"] = (sum(f.rose for f in members), sum(f.rose_of for f in members))
    row.shares["met_by_due"] = (sum(f.met for f in members), sum(f.met_of for f in members))
    entries = [f.entries for f in members]
    row.medians["entries_per_cycle"] = float(statistics.median(entries)) if entries else None
    return row


def _finish(raw: RawRow, learners: Cell, cells: dict[str, Cell]) -> Row:
    return Row(raw.key, raw.label, learners, cells)


def measure_table(scope: Scope, *, by: str | None = None, as_of: datetime | None = None) -> Table:
    """The protected table of every measure for `scope`, one row per group of `by`.

    `as_of` None: the current cycle, measured now. A datetime: the numbers as they stood
    then, for the cycle it falls in (a cycle's end belongs to it).
    """
    if by is not None and by not in BREAKDOWNS:
        raise UnknownBreakdown(by)
    min_cell = configured_min_cell()
    now = utcnow()
    at = now if as_of is None or as_of > now else as_of
    cycle_length_days = cycle_length(scope)
    start, end = cycle_bounds(cycle_length_days, at)
    computed = now
    snapshot = find_snapshot(scope.district_id, cycle_length_days, as_of)
    if snapshot is not None:
        at, start, end, computed = (
            snapshot.as_of,
            snapshot.cycle_start,
            snapshot.cycle_end,
            snapshot.computed_at,
        )
        total_raw, raws = stored_rows(snapshot, scope, by)
    else:
        ids = learner_ids_stmt(scope, at)
        total_raw, raws = _live_rows(learner_facts(ids, at, start), ids, scope, by, at)
    protected, (total_learners, total_cells) = protect(raws, total_raw, min_cell)
    rows = [_finish(r, lc, cells) for r, (lc, cells) in zip(raws, protected, strict=True)]
    return Table(
        scope=scope,
        by=by,
        as_of=at,
        cycle_start=start,
        cycle_end=end,
        computed_at=computed,
        rows=rows,
        total=_finish(total_raw, total_learners, total_cells),
        min_cell=min_cell,
    )


def _live_rows(facts: dict[int, Facts], ids, scope: Scope, by: str | None, at: datetime):
    """(total, rows) of raw counts aggregated here from live facts."""
    total_raw = _raw("all", _("All learners"), list(facts.values()))
    raws: list[RawRow] = []
    if by is not None and facts:
        member, member_labels = ({}, {})
        if by in ("class", "teacher"):
            member, member_labels = _memberships(by, ids, scope, at)
        groups: dict[str, list[Facts]] = defaultdict(list)
        for lid, f in facts.items():
            for key in _group_keys(by, lid, f, member):
                groups[key].append(f)
        labels = _labels(by, list(groups), member_labels)
        raws = [_raw(k, labels[k], groups[k]) for k in groups]
        raws.sort(key=lambda r: _sort_key(by, r))
    return total_raw, raws


def learner_facts(ids, at: datetime, start: datetime) -> dict[int, Facts]:
    """learner id -> Facts for the learners `ids` selects, live: five statements."""
    facts = _learners(ids)
    if facts:
        agreed = _goals(facts, ids, at, start)
        _counters(facts, ids, at, start)
        _ratings(facts, ids, at, start, agreed)
    return facts


# --- Stored facts (snapshots.py writes them) ------------------------------------------------


def find_snapshot(district_id: int, days: int, as_of: datetime | None) -> InsightSnapshot | None:
    """The district's current snapshot (as_of None), or the one taken exactly at `as_of`."""
    stmt = select(InsightSnapshot).where(
        InsightSnapshot.district_id == district_id, InsightSnapshot.cycle_days == days
    )
    if as_of is None:
        stmt = stmt.where(InsightSnapshot.current.is_(True))
    else:
        stmt = stmt.where(InsightSnapshot.as_of == as_of)
    return db.session.scalars(stmt.order_by(InsightSnapshot.computed_at.desc()).limit(1)).first()


# Stored fact column -> the share measure that counts it (never_started counts `started`
# and is turned around below).
SUMMED = (
    ("agreed_goal", "agreed"),
    ("own_words", "own_words"),
    ("chose_strategy", "strategy"),
    ("never_started", "started"),
    ("logged_14d", "logged"),
    ("feedback_14d", "feedback"),
    ("conference_this_cycle", "conference"),
    ("profile_complete", "profile_complete"),
    ("profile_updated_90d", "profile_updated"),
    ("profile_shared", "profile_shared"),
    ("guardian_linked", "guardian_linked"),
    ("family_active_30d", "family_active"),
)
GOAL_SUMS = ("rose", "rose_of", "met", "met_of")
CELL_COLUMNS = ("learners", *(column for _k, column in SUMMED), *GOAL_SUMS)


# Breakdowns that split the learners (each in exactly one group), kept summed per school
# in insight_cells; class and teacher rows overlap and are summed from the facts.
CUBE_BREAKDOWNS = tuple(b for b in BREAKDOWNS if b not in ("class", "teacher"))


def fact_group_value(by: str):
    """The group of a stored fact for a splitting breakdown, as text (insight_cells.value)."""
    if by == "school":
        return cast(InsightFact.school_id, String)
    if by == "grade":
        return func.coalesce(cast(InsightFact.grade, String), "none")
    if by in ("sex", "race", "ethnicity"):
        return getattr(InsightFact, by)
    flag = by.split(":", 1)[1]
    padded = literal(" ") + InsightFact.programs + literal(" ")
    return case((padded.like(f"% {flag} %"), "yes"), else_="no")


def _stored_group(by: str, scope: Scope, on):
    """(group expression, extra joins) for a breakdown over stored facts."""
    if by in CUBE_BREAKDOWNS:
        return fact_group_value(by), None
    classes = (
        select(Enrollment.user_id.label("learner_id"), SchoolClass.id.label("class_id"))
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(Term, Term.id == SchoolClass.term_id)
        .where(
            Enrollment.role == EnrollmentRole.LEARNER,
            SchoolClass.school_id.in_(school_ids_stmt(scope)),
            Term.start_date <= on,
            Term.end_date >= on,
        )
    )
    if scope.class_ids is not None:
        classes = classes.where(SchoolClass.id.in_(scope.class_ids))
    if by == "teacher":
        teaching = Enrollment.__table__.alias("teaching")
        classes = (
            classes.join(
                teaching,
                and_(
                    teaching.c.class_id == SchoolClass.id,
                    teaching.c.role == EnrollmentRole.TEACHER,
                ),
            )
            .with_only_columns(
                Enrollment.user_id.label("learner_id"), teaching.c.user_id.label("class_id")
            )
            .distinct()
        )
    member = classes.subquery()
    return member.c.class_id, member


def stored_rows(snapshot: InsightSnapshot, scope: Scope, by: str | None):
    """(total, rows) of raw counts summed by the database over a snapshot's facts: one
    statement for the total and one for the groups, each grouped by the entries count too
    (its histogram gives the median), plus the groups' labels."""
    where = [
        InsightFact.snapshot_id == snapshot.id,
        InsightFact.school_id.in_(school_ids_stmt(scope)),
    ]
    if scope.class_ids is not None:
        where.append(
            InsightFact.learner_id.in_(
                select(Enrollment.user_id).where(
                    Enrollment.class_id.in_(scope.class_ids),
                    Enrollment.role == EnrollmentRole.LEARNER,
                )
            )
        )
    sums = [
        func.count(),
        *(func.sum(cast(getattr(InsightFact, column), Integer)) for _k, column in SUMMED),
        *(func.sum(getattr(InsightFact, column)) for column in GOAL_SUMS),
    ]

    if scope.class_ids is None and (by is None or by in CUBE_BREAKDOWNS):
        return _cube_rows(snapshot, scope, by)
    total = gather(
        db.session.execute(
            select(literal("all"), InsightFact.entries, *sums)
            .where(*where)
            .group_by(InsightFact.entries)
        )
    )
    total_raw = _summed("all", _("All learners"), total.get("all"))
    if by is None or not total:
        return total_raw, []
    group, member = _stored_group(by, scope, snapshot.as_of.date())
    stmt = select(group, InsightFact.entries, *sums).where(*where)
    if member is not None:
        stmt = stmt.join(member, member.c.learner_id == InsightFact.learner_id)
    groups = gather(db.session.execute(stmt.group_by(group, InsightFact.entries)))
    keys = {f"{by}:{_key_text(by, value)}": value for value in groups}
    member_labels = _member_labels(by, [v for v in groups]) if member is not None else {}
    labels = _labels(by, list(keys), member_labels)
    raws = [_summed(k, labels[k], groups[value]) for k, value in keys.items()]
    raws.sort(key=lambda r: _sort_key(by, r))
    return total_raw, raws


def gather(rows) -> dict:
    """group -> {"hist": [(entries, learners)], "sums": [learners, sums...]} from rows of
    (group, entries, learners, sums...)."""
    out: dict = {}
    for key, entries, *values in rows:
        acc = out.setdefault(key, {"hist": [], "sums": [0] * len(values)})
        acc["hist"].append((entries, values[0]))
        acc["sums"] = [a + (v or 0) for a, v in zip(acc["sums"], values, strict=True)]
    return out


def _cube_rows(snapshot: InsightSnapshot, scope: Scope, by: str | None):
    """(total, rows) from the snapshot's per-school sums: one statement, a few hundred rows.
    The groups split the learners, so the total is their sum."""
    stmt = (
        select(
            InsightCell.value,
            InsightCell.entries,
            *(func.sum(getattr(InsightCell, c)) for c in CELL_COLUMNS),
        )
        .where(
            InsightCell.snapshot_id == snapshot.id,
            InsightCell.breakdown == (by or "school"),
            InsightCell.school_id.in_(school_ids_stmt(scope)),
        )
        .group_by(InsightCell.value, InsightCell.entries)
    )
    groups = gather(db.session.execute(stmt))
    whole: dict = {"hist": [], "sums": None}
    for acc in groups.values():
        whole["hist"].extend(acc["hist"])
        whole["sums"] = (
            acc["sums"]
            if whole["sums"] is None
            else [a + b for a, b in zip(whole["sums"], acc["sums"], strict=True)]
        )
    total_raw = _summed("all", _("All learners"), whole if groups else None)
    if by is None:
        return total_raw, []
    keys = {f"{by}:{value}": value for value in groups}
    labels = _labels(by, list(keys), {})
    raws = [_summed(k, labels[k], groups[value]) for k, value in keys.items()]
    raws.sort(key=lambda r: _sort_key(by, r))
    return total_raw, raws


def _key_text(by: str, value) -> str:
    if by == "grade" and value is None:
        return "none"
    return str(value)


def _member_labels(by: str, ids: list[int]) -> dict[str, str]:
    if by == "class":
        stmt = select(SchoolClass.id, SchoolClass.title, SchoolClass.period).where(
            SchoolClass.id.in_(ids)
        )
        return {
            f"class:{cid}": f"{title} ({period})" if period else title
            for cid, title, period in db.session.execute(stmt)
        }
    stmt = select(User.id, User.given_name, User.preferred_name, User.family_name).where(
        User.id.in_(ids)
    )
    return {
        f"teacher:{tid}": f"{preferred or given} {family}"
        for tid, given, preferred, family in db.session.execute(stmt)
    }


def _summed(key: str, label: str, acc: dict | None) -> RawRow:
    if acc is None:
        return RawRow(key, label, 0)
    n, *values = acc["sums"]
    row = RawRow(key, label, n)
    for (measure_key, _column), value in zip(SUMMED, values, strict=False):
        row.shares[measure_key] = (n - value if measure_key == "never_started" else value, n)
    rose, rose_of, met, met_of = values[len(SUMMED) :]
    row.shares["level_rose"] = (rose, rose_of)
    row.shares["met_by_due"] = (met, met_of)
    row.medians["entries_per_cycle"] = histogram_median(acc["hist"])
    return row


def histogram_median(counts: list[tuple[int, int]]) -> float | None:
    """The median of a multiset given as (value, how many) pairs."""
    counts = sorted((v, c) for v, c in counts if c)
    n = sum(c for _v, c in counts)
    if n == 0:
        return None

    def nth(index: int) -> int:
        seen = 0
        for value, c in counts:
            seen += c
            if index < seen:
                return value
        raise IndexError(index)

    if n % 2:
        return float(nth(n // 2))
    return (nth(n // 2 - 1) + nth(n // 2)) / 2


def _sort_key(by: str, row: RawRow):
    if by == "grade":
        tail = row.key.split(":")[1]
        return (tail == "none", int(tail) if tail.lstrip("-").isdigit() else 0, row.label)
    last = row.key.endswith(("not_reported", ":no", ":other"))
    return (last, row.label.lower())


def available_breakdowns(scope: Scope, *, teacher: bool = False) -> list[str]:
    """The breakdowns worth offering: never a group one to a teacher (too small to be
    anonymous); a program flag only when some learner in scope carries it."""
    if teacher:
        return [b for b in BREAKDOWNS if b not in GROUP_BREAKDOWNS]
    ids = learner_ids_stmt(scope, utcnow())
    as_text = cast(Demographics.programs, String)
    combos = [
        json.loads(text)
        for text in db.session.scalars(
            select(as_text).where(Demographics.user_id.in_(ids), as_text != "{}").distinct()
        )
        if text
    ]
    present = {flag for flag in PROGRAM_FLAGS if any(has_program(c, flag) for c in combos)}
    return [b for b in BREAKDOWNS if not b.startswith("program:") or b.split(":", 1)[1] in present]


def trend(scope: Scope, *, cycles: int = 6) -> list[Table]:
    """Totals for the last `cycles` cycles, oldest first; the last one is the current cycle.

    From stored snapshots: two statements for all of them (which snapshots, their sums);
    a cycle with no snapshot (or a class scope) is measured on its own."""
    min_cell = configured_min_cell()
    days = cycle_length(scope)
    now = utcnow()
    ends = [end for _start, end in reversed(_past_cycles(days, now, max(0, cycles - 1)))]
    chosen: list[InsightSnapshot | None] = [None] * (len(ends) + 1)
    sums: dict = {}
    if scope.class_ids is None:
        found = db.session.scalars(
            select(InsightSnapshot).where(
                InsightSnapshot.district_id == scope.district_id,
                InsightSnapshot.cycle_days == days,
                or_(InsightSnapshot.current.is_(True), InsightSnapshot.as_of.in_(ends)),
            )
        ).all()
        past = {s.as_of: s for s in found if not s.current}
        current = max((s for s in found if s.current), key=lambda s: s.computed_at, default=None)
        chosen = [past.get(end) for end in ends] + [current]
        ids = [s.id for s in chosen if s is not None]
        if ids:
            sums = gather(
                db.session.execute(
                    select(
                        InsightCell.snapshot_id,
                        InsightCell.entries,
                        *(func.sum(getattr(InsightCell, c)) for c in CELL_COLUMNS),
                    )
                    .where(
                        InsightCell.snapshot_id.in_(ids),
                        InsightCell.breakdown == "school",
                        InsightCell.school_id.in_(school_ids_stmt(scope)),
                    )
                    .group_by(InsightCell.snapshot_id, InsightCell.entries)
                )
            )
    tables = []
    for end, snapshot in zip([*ends, None], chosen, strict=True):
        if snapshot is None:
            tables.append(measure_table(scope, as_of=end))
            continue
        total_raw = _summed("all", _("All learners"), sums.get(snapshot.id))
        _rows, (learners, cells) = protect([], total_raw, min_cell)
        tables.append(
            Table(
                scope=scope,
                by=None,
                as_of=snapshot.as_of,
                cycle_start=snapshot.cycle_start,
                cycle_end=snapshot.cycle_end,
                computed_at=snapshot.computed_at,
                rows=[],
                total=_finish(total_raw, learners, cells),
                min_cell=min_cell,
            )
        )
    return tables


__all__ = [
    "BREAKDOWNS",
    "GROUP_BREAKDOWNS",
    "MEASURES",
    "Row",
    "available_breakdowns",
    "Table",
    "measure_table",
    "past_cycles",
    "trend",
]
