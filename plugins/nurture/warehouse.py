"""The warehouse behind one interface: DuckDB file (default) or PostgreSQL.

Domain code asks for a `Warehouse` and never for the kind; bulk writes go through
DuckDB's Arrow scan or PostgreSQL's COPY, never row-by-row inserts. pandas is imported
only by what returns frames: the checks before a dbt build (`table_exists`, `scalar`)
spare a task its second and a half of import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from nurture.config import Settings

if TYPE_CHECKING:
    import pandas as pd

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
_MEMORY_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_MEMORY_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_bytes(amount: str) -> float:
    """A DuckDB memory amount (`256MB`, `1.5 GiB`, as `NURTURE_DUCKDB_LOAD_MEMORY` takes) in
    bytes; KB and MB are powers of ten, KiB and MiB of two, as DuckDB reads them."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", amount)
    if found is None or found[2].lower() not in _MEMORY_UNITS:
        raise ValueError(f"not a memory amount: {amount!r}")
    return float(found[1]) * _MEMORY_UNITS[found[2].lower()]


def qualified(name: str) -> str:
    """Check a `schema.table` name made by our code; identifiers never come from raw input."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return name


class Session(Protocol):
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int: ...


class Warehouse(Protocol):
    kind: str

    def transaction(self) -> Any: ...

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def table_exists(self, table: str) -> bool: ...

    def dlt_destination(self, memory: str | None = None) -> Any: ...


class _DuckDBSession:
    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params or [])

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.con.execute(sql, params or []).fetchone()[0]

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row, as tuples (no pandas)."""
        return self.con.execute(sql, params or []).fetchall()

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        self.con.register("_nurture_frame", frame)
        try:
            columns = ", ".join(frame.columns)
            self.con.execute(
                f"insert into {qualified(table)} ({columns}) select {columns} from _nurture_frame"
            )
        finally:
            self.con.unregister("_nurture_frame")
        return len(frame)


class DuckDBWarehouse:
    kind = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.path = settings.duckdb_path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.load_memory = settings.duckdb_load_memory
        self.memory = settings.duckdb_memory

    def _connect(self) -> Any:
        import duckdb

        # Always read-write: DuckDB refuses a second connection with a different
        # configuration inside one process (tasks share one under `dag.test()`).
        con = duckdb.connect(str(self.path))
        # validated by load_settings; a load's smaller budget must not outlive the load
        con.execute(f"SET memory_limit = '{self.memory}'")
        return con

    @contextmanager
    def transaction(self) -> Iterator[_DuckDBSession]:
        con = self._connect()
        try:
            con.execute("begin transaction")
            yield _DuckDBSession(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        con = self._connect()
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row (None without rows); no pandas, no transaction."""
        con = self._connect()
        try:
            row = con.execute(sql, params or []).fetchone()
            return None if row is None else row[0]
        finally:
            con.close()

    def table_exists(self, table: str) -> bool:
        schema, name = qualified(table).split(".")
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [schema, name],
            )
        )

    def dlt_destination(self, memory: str | None = None) -> Any:
        """dlt's destination for this file; its loads keep to the load budget, or to
        `memory` when that is less (the ops tables' loads ask for less)."""
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        from nurture.load.destinations import nurture_duckdb

        budget = self.load_memory
        if memory is not None and memory_bytes(memory) < memory_bytes(budget):
            budget = memory
        credentials = DuckDbCredentials(str(self.path))
        # Set after connecting (SET GLOBAL), so the file opens with the same configuration
        # as Nurture's other connections to it.
        credentials.global_config = {"memory_limit": budget}
        return nurture_duckdb(credentials)


class _PostgresSession:
    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql.replace("?", "%s"), params or None)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.con.execute(sql.replace("?", "%s"), params or None).fetchone()[0]

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row, as tuples (no pandas)."""
        return self.con.execute(sql.replace("?", "%s"), params or None).fetchall()

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        columns = ", ".join(frame.columns)
        with (
            self.con.cursor() as cur,
            cur.copy(f"copy {qualified(table)} ({columns}) from stdin") as copy,
        ):
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
                copy.write_row(row)
        return len(frame)


class PostgresWarehouse:
    kind = "postgres"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.postgres

    def _connect(self) -> Any:
        import psycopg

        s = self.settings
        return psycopg.connect(
            host=s.host, port=s.port, user=s.user, password=s.password or None, dbname=s.database
        )

    @contextmanager
    def transaction(self) -> Iterator[_PostgresSession]:
        with self._connect() as con, con.transaction():
            yield _PostgresSession(con)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        import pandas as pd

        with self._connect() as con, con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params or None)
            columns = [c.name for c in cur.description or []]
            return pd.DataFrame(cur.fetchall(), columns=columns)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row (None without rows); no pandas."""
        with self._connect() as con, con.cursor() as cur:
            row = cur.execute(sql.replace("?", "%s"), params or None).fetchone()
            return None if row is None else row[0]

    def table_exists(self, table: str) -> bool:
        return bool(self.scalar("select to_regclass(?) is not null", [qualified(table)]))

    def dlt_destination(self, memory: str | None = None) -> Any:
        """dlt's destination for this database; `memory` is DuckDB's (merges run in the
        PostgreSQL server, within its own settings)."""
        from nurture.load.destinations import nurture_postgres

        # No unique indexes on dlt's row ids: every COPY into a raw or staging table would
        # maintain one that nothing reads (merges join on the primary key, not _dlt_id).
        return nurture_postgres(self.settings.dlt_credentials(), create_indexes=False)


def get_warehouse(settings: Settings) -> DuckDBWarehouse | PostgresWarehouse:
    if settings.warehouse == "postgres":
        return PostgresWarehouse(settings)
    return DuckDBWarehouse(settings)
