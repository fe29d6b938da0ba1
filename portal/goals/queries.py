"""Read-side goal queries. Lists are filtered in SQL, one SELECT each; the loaders
(load_goal, load_strategy, load_own_template, load_offered_template) are in portal.policy."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, bindparam, case, func, select, true
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.auth.models import User
from portal.core.extensions import db
from portal.goals.models import (
    Goal,
    GoalStatus,
    GoalTemplate,
    GoalVersion,
    GoalVersionTarget,
    Horizon,
    Strategy,
)
from portal.goals.services import clean_text
from portal.policy import learner_class_ids, visible_learner_ids
from portal.progress.models import GoalProgress
from portal.roster.models import Enrollment, EnrollmentRole, SchoolClass
from portal.targets.models import Target
from portal.targets.queries import available_targets, scale_for_school, search_targets

__all__ = ["scale_for_school", "search_targets"]

# Active goals first, then proposed, then drafts, then everything closed.
STATUS_ORDER = {
    GoalStatus.ACTIVE: 0,
    GoalStatus.PROPOSED: 1,
    GoalStatus.DRAFT: 2,
    GoalStatus.MET: 3,
    GoalStatus.NOT_MET: 3,
    GoalStatus.REVISED: 3,
    GoalStatus.ARCHIVED: 4,
}
CLOSED_STATUSES = frozenset(s for s, rank in STATUS_ORDER.items() if rank >= 3)
# Compared as expressions so the Enum column type renders each status as stored.
_status_rank = case(*[(Goal.status == s, rank) for s, rank in STATUS_ORDER.items()], else_=5)


def _with_content(stmt: Select) -> Select:
    """Load each goal's current version with its targets and strategies, without N+1."""
    return stmt.options(
        joinedload(Goal.current_version).selectinload(GoalVersion.targets),
        joinedload(Goal.current_version).selectinload(GoalVersion.strategies),
    )


def learner_goals(learner_id: int, visible=None) -> list[Goal]:
    """All of a learner's goals (those `visible`, a policy condition): active first, then
    proposed, drafts, closed."""
    stmt = (
        select(Goal)
        .where(Goal.learner_id == learner_id, true() if visible is None else visible)
        .join(Goal.current_version)
        .order_by(_status_rank, GoalVersion.due_date.is_(None), GoalVersion.due_date, Goal.id)
    )
    return list(db.session.scalars(_with_content(stmt)))


def home_goals_query(*columns) -> Select:
    """The statement of `home_goals`, for the learner id as the parameter `learner_id`:
    build it once (with the `columns` the caller reads) and pass it to every call."""
    return (
        select(Goal)
        .where(
            Goal.learner_id == bindparam("learner_id"),
            Goal.status.in_([GoalStatus.ACTIVE, GoalStatus.PROPOSED, GoalStatus.DRAFT]),
        )
        .join(Goal.current_version)
        .outerjoin(GoalProgress, GoalProgress.goal_id == Goal.id)
        .add_columns(GoalProgress, *columns)
        .options(contains_eager(Goal.current_version).joinedload(GoalVersion.targets))
        .order_by(_status_rank, GoalVersion.due_date.is_(None), GoalVersion.due_date, Goal.id)
    )


def home_goals(
    learner_id: int, *columns, query: Select | None = None
) -> tuple[list[Goal], dict[int, GoalProgress], dict]:
    """The learner's open goals for the home page, active ones first, in one statement:
    each with its current version and that version's targets (what the goal cards show;
    not the strategies, which the home does not show), its progress summary (for the
    home's trackers: `progress.tracker.trackers_for(..., summaries=...)`) and the values
    of `columns`, extra per-goal expressions the caller reads with the goals (goal id ->
    tuple of their values). `query`: `home_goals_query(*columns)` built once by the
    caller (building the statement costs more than running it)."""
    stmt = home_goals_query(*columns) if query is None else query
    rows = db.session.execute(stmt, {"learner_id": learner_id}).unique().all()
    goals = [row[0] for row in rows]
    summaries = {row[0].id: row[1] for row in rows if row[1] is not None}
    return goals, summaries, {row[0].id: tuple(row[2:]) for row in rows}


def long_term_goals(learner_id: int, exclude_id: int | None = None) -> list[Goal]:
    """The learner's open long-term goals: what a short-term goal can ladder up to."""
    stmt = (
        select(Goal)
        .where(
            Goal.learner_id == learner_id,
            Goal.horizon == Horizon.LONG,
            Goal.status.in_([GoalStatus.ACTIVE, GoalStatus.PROPOSED, GoalStatus.DRAFT]),
        )
        .options(joinedload(Goal.current_version))
        .order_by(Goal.id)
    )
    if exclude_id is not None:
        stmt = stmt.where(Goal.id != exclude_id)
    return list(db.session.scalars(stmt))


def child_goals(goal_id: int, visible=None) -> list[Goal]:
    """Short-term goals laddered under a long-term goal (those `visible`)."""
    stmt = (
        select(Goal)
        .where(Goal.parent_goal_id == goal_id, true() if visible is None else visible)
        .order_by(_status_rank, Goal.id)
    )
    return list(db.session.scalars(stmt.options(joinedload(Goal.current_version))))


def versions_of(goal_id: int, visible=None) -> list[GoalVersion]:
    """Every version of a goal (those `visible`), oldest first, with targets, strategies
    and authors."""
    stmt = (
        select(GoalVersion)
        .where(GoalVersion.goal_id == goal_id, true() if visible is None else visible)
        .order_by(GoalVersion.number)
        .options(
            selectinload(GoalVersion.targets),
            selectinload(GoalVersion.strategies),
            joinedload(GoalVersion.author),
        )
    )
    return list(db.session.scalars(stmt))


# --- Targets and strategies --------------------------------------------------------


def available_target_ids(school_id: int) -> Select:
    """A SELECT of the ids of the targets a goal of this school may aim at."""
    available = available_targets(school_id).subquery()
    return select(available.c.id)


def targets_by_ids(ids: list[int]) -> list[Target]:
    if not ids:
        return []
    found = {t.id: t for t in db.session.scalars(select(Target).where(Target.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def unavailable_target_ids(school_id: int, ids: list[int]) -> list[int]:
    """The ids among `ids` that are not goal-able targets of the school."""
    if not ids:
        return []
    ok = set(
        db.session.scalars(
            select(Target.id).where(
                Target.id.in_(ids), Target.id.in_(available_target_ids(school_id))
            )
        )
    )
    return [i for i in ids if i not in ok]


def suggested_targets(school_id: int, grade: int | None, limit: int = 30) -> list[Target]:
    """Targets to offer before any search: the learner's grade band first."""
    stmt = select(Target).where(Target.id.in_(available_target_ids(school_id)))
    if grade is not None:
        stmt = stmt.where(
            (Target.grade_low.is_(None) | (Target.grade_low <= grade))
            & (Target.grade_high.is_(None) | (Target.grade_high >= grade))
        )
    return list(db.session.scalars(stmt.order_by(Target.code, Target.id).limit(limit)))


def class_grade_band(class_id: int) -> tuple[int, int] | None:
    """The lowest and highest grade of a class's learners, None when no learner has one."""
    low, high = db.session.execute(
        select(func.min(User.grade), func.max(User.grade))
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.LEARNER)
    ).one()
    return None if low is None else (low, high)


def band_first_targets(school_id: int, band: tuple[int, int] | None, limit: int = 30):
    """Targets to offer a class before any search: those for its grades first, then the rest."""
    stmt = select(Target).where(Target.id.in_(available_target_ids(school_id)))
    order = [Target.code, Target.id]
    if band is not None:
        low, high = band
        fits = (Target.grade_low.is_(None) | (Target.grade_low <= high)) & (
            Target.grade_high.is_(None) | (Target.grade_high >= low)
        )
        order.insert(0, case((fits, 0), else_=1))
    return list(db.session.scalars(stmt.order_by(*order).limit(limit)))


def strategy_bank(school_id: int | None) -> list[Strategy]:
    if school_id is None:
        return []
    return list(
        db.session.scalars(
            select(Strategy)
            .where(Strategy.school_id == school_id, Strategy.active.is_(True))
            .order_by(Strategy.id)
        )
    )


def school_strategies(school_id: int) -> list[Strategy]:
    """The whole bank of a school, active and retired, for the people who keep it."""
    return list(
        db.session.scalars(
            select(Strategy).where(Strategy.school_id == school_id).order_by(Strategy.id)
        )
    )


def strategy_text_taken(school_id: int, text: str | None, exclude_id: int | None = None) -> bool:
    """Does the school's bank already hold this wording (ignoring case), active or retired?"""
    wanted = clean_text(text).casefold()
    stmt = select(Strategy.id, Strategy.text).where(Strategy.school_id == school_id)
    if exclude_id is not None:
        stmt = stmt.where(Strategy.id != exclude_id)
    # casefold in Python: SQLite's lower() only folds ASCII.
    return any(clean_text(row.text).casefold() == wanted for row in db.session.execute(stmt))


# --- Templates ------------------------------------------------------------------


def templates_for_learner(learner_id: int) -> list[tuple[GoalTemplate, SchoolClass]]:
    """Templates offered to the learner's classes this term."""
    stmt = (
        select(GoalTemplate, SchoolClass)
        .join(SchoolClass, SchoolClass.id == GoalTemplate.class_id)
        .where(
            GoalTemplate.active.is_(True),
            GoalTemplate.class_id.in_(learner_class_ids(learner_id)),
        )
        .options(selectinload(GoalTemplate.targets))
        .order_by(SchoolClass.title, GoalTemplate.title)
    )
    return list(db.session.execute(stmt).tuples())


def templates_of_class(class_id: int) -> list[GoalTemplate]:
    return list(
        db.session.scalars(
            select(GoalTemplate)
            .where(GoalTemplate.class_id == class_id, GoalTemplate.active.is_(True))
            .options(selectinload(GoalTemplate.targets))
            .order_by(GoalTemplate.created_at.desc(), GoalTemplate.id.desc())
        )
    )


# --- A class's goals, for its teacher ----------------------------------------------


def class_goals(
    user: User,
    class_id: int,
    status: str | None = None,
    target_id: int | None = None,
    due_by: date | None = None,
) -> list[Goal]:
    """Goals of a class's learners that the user may see, in one SELECT."""
    in_class = select(Enrollment.user_id).where(
        Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.LEARNER
    )
    stmt = (
        select(Goal)
        .join(Goal.current_version)
        .join(Goal.learner)
        .where(
            Goal.learner_id.in_(in_class),
            Goal.learner_id.in_(visible_learner_ids(user)),
            User.active.is_(True),  # a deactivated learner's goals are kept, not listed
        )
        .options(
            contains_eager(Goal.current_version).joinedload(GoalVersion.targets),
            contains_eager(Goal.learner),
        )
        .order_by(User.family_name, User.given_name, _status_rank, GoalVersion.due_date, Goal.id)
    )
    if status == "open":
        stmt = stmt.where(
            Goal.status.in_([GoalStatus.ACTIVE, GoalStatus.PROPOSED, GoalStatus.DRAFT])
        )
    elif status == "closed":
        stmt = stmt.where(Goal.status.in_(CLOSED_STATUSES))
    elif status:
        stmt = stmt.where(Goal.status == GoalStatus(status))
    if target_id:
        stmt = stmt.where(GoalVersion.targets.any(GoalVersionTarget.target_id == target_id))
    if due_by:
        stmt = stmt.where(GoalVersion.due_date <= due_by)
    return list(db.session.scalars(stmt).unique())


def class_goal_targets(user: User, class_id: int) -> list[Target]:
    """The targets the class's current goals aim at: the choices of the target filter."""
    in_class = select(Enrollment.user_id).where(
        Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.LEARNER
    )
    used = (
        select(GoalVersionTarget.target_id)
        .join(Goal, Goal.current_version_id == GoalVersionTarget.version_id)
        .where(Goal.learner_id.in_(in_class), Goal.learner_id.in_(visible_learner_ids(user)))
    )
    return list(
        db.session.scalars(
            select(Target).where(Target.id.in_(used)).order_by(Target.code, Target.id)
        )
    )
