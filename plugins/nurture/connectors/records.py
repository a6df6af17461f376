"""Turning API payloads into typed rows, and setting aside the ones that do not fit."""

from __future__ import annotations

import dataclasses
import functools
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import dlt


@dataclass(frozen=True)
class Rejected:
    """A record that failed parsing or contracts; lands in `ops.quarantine`."""

    source: str
    object: str
    record_key: str | None
    reason: str
    payload: str

    def as_row(self, run_id: str) -> dict[str, Any]:
        return {
            "source": self.source,
            "object": self.object,
            "record_key": self.record_key or "",
            "reason": self.reason,
            "payload": self.payload,
            "run_id": run_id,
            "quarantined_at": datetime.now(UTC),
        }


class Quarantine:
    """Collects the rejected records of one run, spooled to a temporary file as JSON lines:
    a file of 1M bad rows must not hold 1M records in memory. Only counts stay in memory;
    `rows` reads the spool back a record at a time for the load into `ops.quarantine`."""

    SPOOL_IN_MEMORY_BYTES = 1024 * 1024

    def __init__(self, source: str) -> None:
        self.source = source
        self._counts: dict[str, int] = {}
        # lives as long as the run's Quarantine; closed (and deleted) when collected
        self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=self.SPOOL_IN_MEMORY_BYTES, mode="w+", encoding="utf-8"
        )

    def reject(self, obj: str, record: Any, key: Any, reason: str) -> None:
        payload = (
            record
            if isinstance(record, str)
            else json.dumps(record, default=str, ensure_ascii=False)
        )
        key = None if key in (None, "") else str(key)
        rejected = Rejected(self.source, obj, key, reason, payload)
        self._spool.write(json.dumps(dataclasses.astuple(rejected), ensure_ascii=False) + "\n")
        self._counts[obj] = self._counts.get(obj, 0) + 1

    def count(self, obj: str | None = None) -> int:
        return sum(self._counts.values()) if obj is None else self._counts.get(obj, 0)

    @property
    def objects(self) -> list[str]:
        return sorted(self._counts)

    def __iter__(self) -> Iterator[Rejected]:
        """The rejected records in the order they came, read back from the spool."""
        self._spool.flush()
        self._spool.seek(0)
        try:
            for line in self._spool:
                yield Rejected(*json.loads(line))
        finally:
            self._spool.seek(0, 2)  # further rejects append

    @property
    def rejected(self) -> list[Rejected]:
        """All of them as a list: for small runs and tests; loads iterate instead."""
        return list(self)

    def rows(self, run_id: str) -> Iterator[dict[str, Any]]:
        for rejected in self:
            yield rejected.as_row(run_id)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 (with `Z` or an offset) or epoch milliseconds to an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Salesforce writes +0000
    parsed = datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def parse_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def parse_date(value: Any) -> date | None:
    """`YYYY-MM-DD` (a datetime keeps its date); anything else is an error."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def parse_text(value: Any) -> Any:
    """Empty text is null: CSV cannot tell them apart, and Salesforce stores no ''."""
    return None if value == "" else value


PARSERS = {
    "timestamp": parse_timestamp,
    "bool": parse_bool,
    "int": parse_int,
    "float": parse_float,
    "date": parse_date,
    "text": parse_text,
}


@functools.lru_cache(maxsize=4096)
def column_key(name: str) -> str:
    """A field name as dlt can keep it apart from others. dlt's snake_case turns every
    name of only non-ASCII characters into `x` (`会社名` and `フォーム名` both), so a second
    such field would silently overwrite the first. Such a name becomes `x_` and its
    punycode (`会社名` -> `x_6oq93jcs2b`): ASCII, distinct, and reversible
    (`"6oq93jcs2b".encode().decode("punycode")`)."""
    if name.isascii():
        return name
    return "x_" + name.encode("punycode").decode("ascii").replace("-", "_")


def typed_rows(
    records: Iterable[dict[str, Any]],
    *,
    obj: str,
    key: str,
    types: dict[str, str],
    required: Iterable[str],
    quarantine: Quarantine,
) -> Iterator[dict[str, Any]]:
    """Yield records with typed fields; divert each one that cannot be typed, with the reason."""
    required = tuple(required)
    for record in records:
        key_value = record.get(key)
        missing = [name for name in (key, *required) if record.get(name) in (None, "")]
        if missing:
            quarantine.reject(obj, record, key_value, f"missing {', '.join(missing)}")
            continue
        row = (
            dict(record)
            if "".join(record).isascii()  # the usual case, checked at C speed
            else {column_key(k): v for k, v in record.items()}
        )
        try:
            for field_name, kind in types.items():
                if field_name in row:
                    row[field_name] = PARSERS[kind](row[field_name])
        except (TypeError, ValueError) as exc:
            quarantine.reject(obj, record, key_value, f"bad {field_name}: {exc}")
            continue
        yield row


# Rows per page handed to dlt. Each page costs dlt a schema merge, a file write and a
# conversion to csv; source pages are small (Marketo bulk exports ~3,500 rows, HubSpot 100,
# Salesforce 2,000), and regrouping them into bigger pages cut a 200k-row load by ~10%.
# 20,000 rows of a wide object stay within tens of MB.
BATCH_ROWS = 20_000


def typed_pages(
    pages: Iterable[list[dict[str, Any]]],
    *,
    obj: str,
    key: str,
    types: dict[str, str],
    required: Iterable[str],
    quarantine: Quarantine,
) -> Iterator[list[dict[str, Any]]]:
    """`typed_rows` in pages of about `BATCH_ROWS`, so a resource yields whole pages and
    memory stays flat."""
    required = tuple(required)
    batch: list[dict[str, Any]] = []
    for page in pages:
        batch.extend(
            typed_rows(
                page, obj=obj, key=key, types=types, required=required, quarantine=quarantine
            )
        )
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def materialized(pages: Iterator[list[dict[str, Any]]]) -> Iterator[Any]:
    """The pages; when there are none, dlt's marker so the table still exists (a GX
    suite and the marts can rely on it, e.g. `tasks` before sales logged any)."""
    empty = True
    for page in pages:
        empty = False
        yield page
    if empty:
        yield dlt.mark.materialize_table_schema()
