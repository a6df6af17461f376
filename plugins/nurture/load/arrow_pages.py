"""Hand dlt whole pages as Arrow tables instead of lists of dicts.

dlt normalises Python dicts row by row; Arrow tables go through its columnar path and
load by `COPY` (PostgreSQL, csv) or as Parquet (DuckDB), two to three times faster and
with row counts that match what was loaded. Connectors keep yielding typed pages of
dicts; this step converts each page where the resource is piped into the pipeline.
"""

from __future__ import annotations

from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.items_transform import ItemTransform


def page_table(rows: list[dict[str, Any]]) -> pa.Table:
    """One page as a table with a column for every key of any row (`Table.from_pylist` takes
    the first row's keys only and drops the others: attributes and drifted properties)."""
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pa.table({name: _column([row.get(name) for row in rows]) for name in names})


def _column(values: list[Any]) -> pa.Array:
    """Values as one Arrow array; a column whose values Arrow cannot unify is kept as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values])


class PagesToArrow(ItemTransform[Any, Any]):
    """A pipe step that turns each yielded page (a list of dicts) into one Arrow table."""

    def __init__(self) -> None:
        super().__init__(lambda item: item)

    def __call__(self, item: Any, meta: Any = None) -> Any:
        if isinstance(item, list) and item and isinstance(item[0], dict):
            return page_table(item)
        return item


def as_arrow(source: Any) -> Any:
    """Convert every resource of a dlt source (or one resource) to Arrow pages, keeping
    dlt's load id column (the dbt staging models order overlapping loads by it)."""
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    # Also dlt's row id: a table first made from an empty resource (its schema only, by the
    # dict path) has `_dlt_id NOT NULL`, and Arrow rows loaded later must fill it.
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True
    resources = source.resources.values() if hasattr(source, "resources") else [source]
    for resource in resources:
        resource.add_step(PagesToArrow())
    return source


def arrow_file_format(warehouse_kind: str) -> str:
    """The file dlt writes Arrow pages to: Parquet for DuckDB, csv (loaded by COPY) for
    PostgreSQL, which reads Parquet only through an ADBC driver."""
    return "parquet" if warehouse_kind == "duckdb" else "csv"
