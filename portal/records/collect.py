"""One learner's whole education record as plain data: what `record.json` holds.

The shape is documented in docs/record-format.md (`"format": "waypoint-record"`,
`"version": 1`); change both together and bump `VERSION` when a reader would break.
Every object that is a row of the portal carries `"ref": "<table>/<id>"`, the portal's
own name for that record (a correction request can name it), and
tests/test_records_export.py checks from those refs that every row about the learner is
here and none of anyone else's. What is deliberately left out is `LEFT_OUT`, each with
its reason (the same list is in the document).

Everything is read with one query per kind of record (never per row), so a learner with
thousands of entries costs the same handful of statements as one with ten.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import or_, select

from portal.audit.models import AccessLogEntry
from portal.auth.models import User
from portal.conferences.models import (
    Conference,
    ConferenceNote,
    ConferenceRequest,
    GoalAcknowledgement,
    GoalReflection,
    GoalSignature,
    NextStep,
)
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.family.models import Cheer, FamilyInvite
from portal.goals.models import (
    Goal,
    GoalTemplate,
    GoalVersion,
    GoalVersionStrategy,
    GoalVersionTarget,
)
from portal.profiles.models import (
    ProfileEntry,
    ProfileEntryRevision,
    ProfileReviewRequest,
    ProfileSection,
    ProfileSectionDef,
)
from portal.profiles.prompts import BUILT_IN, custom_spec
from portal.progress.models import Feedback, ProgressEntry
from portal.rights.models import CorrectionRequest
from portal.roster.models import Course, Enrollment, GuardianLink, Org, SchoolClass, Term
from portal.rostering.models import Demographics, UserIdentifier
from portal.targets.models import Framework, MasteryScale, Target

FORMAT = "waypoint-record"
VERSION = 1

# Tables with rows that point at the learner but are deliberately not in the record,
# and why (docs/record-format.md, "What is left out", says the same in prose).
LEFT_OUT: dict[str, str] = {
    "conference_notes (private)": "a teacher's private conference notes: kept in the sole "
    "possession of their maker, not shared with the learner or family",
    "goal_progress": "a summary recomputed from the entries and feedback, which are in",
    "login_sessions": "sign-in sessions: secret token hashes and browser names, not about learning",
    "trusted_devices": "device cookies: secret token hashes",
    "pending_writes": "a form waiting a few hours for its sender to sign in again; "
    "deleted once used",
    "jobs": "the portal's own bookkeeping of background work (this export among it)",
    "sign_in_badges, badge_symbols": "a printed sign-in badge's secret (as a hash) and the "
    "picture on the card: they let a young learner sign in, they say nothing about learning",
    "insight_facts": "figures derived from this record for the leaders' aggregates, "
    "recomputed every night: nothing in them that the record does not hold",
    "retention_due": "the school's list of accounts whose retention period has run out, "
    "waiting for an admin's decision: bookkeeping about the account",
    "password, PIN and invite-code hashes, upload storage keys": "secrets that would let "
    "someone sign in or find files; they say nothing about the learner",
}


def ref(row_table: str, row_id: int) -> str:
    return f"{row_table}/{row_id}"


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


class People:
    """Names and roles of everyone the record mentions, read in one query at the end."""

    def __init__(self, session) -> None:
        self.session = session
        self.ids: set[int] = set()
        self._rows: dict[int, User] = {}

    def want(self, *ids: int | None) -> None:
        self.ids.update(i for i in ids if i is not None)

    def load(self) -> None:
        missing = self.ids - self._rows.keys()
        if missing:
            for user in self.session.scalars(select(User).where(User.id.in_(missing))):
                self._rows[user.id] = user

    def __call__(self, user_id: int | None) -> dict | None:
        if user_id is None:
            return None
        user = self._rows.get(user_id)
        if user is None:
            return {"name": None, "role": None}
        return {"name": user.display_name, "role": user.role.value}


def collect(learner: User, requested_by: User | None = None, progress=None, session=None) -> dict:
    """The whole record of `learner` as JSON-able data (see docs/record-format.md), read
    with `session` (export.snapshot() gives one consistent read; default db.session).

    Each part reads its rows and names the people they mention; once everyone named is
    loaded (one query), each part builds its keys of the record, in the record's order."""
    step = progress or (lambda *_args, **_kw: None)
    session = session or db.session
    people = People(session)
    builds = []
    for number, read in enumerate(_PARTS, start=1):
        builds.append(read(_Reading(session, learner, people)))
        step(number, len(_PARTS) + 1)
    people.want(requested_by.id if requested_by else None)
    people.load()
    record = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": _when(utcnow()),
        "requested_by": people(requested_by.id) if requested_by else None,
    }
    for build in builds:
        record.update(build())
    record["left_out"] = [{"what": what, "why": why} for what, why in LEFT_OUT.items()]
    step(len(_PARTS) + 1, len(_PARTS) + 1)
    return record


class _Reading:
    """What every part reads with: the session, the learner, the people named so far."""

    def __init__(self, session, learner: User, people: People) -> None:
        self.session, self.learner, self.people = session, learner, people
        self.lid = learner.id

    def all(self, statement) -> list:
        return list(self.session.scalars(statement))


def _who(r: _Reading):
    """Who the learner is: identifiers, demographics, classes, family, school's scale."""
    session, lid, people = r.session, r.lid, r.people
    identifiers = r.all(select(UserIdentifier).where(UserIdentifier.user_id == lid))
    demographics = session.get(Demographics, lid)
    enrollments = session.execute(
        select(Enrollment, SchoolClass, Term, Course)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(Term, Term.id == SchoolClass.term_id)
        .outerjoin(Course, Course.id == SchoolClass.course_id)
        .where(Enrollment.user_id == lid)
        .order_by(Term.start_date, SchoolClass.title, Enrollment.id)
    ).all()
    links = r.all(
        select(GuardianLink).where(GuardianLink.learner_id == lid).order_by(GuardianLink.id)
    )
    people.want(*(link.guardian_id for link in links))
    invites = r.all(
        select(FamilyInvite).where(FamilyInvite.learner_id == lid).order_by(FamilyInvite.id)
    )
    people.want(*(i.created_by_id for i in invites), *(i.used_by_id for i in invites))
    school = session.get(Org, r.learner.org_id) if r.learner.org_id else None
    scale = (
        session.scalar(select(MasteryScale).where(MasteryScale.school_id == school.id))
        if school
        else None
    )

    def build() -> dict:
        return {
            "learner": _learner(r.learner, school),
            "identifiers": [
                {"ref": ref("user_identifiers", i.id), "type": i.type, "identifier": i.identifier}
                for i in identifiers
            ],
            "demographics": _demographics(demographics),
            "enrollments": [_enrollment(*row) for row in enrollments],
            "guardians": [_guardian(link, people) for link in links],
            "family_invites": [_invite(i, people) for i in invites],
            "mastery_scale": _scale(scale),
        }

    return build


def _enrollment(e: Enrollment, c: SchoolClass, t: Term, course: Course | None) -> dict:
    return {
        "ref": ref("enrollments", e.id),
        "role": e.role.value,
        "class": {
            "title": c.title,
            "period": c.period,
            "course": course.title if course else None,
            "term": {"title": t.title, "start": _when(t.start_date), "end": _when(t.end_date)},
        },
    }


def _guardian(link: GuardianLink, people) -> dict:
    return {
        "ref": ref("guardian_links", link.id),
        "guardian": people(link.guardian_id),
        "relationship": link.relationship_label,
        "active": link.active,
        "linked_at": _when(link.created_at),
        "deactivated_at": _when(link.deactivated_at),
    }


def _invite(i: FamilyInvite, people) -> dict:
    return {
        "ref": ref("family_invites", i.id),
        "created_by": people(i.created_by_id),
        "created_at": _when(i.created_at),
        "expires_at": _when(i.expires_at),
        "used_at": _when(i.used_at),
        "used_by": people(i.used_by_id),
        "revoked_at": _when(i.revoked_at),
    }


def _profile(r: _Reading):
    """The profile: sections, their entries and revisions, review requests."""
    lid, people = r.lid, r.people
    sections = r.all(
        select(ProfileSection).where(ProfileSection.learner_id == lid).order_by(ProfileSection.id)
    )
    section_ids = [s.id for s in sections]
    entries = r.all(
        select(ProfileEntry)
        .where(ProfileEntry.section_id.in_(section_ids))
        .order_by(ProfileEntry.id)
    )
    revisions = r.all(
        select(ProfileEntryRevision)
        .join(ProfileEntry, ProfileEntry.id == ProfileEntryRevision.entry_id)
        .where(ProfileEntry.section_id.in_(section_ids))
        .order_by(ProfileEntryRevision.id)
    )
    reviews = r.all(
        select(ProfileReviewRequest)
        .where(ProfileReviewRequest.learner_id == lid)
        .order_by(ProfileReviewRequest.id)
    )
    definitions = {
        d.id: d
        for d in r.all(
            select(ProfileSectionDef).where(
                ProfileSectionDef.id.in_([s.definition_id for s in sections if s.definition_id])
            )
        )
    }
    people.want(*(s.locked_by_id for s in sections), *(e.author_id for e in entries))
    people.want(*(v.edited_by_id for v in revisions), *(v.resolved_by_id for v in reviews))

    def build() -> dict:
        return {
            "profile": {
                "sections": _sections(sections, entries, revisions, definitions, people),
                "review_requests": [
                    {
                        "ref": ref("profile_review_requests", v.id),
                        "note": v.note,
                        "created_at": _when(v.created_at),
                        "resolved_at": _when(v.resolved_at),
                        "resolved_by": people(v.resolved_by_id),
                    }
                    for v in reviews
                ],
            }
        }

    return build


def _goal_records(r: _Reading):
    """The goals with their versions, signatures and reflections, and their progress
    entries, feedback and cheers."""
    lid, people = r.lid, r.people
    goals = r.all(select(Goal).where(Goal.learner_id == lid).order_by(Goal.id))
    goal_ids = select(Goal.id).where(Goal.learner_id == lid)
    versions, version_targets, version_strategies = _versions(r, goal_ids)
    signatures = r.all(
        select(GoalSignature).where(GoalSignature.learner_id == lid).order_by(GoalSignature.id)
    )
    acknowledgements = r.all(
        select(GoalAcknowledgement)
        .where(GoalAcknowledgement.goal_id.in_(goal_ids))
        .order_by(GoalAcknowledgement.id)
    )
    reflections = r.all(
        select(GoalReflection).where(GoalReflection.learner_id == lid).order_by(GoalReflection.id)
    )
    template_ids = {g.template_id for g in goals if g.template_id}
    templates = {
        t.id: t for t in r.all(select(GoalTemplate).where(GoalTemplate.id.in_(template_ids)))
    }
    people.want(*(g.created_by_id for g in goals), *(v.author_id for v in versions))
    people.want(*(s.signer_id for s in signatures), *(s.witness_id for s in signatures))
    people.want(*(a.guardian_id for a in acknowledgements))
    entries, feedback, cheers = _activity(r)

    def build() -> dict:
        return {
            "goals": _goals(
                goals,
                versions,
                version_targets,
                version_strategies,
                signatures,
                acknowledgements,
                reflections,
                templates,
                entries,
                feedback,
                cheers,
                people,
            )
        }

    return build


def _versions(r: _Reading, goal_ids) -> tuple[list, list, list]:
    """Every version of the goals `goal_ids` (a SELECT), with its targets and strategies."""
    versions = r.all(
        select(GoalVersion)
        .where(GoalVersion.goal_id.in_(goal_ids))
        .order_by(GoalVersion.goal_id, GoalVersion.number)
    )
    version_ids = select(GoalVersion.id).where(GoalVersion.goal_id.in_(goal_ids))
    targets = r.session.execute(
        select(GoalVersionTarget, Target, Framework)
        .join(Target, Target.id == GoalVersionTarget.target_id)
        .join(Framework, Framework.id == Target.framework_id)
        .where(GoalVersionTarget.version_id.in_(version_ids))
        .order_by(GoalVersionTarget.version_id, GoalVersionTarget.position, GoalVersionTarget.id)
    ).all()
    strategies = r.all(
        select(GoalVersionStrategy)
        .where(GoalVersionStrategy.version_id.in_(version_ids))
        .order_by(GoalVersionStrategy.version_id, GoalVersionStrategy.position)
    )
    return versions, targets, strategies


def _activity(r: _Reading) -> tuple[list, list, list]:
    """The progress entries, feedback and cheers on the learner's goals."""
    lid, people = r.lid, r.people
    entries = r.all(
        select(ProgressEntry)
        .where(ProgressEntry.learner_id == lid)
        .order_by(ProgressEntry.created_at, ProgressEntry.id)
    )
    feedback = r.all(
        select(Feedback)
        .where(Feedback.learner_id == lid)
        .order_by(Feedback.created_at, Feedback.id)
    )
    cheers = r.all(select(Cheer).where(Cheer.learner_id == lid).order_by(Cheer.id))
    people.want(*(f.author_id for f in feedback), *(c.author_id for c in cheers))
    people.want(*(c.hidden_by_id for c in cheers))
    return entries, feedback, cheers


def _conference_records(r: _Reading):
    """The conferences (shared notes only), their next steps, the learner's requests."""
    lid, people = r.lid, r.people
    conferences = r.all(
        select(Conference).where(Conference.learner_id == lid).order_by(Conference.scheduled_at)
    )
    notes = r.all(
        select(ConferenceNote)
        .where(ConferenceNote.learner_id == lid, ConferenceNote.private.is_(False))
        .order_by(ConferenceNote.id)
    )
    steps = r.all(select(NextStep).where(NextStep.learner_id == lid).order_by(NextStep.id))
    requests = r.all(
        select(ConferenceRequest)
        .where(ConferenceRequest.learner_id == lid)
        .order_by(ConferenceRequest.id)
    )
    class_ids = {c.class_id for c in conferences if c.class_id}
    class_titles = dict(
        r.session.execute(
            select(SchoolClass.id, SchoolClass.title).where(SchoolClass.id.in_(class_ids))
        ).all()
    )
    people.want(*(c.teacher_id for c in conferences), *(c.created_by_id for c in conferences))
    people.want(*(n.author_id for n in notes), *(s.created_by_id for s in steps))
    people.want(*(s.done_by_id for s in steps))

    def build() -> dict:
        return {
            "conferences": _conferences(conferences, notes, steps, class_titles, people),
            "conference_requests": [
                {
                    "ref": ref("conference_requests", q.id),
                    "note": q.note,
                    "created_at": _when(q.created_at),
                    "resolved_at": _when(q.resolved_at),
                }
                for q in requests
            ],
        }

    return build


def _rights_records(r: _Reading):
    """Corrections asked for, and who has read the record (the access log)."""
    lid, people = r.lid, r.people
    corrections = r.all(
        select(CorrectionRequest)
        .where(CorrectionRequest.learner_id == lid)
        .order_by(CorrectionRequest.id)
    )
    people.want(*(c.requester_id for c in corrections), *(c.answered_by_id for c in corrections))
    reads = r.all(
        select(AccessLogEntry)
        .where(or_(AccessLogEntry.learner_id == lid, AccessLogEntry.actor_id == lid))
        .order_by(AccessLogEntry.at, AccessLogEntry.id)
    )
    people.want(*(e.actor_id for e in reads))

    def build() -> dict:
        return {
            "correction_requests": [_correction(c, people) for c in corrections],
            "access_log": [
                {
                    "ref": ref("access_log", e.id),
                    "at": _when(e.at),
                    "by": people(e.actor_id),
                    "part": e.record,
                    "page": e.page,
                }
                for e in reads
            ],
        }

    return build


def _correction(c: CorrectionRequest, people) -> dict:
    return {
        "ref": ref("correction_requests", c.id),
        "requested_by": people(c.requester_id),
        "part": {"kind": c.part_kind.value, "id": c.part_id, "text": c.part_text},
        "message": c.message,
        "status": c.status.value,
        "answer": c.answer,
        "answered_by": people(c.answered_by_id),
        "answered_at": _when(c.answered_at),
        "created_at": _when(c.created_at),
    }


# The parts in the record's order; each is one progress step (the building is the last).
_PARTS = (_who, _profile, _goal_records, _conference_records, _rights_records)


def _learner(learner: User, school: Org | None) -> dict:
    return {
        "ref": ref("users", learner.id),
        "source_id": learner.source_id,
        "username": learner.username,
        "email": learner.email,
        "given_name": learner.given_name,
        "family_name": learner.family_name,
        "preferred_name": learner.preferred_name,
        "grade": learner.grade,
        "school": {"name": school.name, "source_id": school.source_id} if school else None,
        "language": learner.locale,
        "active": learner.active,
        "created_at": _when(learner.created_at),
    }


_DEMOGRAPHIC_FIELDS = (
    "sex",
    "american_indian_or_alaska_native",
    "asian",
    "black_or_african_american",
    "native_hawaiian_or_other_pacific_islander",
    "white",
    "two_or_more_races",
    "hispanic_or_latino_ethnicity",
    "country_of_birth_code",
    "state_of_birth_abbreviation",
    "city_of_birth",
    "public_school_residence_status",
)


def _demographics(row: Demographics | None) -> dict | None:
    if row is None:
        return None
    data = {"ref": ref("demographics", row.user_id), "birth_date": _when(row.birth_date)}
    data.update({name: getattr(row, name) for name in _DEMOGRAPHIC_FIELDS})
    data["programs"] = row.programs or {}
    return data


def _scale(scale: MasteryScale | None) -> list[dict]:
    if scale is None:
        return []
    return [
        {
            "value": level.value,
            "label": level.label,
            "label_es": level.label_es,
            "description": level.description,
            "is_mastery": level.is_mastery,
        }
        for level in scale.levels
    ]


def section_title(key: str, definition: ProfileSectionDef | None) -> str:
    """A section's title in the current language (a school's own sections as written)."""
    if definition is not None:
        return custom_spec(definition).title
    spec = next((s for s in BUILT_IN if s.key == key), None)
    return str(spec.title) if spec else key


def _sections(sections, entries, revisions, definitions, people) -> list[dict]:
    by_entry: dict[int, list] = defaultdict(list)
    for revision in revisions:
        by_entry[revision.entry_id].append(revision)
    by_section: dict[int, list] = defaultdict(list)
    for entry in entries:
        by_section[entry.section_id].append(entry)
    out = []
    for section in sections:
        out.append(
            {
                "ref": ref("profile_sections", section.id),
                "key": section.key,
                "title": section_title(section.key, definitions.get(section.definition_id)),
                "audience": section.audience.value,
                "audience_changed_at": _when(section.audience_changed_at),
                "locked": section.locked,
                "locked_by": people(section.locked_by_id),
                "locked_at": _when(section.locked_at),
                "updated_at": _when(section.updated_at),
                "entries": [
                    {
                        "ref": ref("profile_entries", entry.id),
                        "comment_on": ref("profile_entries", entry.parent_id)
                        if entry.parent_id
                        else None,
                        "author": people(entry.author_id),
                        "created_at": _when(entry.created_at),
                        # Oldest first; the last is what the entry says now.
                        "revisions": [
                            {
                                "ref": ref("profile_entry_revisions", r.id),
                                "text": r.text,
                                "chips": r.chip_keys,
                                "edited_by": people(r.edited_by_id),
                                "created_at": _when(r.created_at),
                            }
                            for r in by_entry[entry.id]
                        ],
                    }
                    for entry in by_section[section.id]
                ],
            }
        )
    return out


def _target(gvt: GoalVersionTarget, target: Target, framework: Framework) -> dict:
    return {
        "ref": ref("goal_version_targets", gvt.id),
        # CASE CFItem identifier when the target was imported from CASE, else None.
        "case_identifier": target.case_identifier,
        "code": target.code,
        "statement": target.statement,
        "item_type": target.item_type,
        "framework": {
            "title": framework.title,
            "case_identifier": framework.case_identifier,
            "case_version": framework.case_version,
        },
    }


def _grouped(rows: Iterable, key: str) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for row in rows:
        out[getattr(row, key)].append(row)
    return out


def _feedback(f: Feedback, people) -> dict:
    return {
        "ref": ref("progress_feedback", f.id),
        "author": people(f.author_id),
        "rating": f.rating,
        "body": f.body,
        "for_families": f.for_families,
        "created_at": _when(f.created_at),
    }


def _cheer(c: Cheer, people) -> dict:
    return {
        "ref": ref("family_cheers", c.id),
        "author": people(c.author_id),
        "body": c.body,
        "created_at": _when(c.created_at),
        "hidden_at": _when(c.hidden_at),
        "hidden_by": people(c.hidden_by_id),
    }


def evidence_path(entry: ProgressEntry) -> str:
    """Where an entry's uploaded file is inside the zip: unique by entry, named as uploaded."""
    name = (entry.file_name or "evidence").replace("/", "_").replace("\\", "_")
    return f"evidence/{entry.id}-{name}"


def _goals(
    goals,
    versions,
    version_targets,
    version_strategies,
    signatures,
    acknowledgements,
    reflections,
    templates,
    progress_entries,
    feedback,
    cheers,
    people,
) -> list[dict]:
    targets_of: dict[int, list] = defaultdict(list)
    for gvt, target, framework in version_targets:
        targets_of[gvt.version_id].append(_target(gvt, target, framework))
    strategies_of = _grouped(version_strategies, "version_id")
    versions_of = _grouped(versions, "goal_id")
    signatures_of = _grouped(signatures, "goal_id")
    acks_of = _grouped(acknowledgements, "goal_id")
    reflections_of = _grouped(reflections, "goal_id")
    entries_of = _grouped(progress_entries, "goal_id")
    entry_feedback = _grouped([f for f in feedback if f.entry_id], "entry_id")
    goal_feedback = _grouped([f for f in feedback if not f.entry_id], "goal_id")
    entry_cheers = _grouped([c for c in cheers if c.entry_id], "entry_id")
    goal_cheers = _grouped([c for c in cheers if not c.entry_id], "goal_id")
    out = []
    for goal in goals:
        template = templates.get(goal.template_id)
        out.append(
            {
                "ref": ref("goals", goal.id),
                "status": goal.status.value,
                "horizon": goal.horizon.value,
                "part_of": ref("goals", goal.parent_goal_id) if goal.parent_goal_id else None,
                "from_template": template.title if template else None,
                "created_by": people(goal.created_by_id),
                "created_at": _when(goal.created_at),
                "updated_at": _when(goal.updated_at),
                "current_version": _vref(goal.current_version_id),
                "agreed_version": _vref(goal.agreed_version_id),
                "versions": [
                    _version(v, targets_of[v.id], strategies_of[v.id], people)
                    for v in versions_of[goal.id]
                ],
                "signatures": [_signature(sig, people) for sig in signatures_of[goal.id]],
                "family_acknowledgements": [
                    _acknowledgement(a, people) for a in acks_of[goal.id]
                ],
                "reflections": [_reflection(r) for r in reflections_of[goal.id]],
                "feedback": [_feedback(f, people) for f in goal_feedback[goal.id]],
                "cheers": [_cheer(c, people) for c in goal_cheers[goal.id]],
                "entries": [
                    _entry(e, entry_feedback[e.id], entry_cheers[e.id], people)
                    for e in entries_of[goal.id]
                ],
            }
        )
    return out


def _version(v: GoalVersion, targets: list[dict], strategies: list, people) -> dict:
    return {
        "ref": ref("goal_versions", v.id),
        "number": v.number,
        "statement": v.statement,
        "target_level": v.target_level,
        "due_date": _when(v.due_date),
        "supports": v.supports,
        "voice": v.voice.value,
        "author": people(v.author_id),
        "created_at": _when(v.created_at),
        "content_hash": v.content_hash,
        "targets": targets,
        "strategies": [
            {
                "ref": ref("goal_version_strategies", s.id),
                "text": s.text,
                "from_bank": s.strategy_id is not None,
            }
            for s in strategies
        ],
    }


def _signature(s: GoalSignature, people) -> dict:
    return {
        "ref": ref("goal_signatures", s.id),
        "version": _vref(s.version_id),
        "role": s.role.value,
        "signer": people(s.signer_id),
        "method": s.method.value,
        "witness": people(s.witness_id),
        "conference": ref("conferences", s.conference_id) if s.conference_id else None,
        "content_hash": s.content_hash,
        "signed_at": _when(s.signed_at),
    }


def _acknowledgement(a: GoalAcknowledgement, people) -> dict:
    return {
        "ref": ref("goal_acknowledgements", a.id),
        "version": _vref(a.version_id),
        "guardian": people(a.guardian_id),
        "acknowledged_at": _when(a.acknowledged_at),
    }


def _reflection(r: GoalReflection) -> dict:
    return {
        "ref": ref("goal_reflections", r.id),
        "choice": r.choice.value,
        "note": r.note,
        "created_at": _when(r.created_at),
    }


def _entry(e: ProgressEntry, feedback: list, cheers: list, people) -> dict:
    return {
        "ref": ref("progress_entries", e.id),
        "created_at": _when(e.created_at),
        "strategy": e.strategy_text,
        "self_rating": e.self_rating,
        "reflection": e.reflection,
        "link_url": e.link_url,
        "evidence": {
            "file_name": e.file_name,
            "type": e.file_type,
            "size": e.file_size,
            "path": evidence_path(e),
        }
        if e.file_key
        else None,
        "shared_with_family": e.shared_with_family,
        "feedback": [_feedback(f, people) for f in feedback],
        "cheers": [_cheer(c, people) for c in cheers],
    }


def _vref(version_id: int | None) -> str | None:
    return ref("goal_versions", version_id) if version_id else None


def _conferences(conferences, notes, steps, class_titles, people) -> list[dict]:
    notes_of = _grouped(notes, "conference_id")
    steps_of = _grouped(steps, "conference_id")
    return [
        {
            "ref": ref("conferences", c.id),
            "teacher": people(c.teacher_id),
            "class": class_titles.get(c.class_id),
            "scheduled_at": _when(c.scheduled_at),
            "duration_minutes": c.duration_minutes,
            "status": c.status.value,
            "held_at": _when(c.held_at),
            "preparation": {
                "working": c.prep_working,
                "hard": c.prep_hard,
                "help": c.prep_help,
                "answered_at": _when(c.prep_at),
            },
            "created_by": people(c.created_by_id),
            "created_at": _when(c.created_at),
            # Shared notes only: private notes stay with the teachers who wrote them.
            "notes": [
                {
                    "ref": ref("conference_notes", n.id),
                    "author": people(n.author_id),
                    "body": n.body,
                    "created_at": _when(n.created_at),
                }
                for n in notes_of[c.id]
            ],
            "next_steps": [
                {
                    "ref": ref("conference_next_steps", s.id),
                    "text": s.text,
                    "owner": s.owner.value,
                    "due_date": _when(s.due_date),
                    "created_by": people(s.created_by_id),
                    "created_at": _when(s.created_at),
                    "done_at": _when(s.done_at),
                    "done_by": people(s.done_by_id),
                }
                for s in steps_of[c.id]
            ],
        }
        for c in conferences
    ]
