"""Write a district's roster as a OneRoster 1.2 bulk zip (what an import reads back).

Rows Waypoint made itself have no sourcedId; the export names them `wp-<kind>-<id>`.
Read back, people are then matched by username (as people typed in by hand are) and
enrollments and guardian links by their pair, so a round trip changes nothing. Sessions,
courses and classes without a sourcedId would come back as new ones: the demo district
and every imported roster carry one. A class without a course gets a course of its own.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from pathlib import Path

from sqlalchemy import or_, select

from portal.auth.models import Role, User
from portal.core.extensions import db
from portal.oneroster import spec
from portal.roster.models import Course, Enrollment, GuardianLink, Org, SchoolClass, Term
from portal.rostering.engine import DEMOGRAPHIC_FIELDS, grade_text
from portal.rostering.models import Demographics, UserIdentifier

FILES = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "roles",
    "enrollments",
    "demographics",
)
ROLE_WORDS = {
    Role.LEARNER: "student",
    Role.TEACHER: "teacher",
    Role.SCHOOL_ADMIN: "administrator",
    Role.DISTRICT_ADMIN: "administrator",
    Role.GUARDIAN: "guardian",
}
DEMOGRAPHIC_COLUMNS = {
    "birth_date": "birthDate",
    "sex": "sex",
    "american_indian_or_alaska_native": "americanIndianOrAlaskaNative",
    "asian": "asian",
    "black_or_african_american": "blackOrAfricanAmerican",
    "native_hawaiian_or_other_pacific_islander": "nativeHawaiianOrOtherPacificIslander",
    "white": "white",
    "two_or_more_races": "demographicRaceTwoOrMoreRaces",
    "hispanic_or_latino_ethnicity": "hispanicOrLatinoEthnicity",
    "country_of_birth_code": "countryOfBirthCode",
    "state_of_birth_abbreviation": "stateOfBirthAbbreviation",
    "city_of_birth": "cityOfBirth",
    "public_school_residence_status": "publicSchoolResidenceStatus",
}


def _sid(kind: str, row_id: int, source_id: str | None) -> str:
    return source_id or f"wp-{kind}-{row_id}"


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class _Files:
    def __init__(self, metadata_columns: list[str]):
        self.metadata_columns = metadata_columns
        self.buffers = {name: io.StringIO() for name in FILES}
        self.writers = {}
        for name in FILES:
            header = [c.name for c in spec.COLUMNS[name] if spec.V12 in c.versions]
            if name == "demographics":
                header = [*header, *self.metadata_columns]
            writer = csv.DictWriter(
                self.buffers[name], header, lineterminator="\r\n", extrasaction="ignore"
            )
            writer.writeheader()
            self.writers[name] = writer

    def row(self, file: str, /, **values) -> None:
        self.writers[file].writerow({k: _value(v) for k, v in values.items()})


def export_oneroster(district: Org, out_path: str | Path) -> Path:
    """Write the district's orgs, terms, courses, classes, people, enrollments, guardian
    links (agentSourcedIds) and demographics as a OneRoster 1.2 bulk zip at `out_path`."""
    session = db.session
    schools = list(session.scalars(select(Org).where(Org.parent_id == district.id)))
    org_ids = {district.id, *(s.id for s in schools)}
    org_sid = {o.id: _sid("org", o.id, o.source_id) for o in (district, *schools)}
    programs = sorted(
        {key for (p,) in session.execute(select(Demographics.programs)) for key in (p or {})}
    )
    files = _Files([f"metadata.{k}" for k in programs])

    files.row(
        "orgs", sourcedId=org_sid[district.id], status="active", name=district.name, type="district"
    )
    for school in schools:
        files.row(
            "orgs",
            sourcedId=org_sid[school.id],
            status="active",
            name=school.name,
            type="school",
            parentSourcedId=org_sid[district.id],
        )

    terms = list(session.scalars(select(Term).where(Term.org_id.in_(org_ids)).order_by(Term.id)))
    term_sid = {}
    for term in terms:
        term_sid[term.id] = _sid("term", term.id, term.source_id)
        files.row(
            "academicSessions",
            sourcedId=term_sid[term.id],
            status="active",
            title=term.title,
            type="term",
            startDate=term.start_date,
            endDate=term.end_date,
            schoolYear=term.end_date.year,
        )

    course_sid = {}
    for course in session.scalars(select(Course).where(Course.school_id.in_(org_ids))):
        course_sid[course.id] = _sid("course", course.id, course.source_id)
        files.row(
            "courses",
            sourcedId=course_sid[course.id],
            status="active",
            title=course.title,
            orgSourcedId=org_sid[course.school_id],
            subjects=course.subject,
        )

    class_sid = {}
    for cls in session.scalars(select(SchoolClass).where(SchoolClass.school_id.in_(org_ids))):
        class_sid[cls.id] = _sid("class", cls.id, cls.source_id)
        if cls.course_id is None:
            course = f"wp-course-class-{cls.id}"
            files.row(
                "courses",
                sourcedId=course,
                status="active",
                title=cls.title,
                orgSourcedId=org_sid[cls.school_id],
            )
        else:
            course = course_sid[cls.course_id]
        if cls.term_id not in term_sid:
            term = session.get(Term, cls.term_id)
            term_sid[term.id] = _sid("term", term.id, term.source_id)
            files.row(
                "academicSessions",
                sourcedId=term_sid[term.id],
                status="active",
                title=term.title,
                type="term",
                startDate=term.start_date,
                endDate=term.end_date,
                schoolYear=term.end_date.year,
            )
        files.row(
            "classes",
            sourcedId=class_sid[cls.id],
            status="active",
            title=cls.title,
            courseSourcedId=course,
            classType="scheduled",
            schoolSourcedId=org_sid[cls.school_id],
            termSourcedIds=term_sid[cls.term_id],
            periods=cls.period,
        )

    links = session.execute(
        select(GuardianLink.guardian_id, GuardianLink.learner_id).where(GuardianLink.active)
    ).all()
    staff_and_learners = select(User.id).where(User.org_id.in_(org_ids))
    people = list(
        session.scalars(
            select(User)
            .where(
                or_(
                    User.org_id.in_(org_ids),
                    User.id.in_(
                        select(GuardianLink.guardian_id).where(
                            GuardianLink.learner_id.in_(staff_and_learners)
                        )
                    ),
                )
            )
            .order_by(User.id)
        )
    )
    user_sid = {u.id: _sid("user", u.id, u.source_id) for u in people}
    agents = defaultdict(list)
    for guardian_id, learner_id in links:
        if guardian_id in user_sid and learner_id in user_sid:
            agents[learner_id].append(user_sid[guardian_id])
            agents[guardian_id].append(user_sid[learner_id])
    identifiers = defaultdict(list)
    for user_id, type_, ident in session.execute(
        select(UserIdentifier.user_id, UserIdentifier.type, UserIdentifier.identifier)
    ):
        identifiers[user_id].append(f"{{{type_}:{ident}}}")
    for user in people:
        sid = user_sid[user.id]
        files.row(
            "users",
            sourcedId=sid,
            status="active",
            enabledUser=user.active,
            username=user.username,
            userIds=",".join(identifiers.get(user.id, [])),
            givenName=user.given_name,
            familyName=user.family_name,
            email=user.email,
            agentSourcedIds=",".join(agents.get(user.id, [])),
            grades=grade_text(user.grade) if user.role is Role.LEARNER else "",
            preferredGivenName=user.preferred_name,
            primaryOrgSourcedId=org_sid.get(user.org_id),
        )
        org = org_sid.get(user.org_id) or org_sid[district.id]
        files.row(
            "roles",
            sourcedId=f"{sid}-role",
            status="active",
            userSourcedId=sid,
            roleType="primary",
            role=ROLE_WORDS[user.role],
            orgSourcedId=org,
        )

    for enrollment in session.scalars(
        select(Enrollment).where(Enrollment.class_id.in_(list(class_sid))).order_by(Enrollment.id)
    ):
        if enrollment.user_id not in user_sid:
            continue
        cls = session.get(SchoolClass, enrollment.class_id)  # in the identity map already
        files.row(
            "enrollments",
            sourcedId=_sid("enrollment", enrollment.id, enrollment.source_id),
            status="active",
            classSourcedId=class_sid[cls.id],
            schoolSourcedId=org_sid[cls.school_id],
            userSourcedId=user_sid[enrollment.user_id],
            role="student" if enrollment.role.value == "learner" else "teacher",
        )

    for demo in session.scalars(
        select(Demographics).where(Demographics.user_id.in_(list(user_sid)))
    ):
        values = {
            DEMOGRAPHIC_COLUMNS[f]: getattr(demo, f) for f in DEMOGRAPHIC_FIELDS if f != "programs"
        }
        values.update({f"metadata.{k}": v for k, v in (demo.programs or {}).items()})
        files.row("demographics", sourcedId=user_sid[demo.user_id], status="active", **values)

    out = Path(out_path)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = io.StringIO()
        writer = csv.writer(manifest, lineterminator="\r\n")
        writer.writerows(
            [("propertyName", "value"), ("manifest.version", "1.0"), ("oneroster.version", "1.2")]
        )
        writer.writerows((f"file.{name}", "bulk") for name in FILES)
        writer.writerows([("source.systemName", "Waypoint"), ("source.systemCode", "waypoint")])
        archive.writestr("manifest.csv", manifest.getvalue())
        for name in FILES:
            archive.writestr(f"{name}.csv", files.buffers[name].getvalue())
    return out
