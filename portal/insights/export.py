"""A table as CSV: exactly the cells a page shows, suppression already applied."""

from __future__ import annotations

import csv
import io

from .compute import Row, Table
from .measures import MEASURES

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def header() -> list[str]:
    return ["as_of", "cycle_start", "cycle_end", "breakdown", "group", "learners"] + [
        m.key for m in MEASURES
    ]


def table_rows(table: Table) -> list[list[str]]:
    """One CSV row per group, then the total; every value is the cell's `shown` text."""

    def line(row: Row) -> list[str]:
        return [
            table.as_of.isoformat(timespec="minutes"),
            table.cycle_start.date().isoformat(),
            table.cycle_end.date().isoformat(),
            table.by or "all",
            _safe(str(row.label)),
            row.learners.shown,
        ] + [row.cells[m.key].shown for m in MEASURES]

    return [line(row) for row in table.rows] + [line(table.total)]


def table_csv(table: Table, *, with_header: bool = True) -> str:
    """Same cells as shown, suppression applied."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if with_header:
        writer.writerow(header())
    writer.writerows(table_rows(table))
    return out.getvalue()


def tables_csv(tables: list[Table]) -> str:
    """Several tables (say, every group breakdown) under one header."""
    return "".join(table_csv(t, with_header=i == 0) for i, t in enumerate(tables))
