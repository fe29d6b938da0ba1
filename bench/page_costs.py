"""In-process cost of the hot pages: milliseconds and SQL queries per request, no server.

    .venv/bin/python bench/page_costs.py                  # the 1,000-learner bench district
    .venv/bin/python bench/page_costs.py --learners 50000
    .venv/bin/python bench/page_costs.py --profile "learner home"   # cProfile, top 25

Uses the district `world.py` builds for `progress_bench.py` (and builds it when missing),
serves `benchapp.py`'s app (Waypoint plus /bench/hello), signs in with the Flask test
client and times each scenario over `--repeat` requests after a warm-up.
"Cold" scenarios bump the learners' change stamps before every request, so nothing rendered earlier
can be reused: that is the cost of the first view after a change.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

import benchapp  # noqa: E402
import world  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from devtools.driver_sql import driver_statements  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.core.stamps import LEARNER_SCOPE, bump  # noqa: E402
from portal.goals.models import Goal  # noqa: E402
from portal.progress.models import GoalProgress  # noqa: E402
from portal.roster.models import Enrollment, EnrollmentRole  # noqa: E402


def _client(app, login: str):
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    form = {"login": login, "password": world.PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    assert client.post("/signin", data=form).status_code in (302, 303), login
    return client


def _make_stale(app, learner_ids: list[int]) -> None:
    """Make everything these learners' pages show stale, as a new entry would."""
    table = GoalProgress.__table__
    with app.app_context():
        connection = db.session.connection()
        bump(connection, LEARNER_SCOPE, learner_ids)
        connection.execute(
            update(table)
            .where(table.c.learner_id.in_(learner_ids))
            .values(version=table.c.version + 1)
        )
        db.session.commit()


def scenarios(app, info: dict) -> dict:
    login, goal_id = info["learners"][len(info["learners"]) // 2]
    learner = _client(app, login)
    teacher = _client(app, info["teacher"])
    tracker = learner.get(f"/goals/{goal_id}/tracker", headers={"HX-Request": "true"})
    poll_url = re.search(r'hx-get="([^"]+)"', tracker.get_data(as_text=True)).group(1)
    poll_url = poll_url.replace("&amp;", "&")
    with app.app_context():
        learner_id = db.session.scalar(select(Goal.learner_id).where(Goal.id == goal_id))
        class_learners = list(
            db.session.scalars(
                select(Enrollment.user_id).where(
                    Enrollment.class_id == info["class_id"],
                    Enrollment.role == EnrollmentRole.LEARNER,
                )
            )
        )
    poll = {"HX-Request": "true", "X-Waypoint-Poll": "1"}
    class_url = f"/classes/{info['class_id']}/progress"
    return {
        "hello world": (lambda: learner.get("/bench/hello"), 200, None),
        "idle tracker poll": (lambda: learner.get(poll_url, headers=poll), 204, None),
        "changed tracker poll": (
            lambda: learner.get(f"/goals/{goal_id}/tracker?v=0", headers=poll),
            200,
            None,
        ),
        "learner home": (lambda: learner.get("/"), 200, None),
        "learner home, cold": (lambda: learner.get("/"), 200, [learner_id]),
        "teacher class view": (lambda: teacher.get(class_url), 200, None),
        "teacher class view, cold": (lambda: teacher.get(class_url), 200, class_learners),
    }


def measure(app, call, expect: int, stale: list[int] | None, repeat: int) -> tuple[float, int]:
    """Mean milliseconds per request, and the statements the driver ran for the last one."""
    for _ in range(5):
        if stale:
            _make_stale(app, stale)
        assert call().status_code == expect
    with app.app_context():
        engine = db.engine
    total = 0.0
    with driver_statements(engine) as counted:
        for _ in range(repeat):
            if stale:
                _make_stale(app, stale)
            counted.clear()
            started = time.perf_counter()
            response = call()
            total += time.perf_counter() - started
            assert response.status_code == expect, response.status_code
    return total / repeat * 1000, len(counted)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="page_costs.py", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", help="a scenario name: print its cProfile top 25")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL") or world.sqlite_url(args.learners)
    info = world.build(url, args.learners, args.learners * 100)
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    found = scenarios(app, info)
    if args.profile:
        call, expect, stale = found[args.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        measure(app, call, expect, stale, args.repeat)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(
            int(os.environ.get("TOP", "25"))
        )
        return
    print(f"{'scenario':<28} {'ms':>7} {'queries':>8}")
    for name, (call, expect, stale) in found.items():
        ms, queries = measure(app, call, expect, stale, args.repeat)
        print(f"{name:<28} {ms:>7.2f} {queries:>8}", flush=True)


if __name__ == "__main__":
    main()
