"""The access policy as a matrix: each role against each kind of resource, in and out of reach.

Two halves:

1. The policy functions themselves (`relation`, `can`, `visible_learner_ids`,
   `can_view_class`, `load_user_for_admin`) over a small district with near misses:
   a past term's class, another teacher's class, a deactivated guardian link, a
   sibling school, another district. These run on SQLite and PostgreSQL.
2. Every route that takes an object id, requested by every role against an object
   outside that caller's reach: the answer must be 403 or 404, never the page.

To cover a new kind of object id (say `<int:goal_id>`), add ONE function to
`OUT_OF_REACH` below that builds such an object for `outside.learner` (or in
`outside.other_school`) and returns its id. `tests/test_policy_coverage.py` fails,
naming the rule and the argument, until you do.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask_login import login_user
from sqlalchemy import create_engine, select, text, update
from werkzeug.exceptions import NotFound

from portal import create_app, policy
from portal.auth.models import Role, SpecialistSchool, User
from portal.core.extensions import db
from portal.core.jobs import Job
from portal.core.timeutil import today, utcnow
from portal.insights.targets import SuccessIndicator
from portal.policy import RULES, Action, Relation
from portal.records.tombstone import RecordDeletion
from portal.rights.models import CorrectionRequest
from portal.roster.models import GuardianLink, Org, SchoolClass, Term
from portal.sso import services as sso_services
from tests.fixtures.factories import Factory

# --- The world outside the callers' reach ------------------------------------------


@dataclass
class Outside:
    """Objects no caller may reach, next to callers who come as close as possible.

    The callers are a classmate of `learner`, a teacher of the same school who
    taught `learner` in a past term, a guardian whose link to `learner` was
    deactivated (and who follows the classmate), the admin of a sibling school and
    the admin of another district.
    """

    make: Factory
    school: Org  # where the outside objects live
    other_school: Org  # a school of the same district that no caller belongs to
    learner: User
    teacher: User  # teaches `school_class`
    school_class: SchoolClass  # a current-term class with `learner` in it
    callers: dict[str, User]


def _learner_id(outside: Outside) -> int:
    return outside.learner.id


def _class_id(outside: Outside) -> int:
    return outside.school_class.id


def _user_id(outside: Outside) -> int:
    return outside.learner.id


def _framework_id(outside: Outside) -> int:
    from portal.targets.models import Framework

    return outside.make._add(Framework(org_id=outside.other_school.id, title="Elsewhere")).id


def _target_id(outside: Outside) -> int:
    from portal.targets.models import Target

    framework_id = _framework_id(outside)
    return outside.make._add(Target(framework_id=framework_id, statement="I can add.")).id


def _entry_id(outside: Outside) -> int:
    from portal.profiles import services

    learner = outside.learner
    return services.add_entry(learner, services.find_spec(learner, "about"), learner, "Hi").id


def _request_id(outside: Outside) -> int:
    from portal.profiles import services

    return services.request_review(outside.learner, None).id


def _definition_id(outside: Outside) -> int:
    from portal.profiles import services

    return services.add_section_def(outside.other_school.id, "Elsewhere", None).id


def _link_id(outside: Outside) -> int:
    return outside.make.link(outside.make.guardian(), outside.learner).id


def _enrollment_id(outside: Outside) -> int:
    return outside.make.enroll(outside.make.learner(outside.school), outside.school_class).id


def _school_id(outside: Outside) -> int:
    return outside.other_school.id


def _goal_id(outside: Outside) -> int:
    from portal.goals.models import Goal

    return outside.make._add(
        Goal(learner_id=outside.learner.id, created_by_id=outside.learner.id)
    ).id


def _template_id(outside: Outside) -> int:
    from portal.goals.models import GoalTemplate

    template = GoalTemplate(
        teacher_id=outside.teacher.id,
        class_id=outside.school_class.id,
        title="Fractions",
        statement="I can add fractions with unlike denominators.",
    )
    return outside.make._add(template).id


def _strategy_id(outside: Outside) -> int:
    from portal.goals.models import Strategy

    strategy = Strategy(school_id=outside.other_school.id, text="Read it twice")
    return outside.make._add(strategy).id


def _cheer_id(outside: Outside) -> int:
    from portal.family.models import Cheer

    cheer = Cheer(
        learner_id=outside.learner.id,
        goal_id=_goal_id(outside),
        author_id=outside.make.guardian().id,
        body="Well done!",
    )
    return outside.make._add(cheer).id


def _progress_entry_id(outside: Outside) -> int:
    from tests.fixtures import progress as progress

    progress.scale(outside.make, outside.school)
    goal = progress.goal(outside.make, outside.learner)
    return progress.entry(outside.make, goal, 2).id


def _conference_id(outside: Outside) -> int:
    from portal.conferences import scheduling

    return scheduling.schedule(outside.learner, outside.teacher, utcnow())[0].id


def _step_id(outside: Outside) -> int:
    from portal.conferences import notes
    from portal.conferences.models import Conference, StepOwner

    conference = db.session.get(Conference, _conference_id(outside))
    return notes.add_step(conference, outside.teacher, "Redo quiz 3", StepOwner.LEARNER, None).id


def _invite_id(outside: Outside) -> int:
    from portal.family import services

    return services.create_invite(outside.learner, outside.teacher)[0].id


def _job_id(outside: Outside) -> int:
    """A background job of the learner's teacher: only its owner sees it."""
    job = Job(kind="roster.import", owner_id=outside.teacher.id, state="running", params={})
    return outside.make._add(job).id


def _import_id(outside: Outside) -> int:
    """A roster import of a school of the district: its admins see it, nobody else."""
    from portal.rostering.models import RosterImport

    record = RosterImport(
        scope_org_id=outside.school.id,
        file_name="sis.zip",
        sha256="0" * 64,
        errors_csv="file,row,column,value,message\r\n",
        error_count=1,
    )
    return outside.make._add(record).id


def _run_id(outside: Outside) -> int:
    """A finished roster dry run for a school of the district (any of its admins follow it)."""
    job = Job(
        kind="roster.dry_run",
        owner_id=outside.teacher.id,
        state="done",
        params={"path": "/nowhere.zip", "scope_id": outside.school.id, "file_name": "sis.zip"},
        result={"import_id": None, "plan": {"fingerprint": "0" * 64, "error_count": 0}},
    )
    return outside.make._add(job).id


def _correction_id(outside: Outside) -> int:
    """A correction request about the learner: their school's admins answer it."""
    request = CorrectionRequest(
        learner_id=outside.learner.id,
        requester_id=outside.learner.id,
        part_kind="other",
        message="Wrong birthday.",
    )
    return outside.make._add(request).id


def _deletion_id(outside: Outside) -> int:
    """The tombstone of a record deleted from the outside school."""
    tombstone = RecordDeletion(
        actor_name="Someone",
        school_id=outside.school.id,
        school_name=outside.school.name,
        reference="Records request 1",
        counts={"users": 1},
    )
    return outside.make._add(tombstone).id


def _indicator_id(outside: Outside) -> int:
    """A success indicator (target) of a school no caller belongs to."""
    indicator = SuccessIndicator(
        org_id=outside.other_school.id,
        measure_key="agreed_goal",
        target_percent=80,
        due_on=today() + timedelta(days=90),
    )
    return outside.make._add(indicator).id


def _specialist_id(outside: Outside) -> int:
    """A PL specialist of another district: no caller manages them."""
    far = outside.make.district("Farther District")
    return outside.make.user(Role.PL_SPECIALIST, far).id


# One small factory per kind of object id in a URL: build an object out of every
# caller's reach and return its id.
def _provider_id(outside: Outside) -> int:
    """A sign-in provider of the outside district (the district admin caller is elsewhere)."""
    return sso_services.add_provider(
        sso_services.ProviderInput(
            name=f"Outside Google {outside.make._next()}",
            kind="google",
            district_id=outside.school.parent_id,
            client_id="outside",
            client_secret="outside-secret",
            google_domains="outside.example",
        )
    ).id


OUT_OF_REACH: dict[str, Callable[[Outside], int]] = {
    "provider_id": _provider_id,
    "learner_id": _learner_id,
    "class_id": _class_id,
    "user_id": _user_id,
    "framework_id": _framework_id,
    "target_id": _target_id,
    "entry_id": _entry_id,
    "request_id": _request_id,
    "definition_id": _definition_id,
    "link_id": _link_id,
    "enrollment_id": _enrollment_id,
    "school_id": _school_id,
    "goal_id": _goal_id,
    "template_id": _template_id,
    "strategy_id": _strategy_id,
    "cheer_id": _cheer_id,
    "conference_id": _conference_id,
    "step_id": _step_id,
    "invite_id": _invite_id,
    "progress_entry_id": _progress_entry_id,
    "job_id": _job_id,
    "import_id": _import_id,
    "run_id": _run_id,
    "correction_id": _correction_id,
    "deletion_id": _deletion_id,
    "indicator_id": _indicator_id,
    "specialist_id": _specialist_id,
}

# Values for URL arguments that are not object ids, by name; otherwise by converter.
OTHER_ARGS: dict[str, Callable[[Outside], object]] = {
    "code": lambda outside: outside.school_class.class_code,
}
CONVERTER_DEFAULTS = {"integer": 1, "float": 1.0, "uuid": "00000000-0000-0000-0000-000000000000"}

CALLER_ROLES = (
    "learner",
    "teacher",
    "guardian",
    "school_admin",
    "district_admin",
    "pl_specialist",
)


def build_outside(make: Factory) -> Outside:
    district = make.default_district()
    school = make.school("Outside School", district)
    other_school = make.school("Nobody's School", district)
    sibling_school = make.school("Sibling School", district)
    far_district = make.district("Far District")

    learner = make.learner(school)
    classmate = make.learner(school)
    teacher = make.teacher(school)
    school_class = make.school_class(teacher=teacher, learners=[learner, classmate], school=school)

    near_teacher = make.teacher(school)
    make.school_class(teacher=near_teacher, learners=[classmate], school=school)
    make.school_class(
        teacher=near_teacher, learners=[learner], school=school, term=make.term(current=False)
    )
    guardian = make.guardian()
    make.link(guardian, classmate)
    make.link(guardian, learner, active=False)

    callers = {
        "learner": classmate,
        "teacher": near_teacher,
        "guardian": guardian,
        "school_admin": make.school_admin(sibling_school),
        "district_admin": make.district_admin(far_district),
        # Assigned to the sibling school of the same district: aggregates only, no child.
        "pl_specialist": make.user(Role.PL_SPECIALIST, district),
    }
    make._add(SpecialistSchool(user_id=callers["pl_specialist"].id, school_id=sibling_school.id))
    return Outside(make, school, other_school, learner, teacher, school_class, callers)


# --- The route matrix: every id-taking route, every role, out of reach -------------


def _id_args(rule) -> list[str]:
    return [
        name
        for name, converter in rule._converters.items()
        if type(converter).__name__ == "IntegerConverter" and (name == "id" or name.endswith("_id"))
    ]


def _rules():
    """The app's rules (the same for every app built by create_app)."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "collect", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    return app, list(app.url_map.iter_rules())


def id_rules() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) for each guarded rule whose URL takes an object id."""
    app, rules = _rules()
    found = []
    for rule in rules:
        view = app.view_functions.get(rule.endpoint)
        if getattr(view, "access", None) == "public" or not _id_args(rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return found


def _url_for_rule(app, rule_text: str, method: str, outside: Outside) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in r.methods)
    unknown = [name for name in _id_args(rule) if name not in OUT_OF_REACH]
    assert not unknown, f"{rule_text}: add {unknown} to OUT_OF_REACH in tests/test_policy_matrix.py"
    values = {}
    for name, converter in rule._converters.items():
        if name in OUT_OF_REACH and name in _id_args(rule):
            values[name] = OUT_OF_REACH[name](outside)
        elif name in OTHER_ARGS:
            values[name] = OTHER_ARGS[name](outside)
        else:
            kind = type(converter).__name__.removesuffix("Converter").lower()
            values[name] = CONVERTER_DEFAULTS.get(kind, "x")
    # Build from the rule itself: several rules may share an endpoint.
    _, path = rule.build(values, append_unknown=False)
    return path


# --- Databases shared by a whole module, for checks that only read -----------------

MODULE_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 64,
    "SERVER_NAME": "localhost",
}
_shared_numbers = itertools.count()


@contextmanager
def _shared_app(request, backend: str):
    """An app on its own database (a copy of the schema template), pushed for the module."""
    if backend == "sqlite":
        path = request.getfixturevalue("tmp_path_factory").mktemp("shared") / "db.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url, drop = f"sqlite:///{path}", None
    else:
        server = request.getfixturevalue("pg_server")
        name = f"waypoint_shared_{os.getpid()}_{next(_shared_numbers)}"
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE waypoint_template'))
        url, drop = server.url(name), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    app = create_app({**MODULE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()
        if drop:
            with admin.connect() as conn:
                conn.execute(text(drop))
            admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def reach(request):
    """The world outside reach, and a client signed in as each caller, for every route."""
    with _shared_app(request, request.param) as app:
        make = Factory(db.session)
        outside = build_outside(make)
        make.commit()
        clients = {}
        for role in CALLER_ROLES:
            clients[role] = app.test_client()
            _sign_in(clients[role], outside.callers[role])
        yield app, outside, clients


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.both_backends)],
)
def shared_world(request):
    with _shared_app(request, request.param) as app:
        yield app, build_world(Factory(db.session))


ROUTES = id_rules()


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"),
    ROUTES or [pytest.param("-", "-", "-", marks=pytest.mark.skip("no id-taking routes"))],
    ids=[f"{e} {m} {r}" for e, r, m in ROUTES] or None,
)
def test_out_of_reach_object_is_refused_for_every_role(reach, endpoint, rule, method):
    app, outside, clients = reach
    db.session.rollback()
    url = _url_for_rule(app, rule, method, outside)
    db.session.commit()

    answers = {}
    for role in CALLER_ROLES:
        answers[role] = clients[role].open(url, method=method, data={}).status_code
    wrong = {role: code for role, code in answers.items() if code not in (403, 404)}
    assert not wrong, f"{method} {url} answered {wrong}; every role must get 403 or 404"


# --- The policy functions: role x resource kind x in/out of reach ------------------


@dataclass
class World:
    people: dict[str, User]
    classes: dict[str, SchoolClass]
    links: dict[str, GuardianLink]


def build_world(make: Factory) -> World:
    """A district with one of every near miss the policy must tell apart."""
    district = make.default_district()
    school = make.school("Riverside", district)
    sibling = make.school("Hillside", district)
    far_district = make.district("Far District")
    far_school = make.school("Far School", far_district)
    past_term = make.term(current=False)
    last_year = make._add(  # ended 10 days ago: within the teachers' 60-day grace
        Term(
            org_id=district.id,
            title="Last year",
            start_date=today() - timedelta(days=300),
            end_date=today() - timedelta(days=10),
        )
    )

    p = {
        "maya": make.learner(school),
        "ben": make.learner(school),  # Maya's classmate
        "former": make.learner(school),  # in the teacher's class last term only
        "recent": make.learner(school),  # in the teacher's class of a year that just ended
        "zoe": make.learner(school),  # in another teacher's class
        "lena": make.learner(sibling),
        "far": make.learner(far_school),
        "teacher": make.teacher(school),
        "other_teacher": make.teacher(school),
        "sibling_teacher": make.teacher(sibling),
        "far_teacher": make.teacher(far_school),
        "guardian": make.guardian(),
        "school_admin": make.school_admin(school),
        "district_admin": make.district_admin(district),
        "far_district_admin": make.district_admin(far_district),
        "pl": make.user(Role.PL_SPECIALIST, district),  # assigned to Riverside below
    }
    classes = {
        "klass": make.school_class(
            teacher=p["teacher"], learners=[p["maya"], p["ben"]], school=school
        ),
        "old_class": make.school_class(
            teacher=p["teacher"], learners=[p["former"]], school=school, term=past_term
        ),
        # Maya too was the teacher's last year: this year's class decides (TEACHER).
        "last_year_class": make.school_class(
            teacher=p["teacher"], learners=[p["recent"], p["maya"]], school=school, term=last_year
        ),
        "other_class": make.school_class(
            teacher=p["other_teacher"], learners=[p["zoe"]], school=school
        ),
        "sibling_class": make.school_class(
            teacher=p["sibling_teacher"], learners=[p["lena"]], school=sibling
        ),
        "far_class": make.school_class(
            teacher=p["far_teacher"], learners=[p["far"]], school=far_school
        ),
    }
    links = {
        "maya": make.link(p["guardian"], p["maya"]),
        "zoe": make.link(p["guardian"], p["zoe"], active=False),
    }
    make._add(SpecialistSchool(user_id=p["pl"].id, school_id=school.id))
    make.commit()
    return World(p, classes, links)


# (role, kind, caller, target, expected): for kind "learner" the expected Relation
# (relation, can and visible_learner_ids must agree), for "class" can_view_class,
# for "person" whether load_user_for_admin finds them. Each near miss is one row.
CASES = [
    ("learner", "learner", "maya", "maya", Relation.SELF),
    ("learner", "learner", "maya", "ben", Relation.NONE),  # a classmate
    ("learner", "class", "maya", "klass", False),  # their own class is not theirs to view
    ("learner", "person", "maya", "maya", False),
    ("learner", "person", "maya", "teacher", False),
    ("teacher", "learner", "teacher", "maya", Relation.TEACHER),
    ("teacher", "learner", "teacher", "former", Relation.NONE),  # a past term's class
    ("teacher", "learner", "teacher", "recent", Relation.FORMER_TEACHER),  # ended 10 days ago
    ("teacher", "learner", "teacher", "zoe", Relation.NONE),  # another teacher's class
    ("teacher", "class", "teacher", "klass", True),
    ("teacher", "class", "teacher", "old_class", False),  # a past term's class
    ("teacher", "class", "teacher", "last_year_class", True),  # within the grace: read it
    ("teacher", "class", "other_teacher", "last_year_class", False),
    ("teacher", "class", "teacher", "other_class", False),
    ("teacher", "person", "teacher", "guardian", False),  # a guardian of their learner
    ("teacher", "person", "teacher", "other_teacher", False),
    ("guardian", "learner", "guardian", "maya", Relation.GUARDIAN),
    ("guardian", "learner", "guardian", "zoe", Relation.NONE),  # deactivated link
    ("guardian", "learner", "guardian", "ben", Relation.NONE),  # never linked
    ("guardian", "class", "guardian", "klass", False),
    ("guardian", "person", "guardian", "maya", False),
    ("school_admin", "learner", "school_admin", "zoe", Relation.SCHOOL_ADMIN),
    ("school_admin", "learner", "school_admin", "lena", Relation.NONE),  # a sibling school
    ("school_admin", "learner", "school_admin", "teacher", Relation.NONE),  # not a learner
    ("school_admin", "class", "school_admin", "other_class", True),
    ("school_admin", "class", "school_admin", "old_class", True),  # history stays readable
    ("school_admin", "class", "school_admin", "sibling_class", False),
    ("school_admin", "person", "school_admin", "teacher", True),
    ("school_admin", "person", "school_admin", "guardian", True),  # linked to their learner
    ("school_admin", "person", "school_admin", "sibling_teacher", False),
    ("district_admin", "learner", "district_admin", "lena", Relation.DISTRICT_ADMIN),
    ("district_admin", "learner", "district_admin", "far", Relation.NONE),  # another district
    ("district_admin", "learner", "far_district_admin", "maya", Relation.NONE),
    ("district_admin", "class", "district_admin", "sibling_class", True),
    ("district_admin", "class", "district_admin", "far_class", False),
    ("district_admin", "person", "district_admin", "sibling_teacher", True),
    ("district_admin", "person", "district_admin", "far_teacher", False),
    ("district_admin", "person", "far_district_admin", "guardian", False),
    # A PL specialist sees the aggregates of their school, never a child or a class roster.
    ("pl_specialist", "learner", "pl", "maya", Relation.NONE),
    ("pl_specialist", "class", "pl", "klass", False),
    ("pl_specialist", "person", "pl", "teacher", False),
]


def _reach(expected) -> str:
    return "in" if expected not in (Relation.NONE, False) else "out"


MATRIX = sorted({(role, kind, _reach(expected)) for role, kind, _, _, expected in CASES})


def _check_learner(app, world, caller, target, expected) -> list[str]:
    user, learner = world.people[caller], world.people[target]
    problems = []
    with app.test_request_context():
        if (got := policy.relation(user, learner)) is not expected:
            problems.append(f"relation is {got}")
        for action in Action:
            if policy.can(action, learner, user) is not (expected in RULES[action]):
                problems.append(f"can({action}) is wrong")
    visible = set(db.session.scalars(policy.visible_learner_ids(user)))
    if (learner.id in visible) is not (expected is not Relation.NONE):
        problems.append("visible_learner_ids disagrees")
    return problems


def _check_class(app, world, caller, target, expected) -> list[str]:
    got = policy.can_view_class(world.classes[target], world.people[caller])
    return [] if got is expected else [f"can_view_class is {got}"]


def _check_person(app, world, caller, target, expected) -> list[str]:
    with app.test_request_context():
        login_user(world.people[caller])
        try:
            found = policy.load_user_for_admin(world.people[target].id) is not None
        except NotFound:
            found = False
    return [] if found is expected else [f"load_user_for_admin found={found}"]


CHECKS = {"learner": _check_learner, "class": _check_class, "person": _check_person}


# The read-only checks share one world per backend (see `shared_world`): a fresh
# PostgreSQL database per case would make this file slow for nothing.
@pytest.mark.both_backends
@pytest.mark.parametrize(("role", "kind", "reach"), MATRIX, ids=["-".join(m) for m in MATRIX])
def test_policy_matrix(shared_world, role, kind, reach):
    app, world = shared_world
    cases = [c for c in CASES if c[:2] == (role, kind) and _reach(c[4]) == reach]
    failures = []
    for _, _, caller, target, expected in cases:
        assert world.people[caller].role.value == role
        problems = CHECKS[kind](app, world, caller, target, expected)
        failures += [f"{caller} -> {target}: {p}" for p in problems]
    assert not failures, failures


def test_matrix_has_every_role_and_kind_out_of_reach():
    covered = {(role, kind) for role, kind, reach in MATRIX if reach == "out"}
    assert covered == {(r, k) for r in CALLER_ROLES for k in CHECKS}


# Exactly whom each caller sees: visible_learner_ids is what list pages filter on.
VISIBLE = {
    "learner": {"maya": {"maya"}},
    "teacher": {"teacher": {"maya", "ben", "recent"}, "other_teacher": {"zoe"}},
    "guardian": {"guardian": {"maya"}},
    "school_admin": {"school_admin": {"maya", "ben", "former", "recent", "zoe"}},
    "district_admin": {
        "district_admin": {"maya", "ben", "former", "recent", "zoe", "lena"},
        "far_district_admin": {"far"},
    },
    "pl_specialist": {"pl": set()},
}


@pytest.mark.both_backends
@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_visible_learner_ids_is_exactly_the_learners_in_reach(shared_world, role):
    _, world = shared_world
    names = {user.id: name for name, user in world.people.items()}
    for caller, expected in VISIBLE[role].items():
        visible = db.session.scalars(policy.visible_learner_ids(world.people[caller])).all()
        assert len(visible) == len(set(visible)), f"{caller}: visible_learner_ids repeats"
        assert {names[i] for i in visible} == expected, caller


@pytest.mark.both_backends
def test_inactive_account_relates_to_nobody(app, make, backend):
    world = build_world(make)
    teacher = world.people["teacher"]
    teacher.active = False
    with app.test_request_context():
        assert policy.relation(teacher, world.people["maya"]) is Relation.NONE


# --- Through HTTP: loaders answer 404 / 403, and changes apply on the next request --


def _sign_in(client, user):
    response = client.post("/signin", data={"login": user.username, "password": Factory.PASSWORD})
    assert response.status_code == 303


@pytest.mark.both_backends
def test_deactivated_guardian_link_takes_effect_on_the_next_request(app, client, make, backend):
    world = build_world(make)
    _sign_in(client, world.people["guardian"])
    url = f"/learners/{world.people['maya'].id}"
    assert client.get(url).status_code == 200

    assert world.people["maya"].display_name in client.get("/").get_data(as_text=True)

    db.session.execute(
        update(GuardianLink)
        .where(GuardianLink.id == world.links["maya"].id)
        .values(active=False, deactivated_at=utcnow())
    )
    db.session.commit()
    assert client.get(url).status_code == 404
    assert world.people["maya"].display_name not in client.get("/").get_data(as_text=True)


def test_term_ending_takes_the_class_away_from_the_teacher_after_the_grace(app, client, make):
    world = build_world(make)
    _sign_in(client, world.people["teacher"])
    url = f"/learners/{world.people['ben'].id}"
    class_url = f"/classes/{world.classes['klass'].id}"
    assert client.get(url).status_code == 200
    term = world.classes["klass"].term
    term.end_date = today() - timedelta(days=1)  # the term just ended: read-only
    db.session.commit()
    assert client.get(url).status_code == 200
    assert client.get(class_url).status_code == 200
    with app.test_request_context():
        ben = db.session.get(User, world.people["ben"].id)
        teacher = db.session.get(User, world.people["teacher"].id)
        assert policy.relation(teacher, ben) is Relation.FORMER_TEACHER
    term.end_date = today() - timedelta(days=61)  # the 60-day grace is over
    db.session.commit()
    assert client.get(url).status_code == 404
    assert client.get(class_url).status_code == 404


def test_the_grace_is_configurable(app, make):
    world = build_world(make)
    teacher, recent = world.people["teacher"], world.people["recent"]
    app.config["ROSTER_TEACHER_GRACE_DAYS"] = 5  # the class ended 10 days ago
    with app.test_request_context():
        assert policy.relation(teacher, recent) is Relation.NONE
    assert not policy.can_view_class(world.classes["last_year_class"], teacher)


@pytest.mark.parametrize(
    ("caller", "target", "status"),
    [
        ("maya", "maya", 200),
        ("maya", "ben", 404),
        ("teacher", "maya", 200),
        ("teacher", "zoe", 404),
        ("teacher", "former", 404),
        ("teacher", "recent", 200),  # read-only, within the grace
        ("guardian", "maya", 200),
        ("guardian", "zoe", 404),
        ("school_admin", "zoe", 200),
        ("school_admin", "lena", 404),
        ("district_admin", "lena", 200),
        ("district_admin", "far", 404),
        ("teacher", "other_teacher", 404),  # not a learner at all
    ],
)
def test_learner_overview_answers_by_relation(client, make, caller, target, status):
    world = build_world(make)
    _sign_in(client, world.people[caller])
    assert client.get(f"/learners/{world.people[target].id}").status_code == status


def test_missing_learner_is_a_404_like_an_unrelated_one(client, make):
    world = build_world(make)
    _sign_in(client, world.people["school_admin"])
    missing = (db.session.scalar(select(User.id).order_by(User.id.desc())) or 0) + 1000
    assert client.get(f"/learners/{missing}").status_code == 404
