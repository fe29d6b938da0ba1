"""Insights at district size: the district and school tables' data, p95 cold and warm,
and SQL statements each, next to hello world.

    .venv/bin/python bench/insights_bench.py                    # the 50,000-learner district
    .venv/bin/python bench/insights_bench.py --learners 1000 --repeat 20
    .venv/bin/python bench/insights_bench.py --postgresql       # on a throwaway PostgreSQL

"District" is `measure_table(Scope(district), by="school")`, "school" is one school
`by="grade"`, "district by sex" a group breakdown: what the two pages need (the page's
rendering is the pages branch's), read from the precomputed facts: the bench refreshes
them first (and prints how long the background job takes) when there are none. "Cold":
the engine is disposed before each call, so
every call opens a new connection with an empty SQLite page cache (the OS file cache
stays warm: the same as a server whose pool just recycled). "Warm": the same connection
again. Hello world is `/bench/hello` through the test client, measured the same way.
Uses world.py's district (built and reused as the other benches do; demographics,
signatures and conferences added once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchapp  # noqa: E402
import pg  # noqa: E402
import world  # noqa: E402

from devtools.driver_sql import driver_statements  # noqa: E402
from portal.conferences.models import DEFAULT_CYCLE_DAYS  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.insights import snapshots  # noqa: E402
from portal.insights.compute import find_snapshot, measure_table, trend  # noqa: E402
from portal.insights.scope import Scope  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="insights_bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    server = pg.PostgresServer().start() if args.postgresql else None
    try:
        if server is not None:
            os.environ["DATABASE_URL"] = pg.database(server, f"bench_{args.learners}")
        run(args)
    finally:
        if server is not None:
            server.stop()


def run(args) -> None:
    url = os.environ.get("DATABASE_URL") or world.sqlite_url(args.learners)
    info = world.build(url, args.learners, args.learners * 100)
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    scenarios = {
        "hello world": lambda: client.get("/bench/hello"),
        "district by school": lambda: measure_table(Scope(1), by="school"),
        "school by grade": lambda: measure_table(Scope(1, (2,)), by="grade"),
        "district by sex": lambda: measure_table(Scope(1), by="sex"),
        "district trend, 6 cycles": lambda: trend(Scope(1)),
        "school by class": lambda: measure_table(Scope(1, (2,)), by="class"),
        "one class": lambda: measure_table(Scope(1, class_ids=(info["class_id"],))),
    }
    with app.app_context():
        if find_snapshot(1, DEFAULT_CYCLE_DAYS, None) is None:
            started = time.perf_counter()
            result = snapshots.refresh(1)
            db.session.commit()
            print(
                f"  refresh: {result['snapshots']} snapshots "
                f"in {time.perf_counter() - started:.1f} s (the background job's work)",
                flush=True,
            )
    print(f"{args.learners:,} learners, {db_name(url)}, {args.repeat} calls each")
    print(f"{'scenario':<22} {'cold p95 ms':>12} {'warm p95 ms':>12} {'statements':>11}")
    with app.app_context():
        for name, call in scenarios.items():
            call()  # imports, compiled templates, statement caches
            cold, warm = [], []
            for _ in range(args.repeat):
                db.session.remove()
                db.engine.dispose()
                started = time.perf_counter()
                call()
                cold.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                call()
                warm.append((time.perf_counter() - started) * 1000)
            db.session.remove()
            with driver_statements(db.engine) as statements:
                call()
            print(
                f"{name:<22} {p95(cold):>12.1f} {p95(warm):>12.1f} {len(statements):>11}"
                f"   (median cold {statistics.median(cold):.1f})",
                flush=True,
            )


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


if __name__ == "__main__":
    main()
