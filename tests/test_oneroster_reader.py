"""The OneRoster reader: 1.1 and 1.2, bulk and delta, drift accepted, broken files named.

Pure tests (no database): each builds a file set from the hand-written fixtures in
tests/data/oneroster/, changed one file at a time, as a folder or a zip.
"""

from __future__ import annotations

import shutil
import time
import tracemalloc
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from portal.oneroster import read_package
from portal.oneroster.headers import ALIAS, CASE, EXACT, METADATA, NOT_KEPT, UNKNOWN
from portal.oneroster.records import Bad, parse_date, parse_datetime, parse_user_ids

DATA = Path(__file__).parent / "data" / "oneroster"


def file_set(tmp_path: Path, name: str = "v12_bulk", **changes: str | None) -> Path:
    """A copy of a fixture folder; `users="..."` replaces users.csv, `users=None` drops it."""
    target = tmp_path / name
    shutil.copytree(DATA / name, target)
    for stem, text in changes.items():
        path = target / f"{stem}.csv"
        if text is None:
            path.unlink()
        else:
            path.write_bytes(text.encode("utf-8"))
    return target


def zipped(folder: Path, *, inside: str = "") -> Path:
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, inside + path.name)
    return archive


def fixture_text(name: str, stem: str) -> str:
    return (DATA / name / f"{stem}.csv").read_text(encoding="utf-8")


def messages(package) -> list[str]:
    return [str(e) for e in package.errors]


# --- good packages ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["v11_bulk", "v12_bulk"])
def test_a_good_package_reads_clean(tmp_path, name):
    with read_package(zipped(file_set(tmp_path, name))) as package:
        assert messages(package) == []
        assert package.ok
        assert package.version == name[1] + "." + name[2]
        assert [o.sourced_id for o in package.orgs()] == ["d-1", "s-1", "s-2"]
        assert next(package.orgs()).type == "district"
        classes = list(package.classes())
        assert classes[0].term_sourced_ids == ("t-fall", "t-spring")
        assert classes[0].periods == ("1", "2")
        sessions = {s.sourced_id: s for s in package.academic_sessions()}
        assert sessions["t-fall"].parent_sourced_id == "y-2027"
        assert sessions["y-2027"].start_date == date(2026, 8, 20)
        assert sessions["y-2027"].school_year == 2027
        users = {u.sourced_id: u for u in package.users()}
        mia = users["u-l1"]
        assert mia.family_name == "O'Neil Santos"
        assert [(i.type, i.identifier) for i in mia.user_ids] == [
            ("Clever", "l-1"),
            ("LDAP", "mias"),
        ]
        assert mia.agent_sourced_ids == ("u-g1",)
        assert users["u-g1"].enabled_user is False
        roles = {(x.user_sourced_id, x.org_sourced_id): x for x in package.roles()}
        assert roles[("u-t2", "s-2")].role_type == "secondary"
        assert roles[("u-g1", "s-1")].group == "family"
        assert roles[("u-l1", "s-1")].group == "learner"
        enrollments = list(package.enrollments())
        assert [e.primary for e in enrollments] == [True, False, True, None]
        demographics = {d.sourced_id: d for d in package.demographics()}
        assert demographics["u-l1"].white is True
        assert demographics["u-l1"].hispanic_or_latino_ethnicity is True
        assert demographics["u-l2"].birth_date == date(2013, 11, 2)
        assert package.ids["users"]["u-l2"] == 5  # the row, header = 1
        assert set(package.ids["enrollments"]) == {"e-1", "e-2", "e-3", "e-4"}


def test_11_roles_come_from_users_csv(tmp_path):
    with read_package(file_set(tmp_path, "v11_bulk")) as package:
        roles = list(package.roles())
        assert all(r.derived for r in roles)
        assert [(r.sourced_id, r.role_type) for r in roles if r.user_sourced_id == "u-t2"] == [
            ("u-t2/s-1", "primary"),
            ("u-t2/s-2", "secondary"),
        ]
        assert next(package.users()).org_sourced_ids == ("s-1",)


def test_12_user_profiles_are_read(tmp_path):
    with read_package(file_set(tmp_path)) as package:
        (profile,) = package.user_profiles()
        assert (profile.user_sourced_id, profile.vendor_id) == ("u-l1", "vendor-1")
        assert next(r for r in package.roles() if r.user_sourced_id == "u-l1").begin_date == date(
            2026, 8, 20
        )


def test_passwords_are_never_kept(tmp_path):
    with read_package(file_set(tmp_path, "v11_bulk")) as package:
        user = next(package.users())
        assert not hasattr(user, "password")
        assert package.headers["users"].of(NOT_KEPT)[0].header == "password"


def test_unused_files_are_accepted_ignored_and_said(tmp_path):
    folder = file_set(tmp_path, "v11_bulk")
    (folder / "lineItems.csv").write_text("sourcedId\nli-1\n")
    (folder / "notes.txt").write_text("hello")
    with read_package(folder) as package:
        assert package.ok
        assert package.unused_files == ["lineItems.csv", "results.csv"]
        summary = "\n".join(package.summary())
        assert "Accepted and ignored (Waypoint does not use them): lineItems.csv, results.csv" in (
            summary
        )
        assert "notes.txt: not a CSV file at the root of the package: ignored." in summary


# --- encodings and CSV quoting ----------------------------------------------------------


def test_bom_crlf_quoted_commas_and_newlines(tmp_path):
    orgs = (
        "\ufeffsourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
        'd-1,,,"Maple ""North"" District",district,,\r\n'
        's-1,,,"Maple Elementary, Main\r\nCampus",school,,d-1\r\n'
        "s-2,,,Oak,school,,d-1\r\n"
    )
    with read_package(zipped(file_set(tmp_path, orgs=orgs))) as package:
        assert messages(package) == []
        names = [o.name for o in package.orgs()]
        assert names == ['Maple "North" District', "Maple Elementary, Main\r\nCampus", "Oak"]
        assert package.headers["orgs"].columns[0].how == EXACT  # the BOM is not in the name
        assert [o.row for o in package.orgs()] == [2, 3, 4]  # a quoted line break is one row


def test_not_utf8_is_named(tmp_path):
    folder = file_set(tmp_path)
    text = fixture_text("v12_bulk", "orgs").replace("Maple Elementary", "Escuela Peña")
    (folder / "orgs.csv").write_bytes(text.encode("latin-1"))
    with read_package(folder) as package:
        assert "orgs.csv row 3: the file is not UTF-8 text; export it again as CSV UTF-8." in (
            messages(package)
        )


# --- manifest ---------------------------------------------------------------------------


def test_delta_needs_status_and_date_last_modified(tmp_path):
    manifest = fixture_text("v12_bulk", "manifest").replace(
        "file.enrollments,bulk", "file.enrollments,delta"
    )
    enrollments = (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n"
        "e-9,active,2026-09-01T10:00:00Z,c-1,s-1,u-l2,student\n"
        "e-2,tobedeleted,2026-09-01T10:00:00.123+02:00,c-1,s-1,u-l1,student\n"
        "e-8,,,c-1,s-1,u-l2,student\n"
    )
    with read_package(file_set(tmp_path, manifest=manifest, enrollments=enrollments)) as package:
        assert package.mode("enrollments") == "delta"
        assert package.mode("users") == "bulk"
        assert messages(package) == [
            "enrollments.csv row 4: status is empty; a delta file needs active or tobedeleted on"
            " every row.",
            "enrollments.csv row 4: dateLastModified is empty; a delta file needs it on every row.",
        ]
        first, second = package.enrollments()
        assert first.date_last_modified == datetime(2026, 9, 1, 10, 0)
        assert (second.status, second.date_last_modified) == (
            "tobedeleted",
            datetime(2026, 9, 1, 8, 0, 0, 123000),
        )
        assert package.counts["enrollments"].tobedeleted == 1


def test_delta_references_are_checked_against_existing_ids(tmp_path):
    manifest = (
        fixture_text("v12_bulk", "manifest")
        .replace("file.enrollments,bulk", "file.enrollments,delta")
        .replace("file.classes,bulk", "file.classes,absent")
    )
    enrollments = (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n"
        "e-9,active,2026-09-01,c-old,s-1,u-l2,student\n"
        "e-10,active,2026-09-01,c-gone,s-1,u-l2,student\n"
    )
    folder = file_set(tmp_path, manifest=manifest, enrollments=enrollments, classes=None)
    with read_package(folder) as package:
        assert package.ok
        assert "classes.csv: 2 references to classes.csv were not checked" in "\n".join(
            package.summary()
        )
    with read_package(folder, existing={"classes": {"c-old"}}) as package:
        assert messages(package) == [
            "enrollments.csv row 3: classSourcedId 'c-gone' is not in classes.csv nor already in"
            " Waypoint."
        ]


def test_manifest_problems(tmp_path):
    manifest = (
        fixture_text("v12_bulk", "manifest")
        .replace("file.demographics,bulk", "file.demographics,absent")
        .replace("file.courses,bulk", "file.courses,sometimes")
        .replace("file.userProfiles,bulk\n", "")
        .replace("file.resources,absent", "file.resources,bulk")
    )
    with read_package(file_set(tmp_path, manifest=manifest)) as package:
        assert messages(package) == [
            "manifest.csv row 7: file.courses is 'sometimes'; it must be absent, bulk or delta.",
            "manifest.csv: manifest.csv says resources.csv is bulk, but the package has no "
            "resources.csv.",
            "manifest.csv: userProfiles.csv is in the package but manifest.csv does not say whether"
            " it is bulk or delta (add the row file.userProfiles,bulk or file.userProfiles,delta).",
        ]
        assert (
            "demographics.csv: the file is in the package but manifest.csv marks it absent: "
            "it is ignored."
        ) in [str(w) for w in package.warnings]
        assert "demographics" not in package.headers


def test_no_manifest_is_refused(tmp_path):
    with read_package(file_set(tmp_path, manifest=None)) as package:
        assert not package.ok
        assert messages(package)[0].startswith("manifest.csv: the package has no manifest.csv")


def test_an_unknown_version_is_refused(tmp_path):
    manifest = fixture_text("v12_bulk", "manifest").replace(
        "oneroster.version,1.2", "oneroster.version,2.0"
    )
    with read_package(file_set(tmp_path, manifest=manifest)) as package:
        assert messages(package) == [
            "manifest.csv row 3: oneroster.version '2.0' is not a version Waypoint reads"
            " (1.1 or 1.2)."
        ]


def test_version_is_told_by_oneroster_version(tmp_path):
    manifest = fixture_text("v12_bulk", "manifest").replace(
        "oneroster.version,1.2", "oneroster.version,1.2.1"
    )
    with read_package(file_set(tmp_path, manifest=manifest)) as package:
        assert package.version == "1.2"


# --- header drift -----------------------------------------------------------------------


def test_header_drift_is_understood_and_reported(tmp_path):
    classes = (
        "SOURCEID,Title,termSourcedId,classtype,School_Sourced_Id,courseSourcedId,Status,"
        "metadata.room.capacity,teacherNotes\n"
        "c-1,Math 4,t-fall,Scheduled,s-1,co-math4,Active,28,hello\n"
        'c-2,Science 7,"t-fall,t-spring",ext:lab,s-2,co-sci7,,,\n'
    )
    with read_package(file_set(tmp_path, classes=classes)) as package:
        assert messages(package) == []
        report = package.headers["classes"]
        assert report.drifted and report.reordered
        assert [(c.header, c.field, c.how) for c in report.columns] == [
            ("SOURCEID", "sourcedId", ALIAS),
            ("Title", "title", CASE),
            ("termSourcedId", "termSourcedIds", ALIAS),
            ("classtype", "classType", CASE),
            ("School_Sourced_Id", "schoolSourcedId", CASE),
            ("courseSourcedId", "courseSourcedId", EXACT),
            ("Status", "status", CASE),
            ("metadata.room.capacity", "room.capacity", METADATA),
            ("teacherNotes", None, UNKNOWN),
        ]
        assert "dateLastModified" in report.missing_optional
        first, second = package.classes()
        assert (first.class_type, first.status, first.metadata) == (
            "scheduled",
            "active",
            {"room.capacity": "28"},
        )
        assert second.class_type == "ext:lab"  # an ext: vocabulary value is accepted
        assert second.term_sourced_ids == ("t-fall", "t-spring")


def test_a_missing_required_column_refuses_the_file(tmp_path):
    users = fixture_text("v12_bulk", "users").replace("givenName", "nickname")
    with read_package(file_set(tmp_path, users=users)) as package:
        assert messages(package)[0] == (
            "users.csv row 1: the header has no givenName column, which OneRoster 1.2 requires;"
            " the file cannot be read without it."
        )
        assert list(package.users()) == []
        # references to the unreadable users.csv do not pile up as thousands of errors
        assert len(package.errors) == 1


def test_a_drifted_name_next_to_the_exact_one_is_a_duplicate(tmp_path):
    orgs = (
        "sourcedId,sourceID,status,dateLastModified,name,type\n"
        "d-1,x,,,Maple,district\ns-1,y,,,Elm,school\ns-2,z,,,Oak,school\n"
    )
    with read_package(file_set(tmp_path, orgs=orgs)) as package:
        assert package.ok
        assert package.headers["orgs"].columns[1].how == "duplicate"


def test_file_names_in_other_case_are_read(tmp_path):
    folder = file_set(tmp_path, "v11_bulk")
    (folder / "orgs.csv").rename(folder / "Orgs.CSV")
    with read_package(zipped(folder)) as package:
        assert package.ok
        assert "Orgs.CSV: read as orgs.csv (file names are case-sensitive)." in [
            str(w) for w in package.warnings
        ]


def test_vocabulary_drift(tmp_path):
    users = (
        fixture_text("v11_bulk", "users")
        .replace(",teacher,rivera", ",Teacher,rivera")
        .replace(",04,", ",4,")
    )
    with read_package(file_set(tmp_path, "v11_bulk", users=users)) as package:
        assert package.ok
        users = {u.sourced_id: u for u in package.users()}
        assert users["u-t1"].role == "teacher"
        assert users["u-l1"].grades == ("04",)
        assert "users.csv row 4: grade '4' is read as 04." in [str(w) for w in package.warnings]


# --- broken files, each with its exact message -------------------------------------------


def test_an_enrollment_of_a_missing_class(tmp_path):
    enrollments = fixture_text("v12_bulk", "enrollments").replace("e-2,,,c-1", "e-2,,,c-99")
    with read_package(file_set(tmp_path, enrollments=enrollments)) as package:
        assert messages(package) == [
            "enrollments.csv row 3: classSourcedId 'c-99' is not in classes.csv."
        ]
        assert package.errors[0].as_row() == {
            "file": "enrollments.csv",
            "row": "3",
            "column": "classSourcedId",
            "value": "c-99",
            "message": "classSourcedId 'c-99' is not in classes.csv.",
        }
        assert not package.ok  # nothing of it may be applied


def test_a_misspelt_role(tmp_path):
    users = fixture_text("v11_bulk", "users").replace(",student,noah.k", ",studnet,noah.k")
    with read_package(file_set(tmp_path, "v11_bulk", users=users)) as package:
        assert messages(package) == ["users.csv row 5: role 'studnet' is not a OneRoster role."]


def test_a_user_with_no_role_11(tmp_path):
    users = fixture_text("v11_bulk", "users").replace(",student,noah.k", ",,noah.k")
    with read_package(file_set(tmp_path, "v11_bulk", users=users)) as package:
        assert messages(package) == ["users.csv row 5: the user has no role (role is empty)."]


def test_a_user_with_no_role_12(tmp_path):
    roles = fixture_text("v12_bulk", "roles").replace("r-l2,,,u-l2,primary,student,,,s-2,\n", "")
    with read_package(file_set(tmp_path, roles=roles)) as package:
        assert messages(package) == [
            "users.csv row 5: user 'u-l2' has no role: roles.csv has no active row for them."
        ]


def test_an_impossible_date(tmp_path):
    sessions = fixture_text("v12_bulk", "academicSessions").replace("2027-01-05", "2026-02-30")
    with read_package(file_set(tmp_path, academicSessions=sessions)) as package:
        assert messages(package) == [
            "academicSessions.csv row 4: startDate: '2026-02-30' is an impossible date."
        ]


def test_dates_in_the_wrong_order_or_form(tmp_path):
    enrollments = (
        fixture_text("v12_bulk", "enrollments")
        .replace("2026-08-20,2027-06-10\ne-2", "2027-08-20,2027-06-10\ne-2")
        .replace("false,2026-08-20", "false,08/20/2026")
    )
    with read_package(file_set(tmp_path, enrollments=enrollments)) as package:
        assert messages(package) == [
            "enrollments.csv row 2: endDate 2027-06-10 is before beginDate 2027-08-20.",
            "enrollments.csv row 3: beginDate: '08/20/2026' is not a date (write it as YYYY-MM-DD,"
            " e.g. 2026-08-24).",
        ]


def test_a_duplicate_sourced_id(tmp_path):
    users = fixture_text("v12_bulk", "users").replace("u-l2,,,true,noah.k", "u-l1,,,true,noah.k")
    roles = fixture_text("v12_bulk", "roles").replace(",u-l2,", ",u-l1,")
    enrollments = fixture_text("v12_bulk", "enrollments").replace(",u-l2,", ",u-l1,")
    demographics = fixture_text("v12_bulk", "demographics").replace("u-l2", "u-l9")
    with read_package(
        file_set(
            tmp_path, users=users, roles=roles, enrollments=enrollments, demographics=demographics
        )
    ) as package:
        assert messages(package) == [
            "users.csv row 5: sourcedId 'u-l1' is a duplicate: row 4 has it too.",
            "demographics.csv row 3: sourcedId 'u-l9' is not in users.csv.",
        ]


def test_a_school_that_is_a_district(tmp_path):
    classes = fixture_text("v12_bulk", "classes").replace("Lab,s-2", "Lab,d-1")
    with read_package(file_set(tmp_path, classes=classes)) as package:
        assert messages(package) == [
            "classes.csv row 3: schoolSourcedId 'd-1' is a district in orgs.csv, not a school."
        ]


def test_a_guardian_link_to_nobody(tmp_path):
    users = fixture_text("v12_bulk", "users").replace(",u-l1,,,m-g1", ",u-l7,,,m-g1")
    with read_package(file_set(tmp_path, users=users)) as package:
        assert messages(package) == ["users.csv row 6: agentSourcedIds 'u-l7' is not in users.csv."]


def test_a_truncated_file_unterminated_quote(tmp_path):
    users = fixture_text("v12_bulk", "users") + 'u-x,,,true,x,,"Unfinished,Name'
    with read_package(file_set(tmp_path, users=users)) as package:
        assert messages(package)[0] == (
            'users.csv row 7: the file ends inside a quoted value: a quote (") is opened and'
            " never closed, or the file was cut short."
        )


def test_a_truncated_file_short_last_row(tmp_path):
    enrollments = fixture_text("v12_bulk", "enrollments") + "e-5,,,c-2,s-2"
    with read_package(file_set(tmp_path, enrollments=enrollments)) as package:
        assert messages(package) == [
            "enrollments.csv row 6: the row has 5 values but the header has 10 columns; the row"
            " looks cut short or split."
        ]


def test_a_stray_quote(tmp_path):
    orgs = fixture_text("v12_bulk", "orgs").replace('"Oak Middle School, North"', '"Oak "Middle""')
    with read_package(file_set(tmp_path, orgs=orgs)) as package:
        assert messages(package)[0] == (
            'orgs.csv row 4: a quote (") inside a quoted value must be written twice ("");'
            " this row has a single one."
        )


def test_a_zip_with_a_folder_inside_is_refused(tmp_path):
    archive = zipped(file_set(tmp_path), inside="export/")
    with read_package(archive) as package:
        assert messages(package) == [
            "v12_bulk.zip: The zip has its files inside a folder (export/), but OneRoster files "
            "must be at the root of the zip. Select the CSV files themselves (not their folder) "
            "and zip them again."
        ]


def test_macos_shadow_entries_are_skipped(tmp_path):
    archive = zipped(file_set(tmp_path))
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/._users.csv", b"\x00\x05junk")
    with read_package(archive) as package:
        assert package.ok


def test_not_a_zip(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with read_package(path) as package:
        assert messages(package) == [
            "export.zip: The file is not a zip file (or the zip is damaged), so it cannot be read."
        ]


def test_every_error_at_once_up_to_a_cap(tmp_path):
    rows = "".join(f"e-x{n},,,c-missing,s-1,u-l1,student,,,\n" for n in range(250))
    enrollments = fixture_text("v12_bulk", "enrollments") + rows
    with read_package(file_set(tmp_path, enrollments=enrollments)) as package:
        assert len(package.errors) == 200
        assert package.error_count == 250
        assert package.summary()[-1] == "... and 50 more errors."


# --- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01T10:00:00.000Z", datetime(2026, 9, 1, 10, 0)),
        ("2026-09-01T10:00:00Z", datetime(2026, 9, 1, 10, 0)),
        ("2026-09-01T10:00:00", datetime(2026, 9, 1, 10, 0)),
        ("2026-09-01 10:00", datetime(2026, 9, 1, 10, 0)),
        ("2026-09-01T10:00:00.5-05:00", datetime(2026, 9, 1, 15, 0, 0, 500000)),
        ("2026-09-01T01:00:00+0200", datetime(2026, 8, 31, 23, 0)),
        ("2026-09-01", datetime(2026, 9, 1)),
    ],
)
def test_date_times_in_other_iso_forms(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "yesterday", "01/09/2026"])
def test_bad_dates(text):
    with pytest.raises(Bad):
        parse_date(text)


def test_user_ids():
    assert [(u.type, u.identifier) for u in parse_user_ids("{Clever:abc}, {LDAP: j.doe }")] == [
        ("Clever", "abc"),
        ("LDAP", "j.doe"),
    ]
    with pytest.raises(Bad):
        parse_user_ids("Clever:abc")


# --- size ------------------------------------------------------------------------------


def test_100000_enrollments_stream_in_bounded_memory(tmp_path):
    folder = file_set(tmp_path)
    rows = 100_000
    with (folder / "enrollments.csv").open("w", encoding="utf-8", newline="") as out:
        out.write(
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,"
            "role,primary,beginDate,endDate\r\n"
        )
        for n in range(rows):
            user = ("u-l1", "u-l2")[n % 2]
            klass, school = (("c-1", "s-1"), ("c-2", "s-2"))[n % 2]
            out.write(
                f"enrollment-{n:07d},active,2026-08-01T00:00:00Z,{klass},{school},{user},"
                f"student,false,2026-08-20,2027-06-10\r\n"
            )
    archive = zipped(folder)
    size = (folder / "enrollments.csv").stat().st_size
    whole_file = _memory_of_records(archive, 10_000) * rows // 10_000
    tracemalloc.start()
    started = time.perf_counter()
    package = read_package(archive)
    checked = time.perf_counter() - started
    streamed = sum(1 for _ in package.enrollments())
    total = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    package.close()
    assert package.ok, messages(package)[:3]
    assert streamed == rows
    # The reader keeps only the sourcedIds (for duplicates, references and the bulk
    # comparison), not the records: holding all of them would take several times more.
    print(
        f"\n100,000 enrollments ({size / 1e6:.1f} MB of CSV): checked in {checked:.2f} s, "
        f"checked and streamed in {total:.2f} s (under tracemalloc); peak {peak / 1e6:.1f} MB "
        f"traced, against {whole_file / 1e6:.1f} MB for the records all in memory"
    )
    assert peak < whole_file / 2


def _memory_of_records(archive: Path, count: int) -> int:
    """What `count` enrollment records take when all are held in memory at once."""
    with read_package(archive) as package:
        stream = package.enrollments()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        held = [record for _, record in zip(range(count), stream, strict=False)]
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert len(held) == count
        stream.close()
    return after - before
