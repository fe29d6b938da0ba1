"""Demo rows for the record rights: staff reads of Maya's and Eli's records, so Ana's
"who has looked" page shows what a family would see after a few weeks of school, and one
correction request Ana sent about Maya's profile, waiting in the school admin's queue."""

from __future__ import annotations

from datetime import timedelta

from portal.audit.models import AccessLogEntry
from portal.core.timeutil import utcnow
from portal.rights.models import CorrectionRequest, PartKind

# (days ago, who read, whose record, the page's path pattern, what part)
READS = (
    (12, "school_admin", "learner", "/learners/{id}/profile", "profile"),
    (6, "teacher", "learner", "/learners/{id}/goals", "goals"),
    (3, "teacher", "learner", "/learners/{id}/progress", "progress"),
    (1, "teacher", "learner", "/learners/{id}/profile", "profile"),
    (4, "school_admin", "sibling", "/learners/{id}/goals", "goals"),
)


def seed(demo) -> None:
    named, now = demo.named, utcnow()
    for days, actor, learner, page, record in READS:
        if actor not in named or learner not in named:
            continue
        demo.session.add(
            AccessLogEntry(
                at=now - timedelta(days=days, hours=2),
                actor_id=named[actor].id,
                learner_id=named[learner].id,
                page=page.format(id=named[learner].id)[:120],
                record=record,
            )
        )
    if "guardian" in named and "learner" in named:
        demo.session.add(
            CorrectionRequest(
                learner_id=named["learner"].id,
                requester_id=named["guardian"].id,
                part_kind=PartKind.OTHER,
                message="En su perfil dice que Maya toca el piano: ahora toca la guitarra.",
                created_at=now - timedelta(days=2),
            )
        )
