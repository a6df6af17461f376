"""Records of a dropped file as typed rows in canonical columns; the rest to quarantine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from nurture.connectors.records import Quarantine
from nurture.files.columns import COLUMNS
from nurture.files.reading import BadRecord, Header, Record
from nurture.files.values import complete_names, normalise_email, parse_date

_TYPERS: dict[str, Callable[[str | None], str | date | None]] = {
    "email": normalise_email,
    "date": parse_date,
}


class RowRejected(ValueError):
    """A record that cannot become a row; the message is the quarantine reason."""


@dataclass(frozen=True)
class DroppedFile:
    """Where rows come from: the kind, the file name and its content's sha256."""

    kind: str
    name: str
    sha256: str

    def key(self, row_number: int) -> str:
        return f"{self.name}:{row_number}"


def raw_payload(header: Header, cells: list[str]) -> dict[str, Any]:
    """The record as written, by header name: what quarantine keeps to fix and reload it."""
    payload: dict[str, Any] = dict(zip(header.names, cells, strict=False))
    if len(cells) > len(header.names):
        payload["(beyond the header)"] = cells[len(header.names) :]
    return payload


def _mapped(header: Header, cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Canonical values (the first non-empty cell of a column wins) and the unmapped rest."""
    values: dict[str, Any] = dict.fromkeys(COLUMNS)
    extra: dict[str, str] = {}
    for name, column, cell in zip(header.names, header.columns, cells, strict=False):
        text = cell.strip()
        if not text:
            continue
        if column and values[column] is None:
            values[column] = text
        else:
            extra[name] = text
    return values, extra


def typed_row(header: Header, cells: list[str]) -> dict[str, Any]:
    """One record in canonical columns with typed values; `RowRejected` says why not."""
    if len(cells) > len(header.names) and any(c.strip() for c in cells[len(header.names) :]):
        # More cells than headers: a stray comma shifted the values, so none can be trusted.
        raise RowRejected(f"row has {len(cells)} fields but the header has {len(header.names)}")
    values, extra = _mapped(header, cells)
    if values["email"] is None:
        raise RowRejected("missing email")
    for column, column_type in COLUMNS.items():
        if column_type in _TYPERS:
            try:
                values[column] = _TYPERS[column_type](values[column])
            except ValueError as exc:
                raise RowRejected(f"bad {column}: {exc}") from exc
    complete_names(values)
    values["extra"] = extra or None
    return values


def typed_rows(
    records: Iterator[Record], header: Header, source: DroppedFile, quarantine: Quarantine
) -> Iterator[dict[str, Any]]:
    """Rows after the header, keyed by (file_sha256, row_number); blank lines are skipped,
    rejected records quarantined with the reason, and the load goes on."""
    for row_number, cells in records:
        if isinstance(cells, BadRecord):
            payload = {"raw": cells.text, "chars": cells.chars}
            quarantine.reject(source.kind, payload, source.key(row_number), cells.reason)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        try:
            row = typed_row(header, cells)
        except RowRejected as exc:
            quarantine.reject(
                source.kind, raw_payload(header, cells), source.key(row_number), str(exc)
            )
            continue
        yield {"file_sha256": source.sha256, "row_number": row_number, **row}
