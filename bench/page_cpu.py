"""CPU cost of the hot pages, in-process: CPU and wall milliseconds per request, median.

    .venv/bin/python bench/page_cpu.py                       # hello world and the pages
    .venv/bin/python bench/page_cpu.py --repeat 300 --only "learner home" "teacher class view"
    .venv/bin/python bench/page_cpu.py --profile "teacher class view"   # cProfile, top 30

The machine running the bench is usually shared, so wall time swings with the load; the
CPU time this thread spent on a request (`time.thread_time()`) swings much less. Both
are printed, each as the median over `--repeat` requests, with the ratio to hello world
measured in the same run (requests of all scenarios are interleaved, round after round,
so a burst of load elsewhere hits them all alike). Same district and scenarios as
`page_costs.py`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchapp  # noqa: E402
import world  # noqa: E402
from page_costs import _make_stale, scenarios  # noqa: E402

DEFAULT = ("hello world", "learner home", "teacher class view")


def _one(app, call, expect: int, stale) -> tuple[float, float]:
    if stale:
        _make_stale(app, stale)
    cpu, wall = time.thread_time(), time.perf_counter()
    response = call()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    assert response.status_code == expect, response.status_code
    return cpu * 1000, wall * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="page_cpu.py", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--only", nargs="+", default=list(DEFAULT), help="scenario names")
    parser.add_argument("--profile", help="a scenario name: print its cProfile top 30")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL") or world.sqlite_url(args.learners)
    info = world.build(url, args.learners, args.learners * 100)
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    found = scenarios(app, info)
    if args.profile:
        call, expect, stale = found[args.profile]
        for _ in range(5):
            _one(app, call, expect, stale)
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        for _ in range(args.repeat):
            _one(app, call, expect, stale)
        profiler.disable()
        stats = pstats.Stats(profiler)
        top = int(os.environ.get("TOP", "30"))
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        return
    names = ["hello world", *[n for n in args.only if n != "hello world"]]
    chosen = {name: found[name] for name in names}
    for call, expect, stale in chosen.values():  # warm-up: templates compiled, caches filled
        for _ in range(5):
            _one(app, call, expect, stale)
    cpu: dict[str, list[float]] = {name: [] for name in chosen}
    wall: dict[str, list[float]] = {name: [] for name in chosen}
    for _ in range(args.repeat):
        for name, (call, expect, stale) in chosen.items():
            c, w = _one(app, call, expect, stale)
            cpu[name].append(c)
            wall[name].append(w)
    hello_cpu = statistics.median(cpu["hello world"])
    hello_wall = statistics.median(wall["hello world"])
    print(f"{'scenario':<28} {'cpu ms':>8} {'x hello':>8} {'wall ms':>8} {'x hello':>8}")
    for name in chosen:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(
            f"{name:<28} {c:>8.2f} {c / hello_cpu:>8.1f} {w:>8.2f} {w / hello_wall:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
