"""`flask --app portal roster import | history`, and the nightly drop folder (--watch --once)."""

from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.core.extensions import db
from portal.rostering.models import RosterImport
from tests.rostering_kit import Kit, district_and_admin


@pytest.fixture
def kit(tmp_path):
    return Kit(tmp_path / "package")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def zip_of(kit: Kit, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as archive:
        for file in sorted(Path(kit.path).iterdir()):
            archive.write(file, file.name)
    return out


def users() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(User))


def invoke(runner, *args):
    db.session.commit()  # hold no transaction (on SQLite: the write lock) while it runs
    result = runner.invoke(args=["roster", *args])
    db.session.commit()
    return result


def test_dry_run_prints_the_summary_and_writes_nothing(app, make, kit, runner):
    district, _admin = district_and_admin(make)
    result = invoke(runner, "import", kit.path, "--dry-run", "--district-id", str(district.id))
    assert result.exit_code == 0, result.output
    assert "Dry run (nothing was written):" in result.output
    assert "learners" in result.output and "2 would be created" in result.output
    assert "ignored (not used by Waypoint): lineItems.csv" in result.output
    assert users() == 1


def test_import_then_reimport_changes_nothing(app, make, kit, runner):
    district_and_admin(make)  # the only district: no --district-id needed
    first = invoke(runner, "import", kit.path)
    assert first.exit_code == 0, first.output
    assert "Imported (" in first.output and "2 created" in first.output
    assert users() == 6
    again = invoke(runner, "import", kit.path)
    assert again.exit_code == 0, again.output
    assert "Imported (0 rows written)" in again.output
    assert "unchanged" in again.output


def test_errors_exit_non_zero_with_each_message(app, make, kit, runner):
    district_and_admin(make)
    kit.edit("enrollments.csv", "e-2", classSourcedId="c999")
    result = invoke(runner, "import", kit.path)
    assert result.exit_code == 1
    assert "Nothing was imported:" in result.output
    assert "error: enrollments.csv row 3: classSourcedId 'c999' is not in classes.csv." in (
        result.output
    )
    assert users() == 1
    dry = invoke(runner, "import", kit.path, "--dry-run")
    assert dry.exit_code == 1 and "cannot be imported" in dry.output


def test_the_guard_needs_yes(app, make, kit, runner):
    district_and_admin(make)
    assert invoke(runner, "import", kit.path).exit_code == 0
    kit.drop("users.csv", "u-l2")
    kit.drop("roles.csv", "r-l2")
    kit.drop("enrollments.csv", "e-4")
    kit.drop("demographics.csv", "u-l2")
    refused = invoke(runner, "import", kit.path)
    assert refused.exit_code == 3, refused.output
    assert "guard: 1 learners (50% of the active ones) would be deactivated" in refused.output
    assert "run again with --yes" in refused.output
    db.session.commit()
    assert db.session.scalar(select(User.active).where(User.source_id == "u-l2")) is True
    done = invoke(runner, "import", kit.path, "--yes")
    assert done.exit_code == 0, done.output
    db.session.commit()
    assert db.session.scalar(select(User.active).where(User.source_id == "u-l2")) is False


def test_scope_options(app, make, kit, runner):
    district_and_admin(make)
    make.district("Second District")
    make.commit()
    ambiguous = invoke(runner, "import", kit.path)
    assert ambiguous.exit_code == 2 and "--district-id" in ambiguous.output
    both = invoke(runner, "import", kit.path, "--district-id", "1", "--school-id", "2")
    assert both.exit_code == 2 and "not both" in both.output
    missing = invoke(runner, "import", kit.path, "--school-id", "999")
    assert missing.exit_code == 2 and "no school with id 999" in missing.output
    assert invoke(runner, "import").exit_code == 2  # neither PATH nor --watch


def test_history_lists_imports(app, make, kit, runner):
    district_and_admin(make)
    assert "No roster imports yet." in invoke(runner, "history").output
    invoke(runner, "import", kit.path, "--dry-run")
    invoke(runner, "import", kit.path)
    result = invoke(runner, "history")
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.startswith("#")]
    assert len(lines) == 2
    assert "applied" in lines[0] and "dry_run" in lines[1]
    assert "Maple District" in lines[0] and "by command line" in lines[0]
    assert re.search(r"created [1-9]\d*, updated 0, deactivated 0, errors 0$", lines[0])


def test_watch_once_imports_each_zip_in_order_and_files_it(app, make, kit, runner, tmp_path):
    district_and_admin(make)
    drop = tmp_path / "drop"
    drop.mkdir()
    good = zip_of(kit, drop / "nightly-1.zip")
    kit.edit("enrollments.csv", "e-2", classSourcedId="c999")
    bad = zip_of(kit, drop / "nightly-2.zip")
    (drop / "notes.txt").write_text("not a roster")
    old = time.time() - 3600
    os.utime(good, (old, old))
    os.utime(bad, (old + 1, old + 1))
    fresh = zip_of(kit, drop / "arriving.zip")  # still being written: left for later

    result = invoke(runner, "import", "--watch", str(drop), "--once", "--settle", "60")
    assert result.exit_code == 1, result.output  # one file failed
    assert result.output.index("nightly-1.zip") < result.output.index("nightly-2.zip")
    done = sorted((drop / "done").iterdir())
    failed = sorted((drop / "failed").iterdir())
    assert [p.suffix for p in done] == [".log", ".zip"] and done[1].name.endswith("nightly-1.zip")
    assert [p.suffix for p in failed] == [".log", ".zip"]
    log = failed[0].read_text()
    assert "result: failed (exit code 1)" in log
    assert "classSourcedId 'c999' is not in classes.csv." in log
    assert "result: ok" in done[0].read_text()
    assert fresh.exists() and (drop / "notes.txt").exists()
    assert users() == 6
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 2

    assert invoke(runner, "import", "--watch", str(drop), "--once", "--settle", "0").exit_code == 1
    assert not fresh.exists() and len(list((drop / "failed").iterdir())) == 4
