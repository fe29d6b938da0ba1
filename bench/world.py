"""The bench district: a synthetic school district built with bulk inserts, once per size.

Executemany on SQLite, COPY on PostgreSQL. Learners `learner1..N` and one teacher per class
of 35 (`teacher1` teaches learners 1-35), 3 goals each with their summaries, and
`entries_total` progress entries. All share the password PASSWORD. SQLite districts live in
$WAYPOINT_BENCH_DIR (default /tmp) as waypoint-bench-<learners>.sqlite and are reused.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta

import benchapp
from sqlalchemy import func, select, text

from portal.auth.models import Role, User
from portal.auth.passwords import hash_secret
from portal.core.extensions import db
from portal.goals.models import Goal
from portal.roster.models import Enrollment, EnrollmentRole, Org

PASSWORD = "bench password 1"
CLASS_SIZE = 35
LEARNERS_PER_SCHOOL = 1000
GOALS_PER_LEARNER = 3
STRATEGIES = ("Practice 20 minutes", "Explain it to a partner", "Redo my mistakes")
MARKER = "bench-district"


def sqlite_url(learners: int) -> str:
    directory = os.environ.get("WAYPOINT_BENCH_DIR", "/tmp")  # noqa: S108 (a scratch file)
    return f"sqlite:///{directory}/waypoint-bench-{learners}.sqlite"


def _rows_copy(conn, table: str, columns: list[str], rows) -> None:
    """COPY on PostgreSQL, executemany on SQLite: no ORM on the hot path."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cur = raw.cursor()
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        cur.executemany(sql, rows)
        cur.close()


def build(url: str, learners: int, entries_total: int) -> dict:
    """Create the schema and a district of `learners` learners; return what the load needs."""
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        existing = db.session.scalar(select(Org.id).where(Org.source_id == MARKER))
        if existing is None:
            if db.session.execute(text("SELECT 1 FROM users LIMIT 1")).first():
                sys.exit("The database has data that is not a bench district: refusing.")
            password_hash = hash_secret(PASSWORD)
            db.session.close()  # release SQLite's lock before the bulk load
            _fill(db, learners, entries_total, password_hash)
        _add_insights_data(db)
        info = _pick(db)
        db.engine.dispose()
    return info


def _fill(db, learners: int, entries_total: int, password_hash: str) -> None:
    rng = random.Random(7)
    today = date.today()
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 (naive UTC, like the app)
    schools = max(1, learners // LEARNERS_PER_SCHOOL)
    per_goal = max(1, entries_total // (learners * GOALS_PER_LEARNER))
    started = time.perf_counter()
    with db.engine.begin() as conn:
        _rows_copy(
            conn,
            "orgs",
            ["id", "source_id", "name", "type"],
            [(1, MARKER, "Bench District", "DISTRICT")],
        )
        _rows_copy(
            conn,
            "orgs",
            ["id", "name", "type", "parent_id"],
            [(1 + s, f"Bench School {s}", "SCHOOL", 1) for s in range(1, schools + 1)],
        )
        _rows_copy(
            conn,
            "terms",
            ["id", "org_id", "title", "start_date", "end_date"],
            [(1, 1, "Bench term", today - timedelta(days=90), today + timedelta(days=90))],
        )
        levels = [(1, "Beginning"), (2, "Developing"), (3, "Proficient"), (4, "Extending")]
        _rows_copy(
            conn,
            "mastery_scales",
            ["id", "school_id", "name"],
            [(s, 1 + s, "Mastery scale") for s in range(1, schools + 1)],
        )
        _rows_copy(
            conn,
            "mastery_levels",
            ["scale_id", "value", "label", "is_mastery"],
            [(s, v, label, v == 3) for s in range(1, schools + 1) for v, label in levels],
        )
        # People: learners 1..L, then one teacher per class.
        classes = (learners + CLASS_SIZE - 1) // CLASS_SIZE
        users, enrollments, class_rows = [], [], []
        for n in range(1, learners + 1):
            school = 1 + min(schools, 1 + (n - 1) // LEARNERS_PER_SCHOOL)
            users.append(
                (
                    n,
                    f"learner{n}",
                    password_hash,
                    "LEARNER",
                    "Learner",
                    f"N{n:06d}",
                    7,
                    school,
                    True,
                    now,
                )
            )
        for c in range(1, classes + 1):
            tid = learners + c
            first = (c - 1) * CLASS_SIZE + 1
            school = 1 + min(schools, 1 + (first - 1) // LEARNERS_PER_SCHOOL)
            users.append(
                (
                    tid,
                    f"teacher{c}",
                    password_hash,
                    "TEACHER",
                    "Teacher",
                    f"T{c}",
                    None,
                    school,
                    True,
                    now,
                )
            )
            class_rows.append((c, school, 1, f"Class {c}", f"B{c:07d}"))
            enrollments.append((c, tid, "TEACHER"))
            for n in range(first, min(learners, first + CLASS_SIZE - 1) + 1):
                enrollments.append((c, n, "LEARNER"))
        _rows_copy(
            conn,
            "users",
            [
                "id",
                "username",
                "password_hash",
                "role",
                "given_name",
                "family_name",
                "grade",
                "org_id",
                "active",
                "created_at",
            ],
            users,
        )
        _rows_copy(
            conn, "classes", ["id", "school_id", "term_id", "title", "class_code"], class_rows
        )
        _rows_copy(conn, "enrollments", ["class_id", "user_id", "role"], enrollments)
        # Goals, their versions and strategies; current_version_id set after.
        goals, versions, strategies = [], [], []
        gid = 0
        for n in range(1, learners + 1):
            for _ in range(GOALS_PER_LEARNER):
                gid += 1
                goals.append((gid, n, n, "ACTIVE", "SHORT", 1, now, now))
                versions.append(
                    (
                        gid,
                        gid,
                        1,
                        "I will reach Proficient on this target.",
                        3,
                        today + timedelta(days=30),
                        n,
                        "LEARNER",
                        now,
                        "0" * 64,
                    )
                )
                for p, s in enumerate(STRATEGIES):
                    strategies.append((gid, s, p))
        _rows_copy(
            conn,
            "goals",
            [
                "id",
                "learner_id",
                "created_by_id",
                "status",
                "horizon",
                "lock_version",
                "created_at",
                "updated_at",
            ],
            goals,
        )
        _rows_copy(
            conn,
            "goal_versions",
            [
                "id",
                "goal_id",
                "number",
                "statement",
                "target_level",
                "due_date",
                "author_id",
                "voice",
                "created_at",
                "content_hash",
            ],
            versions,
        )
        _rows_copy(conn, "goal_version_strategies", ["version_id", "text", "position"], strategies)
        conn.exec_driver_sql("UPDATE goals SET current_version_id = id")
        print(f"  people, classes, goals: {time.perf_counter() - started:.1f} s", flush=True)

        # Entries in chunks, with each goal's summary computed on the way.
        summaries = []
        eid = 0
        chunk = []
        columns = [
            "id",
            "goal_id",
            "learner_id",
            "token",
            "strategy_text",
            "self_rating",
            "reflection",
            "shared_with_family",
            "created_at",
        ]
        for g in range(1, gid + 1):
            learner = (g - 1) // GOALS_PER_LEARNER + 1
            level, points = rng.choice((1, 2)), []
            start = now - timedelta(days=per_goal + 1)
            for k in range(per_goal):
                eid += 1
                at = start + timedelta(days=k, minutes=rng.randint(0, 600))
                if rng.random() < 0.3 and level < 4:
                    level += 1
                chunk.append(
                    (
                        eid,
                        g,
                        learner,
                        f"b{eid}",
                        STRATEGIES[k % 3],
                        level,
                        "Practised and checked my answers.",
                        rng.random() < 0.2,
                        at,
                    )
                )
                points.append([at.isoformat(), level, "self"])
            summaries.append(
                (
                    g,
                    learner,
                    1,
                    per_goal,
                    points[-1][0] if points else None,
                    max((p[1] for p in points), default=None),
                    json.dumps(points[-30:]),
                    "{}",
                    points[-1][1] if points else None,
                    False,
                )
            )
            if len(chunk) >= 200_000:
                _rows_copy(conn, "progress_entries", columns, chunk)
                chunk = []
        if chunk:
            _rows_copy(conn, "progress_entries", columns, chunk)
        _rows_copy(
            conn,
            "goal_progress",
            [
                "goal_id",
                "learner_id",
                "version",
                "entry_count",
                "last_entry_at",
                "max_value",
                "points_json",
                "strategy_counts_json",
                "latest_self_rating",
                "latest_entry_rated",
            ],
            summaries,
        )
        if conn.dialect.name == "postgresql":
            for table in ("users", "orgs", "classes", "goals", "goal_versions", "progress_entries"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    print(
        f"  built {learners:,} learners, {gid:,} goals, {eid:,} entries "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _add_insights_data(db) -> None:
    """What insights reads beyond goals and entries: demographics (with OneRoster program
    flags), both signatures on most goals, and conferences held. Added once, also to a
    district built before this existed (the file is reused)."""
    if db.session.execute(text("SELECT 1 FROM demographics LIMIT 1")).first():
        return
    db.session.close()
    rng = random.Random(15)
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 (naive UTC, like the app)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        learners = conn.exec_driver_sql(
            "SELECT count(*) FROM users WHERE role = 'LEARNER'"
        ).scalar()
        demographics, signatures, conferences, agreed = [], [], [], []
        races = ("white", "black_or_african_american", "asian", "american_indian_or_alaska_native")
        for n in range(1, learners + 1):
            school = 1 + (n - 1) // LEARNERS_PER_SCHOOL  # schools differ: engagement varies
            keen = 0.45 + 0.4 * ((school * 37) % 10) / 10
            race = rng.choices(races, (55, 20, 15, 10))[0]
            programs = {}
            for flag, share in (("ell", 0.12), ("iep", 0.14), ("504", 0.03), ("gifted", 0.08)):
                if rng.random() < share:
                    programs[flag] = "true"
            demographics.append(
                (
                    n,
                    rng.choices(("female", "male", "unspecified"), (49, 49, 2))[0],
                    *(race == r for r in races),
                    rng.random() < 0.25,
                    json.dumps(programs),
                )
            )
            teacher = learners + (n - 1) // CLASS_SIZE + 1
            for g in range((n - 1) * GOALS_PER_LEARNER + 1, n * GOALS_PER_LEARNER + 1):
                if rng.random() < keen:
                    at = now - timedelta(days=rng.randint(1, 150))
                    agreed.append(g)
                    for signer, role in ((n, "LEARNER"), (teacher, "TEACHER")):
                        signatures.append((g, g, n, signer, role, "0" * 64, "SESSION", at))
            for _k in range(rng.randint(0, 4)):
                at = now - timedelta(days=rng.randint(1, 150))
                conferences.append((n, teacher, at, 15, "DONE", 1, at, teacher, at))
        _rows_copy(
            conn,
            "demographics",
            ["user_id", "sex", *races, "hispanic_or_latino_ethnicity", "programs"],
            demographics,
        )
        _rows_copy(
            conn,
            "goal_signatures",
            [
                "goal_id",
                "version_id",
                "learner_id",
                "signer_id",
                "role",
                "content_hash",
                "method",
                "signed_at",
            ],
            signatures,
        )
        _rows_copy(
            conn,
            "conferences",
            [
                "learner_id",
                "teacher_id",
                "scheduled_at",
                "duration_minutes",
                "status",
                "change_count",
                "held_at",
                "created_by_id",
                "created_at",
            ],
            conferences,
        )
        conn.exec_driver_sql(
            "UPDATE goals SET agreed_version_id = id WHERE id IN "
            "(SELECT goal_id FROM goal_signatures)"
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    print(
        f"  insights data: {len(demographics):,} demographics, {len(signatures):,} signatures, "
        f"{len(conferences):,} conferences in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _pick(db) -> dict:
    """Learners spread over the district, and a teacher with their class."""
    total = db.session.scalar(select(func.count(User.id)).where(User.role == Role.LEARNER))
    step = max(1, total // 8)
    learners = [1 + i * step for i in range(8)]
    goals = {
        lid: db.session.scalar(select(Goal.id).where(Goal.learner_id == lid).limit(1))
        for lid in learners
    }
    middle = learners[len(learners) // 2]
    class_id = db.session.scalar(select(Enrollment.class_id).where(Enrollment.user_id == middle))
    teacher = db.session.scalar(
        select(User.username)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.class_id == class_id, Enrollment.role == EnrollmentRole.TEACHER)
    )
    return {
        "learners": [(f"learner{lid}", goals[lid]) for lid in learners],
        "teacher": teacher,
        "class_id": class_id,
        "total": total,
    }
