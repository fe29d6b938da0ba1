"""Open a OneRoster file set (a zip, or a folder) and stream its CSV files row by row.

A zip must have its files at its root ([OR11] §2 and [OR12] "the set of CSV files is
exchanged as a zip file"). A zip whose files sit inside a folder (what "compress this
folder" makes) is refused with a message saying how to zip it instead: guessing which
folder is meant could import the wrong export. macOS's `__MACOSX/` shadow entries and
`.DS_Store` files are skipped silently. Files are matched by name case-insensitively
(`Users.CSV` is users.csv), and the drift is reported.

Reading never loads a whole file: `rows()` yields one parsed row at a time from the
(decompressing) stream. UTF-8 with or without a BOM, CRLF or LF line ends, and RFC 4180
quoting (commas, doubled quotes and line breaks inside quoted fields) are accepted. A
broken file (an unterminated quote at the end, text that is not UTF-8, a stray quote)
raises `CsvBroken` naming the row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from portal.core.i18n import lazy_gettext as _l

# The csv module's default limit on one field (we do not change the process-wide setting).
# An unterminated quote would otherwise swallow the rest of the file into one field; the
# limit bounds memory and lets the error name the row.
FIELD_LIMIT = csv.field_size_limit()
_JUNK = ("__MACOSX/",)
_UNDECODED = re.compile("[\udc80-\udcff]")
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


class SourceError(Exception):
    """The package cannot be opened at all; `message` says why, in the admin's words."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class CsvBroken(Exception):
    """A file stops being readable CSV at `row` (the spreadsheet row being read)."""

    def __init__(self, row: int, message):
        super().__init__(str(message))
        self.row = row
        self.message = message


class Source:
    """A file set: `names` maps each CSV's spec-cased key ("users") to its stored name."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self.files: dict[str, str] = {}  # lower-cased file name ("users.csv") -> stored name
        self.other_entries: list[str] = []  # entries that are not CSV files at the root
        if self.path.is_dir():
            self._open_folder()
        elif self.path.is_file():
            self._open_zip()
        else:
            raise SourceError(_l("There is no file or folder at %(path)s.", path=str(path)))

    # --- opening --------------------------------------------------------------------
    def _open_folder(self) -> None:
        for entry in sorted(self.path.iterdir()):
            if entry.name.lower() in _JUNK_NAMES:
                continue
            if entry.is_file() and entry.name.lower().endswith(".csv"):
                self._add(entry.name)
            else:
                self.other_entries.append(entry.name)

    def _open_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError):
            raise SourceError(
                _l("The file is not a zip file (or the zip is damaged), so it cannot be read.")
            ) from None
        folders: set[str] = set()
        for info in self._zip.infolist():
            name = info.filename
            if name.startswith(_JUNK) or PurePosixPath(name).name.lower() in _JUNK_NAMES:
                continue
            parts = PurePosixPath(name).parts
            if info.is_dir() or len(parts) > 1:
                folders.add(parts[0] + "/")
                if len(parts) > 1 and parts[-1].lower().endswith(".csv"):
                    self.other_entries.append(name)
                continue
            if info.flag_bits & 0x1:
                raise SourceError(_l("The zip is protected by a password; export it without one."))
            if name.lower().endswith(".csv"):
                self._add(name)
            else:
                self.other_entries.append(name)
        if "manifest.csv" not in self.files and folders:
            raise SourceError(
                _l(
                    "The zip has its files inside a folder (%(folder)s), but OneRoster files "
                    "must be at the root of the zip. Select the CSV files themselves (not "
                    "their folder) and zip them again.",
                    folder=", ".join(sorted(folders)),
                )
            )

    def _add(self, name: str) -> None:
        self.files.setdefault(name.lower(), name)

    # --- reading --------------------------------------------------------------------
    def has(self, file_name: str) -> bool:
        return file_name.lower() in self.files

    def stored_name(self, file_name: str) -> str | None:
        return self.files.get(file_name.lower())

    @contextmanager
    def open_text(self, file_name: str) -> Iterator[io.TextIOBase]:
        """The file as text: UTF-8, a BOM dropped, newlines left to the csv module."""
        stored = self.files[file_name.lower()]
        if self._zip is not None:  # noqa: SIM108 (two ways of opening, closed below)
            raw = self._zip.open(stored)
        else:
            raw = open(self.path / stored, "rb")  # noqa: SIM115
        # surrogateescape: bytes that are not UTF-8 become lone surrogates, so the row they
        # are on can be named (a strict decoder fails at the first 8 KB chunk instead).
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield text
        finally:
            text.close()

    def rows(self, file_name: str) -> Iterator[tuple[int, list[str]]]:
        """Yield (row number, fields) for every non-blank row; the header is row 1."""
        with self.open_text(file_name) as text:
            yield from read_rows(text)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def read_rows(text) -> Iterator[tuple[int, list[str]]]:
    """RFC 4180 rows of a text stream, numbered as a spreadsheet numbers them."""
    reader = csv.reader(text, strict=True)
    row = 0
    while True:
        row += 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvBroken(row, _csv_message(str(exc))) from None
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line: spreadsheets show it, so it still counts as a row
        if not "".join(fields).isascii() and any(_UNDECODED.search(f) for f in fields):
            raise CsvBroken(row, _l("the file is not UTF-8 text; export it again as CSV UTF-8."))
        yield row, fields


def _csv_message(reason: str):
    if "unexpected end of data" in reason or "EOF" in reason:
        return _l(
            'the file ends inside a quoted value: a quote (") is opened and never closed, '
            "or the file was cut short."
        )
    if "field larger than field limit" in reason:
        return _l(
            'a value is longer than %(limit)d characters: most likely a quote (") that is '
            "never closed.",
            limit=FIELD_LIMIT,
        )
    if "expected after" in reason:
        return _l(
            'a quote (") inside a quoted value must be written twice (""); this row has '
            "a single one."
        )
    if "NUL" in reason or "line contains NUL" in reason:
        return _l("the row contains a NUL character, which a CSV file cannot hold.")
    return _l("the row is not valid CSV (%(reason)s).", reason=reason)
