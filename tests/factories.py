"""Rows with sensible defaults, so each test says only what matters to it."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from portal.auth.models import Role, User
from portal.auth.passwords import hash_secret
from portal.core.timeutil import today
from portal.roster.models import (
    Enrollment,
    EnrollmentRole,
    GuardianLink,
    Org,
    OrgType,
    SchoolClass,
    Term,
)


class Factory:
    PASSWORD = "correct horse battery"
    PIN = "4321"

    def __init__(self, session):
        self.session = session
        self._n = itertools.count(1)
        self._password_hash = None
        self._pin_hash = None
        self._district = None
        self._school = None
        self._term = None

    def _next(self) -> int:
        return next(self._n)

    def _add(self, obj):
        self.session.add(obj)
        self.session.flush()
        return obj

    def commit(self):
        self.session.commit()

    # --- organisations and terms ---

    def district(self, name: str = "Test District") -> Org:
        return self._add(Org(name=name, type=OrgType.DISTRICT))

    def default_district(self) -> Org:
        if self._district is None:
            self._district = self.district()
        return self._district

    def school(self, name: str | None = None, district: Org | None = None) -> Org:
        district = district or self.default_district()
        return self._add(
            Org(name=name or f"School {self._next()}", type=OrgType.SCHOOL, parent_id=district.id)
        )

    def default_school(self) -> Org:
        if self._school is None:
            self._school = self.school("Test School")
        return self._school

    def term(self, current: bool = True, org: Org | None = None) -> Term:
        start = today() - timedelta(days=60) if current else date(2000, 1, 1)
        end = today() + timedelta(days=60) if current else date(2000, 6, 1)
        return self._add(
            Term(
                org_id=(org or self.default_district()).id,
                title=f"Term {self._next()}",
                start_date=start,
                end_date=end,
            )
        )

    def default_term(self) -> Term:
        if self._term is None:
            self._term = self.term()
        return self._term

    # --- people ---

    def user(self, role: Role, school: Org | None = None, **fields) -> User:
        n = self._next()
        if self._password_hash is None:
            self._password_hash = hash_secret(self.PASSWORD)
        org = school if school is not None else self.default_school()
        values = {
            "username": f"{role.value}{n}",
            "given_name": f"Given{n}",
            "family_name": f"Family{n}",
            "role": role,
            "org_id": org.id if org is not None else None,
            "password_hash": self._password_hash,
        }
        values.update(fields)
        return self._add(User(**values))

    def learner(self, school: Org | None = None, grade: int = 6, pin: bool = False, **fields):
        if pin:
            if self._pin_hash is None:
                self._pin_hash = hash_secret(self.PIN)
            fields.setdefault("pin_hash", self._pin_hash)
        return self.user(Role.LEARNER, school, grade=grade, **fields)

    def teacher(self, school: Org | None = None, **fields) -> User:
        return self.user(Role.TEACHER, school, **fields)

    def guardian(self, **fields) -> User:
        fields.setdefault("org_id", None)
        return self.user(Role.GUARDIAN, None, **fields)

    def school_admin(self, school: Org | None = None, **fields) -> User:
        return self.user(Role.SCHOOL_ADMIN, school, **fields)

    def district_admin(self, district: Org | None = None, **fields) -> User:
        district = district or self.default_district()
        return self.user(Role.DISTRICT_ADMIN, district, **fields)

    # --- classes, enrollments, links ---

    def school_class(
        self,
        teacher: User | None = None,
        learners=(),
        term: Term | None = None,
        school: Org | None = None,
        **fields,
    ) -> SchoolClass:
        n = self._next()
        school = school or self.default_school()
        values = {
            "school_id": school.id,
            "term_id": (term or self.default_term()).id,
            "title": f"Class {n}",
            "class_code": f"CODE{n:04d}",
        }
        values.update(fields)
        school_class = self._add(SchoolClass(**values))
        if teacher is not None:
            self.enroll(teacher, school_class, EnrollmentRole.TEACHER)
        for learner in learners:
            self.enroll(learner, school_class)
        return school_class

    def enroll(
        self, user: User, school_class: SchoolClass, role: EnrollmentRole = EnrollmentRole.LEARNER
    ) -> Enrollment:
        return self._add(Enrollment(class_id=school_class.id, user_id=user.id, role=role))

    def link(
        self, guardian: User, learner: User, active: bool = True, relationship_label: str = "parent"
    ) -> GuardianLink:
        return self._add(
            GuardianLink(
                guardian_id=guardian.id,
                learner_id=learner.id,
                active=active,
                relationship_label=relationship_label,
            )
        )
