"""What is wrong with a package (errors) and what an admin should know (warnings).

Messages are lazy strings (`flask_babel.lazy_gettext`): they are made while a file is read,
perhaps in a background job or the CLI with no request, and rendered later, in the reader's
language when a page shows them and in English on the command line (flask-babel falls back
to the untranslated text outside an application context).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.core.i18n import lazy_gettext as _l

MAX_ERRORS = 200  # errors kept with their message; the rest are only counted


@dataclass(frozen=True, slots=True)
class RosterError:
    """One problem that stops the package from being applied.

    `row` is the row as a spreadsheet shows it (the header is row 1; a quoted field with
    line breaks still makes one row); None for a problem with the file as a whole.
    `column` is the OneRoster column name (as the spec spells it), or None.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: object  # a lazy string: str() renders it in the current language

    def __str__(self) -> str:
        if self.row is None:
            return str(_l("%(file)s: %(message)s", file=self.file, message=self.message))
        return str(
            _l(
                "%(file)s row %(row)d: %(message)s",
                file=self.file,
                row=self.row,
                message=self.message,
            )
        )

    def as_row(self) -> dict[str, str]:
        """The error as one line of the downloadable CSV of row errors for the SIS team."""
        return {
            "file": self.file,
            "row": "" if self.row is None else str(self.row),
            "column": self.column or "",
            "value": self.value or "",
            "message": str(self.message),
        }


@dataclass(frozen=True, slots=True)
class RosterWarning:
    """Something accepted but worth knowing; repeated causes are folded into one warning
    with the number of rows and the first row it was seen on."""

    file: str
    message: object
    count: int = 1
    first_row: int | None = None

    def __str__(self) -> str:
        if self.count > 1 and self.first_row is not None:
            return str(
                _l(
                    "%(file)s: %(message)s (%(count)d rows, the first is row %(row)d)",
                    file=self.file,
                    message=self.message,
                    count=self.count,
                    row=self.first_row,
                )
            )
        if self.first_row is not None:
            return str(
                _l(
                    "%(file)s row %(row)d: %(message)s",
                    file=self.file,
                    row=self.first_row,
                    message=self.message,
                )
            )
        return str(_l("%(file)s: %(message)s", file=self.file, message=self.message))


@dataclass
class Problems:
    """Collects every error (the first `max_errors` with their message) and warnings."""

    max_errors: int = MAX_ERRORS
    errors: list[RosterError] = field(default_factory=list)
    error_count: int = 0
    _warnings: dict[tuple[str, str], list] = field(default_factory=dict)

    def error(self, file, row, column, value, message) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(RosterError(file, row, column, value, message))

    @property
    def full(self) -> bool:
        """True once no more messages are kept (callers may skip building them)."""
        return len(self.errors) >= self.max_errors

    def warn(self, file: str, message, *, row: int | None = None, key: str | None = None) -> None:
        """Note a warning; warnings with the same `key` in a file are folded into one."""
        slot = (file, key or str(message))
        seen = self._warnings.get(slot)
        if seen is None:
            self._warnings[slot] = [message, 1, row]
        else:
            seen[1] += 1

    @property
    def warnings(self) -> list[RosterWarning]:
        return [
            RosterWarning(file, message, count, first_row)
            for (file, _key), (message, count, first_row) in self._warnings.items()
        ]

    @property
    def errors_left_off(self) -> int:
        return self.error_count - len(self.errors)
