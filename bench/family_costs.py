"""The family page's cost per request, in-process, next to hello world in the same run.

    .venv/bin/python bench/family_costs.py                 # 5 rounds of 200 requests each
    .venv/bin/python bench/family_costs.py --extra-goals 0 # the demo family as seeded
    .venv/bin/python bench/family_costs.py --rounds 3 --repeat 100
    .venv/bin/python bench/family_costs.py --profile "child page"   # cProfile, top 30

The family is the demo district's (`flask --app portal demo`): Ana Garcia, who reads
Spanish, and her children Eli and Maya. Each child gets `--extra-goals` more agreed goals
(default 5: Maya then has 7 active goals with trackers), each with three entries of which
two are shared with family, and a cheer, so the page carries a cheer form per goal and per
shared entry. The district is built once in $WAYPOINT_BENCH_DIR (default /tmp) as
waypoint-bench-demo-<extra goals>.sqlite and reused.

Every request is timed twice: CPU time of this thread (`time.thread_time()`, the honest
number on a shared, loaded machine) and wall time (`time.perf_counter()`), and each
scenario's median is printed with its ratio to hello world. Requests are interleaved,
hello world and then every family scenario, round after round, as `page_cpu.py` does:
a burst of load elsewhere hits them all alike, and hello world is not measured warmer
than the pages (a tight loop of one cheap request keeps it in the CPU's caches; it read
about a third faster than interleaved).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

import benchapp  # noqa: E402
from sqlalchemy import select  # noqa: E402

from devtools.driver_sql import driver_statements  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.demo import command as demo  # noqa: E402
from portal.demo.district import PASSWORD  # noqa: E402
from portal.family.models import Cheer  # noqa: E402
from portal.goals.models import (  # noqa: E402
    Goal,
    GoalStatus,
    GoalVersion,
    GoalVersionStrategy,
    GoalVersionTarget,
    Voice,
)
from portal.progress import services as progress  # noqa: E402
from portal.progress.forms import new_token  # noqa: E402
from portal.roster.models import GuardianLink  # noqa: E402
from portal.targets.models import Framework, Target  # noqa: E402

GUARDIAN = "ana.garcia"
EXTRA = "Bench goal"  # the statements of the goals this script adds
STRATEGIES = ("Practice 20 minutes 3 times a week", "Explain it to a partner")


def database_url(extra_goals: int) -> str:
    """One file per number of extra goals (a file keeps the goals added to it)."""
    directory = os.environ.get("WAYPOINT_BENCH_DIR", "/tmp")  # noqa: S108 (a scratch file)
    return f"sqlite:///{directory}/waypoint-bench-demo-{extra_goals}.sqlite"


def build(url: str, extra_goals: int) -> None:
    """The demo district, once; then the extra goals on each of the guardian's children."""
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        if not demo.already_seeded():
            started = time.perf_counter()
            demo.seed()
            db.session.commit()
            print(f"seeded the demo district in {time.perf_counter() - started:.0f} s")
        for child in children(GUARDIAN):
            _enrich(child, extra_goals)
        db.session.commit()
        db.engine.dispose()


def children(username: str) -> list[User]:
    guardian = select(User.id).where(User.username == username).scalar_subquery()
    return list(
        db.session.scalars(
            select(User)
            .join(GuardianLink, GuardianLink.learner_id == User.id)
            .where(GuardianLink.guardian_id == guardian)
            .order_by(User.id)
        )
    )


def _enrich(child: User, extra_goals: int) -> None:
    """Add agreed goals (target, strategies, 3 entries, 2 shared, a cheer) up to `extra_goals`."""
    have = db.session.scalar(
        select(db.func.count(Goal.id))
        .join(GoalVersion, GoalVersion.id == Goal.current_version_id)
        .where(Goal.learner_id == child.id, GoalVersion.statement.startswith(EXTRA))
    )
    guardian = db.session.scalar(select(User).where(User.username == GUARDIAN))
    target = db.session.scalar(
        select(Target)
        .join(Framework, Framework.id == Target.framework_id)
        .where(Target.family_statement.is_not(None))
        .order_by(Target.id)
        .limit(1)
    )
    for n in range(have, extra_goals):
        goal = Goal(learner_id=child.id, created_by_id=child.id, status=GoalStatus.ACTIVE)
        db.session.add(goal)
        db.session.flush()
        version = GoalVersion(
            goal_id=goal.id,
            number=1,
            statement=f"{EXTRA} {n + 1}: I will reach Proficient on unit rates.",
            target_level=3,
            author_id=child.id,
            voice=Voice.LEARNER,
            content_hash="0" * 64,
            strategies=[GoalVersionStrategy(text=t, position=i) for i, t in enumerate(STRATEGIES)],
        )
        db.session.add(version)
        db.session.flush()
        goal.current_version_id = goal.agreed_version_id = version.id
        if target is not None:
            db.session.add(GoalVersionTarget(version_id=version.id, target_id=target.id))
        db.session.flush()
        for rating, shared in ((2, True), (3, True), (3, False)):
            progress.log_entry(
                goal,
                token=new_token(),
                strategy=str(version.strategies[0].id),
                other_strategy=None,
                self_rating=rating,
                reflection="I practised and it went fine.",
                link_url=None,
                stored=None,
                shared_with_family=shared,
            )
        if guardian is not None:
            db.session.add(
                Cheer(learner_id=child.id, goal_id=goal.id, author_id=guardian.id, body="Go!")
            )
        db.session.flush()


def _client(app, login: str):
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    form = {"login": login, "password": PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    assert client.post("/signin", data=form).status_code in (302, 303), login
    return client


def scenarios(app) -> dict:
    client = _client(app, GUARDIAN)
    with app.app_context():
        kids = children(GUARDIAN)
        maya = next(k for k in kids if k.username == "maya.johnson").id
    child_url = f"/family/children/{maya}"
    htmx = {"HX-Request": "true"}
    return {
        "hello world": lambda: client.get("/bench/hello"),
        "family home /": lambda: client.get("/"),
        "child page": lambda: client.get(child_url),
        "child, htmx block": lambda: client.get(child_url, headers=htmx),
    }


def _one(call) -> tuple[float, float]:
    cpu, wall = time.thread_time(), time.perf_counter()
    response = call()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    assert response.status_code == 200, response.status_code
    return cpu * 1000, wall * 1000


def shape(app, call) -> tuple[int, int]:
    """The statements the driver ran for one request (not the process's first: that one
    also reads the school's settings), and its bytes."""
    call()
    with app.app_context():
        engine = db.engine
    with driver_statements(engine) as counted:
        response = call()
    return len(counted), len(response.get_data())


def measure(found: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """Median CPU and wall milliseconds per request of each scenario, interleaved."""
    for call in found.values():  # warm-up: templates compiled, caches filled
        for _ in range(5):
            _one(call)
    cpu: dict[str, list[float]] = {name: [] for name in found}
    wall: dict[str, list[float]] = {name: [] for name in found}
    for _ in range(repeat):
        for name, call in found.items():
            c, w = _one(call)
            cpu[name].append(c)
            wall[name].append(w)
    return {name: (statistics.median(cpu[name]), statistics.median(wall[name])) for name in found}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="family_costs.py", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--extra-goals", type=int, default=5)
    parser.add_argument("--profile", help="a scenario name: print its cProfile top items")
    parser.add_argument("--sort", default="cumulative", help="the profile's sort key")
    args = parser.parse_args(argv)
    url = database_url(args.extra_goals)
    build(url, args.extra_goals)
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    found = scenarios(app)
    if args.profile:
        call = found[args.profile]
        for _ in range(5):
            _one(call)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            _one(call)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(int(os.environ.get("TOP", "30")))
        return
    shapes = {name: shape(app, call) for name, call in found.items()}
    print(f"{'scenario':<20} {'cpu ms':>7} {'x hello':>7} {'wall ms':>8} {'x hello':>7} "
          f"{'SQL':>4} {'bytes':>7}")
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_} (medians of {args.repeat} interleaved requests)")
        medians = measure(found, args.repeat)
        hello_cpu, hello_wall = medians["hello world"]
        for name, (cpu, wall) in medians.items():
            statements, size = shapes[name]
            print(
                f"  {name:<18} {cpu:>7.2f} {cpu / hello_cpu:>6.1f}x {wall:>8.2f} "
                f"{wall / hello_wall:>6.1f}x {statements:>4} {size:>7}",
                flush=True,
            )


if __name__ == "__main__":
    main()
