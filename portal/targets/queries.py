"""Read-side target queries, shared with the goals feature. Each is one SELECT (or one per
level of depth, for `descendant_ids`).

The school's scale is read through `portal.targets.scales` (re-exported here for the goals
feature): it creates the default scale for a school that has none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Select, case, func, select

from portal.core.extensions import db
from portal.goals.models import GoalTemplateTarget, GoalVersionTarget
from portal.roster.models import Org
from portal.targets.models import Framework, Target, TargetKind

# The goals feature reads the scale through this module.
from portal.targets.scales import existing_scale as existing_scale
from portal.targets.scales import scale_for_school as scale_for_school


def framework_orgs_of_school(school_id: int) -> Select:
    """The school itself and its district: the orgs whose frameworks it may use."""
    district = select(Org.parent_id).where(Org.id == school_id).scalar_subquery()
    return select(Org.id).where((Org.id == school_id) | (Org.id == district))


def available_targets(school_id: int) -> Select:
    """A SELECT of the TARGET-kind targets a school may aim goals at, ordered by code."""
    return (
        select(Target)
        .join(Framework, Framework.id == Target.framework_id)
        .where(
            Target.kind == TargetKind.TARGET,
            Framework.org_id.in_(framework_orgs_of_school(school_id)),
        )
        .order_by(Target.code, Target.id)
    )


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_targets(school_id: int, text: str, limit: int = 20) -> list[Target]:
    """Targets of the school whose code or statement contains text (any case); codes first."""
    text = (text or "").strip()
    query = available_targets(school_id)
    if text:
        pattern = _like_pattern(text)
        code_starts = Target.code.ilike(pattern[1:], escape="\\")
        query = (
            query.where(
                Target.code.ilike(pattern, escape="\\")
                | Target.statement.ilike(pattern, escape="\\")
            )
            .order_by(None)
            .order_by(case((code_starts, 0), else_=1), Target.code, Target.id)
        )
    return list(db.session.scalars(query.limit(limit)))


def visible_frameworks(org_ids: Select) -> list[Framework]:
    """Frameworks owned by these orgs, by title."""
    return list(
        db.session.scalars(
            select(Framework).where(Framework.org_id.in_(org_ids)).order_by(Framework.title)
        )
    )


def target_counts(framework_ids: list[int]) -> dict[int, int]:
    """How many TARGET-kind entries each framework has."""
    if not framework_ids:
        return {}
    rows = db.session.execute(
        select(Target.framework_id, func.count(Target.id))
        .where(Target.framework_id.in_(framework_ids), Target.kind == TargetKind.TARGET)
        .group_by(Target.framework_id)
    ).tuples()
    return dict(rows.all())


@dataclass
class Node:
    """A target in the browse tree, with the children to show under it."""

    target: Target
    children: list[Node] = field(default_factory=list)
    matched: bool = True


@dataclass
class FrameworkTree:
    framework: Framework
    roots: list[Node]
    matches: int


def target_trees(
    frameworks: list[Framework],
    grade: int | None = None,
    text: str | None = None,
    limit: int = 500,
) -> list[FrameworkTree]:
    """Each framework's tree, keeping only targets that match the filters and their groups.

    Two SELECTs whatever the size: the groups of the frameworks, and the matching
    targets (at most `limit` of them).
    """
    ids = [f.id for f in frameworks]
    if not ids:
        return []
    groups = list(
        db.session.scalars(
            select(Target)
            .where(Target.framework_id.in_(ids), Target.kind == TargetKind.GROUP)
            .order_by(*TREE_ORDER)
        )
    )
    leaves = _matching_leaves(ids, groups, grade, text, limit)
    filtering = grade is not None or bool(text)
    nodes = {t.id: Node(t, matched=not filtering) for t in groups}
    nodes.update({t.id: Node(t) for t in leaves})
    shown = _with_ancestors(nodes, leaves) if filtering else set(nodes)
    roots = _link_tree(ids, [*groups, *leaves], nodes, shown)
    counts = Counter(leaf.framework_id for leaf in leaves)
    return [
        FrameworkTree(f, sorted(roots[f.id], key=_sort_key), counts[f.id])
        for f in frameworks
        if roots[f.id] or not filtering
    ]


TREE_ORDER = (Target.position, Target.code, Target.id)


def _matching_leaves(
    ids: list[int], groups: list[Target], grade: int | None, text: str | None, limit: int
) -> list[Target]:
    """The TARGET-kind entries of these frameworks for the grade and words, in tree order."""
    query = select(Target).where(Target.framework_id.in_(ids), Target.kind == TargetKind.TARGET)
    if grade is not None:
        query = query.where(
            Target.grade_low <= grade,
            func.coalesce(Target.grade_high, Target.grade_low) >= grade,
        )
    if text:
        pattern = _like_pattern(text.strip())
        query = query.where(
            Target.code.ilike(pattern, escape="\\")
            | Target.statement.ilike(pattern, escape="\\")
            | Target.family_statement.ilike(pattern, escape="\\")
            # "collaboration" finds every target inside the Collaboration group
            | Target.parent_id.in_(_groups_under_matches(groups, text.strip()))
        )
    return list(db.session.scalars(query.order_by(*TREE_ORDER).limit(limit)))


def _with_ancestors(nodes: dict[int, Node], leaves: list[Target]) -> set[int]:
    """Ids of the leaves and of every group above one of them."""
    shown: set[int] = set()
    for leaf in leaves:
        current = nodes[leaf.id]
        while current is not None and current.target.id not in shown:
            shown.add(current.target.id)
            parent_id = current.target.parent_id
            current = nodes.get(parent_id) if parent_id is not None else None
    return shown


def _link_tree(
    ids: list[int], targets: list[Target], nodes: dict[int, Node], shown: set[int]
) -> dict[int, list[Node]]:
    """Hang each shown node under its parent; the top ones by framework. Children sorted."""
    roots: dict[int, list[Node]] = {i: [] for i in ids}
    for target in targets:
        if target.id not in shown:
            continue
        node = nodes[target.id]
        parent = nodes.get(target.parent_id) if target.parent_id is not None else None
        (parent.children if parent is not None else roots[target.framework_id]).append(node)
    for node in nodes.values():
        node.children.sort(key=_sort_key)
    return roots


def _groups_under_matches(groups: list[Target], text: str) -> set[int]:
    """Ids of the groups whose code or statement contains text, and of every group below."""
    needle = text.casefold()
    found = {
        g.id
        for g in groups
        if needle in (g.code or "").casefold() or needle in g.statement.casefold()
    }
    children: dict[int, list[int]] = {}
    for group in groups:
        if group.parent_id is not None:
            children.setdefault(group.parent_id, []).append(group.id)
    frontier = list(found)
    while frontier:
        below = [c for parent in frontier for c in children.get(parent, []) if c not in found]
        found.update(below)
        frontier = below
    return found


def _sort_key(node: Node):
    t = node.target
    return (t.position, t.code or "", t.id)


def framework_groups(framework_id: int) -> list[Target]:
    """The framework's groups, for a parent picker, in tree order by code."""
    return list(
        db.session.scalars(
            select(Target)
            .where(Target.framework_id == framework_id, Target.kind == TargetKind.GROUP)
            .order_by(Target.position, Target.code, Target.id)
        )
    )


def group_choices(framework_id: int, exclude: set[int] = frozenset()) -> list[tuple[int, str]]:
    """The framework's groups in tree order, indented by depth, for a parent picker."""
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
