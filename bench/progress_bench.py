"""Benchmark the live trackers against a bare hello-world route, on gunicorn, on loopback.

    .venv/bin/python bench/progress_bench.py --small            # 1,000 learners, SQLite
    .venv/bin/python bench/progress_bench.py                    # 50,000 learners, 5M entries
    .venv/bin/python bench/progress_bench.py --compare          # 1,000 and 50,000: p95 ratio
    .venv/bin/python bench/progress_bench.py --postgres --compare   # a throwaway PostgreSQL
    DATABASE_URL=postgresql://... bench/progress_bench.py --small   # your PostgreSQL (COPY)

Builds a synthetic district once per size (SQLite: /tmp/waypoint-bench-<n>.sqlite; PostgreSQL:
the database in DATABASE_URL, which must be empty or hold a previous bench district), starts
gunicorn on 127.0.0.1 with WAYPOINT_BENCH=1 (which adds the @public /bench/hello route),
signs a few learners and a teacher in, and measures each scenario with a bounded number of
requests from a pool of client threads. With --compare both districts are served at once
and the rounds alternate between them, so the machine's drift lands on both sizes alike.
Each ratio to hello world is taken within a round; the tables show medians over the
rounds and the range of the ratio. Prints the tables; stops gunicorn.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 1"
CLASS_SIZE = 35
LEARNERS_PER_SCHOOL = 1000
GOALS_PER_LEARNER = 3
STRATEGIES = ("Practice 20 minutes", "Explain it to a partner", "Redo my mistakes")
MARKER = "bench-district"


# --- Building the district -----------------------------------------------------------


def _app(url: str):
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url})


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
    from sqlalchemy import select, text

    from portal.auth.passwords import hash_secret
    from portal.core.extensions import db
    from portal.roster.models import Org

    app = _app(url)
    with app.app_context():
        db.create_all()
        existing = db.session.scalar(select(Org.id).where(Org.source_id == MARKER))
        if existing is None:
            if db.session.execute(text("SELECT 1 FROM users LIMIT 1")).first():
                sys.exit("The database has data that is not a bench district: refusing.")
            password_hash = hash_secret(PASSWORD)
            db.session.close()  # release SQLite's lock before the bulk load
            _fill(db, learners, entries_total, password_hash)
        info = _pick(db)
        db.engine.dispose()
    return info


def _fill(db, learners: int, entries_total: int, password_hash: str) -> None:
    import random

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
                    0,
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
                    0,
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
                "failed_logins",
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


def _pick(db) -> dict:
    """Learners spread over the district, and a teacher with their class."""
    from sqlalchemy import func, select

    from portal.auth.models import Role, User
    from portal.goals.models import Goal
    from portal.roster.models import Enrollment, EnrollmentRole

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


# --- The server and the client -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "WAYPOINT_BENCH": "1", "SECRET_KEY": "bench-secret"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "portal:create_app()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("gunicorn did not start")


class Client:
    """A signed-in browser: one cookie, a fresh loopback connection per request."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        response = conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookie = value.split(";", 1)[0]
        conn.close()
        return response.status, data, response.headers

    def sign_in(self, login: str) -> None:
        _, page, _ = self.request("GET", "/signin")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        form = {"login": login, "password": PASSWORD}
        if token:
            form["csrf_token"] = token.group(1).decode()
        status, _, _ = self.request("POST", "/signin", urllib.parse.urlencode(form))
        if status not in (302, 303):
            sys.exit(f"sign-in failed for {login}: {status}")


def measure(name, jobs, requests: int, threads: int, expect: int) -> dict:
    """Run `requests` requests from `threads` threads; jobs[i] is (client, path, headers)."""
    latencies: list[float] = []
    errors = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            client, path, headers = jobs[n % len(jobs)]
            t0 = time.perf_counter()
            status, _, _ = client.request("GET", path, headers=headers)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status != expect:
                    errors.append(status)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "name": name,
        "rps": requests / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "errors": len(errors),
        "statuses": sorted(set(errors)),
    }


POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}


def _median_round(results: list[dict], hellos: list[dict]) -> dict:
    """One scenario over the rounds: medians, and its ratio to hello world round by round
    (the hello world of the same round, so a slow minute on the machine cancels out)."""
    middle = {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p95")}
    ratios = [r["rps"] / h["rps"] for r, h in zip(results, hellos, strict=True)]
    errors = sum(r["errors"] for r in results)
    statuses = sorted({s for r in results for s in r["statuses"]})
    return {
        **results[0],
        **middle,
        "ratio": statistics.median(ratios),
        "ratio_low": min(ratios),
        "ratio_high": max(ratios),
        "errors": errors,
        "statuses": statuses,
    }


def prepare(url: str, info: dict, threads: int, workers: int, warm: int):
    """Start gunicorn on one district, sign its clients in, warm every path up.

    Returns the server process and the scenarios as (name, jobs, expected status).
    """
    proc, port = start_server(url, workers)
    try:
        learners = []
        for login, goal_id in info["learners"]:
            c = Client(port)
            c.sign_in(login)
            _, body, _ = c.request(
                "GET", f"/goals/{goal_id}/tracker", headers={"HX-Request": "true"}
            )
            found = re.search(rb'hx-get="([^"]+)"', body)
            if not found:
                sys.exit(f"no tracker for {login}: {body[:300]!r}")
            learners.append((c, goal_id, found.group(1).decode().replace("&amp;", "&")))
        teacher = Client(port)
        teacher.sign_in(info["teacher"])
        hello = [(c, "/bench/hello", {}) for c, _, _ in learners]
        scenarios = [
            ("hello world", hello, 200),
            ("idle tracker poll (204)", [(c, u, POLL) for c, _, u in learners], 204),
            (
                "changed tracker poll",
                [(c, f"/goals/{g}/tracker?v=0", POLL) for c, g, _ in learners],
                200,
            ),
            ("learner home", [(c, "/", {}) for c, _, _ in learners], 200),
            ("teacher class view", [(teacher, f"/classes/{info['class_id']}/progress", {})], 200),
        ]
        for name, jobs, expect in scenarios:  # every worker, every path
            measure(name, jobs, warm, threads, expect)
        return proc, scenarios
    except BaseException:
        stop(proc)
        raise


def stop(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def one_round(scenarios, requests: int, threads: int) -> list[dict]:
    return [measure(name, jobs, requests, threads, expect) for name, jobs, expect in scenarios]


def summarise(rounds: list[list[dict]]) -> list[dict]:
    hellos = [r[0] for r in rounds]
    return [_median_round([r[i] for r in rounds], hellos) for i in range(len(rounds[0]))]


def print_table(title: str, results: list[dict]) -> None:
    print(f"\n{title}")
    print(
        f"{'scenario':<26} {'req/s':>8} {'vs hello':>9} {'rounds':>11} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'errors':>7}"
    )
    for r in results:
        spread = f"{r['ratio_low']:.0%}-{r['ratio_high']:.0%}"
        print(
            f"{r['name']:<26} {r['rps']:>8.0f} {r['ratio']:>8.0%} {spread:>11} {r['p50']:>8.2f} "
            f"{r['p95']:>8.2f} {r['errors']:>7}{' ' + str(r['statuses']) if r['errors'] else ''}"
        )


@contextlib.contextmanager
def _postgres(wanted: bool):
    if not wanted:
        yield None
        return
    from tests.pg import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def _database_for(size: int, server) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE bench_{size}"))
    admin.dispose()
    return server.url(f"bench_{size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="1,000 learners (quick)")
    parser.add_argument("--learners", type=int, default=50_000)
    parser.add_argument("--entries-per-learner", type=int, default=100)
    parser.add_argument("--compare", action="store_true", help="also run 1,000 learners: p95 ratio")
    parser.add_argument("--requests", type=int, default=2000, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=5, help="medians over the rounds")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL server (as the tests do) with a database per size",
    )
    args = parser.parse_args()
    sizes = [1000] if args.small else ([1000, args.learners] if args.compare else [args.learners])
    base_url = os.environ.get("DATABASE_URL")
    if base_url and len(sizes) > 1:
        sys.exit("--compare with DATABASE_URL: run each size against its own database.")
    with _postgres(args.postgres) as server:
        servers = {}
        try:
            for size in sizes:
                url = _database_for(size, server) if server else base_url
                url = url or f"sqlite:////tmp/waypoint-bench-{size}.sqlite"
                print(f"district of {size:,} learners on {url.split(':')[0]}", flush=True)
                info = build(url, size, size * args.entries_per_learner)
                warm = max(50, args.requests // 10)
                servers[size] = prepare(url, info, args.threads, args.workers, warm)
            # Rounds go over every size and every scenario in turn: a slow minute on the
            # machine lands in one round of each, not in all of one; medians count.
            rounds: dict[int, list] = {size: [] for size in sizes}
            for _ in range(args.rounds):
                for size in sizes:
                    scenarios = servers[size][1]
                    rounds[size].append(one_round(scenarios, args.requests, args.threads))
        finally:
            for proc, _ in servers.values():
                stop(proc)
    runs = {size: summarise(rounds[size]) for size in sizes}
    for size in sizes:
        print_table(
            f"{size:,} learners, median of {args.rounds} rounds of {args.requests} "
            f"requests, {args.threads} threads, {args.workers} gunicorn workers",
            runs[size],
        )
    if len(runs) == 2:
        small, large = runs[sizes[0]], runs[sizes[1]]
        print(f"\np95 at {sizes[1]:,} vs {sizes[0]:,} learners")
        for a, b in zip(small, large, strict=True):
            print(f"{a['name']:<26} {a['p95']:>8.2f} {b['p95']:>8.2f} {b['p95'] / a['p95']:>7.2f}x")


if __name__ == "__main__":
    main()
