"""A roster import killed midway (SIGKILL, in a subprocess) leaves the roster as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.roster.models import Enrollment, Org, SchoolClass
from tests.rostering_kit import Kit, district_and_admin

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from portal import create_app
    from portal.core.extensions import db
    from portal.rostering import engine
    from portal.rostering.apply import apply_import
    from portal.roster.models import Org
    from portal.auth.models import User

    url, package, marker = sys.argv[1:4]
    enrollments = engine.Run.enrollments

    def slow(self):
        enrollments(self)
        if self.write:  # orgs, classes, users and enrollments are written, not committed
            db.session.flush()
            Path(marker).write_text("writing")
            time.sleep(120)

    engine.Run.enrollments = slow
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        scope = db.session.get(Org, int(sys.argv[4]))
        actor = db.session.get(User, int(sys.argv[5]))
        apply_import(package, scope=scope, actor=actor, confirmed_guard=False)
    """
)


def test_a_kill_during_apply_leaves_nothing_half_done(app, make, tmp_path, database_url):
    district, admin = district_and_admin(make)
    kit = Kit(tmp_path / "package")
    marker = tmp_path / "marker"
    district_id, admin_id = district.id, admin.id
    db.session.remove()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, kit.path, str(marker), str(district_id),
         str(admin_id)],
        cwd=os.getcwd(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stdout.read().decode()
            assert time.monotonic() < deadline, "the import never reached its writes"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    db.engine.dispose()
    time.sleep(0.5)  # PostgreSQL notices the dead backend and rolls its transaction back
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(User) == 1
    assert count(Org) == 1
    assert count(SchoolClass) == 0
    assert count(Enrollment) == 0
