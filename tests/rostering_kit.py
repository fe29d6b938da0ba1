"""Small OneRoster packages for the rostering tests: the hand-written 1.2 set, edited."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from sqlalchemy import select

from portal.core.extensions import db
from portal.roster.models import Org, OrgType

BASE = Path(__file__).parent / "data" / "oneroster" / "v12_bulk"


class Kit:
    """A folder copy of tests/data/oneroster/v12_bulk whose files a test edits as rows."""

    def __init__(self, folder: Path, base: Path = BASE):
        shutil.copytree(base, folder)
        self.folder = folder

    def rows(self, name: str) -> list[dict]:
        with (self.folder / name).open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))

    def write(self, name: str, rows: list[dict], header: list[str] | None = None) -> None:
        header = header or (list(rows[0]) if rows else self.header(name))
        out = io.StringIO()
        writer = csv.DictWriter(out, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        (self.folder / name).write_text(out.getvalue(), encoding="utf-8")

    def header(self, name: str) -> list[str]:
        with (self.folder / name).open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle))

    def edit(self, name: str, sourced_id: str, **values) -> None:
        rows = self.rows(name)
        for row in rows:
            if row["sourcedId"] == sourced_id:
                row.update(values)
        self.write(name, rows, self.header(name))

    def drop(self, name: str, *sourced_ids: str) -> None:
        self.write(
            name,
            [r for r in self.rows(name) if r["sourcedId"] not in sourced_ids],
            self.header(name),
        )

    def add(self, name: str, **values) -> None:
        header = self.header(name)
        self.write(name, [*self.rows(name), {k: values.get(k, "") for k in header}], header)

    def mode(self, **modes) -> None:
        rows = [
            r
            if not r["propertyName"].startswith("file.") or r["propertyName"][5:] not in modes
            else {**r, "value": modes[r["propertyName"][5:]]}
            for r in self.rows("manifest.csv")
        ]
        self.write("manifest.csv", rows, ["propertyName", "value"])

    @property
    def path(self) -> str:
        return str(self.folder)


def district_and_admin(make, source_id: str | None = None):
    district = make.district("Maple District")
    if source_id:
        district.source_id = source_id
    admin = make.district_admin(district, username="supt")
    db.session.commit()
    return district, admin


def org(source_id: str) -> Org | None:
    return db.session.scalar(select(Org).where(Org.source_id == source_id))


def schools() -> list[Org]:
    return list(db.session.scalars(select(Org).where(Org.type == OrgType.SCHOOL)))
