"""dlt's PostgreSQL and DuckDB destinations, with a narrower de-duplication of staged rows
(and, on PostgreSQL, a Parquet COPY that accepts a file without rows).

A merge (delete-insert) copies the staged rows into the raw table, one row per primary
key. dlt de-duplicates them with `ROW_NUMBER() OVER (PARTITION BY key)`, which sorts
every staged row with all its columns (on PostgreSQL about a second per 200k Marketo
activities, as long as the COPY itself) and keeps an arbitrary one of a key's rows.
Here a row is kept unless a later-staged row has the same key: an anti-join on the key
columns alone, run as a hash join. "Later" is the staging table's physical row order
(PostgreSQL `ctid`, DuckDB `rowid`), the order the rows were extracted in, so a record
that changed while a run paged through the source keeps its newest version. Tables
with a `dedup_sort` hint keep dlt's sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from dlt.common.destination.client import LoadJob
from dlt.common.destination.reference import DestinationReference
from dlt.common.destination.typing import PreparedTableSchema
from dlt.common.schema.typing import TSortOrder
from dlt.destinations import duckdb, postgres
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresParquetCopyJob
from dlt.destinations.job_impl import FollowupJobRequest
from dlt.destinations.sql_jobs import SqlMergeFollowupJob

_STAGED = "_nurture_staged"
_LATER = "_nurture_later"


class KeepLastStagedMergeJob(SqlMergeFollowupJob):
    row_position: ClassVar[str] = "ctid"

    @classmethod
    def gen_select_from_dedup_sql(
        cls,
        table_name: str,
        primary_keys: Sequence[str],
        columns: Sequence[str],
        dedup_sort: tuple[str, TSortOrder] | None = None,
        condition: str | None = None,
        condition_columns: Sequence[str] | None = None,
        skip_dedup: bool = False,
    ) -> str:
        if skip_dedup or dedup_sort is not None or not primary_keys:
            return super().gen_select_from_dedup_sql(
                table_name,
                primary_keys,
                columns,
                dedup_sort,
                condition,
                condition_columns,
                skip_dedup,
            )
        same_key = " AND ".join(f"{_LATER}.{key} = {_STAGED}.{key}" for key in primary_keys)
        position = cls.row_position
        return (
            f"SELECT {', '.join(f'{_STAGED}.{c}' for c in columns)}"
            f" FROM {table_name} AS {_STAGED}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table_name} AS {_LATER}"
            f" WHERE {same_key} AND {_LATER}.{position} > {_STAGED}.{position})"
            f" AND ({condition or '1 = 1'})"
        )


class KeepLastStagedDuckDbMergeJob(KeepLastStagedMergeJob):
    row_position = "rowid"


class ParquetCopyJob(PostgresParquetCopyJob):
    """dlt's ADBC binary COPY of a Parquet file, which fails on a file without rows (no
    batch to take the schema from); such a file has nothing to copy."""

    def run(self) -> None:
        import pyarrow.parquet as pq

        if pq.ParquetFile(self._file_path).metadata.num_rows == 0:
            return
        super().run()


class NurturePostgresClient(PostgresClient):
    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        job = super().create_load_job(table, file_path, load_id, restore)
        if isinstance(job, PostgresParquetCopyJob):
            return ParquetCopyJob(file_path)
        return job

    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [KeepLastStagedMergeJob.from_table_chain(table_chain, self.sql_client)]


class NurtureDuckDbClient(DuckDbClient):
    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [KeepLastStagedDuckDbMergeJob.from_table_chain(table_chain, self.sql_client)]


def _builtin_type(factory: type) -> str:
    return DestinationReference.normalize_type(f"{factory.__module__}.{factory.__qualname__}")


class nurture_postgres(postgres):  # lower case like dlt's own destination factories
    """`dlt.destinations.postgres` with the merge above; pipelines see the same type."""

    @property
    def client_class(self) -> type[PostgresClient]:
        return NurturePostgresClient

    @property
    def destination_type(self) -> str:
        return _builtin_type(postgres)


class nurture_duckdb(duckdb):  # lower case like dlt's own destination factories
    """`dlt.destinations.duckdb` with the merge above; pipelines see the same type."""

    @property
    def client_class(self) -> type[DuckDbClient]:
        return NurtureDuckDbClient

    @property
    def destination_type(self) -> str:
        return _builtin_type(duckdb)
