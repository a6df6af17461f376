"""Records of a dropped file as typed rows in canonical columns; the rest to quarantine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from nurture.connectors.records import Quarantine
from nurture.files.columns import COLUMNS
from nurture.files.reading import BadRecord, Header, Record
from nurture.files.sources import Kind
from nurture.files.values import (
    as_text,
    complete_names,
    normalise_email,
    parse_amount,
    parse_date,
    parse_outcome,
    parse_timestamp,
)

# What a file of no configured kind is typed as: the contact layout, keyed by e-mail.
CONTACTS = Kind(globs=["*"])


def _typers(kind: Kind) -> dict[str, Callable[[Any], Any]]:
    formats = kind.date_formats
    return {
        "email": lambda value: normalise_email(None if value is None else as_text(value)),
        "date": lambda value: parse_date(value, formats),
        "timestamp": lambda value: parse_timestamp(value, formats),
        "outcome": parse_outcome,
        "number": parse_amount,
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


def raw_payload(header: Header, cells: list[Any]) -> dict[str, Any]:
    """The record as written, by header name: what quarantine keeps to fix and reload it."""
    payload: dict[str, Any] = dict(zip(header.names, cells, strict=False))
    if len(cells) > len(header.names):
        payload["(beyond the header)"] = cells[len(header.names) :]
    return payload


def _blank(cell: Any) -> bool:
    return isinstance(cell, str) and not cell.strip()


def _mapped(
    header: Header, cells: list[Any], columns: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Canonical values (the first non-empty cell of a column wins) and the unmapped rest:
    text trimmed, Excel's typed cells as they are (typed, or made text, per column)."""
    values: dict[str, Any] = dict.fromkeys(columns)
    extra: dict[str, str] = {}
    for name, column, cell in zip(header.names, header.columns, cells, strict=False):
        if cell is None or _blank(cell):
            continue
        value = cell.strip() if isinstance(cell, str) else cell
        if column in values and values[column] is None:
            values[column] = value if COLUMNS[column] != "text" else as_text(value)
        else:
            extra[name] = as_text(value)
    return values, extra


def typed_row(
    header: Header,
    cells: list[Any],
    kind: Kind = CONTACTS,
    typers: dict[str, Callable[[Any], Any]] | None = None,
) -> dict[str, Any]:
    """One record in its kind's columns with typed values; `RowRejected` says why not."""
    if len(cells) > len(header.names) and not all(_blank(c) for c in cells[len(header.names) :]):
        # More cells than headers: a stray comma shifted the values, so none can be trusted.
        raise RowRejected(f"row has {len(cells)} fields but the header has {len(header.names)}")
    values, extra = _mapped(header, cells, kind.columns)
    if values[kind.key] is None:
        raise RowRejected(f"missing {kind.key}")
    typers = typers or _typers(kind)
    for column in kind.columns:
        typer = typers.get(COLUMNS[column])
        if typer is not None:
            try:
                values[column] = typer(values[column])
            except ValueError as exc:
                raise RowRejected(f"bad {column}: {exc}") from exc
    if kind.layout == "contacts":
        complete_names(values)
    if "created_on" in values and values["created_on"] is None and values.get("created_at"):
        values["created_on"] = values["created_at"].date()
    values["extra"] = extra or None
    return values


def typed_rows(
    records: Iterator[Record],
    header: Header,
    source: DroppedFile,
    quarantine: Quarantine,
    kind: Kind = CONTACTS,
) -> Iterator[dict[str, Any]]:
    """Rows after the header, keyed by (file_sha256, row_number); blank lines are skipped,
    rejected records quarantined with the reason, and the load goes on."""
    typers = _typers(kind)
    for row_number, cells in records:
        if isinstance(cells, BadRecord):
            payload = {"raw": cells.text, "chars": cells.chars}
            quarantine.reject(source.kind, payload, source.key(row_number), cells.reason)
            continue
        if all(_blank(cell) for cell in cells):
            continue
        try:
            row = typed_row(header, cells, kind, typers)
        except RowRejected as exc:
            quarantine.reject(
                source.kind, raw_payload(header, cells), source.key(row_number), str(exc)
            )
            continue
        yield {"file_sha256": source.sha256, "row_number": row_number, **row}
