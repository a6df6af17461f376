"""A dbt-duckdb plugin: the SQL function `nurture_nfkc(text)`, true Unicode NFKC in DuckDB.

PostgreSQL has `normalize(text, NFKC)`; DuckDB only NFC. Identity resolution must
normalise the same way on both warehouses (half-width katakana, ㍿, ㈱, full-width
letters and spaces...), so dbt's DuckDB connections get this Python function, the same
`unicodedata.normalize('NFKC', ...)` the file importer applies. The dbt macro
`nfkc(expr)` (dbt_project/macros/normalize.sql) calls it on DuckDB. Registered in
dbt_project/profiles.yml (`plugins:`).
"""

from __future__ import annotations

import contextlib
import unicodedata

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

FUNCTION = "nurture_nfkc"


def nfkc(values: pa.Array) -> pa.Array:
    """NFKC of each string of an Arrow array (nulls stay null)."""
    return pa.array(
        [None if v is None else unicodedata.normalize("NFKC", v) for v in values.to_pylist()],
        type=pa.string(),
    )


def register(conn) -> None:
    """Create the function on a DuckDB connection (idempotent)."""
    with contextlib.suppress(Exception):  # not registered on this connection yet
        conn.remove_function(FUNCTION)
    conn.create_function(FUNCTION, nfkc, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        register(conn)
