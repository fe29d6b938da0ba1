"""A class period on a real server: one class's learners sign in and log progress at once.

    .venv/bin/python bench/class_period.py                 # SQLite, the 1,000-learner district
    .venv/bin/python bench/class_period.py --postgresql    # a throwaway PostgreSQL

Every learner of one class (35 in the bench district) signs in through the real /signin
form (with its CSRF token), loads home, polls their trackers (the hx-get URLs the page
carries, with the poll header, as htmx would), opens a goal, logs an entry through the
goal page's form, goes home again and polls again. Meanwhile their teacher loads the
class view (/classes/<id>/progress) and polls it the same way. A pool of client threads
takes the next step of whichever person is next in line, so everyone's requests interleave.

Prints requests per second and p50/p95 per kind of request next to hello world measured on
the same server just before.

It measured the page cache Waypoint used to have (rendered pages kept per worker under
change stamps): 0 hits in 74 lookups on both databases, since each view in a period is a
first view or the first after that learner's own change. So the cache was removed and cold
pages were made cheap instead (docs/performance.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import re
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

import benchapp  # noqa: E402
import pg  # noqa: E402
import server  # noqa: E402
import world  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal.auth.models import User  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.goals.models import Goal  # noqa: E402
from portal.roster.models import Enrollment, EnrollmentRole  # noqa: E402

POLL = {"HX-Request": "true", "X-Waypoint-Poll": "1"}
_POLL_URL = re.compile(r'hx-get="([^"]+)"\s+hx-trigger="every ')
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_FORM = re.compile(r'<form id="log-form".*?</form>', re.S)
_INPUT = re.compile(r"<input([^>]*)>")
_OPTION = re.compile(r'<option[^>]*value="([^"]+)"')
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def the_class(url: str, class_id: int) -> dict:
    """The class's learners (login, first goal) and its teacher's login."""
    app = benchapp.create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        rows = db.session.execute(
            select(Enrollment.user_id, Enrollment.role, User.username)
            .join(User, User.id == Enrollment.user_id)
            .where(Enrollment.class_id == class_id)
            .order_by(User.id)
        ).all()
        learners = []
        for user_id, role, username in rows:
            if role is EnrollmentRole.LEARNER:
                goal = db.session.scalar(
                    select(Goal.id).where(Goal.learner_id == user_id).order_by(Goal.id).limit(1)
                )
                learners.append((username, goal))
        teacher = next(name for _, role, name in rows if role is EnrollmentRole.TEACHER)
        db.engine.dispose()
    return {"class_id": class_id, "learners": learners, "teacher": teacher}


def _unescape(url: str) -> str:
    return url.replace("&amp;", "&")


def _path(location: str) -> str:
    parts = urllib.parse.urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Recorder:
    """Latencies per kind of request, and anything answered with an unexpected status."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, list[int]] = {}

    def failed(self, error: Exception) -> None:
        with self.lock:
            self.errors.setdefault("(client gave up)", []).append(repr(error)[:200])

    def call(self, client, kind, method, path, expect, body=None, headers=None):
        started = time.perf_counter()
        status, data, response_headers = client.request(method, path, body, headers)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.times.setdefault(kind, []).append(elapsed)
            if status not in expect:
                self.errors.setdefault(kind, []).append(status)
        return status, data.decode("utf-8", "replace"), response_headers


def _sign_in(rec: Recorder, client, login: str):
    _, page, _ = rec.call(client, "sign-in form", "GET", "/signin", (200,))
    token = _CSRF.search(page)
    yield
    form = {"login": login, "password": world.PASSWORD, "csrf_token": token.group(1)}
    body = urllib.parse.urlencode(form)
    yield rec.call(client, "sign in (POST)", "POST", "/signin", (302, 303), body)


def _poll(rec: Recorder, client, kind: str, urls: list[str]):
    """Each poll URL once, as htmx does every 5 s; a changed answer carries the next URL."""
    for i, url in enumerate(urls):
        status, body, _ = rec.call(client, kind, "GET", url, (200, 204), headers=POLL)
        if status == 200 and (found := _POLL_URL.search(body)):
            urls[i] = _unescape(found.group(1))
        yield


def _entry_form(page: str) -> dict:
    form = _FORM.search(page).group(0)
    fields, rating = {}, None
    for attrs in _INPUT.findall(form):
        a = dict(_ATTR.findall(attrs))
        if a.get("type") == "hidden":
            fields[a["name"]] = a.get("value", "")
        elif a.get("name") == "self_rating" and rating is None:
            rating = a["value"]
    fields["strategy"] = _OPTION.search(form).group(1)
    fields["self_rating"] = rating
    fields["reflection"] = "Worked through the practice set in class."
    return fields


def learner(rec: Recorder, port: int, login: str, goal_id: int, polls: int):
    """One learner's period, one request per step."""
    client = server.Client(port)
    yield from _sign_in(rec, client, login)
    _, home, _ = rec.call(client, "learner home", "GET", "/", (200,))
    trackers = [_unescape(u) for u in _POLL_URL.findall(home)]
    yield
    for _ in range(polls):
        yield from _poll(rec, client, "tracker poll", trackers)
    _, page, _ = rec.call(client, "goal page", "GET", f"/goals/{goal_id}/progress", (200,))
    yield
    body = urllib.parse.urlencode(_entry_form(page))
    path = f"/goals/{goal_id}/progress"
    status, _, headers = rec.call(client, "log entry (POST)", "POST", path, (303,), body)
    yield
    if status == 303:
        rec.call(client, "goal page", "GET", _path(headers["Location"]), (200,))
        yield
    _, home, _ = rec.call(client, "learner home", "GET", "/", (200,))
    trackers = [_unescape(u) for u in _POLL_URL.findall(home)]
    yield
    for _ in range(polls):
        yield from _poll(rec, client, "tracker poll", trackers)


def teacher(rec: Recorder, port: int, login: str, class_id: int, done: threading.Event):
    """The teacher opens the class view and keeps it polling until the period ends."""
    client = server.Client(port)
    yield from _sign_in(rec, client, login)
    url = f"/classes/{class_id}/progress"
    _, page, _ = rec.call(client, "class view", "GET", url, (200,))
    polls = [_unescape(u) for u in _POLL_URL.findall(page)] or [url]
    while not done.is_set():
        yield from _poll(rec, client, "class view poll", polls)


def period(port: int, info: dict, threads: int, polls: int) -> tuple[Recorder, float]:
    """Run everyone's steps from `threads` client threads; return the record and the wall time."""
    rec = Recorder()
    done = threading.Event()
    line: queue.Queue = queue.Queue()
    remaining = [len(info["learners"])]
    lock = threading.Lock()
    line.put((teacher(rec, port, info["teacher"], info["class_id"], done), False))
    for login, goal_id in info["learners"]:
        line.put((learner(rec, port, login, goal_id, polls), True))

    def finished(is_learner: bool) -> None:
        if is_learner:
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0:
                    done.set()

    def work():
        while True:
            try:
                person, is_learner = line.get(timeout=0.5)
            except queue.Empty:
                if done.is_set():
                    return
                continue
            try:
                next(person)
            except StopIteration:
                finished(is_learner)
                continue
            except Exception as error:  # a page without what the next step needs
                rec.failed(error)
                finished(is_learner)
                continue
            line.put((person, is_learner))

    pool = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    done.wait()
    wall = time.perf_counter() - started
    for t in pool:
        t.join()
    return rec, wall


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def run(url: str, info: dict, args) -> dict:
    """Hello world, then the period, on one fresh server."""
    proc, port = server.start_server(url, args.workers)
    try:
        hello_client = server.Client(port)
        hello_jobs = [(hello_client, "/bench/hello", {})]
        server.measure("hello world", hello_jobs, 100, args.threads, 200)  # warm-up
        hello = server.measure("hello world", hello_jobs, args.hello, args.threads, 200)
        rec, wall = period(port, info, args.threads, args.polls)
    finally:
        server.stop(proc)
    return {"hello": hello, "rec": rec, "wall": wall}


def report(title: str, result: dict) -> None:
    hello, rec, wall = result["hello"], result["rec"], result["wall"]
    total = sum(len(t) for t in rec.times.values())
    print(f"\n{title}")
    print(f"{'request':<22} {'count':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    print(
        f"{'hello world':<22} {'':>6} {hello['rps']:>8.0f} {hello['p50']:>8.2f} "
        f"{hello['p95']:>8.2f} {hello['errors']:>7}"
    )
    for kind, times in rec.times.items():
        errors = rec.errors.get(kind, [])
        print(
            f"{kind:<22} {len(times):>6} {len(times) / wall:>8.1f} "
            f"{statistics.median(times) * 1000:>8.2f} {p95(times):>8.2f} {len(errors):>7}"
            f"{' ' + str(sorted(set(errors))) if errors else ''}"
        )
    every = [x for t in rec.times.values() for x in t]
    print(
        f"{'the whole period':<22} {total:>6} {total / wall:>8.1f} "
        f"{statistics.median(every) * 1000:>8.2f} {p95(every):>8.2f} "
        f"{sum(len(e) for e in rec.errors.values()):>7}"
        f"   ({wall:.1f} s, {total / wall / hello['rps']:.0%} of hello world's req/s)"
    )
    for reason in sorted(set(rec.errors.get("(client gave up)", []))):
        print(f"a client gave up: {reason}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learners", type=int, default=1000, help="the district's size")
    parser.add_argument("--class-id", type=int, default=1)
    parser.add_argument("--polls", type=int, default=3, help="tracker poll rounds per visit")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--hello", type=int, default=1000, help="hello world requests")


@contextlib.contextmanager
def database(postgresql: bool, learners: int):
    """The district's URL: DATABASE_URL, the SQLite file, or a throwaway PostgreSQL's."""
    if os.environ.get("DATABASE_URL") or not postgresql:
        yield os.environ.get("DATABASE_URL") or world.sqlite_url(learners)
        return
    pg_server = pg.PostgresServer().start()
    try:
        yield pg.database(pg_server, f"bench_{learners}")
    finally:
        pg_server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="class_period.py", description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    with database(args.postgresql, args.learners) as url:
        world.build(url, args.learners, args.learners * 100)
        info = the_class(url, args.class_id)
        result = run(url, info, args)
    report(
        f"a class period: {len(info['learners'])} learners and their teacher, "
        f"{url.split(':')[0]}, {args.threads} threads, {args.workers} gunicorn workers",
        result,
    )


if __name__ == "__main__":
    main()
