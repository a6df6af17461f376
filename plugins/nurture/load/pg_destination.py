"""dlt's PostgreSQL destination with a narrower de-duplication of staged rows.

A merge (delete-insert) copies the staged rows into the raw table, one row per primary
key. dlt de-duplicates them with `ROW_NUMBER() OVER (PARTITION BY key)`, which sorts
every staged row with all its columns: about a second per 200k Marketo activities,
as long as the COPY itself. Here a row is kept unless a later-staged row has the same
key: an anti-join on the key columns alone, which PostgreSQL runs as a hash join.
"Later" is the physical order of the staging table (`ctid`), the order the rows were
extracted in, so a record that changed while a run paged through the source keeps its
newest version (dlt's own choice between duplicates is arbitrary). Tables with a
`dedup_sort` hint keep dlt's sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dlt.common.destination.reference import DestinationReference
from dlt.common.destination.typing import PreparedTableSchema
from dlt.common.schema.typing import TSortOrder
from dlt.destinations import postgres
from dlt.destinations.impl.postgres.postgres import PostgresClient
from dlt.destinations.job_impl import FollowupJobRequest
from dlt.destinations.sql_jobs import SqlMergeFollowupJob

from nurture.load import utc_csv

_STAGED = "_nurture_staged"
_LATER = "_nurture_later"


class KeepLastStagedMergeJob(SqlMergeFollowupJob):
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
        return (
            f"SELECT {', '.join(columns)} FROM {table_name} AS {_STAGED}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table_name} AS {_LATER}"
            f" WHERE {same_key} AND {_LATER}.ctid > {_STAGED}.ctid)"
            f" AND ({condition or '1 = 1'})"
        )


class NurturePostgresClient(PostgresClient):
    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [KeepLastStagedMergeJob.from_table_chain(table_chain, self.sql_client)]


class nurture_postgres(postgres):  # lower case like dlt's own destination factories
    """`dlt.destinations.postgres` with the merge above; pipelines see the same type.

    Its csv load files are written by `nurture.load.utc_csv` (UTC without a zone suffix),
    which only a session in UTC reads right: the credentials set `timezone=UTC`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        utc_csv.install()
        super().__init__(*args, **kwargs)

    @property
    def client_class(self) -> type[PostgresClient]:
        return NurturePostgresClient

    @property
    def destination_type(self) -> str:
        return DestinationReference.normalize_type(f"{postgres.__module__}.{postgres.__qualname__}")
