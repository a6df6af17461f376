"""dlt's Arrow → csv writer, with UTC timestamps written without a zone suffix.

Arrow formats a zoned timestamp through the time-zone database, value by value: in a
200k-row Marketo load the `activityDate` column alone took 0.8 s of the 1 s csv write,
against 0.04 s for the same instants as plain UTC wall times. The load files are read
only by PostgreSQL's COPY in sessions whose `timezone` is UTC (`Settings.dlt_credentials`),
so `2025-01-25 05:54:22` and `2025-01-25 05:54:22Z` land as the same `timestamptz`.
Columns in other zones are left to Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from dlt.common.data_writers import writers

_UTC = {"UTC", "Etc/UTC", "+00:00", "Z"}


def utc_wall_times(item: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """`item` with every UTC timestamp column as a zone-less timestamp of the same instant."""
    schema = item.schema
    utc = [
        i
        for i, f in enumerate(schema)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None and f.type.tz in _UTC
    ]
    if not utc:
        return item
    columns = list(item.columns)
    fields = list(schema)
    for i in utc:
        naive = pa.timestamp(fields[i].type.unit)
        columns[i] = columns[i].cast(naive)
        fields[i] = fields[i].with_type(naive)
    new_schema = pa.schema(fields, metadata=schema.metadata)
    if isinstance(item, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, schema=new_schema)
    return pa.Table.from_arrays(columns, schema=new_schema)


class UtcArrowToCsvWriter(writers.ArrowToCsvWriter):
    def write_data(self, items: Sequence[Any]) -> None:
        super().write_data([utc_wall_times(item) for item in items])


def install() -> None:
    """Make dlt write Arrow items to csv with this writer (idempotent)."""
    spec = writers.ArrowToCsvWriter.writer_spec()
    if writers.WRITER_SPECS.get(spec) is UtcArrowToCsvWriter:
        return
    writers.WRITER_SPECS[spec] = UtcArrowToCsvWriter
    writers.ALL_WRITERS[:] = [
        UtcArrowToCsvWriter if w is writers.ArrowToCsvWriter else w for w in writers.ALL_WRITERS
    ]
    native = writers.NATIVE_FORMAT_WRITERS
    native["arrow"] = tuple(
        UtcArrowToCsvWriter if w is writers.ArrowToCsvWriter else w for w in native["arrow"]
    )
