"""`Package.enrollment_refs()`: the import compares enrollments from their fields, not from
rebuilt records; it must give exactly what the records give, drift included."""

from __future__ import annotations

import pytest

from portal.oneroster import read_package
from tests.test_oneroster_reader import file_set

DRIFTED = (
    "SourcedID,Status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,"
    "Role,primary,beginDate,endDate,metadata.x\r\n"
    " e-1 ,Active,,c-1,s-1,u-t1,Teacher,true,2026-08-20,2027-06-10,\r\n"
    "e-2,INACTIVE,,c-1,s-1, u-l1 ,learner,false,,,y\r\n"
    "e-3,,,c-2,s-2,u-t2,ext:coach,,,,\r\n"
    '"e-4",tobedeleted,,"c-2",s-2,u-l2,"student",,,,,\r\n'
)


def _from_records(package):
    return [
        (e.sourced_id, e.status, e.row, e.class_sourced_id, e.user_sourced_id, e.role)
        for e in package.enrollments()
    ]


@pytest.mark.parametrize("name", ["v11_bulk", "v12_bulk"])
def test_enrollment_refs_are_the_records_values(tmp_path, name):
    with read_package(file_set(tmp_path, name)) as package:
        assert package.ok, package.errors
        refs = [tuple(ref) for ref in package.enrollment_refs()]
        assert refs == _from_records(package) and len(refs) == 4


def test_enrollment_refs_read_drifted_headers_and_values_as_the_records_do(tmp_path):
    with read_package(file_set(tmp_path, "v12_bulk", enrollments=DRIFTED)) as package:
        assert package.ok, package.errors
        refs = list(package.enrollment_refs())
        assert [tuple(ref) for ref in refs] == _from_records(package)
        assert [(r.sourced_id, r.status, r.role, r.active) for r in refs] == [
            ("e-1", "active", "teacher", True),
            ("e-2", "tobedeleted", "student", False),
            ("e-3", "active", "ext:coach", True),
            ("e-4", "tobedeleted", "student", False),
        ]


def test_enrollment_refs_of_a_package_with_errors_skip_the_bad_rows(tmp_path):
    broken = DRIFTED.replace("learner,false", "studnet,false")
    with read_package(file_set(tmp_path, "v12_bulk", enrollments=broken)) as package:
        assert not package.ok
        assert [r.sourced_id for r in package.enrollment_refs()] == ["e-1", "e-3", "e-4"]
