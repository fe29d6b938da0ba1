"""Read and check OneRoster 1.1 and 1.2 CSV file sets (pure code: no database, no request).

    with read_package("export.zip") as package:
        if not package.ok:
            for error in package.errors: print(error)
        for user in package.users(): ...

See docs/oneroster.md for what is read, the drift accepted, and the messages.
"""

from portal.oneroster.headers import ColumnReading, HeaderReport
from portal.oneroster.manifest import Manifest
from portal.oneroster.problems import MAX_ERRORS, RosterError, RosterWarning
from portal.oneroster.reader import FileCount, Package, read_package
from portal.oneroster.records import (
    AcademicSession,
    Class,
    Course,
    Demographics,
    Enrollment,
    Org,
    Record,
    Role,
    User,
    UserId,
    UserProfile,
)

__all__ = [
    "MAX_ERRORS",
    "AcademicSession",
    "Class",
    "ColumnReading",
    "Course",
    "Demographics",
    "Enrollment",
    "FileCount",
    "HeaderReport",
    "Manifest",
    "Org",
    "Package",
    "Record",
    "Role",
    "RosterError",
    "RosterWarning",
    "User",
    "UserId",
    "UserProfile",
    "read_package",
]
