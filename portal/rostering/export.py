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
    export = _Export(district)
    export.orgs()
    export.terms()
    export.courses()
    export.classes()
    export.people()
    export.enrollments()
    export.demographics()
    return export.write_zip(Path(out_path))


class _Export:
    """One export, file by file, in the order its files reference each other."""

    def __init__(self, district: Org):
        self.session = session = db.session
        self.district = district
        self.schools = list(session.scalars(select(Org).where(Org.parent_id == district.id)))
        self.org_ids = {district.id, *(s.id for s in self.schools)}
        self.org_sid = {o.id: _sid("org", o.id, o.source_id) for o in (district, *self.schools)}
        programs = sorted(
            {key for (p,) in session.execute(select(Demographics.programs)) for key in (p or {})}
        )
        self.files = _Files([f"metadata.{k}" for k in programs])
        self.term_sid: dict[int, str] = {}
        self.course_sid: dict[int, str] = {}
        self.class_sid: dict[int, str] = {}
        self.user_sid: dict[int, str] = {}

    def orgs(self) -> None:
        district, org_sid = self.district, self.org_sid
        self.files.row(
            "orgs",
            sourcedId=org_sid[district.id],
            status="active",
            name=district.name,
            type="district",
        )
        for school in self.schools:
            self.files.row(
                "orgs",
                sourcedId=org_sid[school.id],
                status="active",
                name=school.name,
                type="school",
                parentSourcedId=org_sid[district.id],
            )

    def terms(self) -> None:
        query = select(Term).where(Term.org_id.in_(self.org_ids)).order_by(Term.id)
        for term in list(self.session.scalars(query)):
            self._term(term)

    def _term(self, term: Term) -> None:
        self.term_sid[term.id] = _sid("term", term.id, term.source_id)
        self.files.row(
            "academicSessions",
            sourcedId=self.term_sid[term.id],
            status="active",
            title=term.title,
            type="term",
            startDate=term.start_date,
            endDate=term.end_date,
            schoolYear=term.end_date.year,
        )

    def courses(self) -> None:
        for course in self.session.scalars(
            select(Course).where(Course.school_id.in_(self.org_ids))
        ):
            self.course_sid[course.id] = _sid("course", course.id, course.source_id)
            self.files.row(
                "courses",
                sourcedId=self.course_sid[course.id],
                status="active",
                title=course.title,
                orgSourcedId=self.org_sid[course.school_id],
                subjects=course.subject,
            )

    def classes(self) -> None:
        query = select(SchoolClass).where(SchoolClass.school_id.in_(self.org_ids))
        for cls in self.session.scalars(query):
            self.class_sid[cls.id] = _sid("class", cls.id, cls.source_id)
            course = self._course_of(cls)
            if cls.term_id not in self.term_sid:  # a term of another org (kept as it was)
                self._term(self.session.get(Term, cls.term_id))
            self.files.row(
                "classes",
                sourcedId=self.class_sid[cls.id],
                status="active",
                title=cls.title,
                courseSourcedId=course,
                classType="scheduled",
                schoolSourcedId=self.org_sid[cls.school_id],
                termSourcedIds=self.term_sid[cls.term_id],
                periods=cls.period,
            )

    def _course_of(self, cls: SchoolClass) -> str:
        """The class's course sourcedId; a class without a course gets one of its own."""
        if cls.course_id is not None:
            return self.course_sid[cls.course_id]
        course = f"wp-course-class-{cls.id}"
        self.files.row(
            "courses",
            sourcedId=course,
            status="active",
            title=cls.title,
            orgSourcedId=self.org_sid[cls.school_id],
        )
        return course

    def people(self) -> None:
        """users.csv and roles.csv: the district's people and the guardians of its
        learners, with their guardian links (agentSourcedIds) and userIds."""
        people = self._people_in_district()
        self.user_sid = {u.id: _sid("user", u.id, u.source_id) for u in people}
        agents = self._agents()
        identifiers = defaultdict(list)
        for user_id, type_, ident in self.session.execute(
            select(UserIdentifier.user_id, UserIdentifier.type, UserIdentifier.identifier)
        ):
            identifiers[user_id].append(f"{{{type_}:{ident}}}")
        for user in people:
            self._person(user, agents.get(user.id, []), identifiers.get(user.id, []))

    def _people_in_district(self) -> list[User]:
        # PL specialists are the portal's own accounts, not the SIS's: never exported.
        staff_and_learners = select(User.id).where(
            User.org_id.in_(self.org_ids), User.role != Role.PL_SPECIALIST
        )
        guardians = select(GuardianLink.guardian_id).where(
            GuardianLink.learner_id.in_(staff_and_learners)
        )
        query = (
            select(User)
            .where(or_(User.id.in_(staff_and_learners), User.id.in_(guardians)))
            .order_by(User.id)
        )
        return list(self.session.scalars(query))

    def _agents(self) -> dict[int, list[str]]:
        """user id -> the sourcedIds of their linked learners or guardians."""
        links = self.session.execute(
            select(GuardianLink.guardian_id, GuardianLink.learner_id).where(GuardianLink.active)
        ).all()
        user_sid = self.user_sid
        agents = defaultdict(list)
        for guardian_id, learner_id in links:
            if guardian_id in user_sid and learner_id in user_sid:
                agents[learner_id].append(user_sid[guardian_id])
                agents[guardian_id].append(user_sid[learner_id])
        return agents

    def _person(self, user: User, agents: list[str], identifiers: list[str]) -> None:
        sid, org_sid = self.user_sid[user.id], self.org_sid
        self.files.row(
            "users",
            sourcedId=sid,
            status="active",
            enabledUser=user.active,
            username=user.username,
            userIds=",".join(identifiers),
            givenName=user.given_name,
            familyName=user.family_name,
            email=user.email,
            agentSourcedIds=",".join(agents),
            grades=grade_text(user.grade) if user.role is Role.LEARNER else "",
            preferredGivenName=user.preferred_name,
            primaryOrgSourcedId=org_sid.get(user.org_id),
        )
        self.files.row(
            "roles",
            sourcedId=f"{sid}-role",
            status="active",
            userSourcedId=sid,
            roleType="primary",
            role=ROLE_WORDS[user.role],
            orgSourcedId=org_sid.get(user.org_id) or org_sid[self.district.id],
        )

    def enrollments(self) -> None:
        session, user_sid = self.session, self.user_sid
        query = (
            select(Enrollment)
            .where(Enrollment.class_id.in_(list(self.class_sid)))
            .order_by(Enrollment.id)
        )
        for enrollment in session.scalars(query):
            if enrollment.user_id not in user_sid:
                continue
            cls = session.get(SchoolClass, enrollment.class_id)  # in the identity map already
            self.files.row(
                "enrollments",
                sourcedId=_sid("enrollment", enrollment.id, enrollment.source_id),
                status="active",
                classSourcedId=self.class_sid[cls.id],
                schoolSourcedId=self.org_sid[cls.school_id],
                userSourcedId=user_sid[enrollment.user_id],
                role="student" if enrollment.role.value == "learner" else "teacher",
            )

    def demographics(self) -> None:
        query = select(Demographics).where(Demographics.user_id.in_(list(self.user_sid)))
        for demo in self.session.scalars(query):
            values = {
                DEMOGRAPHIC_COLUMNS[f]: getattr(demo, f)
                for f in DEMOGRAPHIC_FIELDS
                if f != "programs"
            }
            values.update({f"metadata.{k}": v for k, v in (demo.programs or {}).items()})
            self.files.row(
                "demographics", sourcedId=self.user_sid[demo.user_id], status="active", **values
            )

    def write_zip(self, out: Path) -> Path:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            manifest = io.StringIO()
            writer = csv.writer(manifest, lineterminator="\r\n")
            writer.writerows(
                [
                    ("propertyName", "value"),
                    ("manifest.version", "1.0"),
                    ("oneroster.version", "1.2"),
                ]
            )
            writer.writerows((f"file.{name}", "bulk") for name in FILES)
            writer.writerows([("source.systemName", "Waypoint"), ("source.systemCode", "waypoint")])
            archive.writestr("manifest.csv", manifest.getvalue())
            for name in FILES:
                archive.writestr(f"{name}.csv", self.files.buffers[name].getvalue())
        return out
