"""Changes to frameworks and targets. Services flush; the route commits.

The mastery scale's changes live in `portal.targets.scales`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.policy import framework_org_ids
from portal.roster.models import Org
from portal.targets.models import Framework, Target, TargetKind
from portal.targets.scales import create_default_scale as create_default_scale  # re-export

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
