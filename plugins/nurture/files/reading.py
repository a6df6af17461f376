"""A decoded CSV stream as numbered records, and the header row among its first records."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from nurture.files.sources import fold

Record = tuple[int, list[str]]


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


def read_records(handle: TextIO) -> Iterator[Record]:
    """(record number, cells), numbered as a spreadsheet shows them: the first record is 1.

    csv reads the handle line by line, so memory follows the longest record, not the file.
    """
    return enumerate(csv.reader(handle), start=1)


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
    for row_number, cells in records:
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
