"""The rostering import benchmark: a district's OneRoster 1.2 export, imported and re-imported.

    .venv/bin/python bench/oneroster_bench.py                      # 50,000 learners, SQLite
    .venv/bin/python bench/oneroster_bench.py --postgresql         # a throwaway PostgreSQL
    .venv/bin/python bench/oneroster_bench.py --learners 5000      # everything / 10
    .venv/bin/python bench/oneroster_bench.py --profile import     # cProfile of one step
    .venv/bin/python bench/run.py --only roster [--postgresql]

The package (generated once per size and seed, streamed to a zip under
$WAYPOINT_BENCH_DIR/roster-bench, default /tmp/roster-bench): 40 schools, 2,000 classes,
50,000 learners (each with a demographics row and a Clever userId), 60,000 guardians
(agentSourcedIds both ways), 2,500 teachers, 40 school admins, 400,000 enrollments (a
teacher or two per class, seven or eight classes per learner); `--learners N` scales
every count by N / 50,000. A delta package changes 500 rows: 250 users (a new family
name) and 250 enrollments (125 removed, 125 added).

Steps, each in a fresh child process on one database (so each peak is its own): the dry
run of the bulk file on an empty roster, its first import, a re-import of the same file
(nothing changes), the delta's import. Each prints its wall time, its CPU time (this
process only, not the database server's: the machine is shared, and wall time moves with
the others' load), and peak memory: the
process's RSS high-water mark (resource.getrusage) and, in a second run of the same
steps with tracemalloc on (`--heap`, slower), the peak of the Python heap. The times come
from the run without tracemalloc. bench/ imports nothing from tests/.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchapp  # noqa: E402
import pg  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal.auth.models import Role, User  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.roster.models import Org, OrgType  # noqa: E402
from portal.rostering.apply import apply_import, dry_run  # noqa: E402

FULL = {
    "learners": 50_000,
    "guardians": 60_000,
    "teachers": 2_500,
    "schools": 40,
    "classes": 2_000,
    "enrollments": 400_000,
}
COURSES_PER_SCHOOL = 10
STAMP = "2026-08-01T00:00:00.000Z"
ZIP_TIME = (2026, 8, 1, 0, 0, 0)
DISTRICT_SID = "d-bench"
STEPS = ("dry run", "first import", "re-import", "delta 500")

HEADERS = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,"
    "parentSourcedId,schoolYear",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
    "orgSourcedId,subjects,subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
    "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
    "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
    "preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
    "orgSourcedId,userProfileSourcedId",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
    "userSourcedId,role,primary,beginDate,endDate",
    "demographics": "sourcedId,status,dateLastModified,birthDate,sex,"
    "americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
    "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
    "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
    "publicSchoolResidenceStatus",
}
GIVEN = ("Ana", "Wei", "Sam", "Lena", "Omar", "Maya", "Jon", "Iris", "Luis", "Nora", "Ravi", "Zoe")
FAMILY = ("Rivera", "Chen", "Okafor", "Novak", "Haddad", "Kim", "Silva", "Moreau", "Berg", "Ito")
SUBJECTS = ("Mathematics", "Science", "English", "History", "Art")


# --- the package -----------------------------------------------------------------------
def sizes(learners: int) -> dict[str, int]:
    """Every count scaled by learners / 50,000 (at least one school, class, teacher)."""
    f = learners / FULL["learners"]
    out = {k: max(1, round(v * f)) for k, v in FULL.items()}
    out["learners"] = learners
    out["teachers"] = max(out["teachers"], out["classes"])
    return out


class _Zip:
    """A zip written file by file, each CSV streamed into it (never whole in memory)."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def file(self, name: str, header: str):
        info = zipfile.ZipInfo(f"{name}.csv", date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        raw = self.zip.open(info, "w", force_zip64=True)
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        text.write(header + "\r\n")
        return text, csv.writer(text, lineterminator="\r\n")

    def close(self) -> None:
        self.zip.close()


def _manifest(out: _Zip, modes: dict[str, str]) -> None:
    text, writer = out.file("manifest", "propertyName,value")
    writer.writerow(("manifest.version", "1.0"))
    writer.writerow(("oneroster.version", "1.2"))
    for name in [
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courseResources",
        "courses",
        "demographics",
        "enrollments",
        "lineItems",
        "orgs",
        "resources",
        "results",
        "roles",
        "userProfiles",
        "users",
    ]:
        writer.writerow((f"file.{name}", modes.get(name, "absent")))
    writer.writerow(("source.systemName", "Waypoint bench"))
    text.close()


def _school_of_learner(i: int, n: dict) -> int:
    return i * n["schools"] // n["learners"]


def _guardians_of(i: int, n: dict) -> list[int]:
    """Learner i's guardians: one each, and a second for the first (guardians - learners)."""
    extra = n["guardians"] - n["learners"]
    found = [i] if i < n["guardians"] else []
    if 0 <= i < extra:
        found.append(n["learners"] + i)
    return found


def _learners_of_guardian(g: int, n: dict) -> list[int]:
    if g < n["learners"]:
        return [g]
    return [g - n["learners"]]


def write_bulk(path: Path, n: dict, seed: int) -> None:
    rng = random.Random(seed)
    out = _Zip(path)
    files = [
        "orgs",
        "academicSessions",
        "courses",
        "classes",
        "users",
        "roles",
        "enrollments",
        "demographics",
    ]
    _manifest(out, dict.fromkeys(files, "bulk"))
    schools = n["schools"]
    text, w = out.file("orgs", HEADERS["orgs"])
    w.writerow((DISTRICT_SID, "active", STAMP, "Bench District", "district", "D1", ""))
    for s in range(schools):
        w.writerow((f"s-{s}", "active", STAMP, f"School {s}", "school", f"S{s}", DISTRICT_SID))
    text.close()
    text, w = out.file("academicSessions", HEADERS["academicSessions"])
    w.writerow(
        (
            "y-2027",
            "active",
            STAMP,
            "2026-2027",
            "schoolYear",
            "2026-08-20",
            "2027-06-10",
            "",
            "2027",
        )
    )
    w.writerow(
        (
            "t-fall",
            "active",
            STAMP,
            "Fall 2026",
            "term",
            "2026-08-20",
            "2026-12-18",
            "y-2027",
            "2027",
        )
    )
    w.writerow(
        (
            "t-spring",
            "active",
            STAMP,
            "Spring 2027",
            "term",
            "2027-01-05",
            "2027-06-10",
            "y-2027",
            "2027",
        )
    )
    text.close()
    text, w = out.file("courses", HEADERS["courses"])
    for s in range(schools):
        for c in range(COURSES_PER_SCHOOL):
            subject = SUBJECTS[c % len(SUBJECTS)]
            w.writerow(
                (
                    f"co-{s}-{c}",
                    "active",
                    STAMP,
                    "y-2027",
                    f"{subject} {c}",
                    f"C{c}",
                    f"{c % 12 + 1:02d}",
                    f"s-{s}",
                    subject,
                    "",
                )
            )
    text.close()
    classes = n["classes"]
    class_school = [c * schools // classes for c in range(classes)]
    text, w = out.file("classes", HEADERS["classes"])
    for c in range(classes):
        s = class_school[c]
        course = c % COURSES_PER_SCHOOL
        terms = "t-fall,t-spring" if c % 3 else "t-fall"
        w.writerow(
            (
                f"c-{c}",
                "active",
                STAMP,
                f"{SUBJECTS[course % 5]} {c}",
                f"{course % 12 + 1:02d}",
                f"co-{s}-{course}",
                f"K{c}",
                "scheduled",
                f"Room {c % 300}",
                f"s-{s}",
                terms,
                SUBJECTS[course % 5],
                "",
                f"{c % 7 + 1}",
            )
        )
    text.close()
    teachers = n["teachers"]
    learners = n["learners"]
    teacher_school = [t * schools // teachers for t in range(teachers)]
    text, w = out.file("users", HEADERS["users"])
    roles_rows: list[tuple] = []  # kept small: written right after users
    for t in range(teachers):
        name = (GIVEN[t % 12], FAMILY[t % 10])
        w.writerow(
            (
                f"u-t{t}",
                "active",
                STAMP,
                "true",
                f"teacher{t}",
                f"{{Clever:t{t}}}",
                name[0],
                f"{name[1]}{t}",
                "",
                f"T{t}",
                f"teacher{t}@bench.example",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                f"s-{teacher_school[t]}",
                "",
            )
        )
    for s in range(schools):
        w.writerow(
            (
                f"u-a{s}",
                "active",
                STAMP,
                "true",
                f"admin{s}",
                "",
                "Pat",
                f"Admin{s}",
                "",
                f"A{s}",
                f"admin{s}@bench.example",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                f"s-{s}",
                "",
            )
        )
    for i in range(learners):
        agents = ",".join(f"u-g{g}" for g in _guardians_of(i, n))
        grade = f"{rng.randrange(1, 13):02d}"
        w.writerow(
            (
                f"u-l{i}",
                "active",
                STAMP,
                "true",
                f"learner{i}",
                f"{{Clever:l{i}}}",
                GIVEN[rng.randrange(12)],
                f"{FAMILY[rng.randrange(10)]}{i}",
                "",
                f"L{i}",
                f"learner{i}@students.bench.example",
                "",
                "",
                agents,
                grade,
                "",
                "",
                "",
                "",
                "",
                "",
                f"s-{_school_of_learner(i, n)}",
                "",
            )
        )
    for g in range(n["guardians"]):
        agents = ",".join(f"u-l{i}" for i in _learners_of_guardian(g, n))
        w.writerow(
            (
                f"u-g{g}",
                "active",
                STAMP,
                "true",
                f"guardian{g}",
                "",
                GIVEN[g % 12],
                f"{FAMILY[g % 10]}G{g}",
                "",
                "",
                f"guardian{g}@home.example",
                "",
                f"555-{g:07d}",
                agents,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            )
        )
    text.close()
    text, w = out.file("roles", HEADERS["roles"])
    for t in range(teachers):
        w.writerow(
            (
                f"r-t{t}",
                "active",
                STAMP,
                f"u-t{t}",
                "primary",
                "teacher",
                "",
                "",
                f"s-{teacher_school[t]}",
                "",
            )
        )
    for s in range(schools):
        w.writerow(
            (
                f"r-a{s}",
                "active",
                STAMP,
                f"u-a{s}",
                "primary",
                "administrator",
                "",
                "",
                f"s-{s}",
                "",
            )
        )
    for i in range(learners):
        w.writerow(
            (
                f"r-l{i}",
                "active",
                STAMP,
                f"u-l{i}",
                "primary",
                "student",
                "",
                "",
                f"s-{_school_of_learner(i, n)}",
                "",
            )
        )
    for g in range(n["guardians"]):
        learner = _learners_of_guardian(g, n)[0]
        w.writerow(
            (
                f"r-g{g}",
                "active",
                STAMP,
                f"u-g{g}",
                "primary",
                "guardian",
                "",
                "",
                f"s-{_school_of_learner(learner, n)}",
                "",
            )
        )
    text.close()
    del roles_rows
    text, w = out.file("enrollments", HEADERS["enrollments"])
    for row in _enrollments(n):
        w.writerow(row)
    text.close()
    text, w = out.file("demographics", HEADERS["demographics"])
    for i in range(learners):
        year = 2008 + rng.randrange(13)
        flags = ["false"] * 7
        flags[rng.randrange(7)] = "true"
        w.writerow(
            (
                f"u-l{i}",
                "active",
                STAMP,
                f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                ("female", "male")[i % 2],
                *flags,
                "US",
                "OH",
                "Columbus",
                "",
            )
        )
    text.close()
    out.close()


def _classes_of_school(n: dict) -> list[list[int]]:
    schools, classes = n["schools"], n["classes"]
    by_school: list[list[int]] = [[] for _ in range(schools)]
    for c in range(classes):
        by_school[c * schools // classes].append(c)
    return by_school


def _enrollments(n: dict):
    """Teachers: one per class, the rest a second teacher; learners fill the rest, each
    in consecutive classes of their school (7 or 8 of them)."""
    classes, teachers = n["classes"], n["teachers"]
    by_school = _classes_of_school(n)
    for c in range(classes):
        s = c * n["schools"] // classes
        yield (f"e-t{c}", "active", STAMP, f"c-{c}", f"s-{s}", f"u-t{c}", "teacher", "true", "", "")
    for t in range(classes, teachers):
        c = t % classes
        s = c * n["schools"] // classes
        yield (
            f"e-t{t}",
            "active",
            STAMP,
            f"c-{c}",
            f"s-{s}",
            f"u-t{t}",
            "teacher",
            "false",
            "",
            "",
        )
    left = n["enrollments"] - teachers
    learners = n["learners"]
    for i in range(learners):
        share = left * (i + 1) // learners - left * i // learners
        s = _school_of_learner(i, n)
        own = by_school[s]
        for k in range(min(share, len(own))):
            c = own[(i + k) % len(own)]
            yield (
                f"e-l{i}-{k}",
                "active",
                STAMP,
                f"c-{c}",
                f"s-{s}",
                f"u-l{i}",
                "student",
                "false",
                "",
                "",
            )


def write_delta(path: Path, n: dict, seed: int, rows: int = 500) -> None:
    """A delta package of `rows` rows: half users (a new family name), half enrollments
    (one in two removed, the others new: a learner joins a class of their school)."""
    rng = random.Random(seed + 1)
    out = _Zip(path)
    _manifest(out, {"users": "delta", "enrollments": "delta"})
    users = rows // 2
    picked = rng.sample(range(n["learners"]), min(users, n["learners"]))
    text, w = out.file("users", HEADERS["users"])
    for i in picked:
        agents = ",".join(f"u-g{g}" for g in _guardians_of(i, n))
        w.writerow(
            (
                f"u-l{i}",
                "active",
                "2026-09-01T00:00:00.000Z",
                "true",
                f"learner{i}",
                f"{{Clever:l{i}}}",
                "Moved",
                f"Renamed{i}",
                "",
                f"L{i}",
                f"learner{i}@students.bench.example",
                "",
                "",
                agents,
                "05",
                "",
                "",
                "",
                "",
                "",
                "",
                f"s-{_school_of_learner(i, n)}",
                "",
            )
        )
    text.close()
    by_school = _classes_of_school(n)
    text, w = out.file("enrollments", HEADERS["enrollments"])
    left = rows - users
    learners = rng.sample(range(n["learners"]), min(left, n["learners"]))
    for j, i in enumerate(learners):
        s = _school_of_learner(i, n)
        own = by_school[s]
        if j % 2 == 0:  # remove their first enrollment
            c = own[i % len(own)]
            w.writerow(
                (
                    f"e-l{i}-0",
                    "tobedeleted",
                    "2026-09-01T00:00:00.000Z",
                    f"c-{c}",
                    f"s-{s}",
                    f"u-l{i}",
                    "student",
                    "false",
                    "",
                    "",
                )
            )
        else:  # a class they are not in (the one before their first)
            c = own[(i - 1) % len(own)]
            w.writerow(
                (
                    f"e-new-{i}",
                    "active",
                    "2026-09-01T00:00:00.000Z",
                    f"c-{c}",
                    f"s-{s}",
                    f"u-l{i}",
                    "student",
                    "false",
                    "",
                    "",
                )
            )
    text.close()
    out.close()


def packages(learners: int, seed: int) -> tuple[Path, Path]:
    """The bulk and delta zips for this size and seed, generated once."""
    directory = Path(os.environ.get("WAYPOINT_BENCH_DIR", "/tmp")) / "roster-bench"  # noqa: S108
    directory.mkdir(parents=True, exist_ok=True)
    n = sizes(learners)
    bulk = directory / f"oneroster-{learners}-seed{seed}.zip"
    delta = directory / f"oneroster-{learners}-seed{seed}-delta.zip"
    for path, write in ((bulk, write_bulk), (delta, write_delta)):
        if not path.exists():
            started = time.perf_counter()
            partial = path.with_suffix(".partial")
            write(partial, n, seed)
            partial.rename(path)
            print(
                f"  wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
    return bulk, delta


# --- one step, in a child process --------------------------------------------------------
def _app(url: str):
    return benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url, "ROSTER_SAMPLES": 10})


def prepare(url: str) -> None:
    """A fresh schema with the district (typed in by hand, no sourcedId) and its admin."""
    app = _app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        district = Org(name="Bench District", type=OrgType.DISTRICT)
        db.session.add(district)
        db.session.flush()
        db.session.add(
            User(
                username="bench.admin",
                given_name="Bench",
                family_name="Admin",
                role=Role.DISTRICT_ADMIN,
                org_id=district.id,
                active=True,
            )
        )
        db.session.commit()
        db.engine.dispose()


def step(url: str, name: str, package: str, heap: bool, profile: str | None) -> dict:
    app = _app(url)
    with app.app_context():
        district = db.session.scalar(select(Org).where(Org.type == OrgType.DISTRICT))
        admin = db.session.scalar(select(User).where(User.username == "bench.admin"))
        db.session.commit()
        if heap:
            tracemalloc.start()
        profiler = cProfile.Profile() if profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        if name == "dry run":
            plan, _row = dry_run(package, scope=district, actor=admin)
            db.session.commit()
            written = 0
        else:
            result = apply_import(package, scope=district, actor=admin, confirmed_guard=True)
            plan, written = result.plan, result.written
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        if profiler:
            profiler.disable()
            out = Path(package).parent / f"profile-{name.replace(' ', '-')}.txt"
            with out.open("w") as handle:
                stats = pstats.Stats(profiler, stream=handle).sort_stats("cumulative")
                stats.print_stats(60)
                stats.sort_stats("tottime").print_stats(40)
            print(f"cProfile of {name}: {out}", file=sys.stderr)
        peak_heap = tracemalloc.get_traced_memory()[1] if heap else None
        counts = {e: {k: v for k, v in p.counts.items() if v} for e, p in plan.entities.items()}
        db.engine.dispose()
    return {
        "step": name,
        "seconds": seconds,
        "cpu": cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "heap_mb": peak_heap / 2**20 if peak_heap is not None else None,
        "written": written,
        "errors": plan.error_count,
        "counts": counts,
    }


def _child(url: str, name: str, package: Path, heap: bool, profile: str | None) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child-step",
        name,
        "--url",
        url,
        "--package",
        str(package),
    ]
    if heap:
        command.append("--heap")
    if profile:
        command += ["--profile", profile]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"step {name} failed:\n{done.stdout}\n{done.stderr[-4000:]}")
    if profile:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(url: str, bulk: Path, delta: Path, *, heap: bool, profile: str | None) -> list[dict]:
    prepare(url)
    results = []
    for name in STEPS:
        package = delta if name == "delta 500" else bulk
        which = profile if profile in (name, name.split()[0], name.replace(" ", "-")) else None
        result = _child(url, name, package, heap, which)
        results.append(result)
        print(
            f"  {name:<13} {result['seconds']:8.1f} s (CPU {result['cpu']:6.1f} s)"
            f"  RSS {result['rss_mb']:6.0f} MB"
            + (f"  heap {result['heap_mb']:6.0f} MB" if result["heap_mb"] is not None else "")
            + f"  written {result['written']:,}  errors {result['errors']}",
            flush=True,
        )
        if result["errors"]:
            sys.exit(f"the {name} found errors: {result}")
    return results


TARGETS = {"first import": 180, "re-import": 30, "delta 500": 3}


def table(backend: str, learners: int, timed: list[dict], heaped: list[dict] | None) -> str:
    lines = [
        f"{backend}, {learners:,} learners",
        "| step | wall time | CPU (this process) | target | peak RSS | peak Python heap | rows "
        "written |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(timed):
        target = TARGETS.get(r["step"])
        heap = heaped[i]["heap_mb"] if heaped else None
        lines.append(
            f"| {r['step']} | {r['seconds']:.1f} s | {r['cpu']:.1f} s | "
            f"{f'<= {target} s' if target else '—'} | {r['rss_mb']:.0f} MB | "
            f"{f'{heap:.0f} MB' if heap is not None else '—'} | {r['written']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="oneroster_bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=FULL["learners"])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL")
    parser.add_argument(
        "--heap",
        action="store_true",
        help="run the steps again under tracemalloc for the Python heap's peak",
    )
    parser.add_argument("--profile", help="cProfile one step: dry, first, re-import, delta")
    parser.add_argument("--child-step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--package", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_step:
        result = step(args.url, args.child_step, args.package, args.heap, args.profile)
        print(json.dumps(result))
        return
    n = sizes(args.learners)
    print(f"OneRoster import bench: {', '.join(f'{v:,} {k}' for k, v in n.items())}", flush=True)
    bulk, delta = packages(args.learners, args.seed)
    server = pg.PostgresServer().start() if args.postgresql else None
    try:
        if server is not None:
            url = pg.database(server, f"roster_{args.learners}")
        else:
            url = f"sqlite:///{bulk.parent}/roster-{args.learners}.sqlite"
        backend = "PostgreSQL" if server else "SQLite"
        print(f"on {backend}", flush=True)
        timed = measure(url, bulk, delta, heap=False, profile=args.profile)
        heaped = None
        if args.heap:
            print("again under tracemalloc (the Python heap's peak)", flush=True)
            heaped = measure(url, bulk, delta, heap=True, profile=None)
        print()
        print(table(backend, args.learners, timed, heaped))
        print(f"\nfirst import: {json.dumps(timed[1]['counts'])}")
        print(f"delta: {json.dumps(timed[3]['counts'])}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
