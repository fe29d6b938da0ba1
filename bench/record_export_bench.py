"""Time the learner's record export (portal/records/) and weigh its zip.

    .venv/bin/python bench/record_export_bench.py            # SQLite in a temp folder
    DATABASE_URL=postgresql://.../empty_db bench/record_export_bench.py

Seeds the demo district into a fresh database, finds its busiest learner (most progress
entries), then adds a learner with 500 entries (a fifth with teacher feedback, a tenth
with a 200 KB evidence file); for each, builds the whole zip (record.json, record.pdf,
evidence/) `--runs` times, as the background job does, and prints the median time,
the zip's size and the number of SQL statements the collection ran.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's portal

from flask_babel import force_locale  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth.models import Role, User  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.demo.command import seed  # noqa: E402
from portal.goals.models import Goal, GoalStatus, GoalVersion, GoalVersionStrategy, Voice  # noqa: E402
from portal.progress import services as progress  # noqa: E402
from portal.progress.forms import new_token  # noqa: E402
from portal.progress.models import ProgressEntry  # noqa: E402
from portal.progress.uploads import StoredFile, folder  # noqa: E402
from portal.records.collect import collect  # noqa: E402
from portal.records.export import write_zip  # noqa: E402


def busiest_learner() -> User:
    learner_id = db.session.execute(
        select(ProgressEntry.learner_id, func.count())
        .group_by(ProgressEntry.learner_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()[0]
    return db.session.get(User, learner_id)


def learner_with_entries(like: User, n: int) -> User:
    """A learner in `like`'s school with one active goal and n entries."""
    learner = User(
        username="bench.five.hundred",
        given_name="Bench",
        family_name="Fivehundred",
        role=Role.LEARNER,
        grade=7,
        org_id=like.org_id,
    )
    db.session.add(learner)
    db.session.flush()
    goal = Goal(learner_id=learner.id, created_by_id=learner.id, status=GoalStatus.ACTIVE)
    db.session.add(goal)
    db.session.flush()
    version = GoalVersion(
        goal_id=goal.id,
        number=1,
        statement="I will reach Proficient on unit rates by practising every day.",
        target_level=3,
        author_id=learner.id,
        voice=Voice.LEARNER,
        content_hash="0" * 64,
        strategies=[GoalVersionStrategy(text="Practice 20 minutes", position=0)],
    )
    db.session.add(version)
    db.session.flush()
    goal.current_version_id = version.id
    teacher = db.session.scalar(select(User).where(User.role == Role.TEACHER).limit(1))
    folder().mkdir(parents=True, exist_ok=True)
    picture = os.urandom(200_000)
    for i in range(n):
        stored = None
        if i % 10 == 0:
            key = f"{i:032x}"
            (folder() / key).write_bytes(picture)
            stored = StoredFile(key=key, name=f"work {i}.png", mime="image/png", size=len(picture))
        progress.log_entry(
            goal,
            token=new_token(),
            strategy=str(version.strategies[0].id),
            other_strategy=None,
            self_rating=1 + i % 4,
            reflection=f"Entry {i}: I practised unit rates with recipes and maps. ¡Bien!",
            link_url=None,
            stored=stored,
        )
        if i % 5 == 0:
            progress.add_feedback(
                goal,
                teacher,
                token=new_token(),
                body="Good work, keep going.",
                rating=3,
                for_families=False,
            )
    db.session.commit()
    return learner


def measure(learner: User, out: Path, runs: int) -> dict:
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    collect(learner)
    event.remove(db.engine, "before_cursor_execute", count)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        summary = write_zip(out, learner.id, None)
        times.append(time.perf_counter() - start)
        db.session.rollback()
    entries = db.session.scalar(
        select(func.count())
        .select_from(ProgressEntry)
        .where(ProgressEntry.learner_id == learner.id)
    )
    return {
        "learner": learner.username,
        "entries": entries,
        "seconds": statistics.median(times),
        "bytes": summary["bytes"],
        "files": summary["evidence_files"],
        "statements": len(statements),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="waypoint-record-bench-") as tmp:
        tmp_path = Path(tmp)
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'bench.sqlite'}"
        os.environ.setdefault("SECRET_KEY", "bench-secret")
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                "RECORD_EXPORT_FOLDER": str(tmp_path / "exports"),
                "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
            }
        )
        with app.app_context(), force_locale("en"):
            db.create_all()
            started = time.perf_counter()
            seed()
            db.session.commit()
            print(f"demo seeded in {time.perf_counter() - started:.1f}s ({url.split(':')[0]})")
            busiest = busiest_learner()
            rows = [measure(busiest, tmp_path / "busiest.zip", args.runs)]
            big = learner_with_entries(busiest, args.entries)
            rows.append(measure(big, tmp_path / "big.zip", args.runs))
            print(
                f"{'learner':<22} {'entries':>7} {'seconds':>8} {'zip KB':>8} "
                f"{'files':>5} {'SQL':>4}"
            )
            for r in rows:
                print(
                    f"{r['learner']:<22} {r['entries']:>7} {r['seconds']:>8.2f} "
                    f"{r['bytes'] / 1024:>8.0f} {r['files']:>5} {r['statements']:>4}"
                )
            db.session.remove()
            if not url.startswith("sqlite"):
                db.drop_all()


if __name__ == "__main__":
    main()
