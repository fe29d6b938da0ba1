"""Read-side target queries shared with the goals feature. Each is one SELECT.

`scale_for_school` is the one exception: it creates the default scale (on a page, in a
write of its own; otherwise flush only)
for a school that has none, so every school always has a scale to rate on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.core.database import in_read_request, writing
from portal.core.extensions import db
from portal.roster.models import Org
from portal.targets.models import Framework, MasteryScale, Target, TargetKind


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


def existing_scale(school_id: int) -> MasteryScale | None:
    return db.session.scalar(
        select(MasteryScale)
        .where(MasteryScale.school_id == school_id)
        .options(selectinload(MasteryScale.levels))
    )


def scale_for_school(school_id: int) -> MasteryScale:
    """The school's mastery scale with its levels; creates (flushes) the default one if none."""
    scale = existing_scale(school_id)
    if scale is not None:
        return scale
    from portal.targets.services import create_default_scale

    if not in_read_request():
        return create_default_scale(school_id)
    # A page (GET) that is the first to need the school's scale: create it in a write of
    # its own. Two first views at once may both try; the loser reads the winner's scale.
    try:
        with writing():
            create_default_scale(school_id)
    except IntegrityError:
        pass
    return existing_scale(school_id)


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
    order = (Target.position, Target.code, Target.id)
    groups = list(
        db.session.scalars(
            select(Target)
            .where(Target.framework_id.in_(ids), Target.kind == TargetKind.GROUP)
            .order_by(*order)
        )
    )
    leaves_query = select(Target).where(
        Target.framework_id.in_(ids), Target.kind == TargetKind.TARGET
    )
    if grade is not None:
        leaves_query = leaves_query.where(
            Target.grade_low <= grade,
            func.coalesce(Target.grade_high, Target.grade_low) >= grade,
        )
    if text:
        pattern = _like_pattern(text.strip())
        leaves_query = leaves_query.where(
            Target.code.ilike(pattern, escape="\\")
            | Target.statement.ilike(pattern, escape="\\")
            | Target.family_statement.ilike(pattern, escape="\\")
            # "collaboration" finds every target inside the Collaboration group
            | Target.parent_id.in_(_groups_under_matches(groups, text.strip()))
        )
    leaves = list(db.session.scalars(leaves_query.order_by(*order).limit(limit)))
    filtering = grade is not None or bool(text)

    nodes = {t.id: Node(t, matched=not filtering) for t in groups}
    nodes.update({t.id: Node(t) for t in leaves})
    shown: set[int] = set()
    for leaf in leaves:
        current = nodes[leaf.id]
        while current is not None and current.target.id not in shown:
            shown.add(current.target.id)
            parent_id = current.target.parent_id
            current = nodes.get(parent_id) if parent_id is not None else None
    if not filtering:
        shown.update(t.id for t in groups)

    roots: dict[int, list[Node]] = {i: [] for i in ids}
    for target in [*groups, *leaves]:
        if target.id not in shown:
            continue
        node = nodes[target.id]
        parent = nodes.get(target.parent_id) if target.parent_id is not None else None
        (parent.children if parent is not None else roots[target.framework_id]).append(node)
    key = _sort_key
    for node in nodes.values():
        node.children.sort(key=key)
    counts: dict[int, int] = {i: 0 for i in ids}
    for leaf in leaves:
        counts[leaf.framework_id] += 1
    return [
        FrameworkTree(f, sorted(roots[f.id], key=key), counts[f.id])
        for f in frameworks
        if roots[f.id] or not filtering
    ]


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
