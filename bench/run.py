"""`make bench`: every benchmark in turn, on SQLite or (--postgresql) a throwaway PostgreSQL.

    .venv/bin/python bench/run.py                   # SQLite, the 1,000-learner district
    .venv/bin/python bench/run.py --postgresql      # the same on PostgreSQL (as the tests start it)
    make bench BENCH_ARGS="--postgresql --rounds 5 --requests 2000"

1. In-process page costs (page_costs.py): ms and SQL statements per request, hello world first.
2. The server bench (progress_bench.py): hello world, idle and changed tracker polls, learner
   home, class view on gunicorn; median of --rounds rounds, each a ratio to hello world.
3. A class period (class_period.py): 35 learners sign in, load home, poll, open a goal, log an
   entry, while their teacher's class view polls; hello world on the same server; the page
   cache's hit rate per kind of page.
4. With `--only roster`: the OneRoster import (oneroster_bench.py) of a district of
   --roster-learners (5,000; the issue's 50,000 with oneroster_bench.py itself).

Defaults are short (this machine is shared); `--pre-ping` measures main's pool ping per
checkout (BENCH_PRE_PING=1, see benchapp.py) with everything else the same.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

import class_period  # noqa: E402
import oneroster_bench  # noqa: E402
import page_costs  # noqa: E402
import pg  # noqa: E402
import progress_bench  # noqa: E402
import world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL")
    parser.add_argument("--learners", type=int, default=1000, help="the district's size")
    parser.add_argument("--repeat", type=int, default=50, help="in-process requests per page")
    parser.add_argument("--requests", type=int, default=600, help="per server scenario, round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--only", choices=("costs", "server", "class", "roster"), action="append")
    parser.add_argument(
        "--roster-learners", type=int, default=5000, help="--only roster: the district's size"
    )
    parser.add_argument("--pre-ping", action="store_true", help="the pool pings each checkout")
    args = parser.parse_args()
    if args.pre_ping:
        os.environ["BENCH_PRE_PING"] = "1"
    only = set(args.only or ("costs", "server", "class"))  # roster: on its own (it is long)
    if "roster" in only:
        print("\n== the OneRoster import (oneroster_bench.py)", flush=True)
        roster = ["--learners", str(args.roster_learners)]
        oneroster_bench.main([*roster, "--postgresql"] if args.postgresql else roster)
        only.discard("roster")
        if not only:
            return
    server = pg.PostgresServer().start() if args.postgresql else None
    try:
        if server is not None:
            os.environ["DATABASE_URL"] = pg.database(server, f"bench_{args.learners}")
        url = os.environ.get("DATABASE_URL") or world.sqlite_url(args.learners)
        print(f"district of {args.learners:,} learners on {url.split(':')[0]}", flush=True)
        world.build(url, args.learners, args.learners * 100)
        common = ["--learners", str(args.learners)]
        started = time.perf_counter()
        if "costs" in only:
            print("\n== in-process page costs (page_costs.py)", flush=True)
            page_costs.main([*common, "--repeat", str(args.repeat)])
        if "server" in only:
            print("\n== server bench (progress_bench.py)", flush=True)
            progress_bench.main(
                [
                    *common,
                    "--requests",
                    str(args.requests),
                    "--rounds",
                    str(args.rounds),
                    "--threads",
                    str(args.threads),
                    "--workers",
                    str(args.workers),
                ]
            )
        if "class" in only:
            print("\n== a class period (class_period.py)", flush=True)
            class_period.main(
                [*common, "--threads", str(args.threads), "--workers", str(args.workers)]
            )
        print(f"\n(all of it took {time.perf_counter() - started:.0f} s)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
