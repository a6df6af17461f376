"""A decoded CSV stream as numbered records, and the header row among its first records."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from nurture.files.sources import fold

Record = tuple[int, "list[str] | BadRecord"]


class HeaderNotFound(ValueError):
    """No header row with an e-mail column; `rows` are the records that were looked at."""

    def __init__(self, reason: str, rows: list[list[str]]) -> None:
        super().__init__(reason)
        self.rows = rows


@dataclass(frozen=True)
class Header:
    row_number: int
    names: tuple[str, ...]
    columns: tuple[str | None, ...]  # the canonical column of each position, if mapped


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


def _unique(names: list[str]) -> tuple[str, ...]:
    """Header names made unique ("電話番号", "電話番号 (2)"), so no value shadows another."""
    seen: dict[str, int] = {}
    unique = []
    for name in (cell.strip() for cell in names):
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return tuple(unique)


def find_header(records: Iterator[Record], lookup: dict[str, str], search_rows: int) -> Header:
    """The first record (within `search_rows`) that has an e-mail header; title lines above
    it are skipped. Consumes `records` up to and including the header."""
    looked_at: list[list[str]] = []
    best: list[str] = []
    for row_number, record in records:
        cells = [] if isinstance(record, BadRecord) else record
        columns = tuple(lookup.get(fold(cell)) for cell in cells)
        if "email" in columns:
            return Header(row_number, _unique(cells), columns)
        looked_at.append(cells)
        recognised = [cell for cell, column in zip(cells, columns, strict=True) if column]
        best = max(best, recognised, key=len)
        if len(looked_at) >= search_rows:
            break
    if best:
        reason = f"no e-mail header in the first {search_rows} rows (found {', '.join(best)})"
    else:
        reason = f"no recognised header in the first {search_rows} rows"
    raise HeaderNotFound(reason, looked_at)
