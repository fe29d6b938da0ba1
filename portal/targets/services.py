"""Changes to frameworks, targets and mastery scales. Services flush; the route commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.policy import framework_org_ids
from portal.roster.models import Org
from portal.targets.models import (
    DEFAULT_LEVELS,
    DEFAULT_LEVELS_ES,
    MASTERY_VALUE,
    Framework,
    MasteryLevel,
    MasteryScale,
    Target,
    TargetKind,
)

# --- Mastery scales ------------------------------------------------------------------


@dataclass(frozen=True)
class LevelSpec:
    value: int
    label: str
    description: str | None = None
    is_mastery: bool = False
    label_es: str | None = None
    description_es: str | None = None


DEFAULT_SPECS = [
    LevelSpec(value, label, description, value == MASTERY_VALUE, *DEFAULT_LEVELS_ES[value])
    for value, label, description in DEFAULT_LEVELS
]


def create_default_scale(school_id: int) -> MasteryScale:
    """Give a school the default 4-level scale (Proficient = mastery)."""
    scale = MasteryScale(school_id=school_id)
    scale.levels = [_level(spec) for spec in DEFAULT_SPECS]
    db.session.add(scale)
    db.session.flush()
    return scale


def save_scale(school_id: int, name: str, levels: list[LevelSpec]) -> MasteryScale:
    """Replace a school's levels with these (validated by the form: 2-7, unique, one mastery)."""
    from portal.targets.queries import existing_scale

    scale = existing_scale(school_id)
    if scale is None:
        scale = MasteryScale(school_id=school_id)
        db.session.add(scale)
    scale.name = name
    # Old rows go first: (scale_id, value) is unique and a new level may reuse a value.
    scale.levels.clear()
    db.session.flush()
    scale.levels.extend(_level(spec) for spec in sorted(levels, key=lambda s: s.value))
    db.session.flush()
    return scale


def _level(spec: LevelSpec) -> MasteryLevel:
    return MasteryLevel(
        value=spec.value,
        label=spec.label,
        description=spec.description or None,
        is_mastery=spec.is_mastery,
        label_es=(spec.label_es or "").strip() or None,
        description_es=(spec.description_es or "").strip() or None,
    )


# --- Frameworks and targets ----------------------------------------------------------


def editable_orgs(user: User) -> list[Org]:
    """Orgs whose frameworks the user may edit or own a new framework: school and district."""
    if not user.is_staff:
        return []
    return list(
        db.session.scalars(
            select(Org).where(Org.id.in_(framework_org_ids(user))).order_by(Org.type, Org.name)
        )
    )


def create_framework(org_id: int, title: str, subject: str | None) -> Framework:
    framework = Framework(
        org_id=org_id, title=title.strip(), subject=(subject or "").strip() or None
    )
    db.session.add(framework)
    db.session.flush()
    return framework


@dataclass
class TargetData:
    kind: TargetKind
    parent_id: int | None
    code: str | None
    statement: str
    family_statement: str | None
    grade_low: int | None
    grade_high: int | None
    family_statement_es: str | None = None


def create_target(framework: Framework, data: TargetData) -> Target:
    target = Target(
        framework_id=framework.id, position=_next_position(framework.id, data.parent_id)
    )
    _apply(target, data)
    db.session.add(target)
    db.session.flush()
    return target


def update_target(target: Target, data: TargetData) -> Target:
    if data.parent_id != target.parent_id:
        target.position = _next_position(target.framework_id, data.parent_id)
    _apply(target, data)
    db.session.flush()
    return target


def _apply(target: Target, data: TargetData) -> None:
    target.kind = data.kind
    target.parent_id = data.parent_id
    target.code = (data.code or "").strip() or None
    target.statement = data.statement.strip()
    target.family_statement = (data.family_statement or "").strip() or None
    target.family_statement_es = (data.family_statement_es or "").strip() or None
    target.grade_low = data.grade_low
    target.grade_high = data.grade_high if data.grade_high is not None else data.grade_low


def _next_position(framework_id: int, parent_id: int | None) -> int:
    siblings = select(func.coalesce(func.max(Target.position), 0)).where(
        Target.framework_id == framework_id,
        Target.parent_id == parent_id if parent_id is not None else Target.parent_id.is_(None),
    )
    return db.session.scalar(siblings) + 1


def descendant_ids(target: Target) -> set[int]:
    """Ids of every target under this one (one SELECT per level of depth)."""
    found: set[int] = set()
    frontier = {target.id}
    while frontier:
        children = set(db.session.scalars(select(Target.id).where(Target.parent_id.in_(frontier))))
        frontier = children - found
        found |= children
    return found


def has_children(target: Target) -> bool:
    return (
        db.session.scalar(select(Target.id).where(Target.parent_id == target.id).limit(1))
        is not None
    )


def goal_use_count(target: Target) -> int:
    """How many goal versions and goal templates aim at this target."""
    from portal.goals.models import GoalTemplateTarget, GoalVersionTarget

    versions = select(func.count(GoalVersionTarget.id)).where(
        GoalVersionTarget.target_id == target.id
    )
    templates = select(func.count(GoalTemplateTarget.id)).where(
        GoalTemplateTarget.target_id == target.id
    )
    return db.session.scalar(versions) + db.session.scalar(templates)


def code_taken(framework_id: int, code: str, exclude_id: int | None = None) -> bool:
    """Is this code (any case) already used by another target of the framework?"""
    query = select(Target.id).where(
        Target.framework_id == framework_id, func.lower(Target.code) == code.strip().lower()
    )
    if exclude_id is not None:
        query = query.where(Target.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


def group_choices(framework_id: int, exclude: set[int] = frozenset()) -> list[tuple[int, str]]:
    """The framework's groups in tree order, indented by depth, for a parent picker."""
    from portal.targets.queries import framework_groups

    groups = framework_groups(framework_id)
    children: dict[int | None, list[Target]] = {}
    ids = {g.id for g in groups}
    for group in groups:
        parent = group.parent_id if group.parent_id in ids else None
        children.setdefault(parent, []).append(group)
    choices: list[tuple[int, str]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for group in children.get(parent_id, []):
            if group.id in exclude:
                continue
            label = " ".join(filter(None, [group.code, group.statement]))
            if len(label) > 90:
                label = label[:87] + "..."
            choices.append((group.id, "\u2003" * depth + label))
            walk(group.id, depth + 1)

    walk(None, 0)
    return choices
