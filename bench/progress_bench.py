"""Benchmark the live trackers against a bare hello-world route, on gunicorn, on loopback.

    .venv/bin/python bench/progress_bench.py --small            # 1,000 learners, SQLite
    .venv/bin/python bench/progress_bench.py                    # 50,000 learners, 5M entries
    .venv/bin/python bench/progress_bench.py --compare          # 1,000 and 50,000: p95 ratio
    .venv/bin/python bench/progress_bench.py --postgres --compare   # a throwaway PostgreSQL
    DATABASE_URL=postgresql://... bench/progress_bench.py --small   # your PostgreSQL (COPY)
    DATABASE_URL='postgresql://.../bench_{learners}' bench/progress_bench.py --compare
    .venv/bin/python bench/progress_bench.py --small --against /tmp/main-copy   # two codes

Builds a synthetic district once per size (SQLite: /tmp/waypoint-bench-<n>.sqlite; PostgreSQL:
the database in DATABASE_URL, which must be empty or hold a previous bench district), starts
gunicorn on 127.0.0.1 serving bench/benchapp.py (the app plus its @public /bench/hello),
signs a few learners and a teacher in, and measures each scenario with a bounded number of
requests from a pool of client threads. With --compare both districts are served at once
and the rounds alternate between them, so the machine's drift lands on both sizes alike;
--against serves another checkout's code on the same districts, alternating likewise
(a before/after comparison on a shared machine). A DATABASE_URL with `{learners}` in it
names one database per size.
Each ratio to hello world is taken within a round; the tables show medians over the
rounds and the range of the ratio. Prints the tables; stops gunicorn.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

import pg  # noqa: E402
import world  # noqa: E402
from server import Client, measure, start_server, stop  # noqa: E402
from world import build  # noqa: E402

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


def prepare(url: str, info: dict, threads: int, workers: int, warm: int, root=None, only=()):
    """Start gunicorn on one district, sign its clients in, warm every path up.

    `root`: serve that checkout's code instead of this one's (see --against); `only`: the
    scenarios whose names contain one of these words (hello world is always measured).
    Returns the server process and the scenarios as (name, jobs, expected status).
    """
    proc, port = start_server(url, workers, *([root] if root else []))
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
        if only:
            scenarios = [
                s for i, s in enumerate(scenarios) if i == 0 or any(w in s[0] for w in only)
            ]
        for name, jobs, expect in scenarios:  # every worker, every path
            measure(name, jobs, warm, threads, expect)
        return proc, scenarios
    except BaseException:
        stop(proc)
        raise


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
    server = pg.PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def _database_for(size: int, server) -> str:
    return pg.database(server, f"bench_{size}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="progress_bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="1,000 learners (quick)")
    parser.add_argument("--learners", type=int, default=50_000)
    parser.add_argument("--entries-per-learner", type=int, default=100)
    parser.add_argument("--compare", action="store_true", help="also run 1,000 learners: p95 ratio")
    parser.add_argument("--requests", type=int, default=2000, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=5, help="medians over the rounds")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        help="only the scenarios whose names contain this (repeatable; hello world always)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout (e.g. main's): serve its code too, on the same districts; "
        "the rounds alternate between the two, and the tables show both",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL server (as the tests do) with a database per size",
    )
    args = parser.parse_args(argv)
    sizes = [1000] if args.small else ([1000, args.learners] if args.compare else [args.learners])
    base_url = os.environ.get("DATABASE_URL")
    if base_url and len(sizes) > 1 and "{learners}" not in base_url:
        sys.exit("--compare with DATABASE_URL: name a database per size with {learners}.")
    codes = ("this", "against") if args.against else ("this",)
    with _postgres(args.postgres) as server:
        servers = {}
        try:
            for size in sizes:
                url = _database_for(size, server) if server else base_url
                url = url and url.replace("{learners}", str(size))
                url = url or world.sqlite_url(size)
                print(f"district of {size:,} learners on {url.split(':')[0]}", flush=True)
                info = build(url, size, size * args.entries_per_learner)
                warm = max(50, args.requests // 10)
                for code in codes:
                    root = args.against if code == "against" else None
                    servers[code, size] = prepare(
                        url, info, args.threads, args.workers, warm, root, args.scenario
                    )
            # Rounds go over every size (and both checkouts) and every scenario in turn: a
            # slow minute on the machine lands in one round of each, not in all of one.
            rounds: dict[tuple, list] = {key: [] for key in servers}
            for _ in range(args.rounds):
                for key, (_, scenarios) in servers.items():
                    rounds[key].append(one_round(scenarios, args.requests, args.threads))
        finally:
            for proc, _ in servers.values():
                stop(proc)
    runs = {key: summarise(found) for key, found in rounds.items()}
    for code, size in runs:
        which = f" ({args.against})" if code == "against" else ""
        print_table(
            f"{size:,} learners{which}, median of {args.rounds} rounds of {args.requests} "
            f"requests, {args.threads} threads, {args.workers} gunicorn workers",
            runs[code, size],
        )
    for code in codes:
        if len(sizes) == 2:
            small, large = runs[code, sizes[0]], runs[code, sizes[1]]
            which = f" ({args.against})" if code == "against" else ""
            print(f"\np95 at {sizes[1]:,} vs {sizes[0]:,} learners{which}")
            for a, b in zip(small, large, strict=True):
                ratio = b["p95"] / a["p95"]
                print(f"{a['name']:<26} {a['p95']:>8.2f} {b['p95']:>8.2f} {ratio:>7.2f}x")


if __name__ == "__main__":
    main()
