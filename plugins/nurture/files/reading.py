"""A dropped file (CSV, decoded, or an .xlsx sheet) as numbered records, and the header row
among its first records; the lines skipped before the header, each with why."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nurture.files.encoding import detect_encoding
from nurture.files.sources import fold
from nurture.files.values import as_text

# A CSV record's cells are text; an .xlsx row's are typed as Excel stores them (str,
# int, float, bool, datetime), an empty cell "".
Record = tuple[int, "list[Any] | BadRecord"]
XLSX_SUFFIXES = (".xlsx", ".xlsm")


class HeaderNotFound(ValueError):
    """No header row with an e-mail column; `rows` are the records that were looked at."""

    def __init__(self, reason: str, rows: list[list[str]]) -> None:
        super().__init__(reason)
        self.rows = rows


@dataclass(frozen=True)
class Skipped:
    """A line before the header, which is not imported: what it held and why."""

    row_number: int
    text: str
    reason: str


@dataclass(frozen=True)
class Header:
    row_number: int
    names: tuple[str, ...]
    columns: tuple[str | None, ...]  # the canonical column of each position, if mapped
    skipped: tuple[Skipped, ...] = field(default=())


class Unreadable(ValueError):
    """The file cannot be read at all (an encoding, a broken workbook, a missing sheet)."""


# Longer records are not contact data: a runaway quoted field or a pasted blob. Such a
# record is quarantined (its start kept) and reading goes on with the next line.
MAX_RECORD_CHARS = 128 * 1024
# A quoted field may hold line breaks (an address on a business card); one still open
# after this many lines is an unbalanced quote, not a field.
MAX_RECORD_LINES = 20
KEPT_CHARS = 2000  # of a bad record's raw text, in quarantine


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be read as CSV: its raw text (the start of it) and why."""

    text: str
    reason: str
    chars: int


def read_records(handle: TextIO) -> Iterator[tuple[int, list[str] | BadRecord]]:
    """(record number, cells), numbered as a spreadsheet shows them: the first record is 1.

    Lines are read one at a time, so memory follows the longest record, not the file. A
    record that cannot be read (a quote left open, a field past `MAX_RECORD_CHARS`) comes
    as a `BadRecord` of its first line, and reading starts again on the line after it:
    one bad record never takes the good ones after it along. NUL characters, which no
    spreadsheet shows and PostgreSQL refuses in text, are dropped.
    """
    lines = _lines(handle)
    pushed_back: list[str] = []

    def next_line() -> str | None:
        if pushed_back:
            return pushed_back.pop()
        return next(lines, None)

    number = 0
    while (first := next_line()) is not None:
        number += 1
        taken = [first]
        quoted = _ends_quoted(first, False)
        chars = len(first)
        while quoted and len(taken) < MAX_RECORD_LINES and chars <= MAX_RECORD_CHARS:
            line = next_line()
            if line is None:
                break
            taken.append(line)
            chars += len(line)
            quoted = _ends_quoted(line, True)
        problem = None
        if quoted:
            problem = "a quoted field is never closed (unbalanced quote)"
        elif chars > MAX_RECORD_CHARS:
            problem = f"record of {chars:,} characters, longer than {MAX_RECORD_CHARS:,}"
        else:
            try:
                cells = next(csv.reader(["".join(taken)], strict=True), [])
            except csv.Error as exc:
                problem = f"unreadable CSV: {exc}"
        if problem is None:
            yield number, cells
            continue
        # only the first line is set aside: the lines after it are read again as records
        pushed_back.extend(reversed(taken[1:]))
        yield number, BadRecord(first[:KEPT_CHARS], problem, len(first))


def _lines(handle: TextIO) -> Iterator[str]:
    # a field that is too long is quarantined, so csv needs no limit of its own
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS * 2))
    for line in handle:
        yield line.replace("\x00", "") if "\x00" in line else line


def _ends_quoted(line: str, quoted: bool) -> bool:
    """Whether a quoted field is still open at the end of `line`, reading it as csv does:
    a quote opens a field only at the field's start; inside, `""` is a quote."""
    if '"' not in line:
        return quoted
    at_start = not quoted
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quoted:
            if c == '"':
                if i + 1 < n and line[i + 1] == '"':
                    i += 1
                else:
                    quoted = False
        elif c == '"' and at_start:
            quoted = True
            at_start = False
        else:
            at_start = c in ",\r\n"
        i += 1
    return quoted


def _unique(names: list[Any]) -> tuple[str, ...]:
    """Header names made unique ("電話番号", "電話番号 (2)"), so no value shadows another."""
    seen: dict[str, int] = {}
    unique = []
    for name in (as_text(cell) for cell in names):
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return tuple(unique)


def _shown(cells: list[Any] | BadRecord) -> str:
    if isinstance(cells, BadRecord):
        return cells.text.rstrip("\r\n")[:80]
    return ",".join(as_text(cell) for cell in cells).rstrip(",")[:80]


_KEY_LABEL = {"email": "e-mail"}


def find_header(
    records: Iterator[Record],
    lookup: dict[str, str],
    search_rows: int,
    min_matches: int = 2,
    header_row: int | None = None,
    key: str = "email",
) -> Header:
    """The header row: `header_row` when given, else the first record (within
    `search_rows`) with at least `min_matches` cells naming known headers (all the kind's
    columns, when it maps fewer) and one naming the `key` column. A data value
    that happens to equal a header name ("メール" as an activity type) is one match, not a
    header. Consumes `records` up to and including the header; the records before it
    come back in `Header.skipped`, each with the reason."""
    looked_at: list[list[Any]] = []
    skipped: list[Skipped] = []
    best: list[str] = []
    label = _KEY_LABEL.get(key, key)
    required = min(min_matches, len(set(lookup.values())))
    for row_number, record in records:
        cells = [] if isinstance(record, BadRecord) else record
        texts = [as_text(cell) for cell in cells]
        columns = tuple(lookup.get(fold(text)) if text else None for text in texts)
        matched = sum(1 for column in columns if column)
        filled = sum(1 for text in texts if text)
        if header_row is not None:
            if row_number == header_row:
                if key not in columns:
                    found = ", ".join(t for t, c in zip(texts, columns, strict=True) if c)
                    raise HeaderNotFound(
                        f"header_row {header_row} has no {label} header (found {found or 'none'})",
                        looked_at,
                    )
                return Header(row_number, _unique(cells), columns, tuple(skipped))
            reason = f"above header_row {header_row}"
        elif key in columns and matched >= required:
            return Header(row_number, _unique(cells), columns, tuple(skipped))
        elif isinstance(record, BadRecord):
            reason = f"before the header, unreadable: {record.reason}"
        elif not filled:
            reason = "blank, before the header"
        elif key in columns:
            reason = f"before the header: {matched} known header(s), the header needs {required}"
        else:
            reason = f"before the header: no {label} header"
        skipped.append(Skipped(row_number, _shown(record), reason))
        looked_at.append(texts)
        recognised = [t for t, column in zip(texts, columns, strict=True) if column]
        best = max(best, recognised, key=len)
        if header_row is None and len(looked_at) >= search_rows:
            break
    if header_row is not None:
        raise HeaderNotFound(f"the file has no row {header_row} (header_row)", looked_at)
    if best:
        reason = f"no {label} header in the first {search_rows} rows (found {', '.join(best)})"
    else:
        reason = f"no recognised header in the first {search_rows} rows"
    raise HeaderNotFound(reason, looked_at)


def xlsx_records(path: Path, sheet: str | None) -> Iterator[Record]:
    """The rows of a worksheet (`sheet`, else the first), streamed (openpyxl read-only),
    numbered as Excel shows them; cells typed as Excel stores them, text as written
    (leading zeros kept), empty cells "" and trailing empty cells dropped."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a zip that is no workbook, a corrupt part: the file's fault
        raise Unreadable(f"cannot be read as an Excel workbook ({type(exc).__name__})") from exc
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            names = ", ".join(workbook.sheetnames)
            raise Unreadable(f"has no sheet {sheet!r} (sheets: {names})")
    except Exception:
        workbook.close()
        raise

    def rows() -> Iterator[Record]:
        try:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), 1):
                cells = ["" if value is None else value for value in values]
                while cells and cells[-1] == "":
                    cells.pop()
                yield (
                    number,
                    [cell.replace("\x00", "") if isinstance(cell, str) else cell for cell in cells],
                )
        finally:
            workbook.close()

    return rows()


@contextmanager
def open_records(
    path: Path, encodings: list[str], sheet: str | None = None
) -> Iterator[tuple[str, Iterator[Record]]]:
    """(what the file was read as, its records): an .xlsx sheet, or CSV in the first of
    `encodings` that decodes the whole file; `Unreadable` when neither."""
    if path.suffix.lower() in XLSX_SUFFIXES:
        records = xlsx_records(path, sheet)
        try:
            yield "xlsx", records
        finally:
            records.close()  # type: ignore[attr-defined]
        return
    encoding = detect_encoding(path, encodings)
    if encoding is None:
        raise Unreadable(f"cannot be decoded as {' or '.join(encodings)}")
    with path.open(encoding=encoding, newline="") as handle:
        yield encoding, read_records(handle)
