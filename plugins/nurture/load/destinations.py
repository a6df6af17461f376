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

Most loads stage each key once, and then the anti-join (as long again as the insert it
feeds) can be left out. A load skips it when the key columns of its Parquet files hold no
key twice and the staging table holds exactly their rows: a copy job re-run after a crash
(its rows committed, its file not yet marked done) stages a file twice, and the count
shows it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from dlt.common.destination.capabilities import DestinationCapabilitiesContext
from dlt.common.destination.client import LoadJob
from dlt.common.destination.reference import DestinationReference
from dlt.common.destination.typing import PreparedTableSchema
from dlt.common.schema.typing import TSortOrder
from dlt.common.schema.utils import get_columns_names_with_prop
from dlt.common.storages.load_package import LoadJobInfo
from dlt.destinations import duckdb, postgres
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresParquetCopyJob
from dlt.destinations.job_client_impl import SqlJobClientBase
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


# Above this many staged rows the keys are not counted (about a second per million rows);
# the merge de-duplicates in the warehouse instead.
MAX_ROWS_TO_PROVE_UNIQUE = 2_000_000
# The keys are counted by an in-memory DuckDB of their own that reads the key columns a
# row group at a time and keeps one 64-bit hash per distinct key, within this budget
# (spilled to a temporary folder beyond it). Reading the keys into Arrow held them all at
# once: a million quarantined rows' four text keys took ~450 MB and 11 s to group, and an
# import's peak grew with its bad rows; hashed, they take ~20 MB and under a second.
KEY_PROOF_MEMORY = "32MB"
_DEDUPLICATED = "x-stage-data-deduplicated"  # dlt's hint: the merge then skips its dedup


def _job_file(job: LoadJobInfo) -> Path | None:
    """A chain job's file: dlt names every file as completed, but the job whose completion
    made the chain complete is still among the started ones."""
    path = Path(job.file_path)
    for folder in ("completed_jobs", "started_jobs"):
        candidate = path.parent.parent / folder / path.name
        if candidate.exists():
            return candidate
    return None


def staged_key_rows(files: Sequence[Path], keys: Sequence[str]) -> tuple[int, int] | None:
    """(rows, distinct key hashes) over the Parquet files, or None when not worth reading.

    Equal keys hash equal, so there are never more distinct hashes than distinct keys: as
    many as there are rows proves the keys unique. A hash collision (about one in 10^7 at
    two million rows) only costs the merge its de-duplication, never a row."""
    import tempfile

    import duckdb
    import pyarrow.parquet as pq

    counts = {str(f): pq.ParquetFile(f).metadata.num_rows for f in files}
    rows = sum(counts.values())
    if rows > MAX_ROWS_TO_PROVE_UNIQUE:
        return None
    with_rows = [f for f, n in counts.items() if n]
    if not with_rows:
        return 0, 0
    columns = ", ".join('"' + key.replace('"', '""') + '"' for key in keys)
    with tempfile.TemporaryDirectory(prefix="nurture-keys-") as spill:
        config = {"memory_limit": KEY_PROOF_MEMORY, "threads": 1, "temp_directory": spill}
        con = duckdb.connect(":memory:", config=config)
        try:
            counted = con.execute(
                f"SELECT count(*), count(DISTINCT hash({columns}))"
                " FROM read_parquet(?, union_by_name = true)",
                [with_rows],
            ).fetchone()
        finally:
            con.close()
    assert counted is not None
    return int(counted[0]), int(counted[1])


class StagedKeysCheck(SqlJobClientBase):
    """Marks a merge's staged rows de-duplicated when they provably are (see above)."""

    def create_table_chain_completed_followup_jobs(
        self,
        table_chain: Sequence[PreparedTableSchema],
        completed_table_chain_jobs: Sequence[LoadJobInfo] | None = None,
    ) -> list[FollowupJobRequest]:
        if completed_table_chain_jobs and self._staged_keys_unique(
            table_chain, completed_table_chain_jobs
        ):
            table_chain = [{**table_chain[0], _DEDUPLICATED: True}]  # type: ignore[typeddict-unknown-key]
        return super().create_table_chain_completed_followup_jobs(
            table_chain, completed_table_chain_jobs
        )

    def _staged_keys_unique(
        self, table_chain: Sequence[PreparedTableSchema], jobs: Sequence[LoadJobInfo]
    ) -> bool:
        table = table_chain[0]
        if (
            len(table_chain) != 1
            or table.get("write_disposition") != "merge"
            or table.get("x-merge-strategy", "delete-insert") != "delete-insert"  # type: ignore[typeddict-item]
        ):
            return False
        keys = get_columns_names_with_prop(table, "primary_key")
        files = [_job_file(job) for job in jobs]
        if not keys or any(f is None or f.suffix != ".parquet" for f in files):
            return False
        counted = staged_key_rows([f for f in files if f is not None], keys)
        if counted is None or counted[0] != counted[1]:
            return False
        return self._staged_rows(table["name"]) == counted[0]

    def _staged_rows(self, table_name: str) -> int:
        with self.sql_client as client, client.with_staging_dataset():
            name = client.make_qualified_table_name(table_name)
            rows: Any = client.execute_sql(f"SELECT count(*) FROM {name}")
        return int(rows[0][0])


class NurturePostgresClient(StagedKeysCheck, PostgresClient):
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


class NurtureDuckDbClient(StagedKeysCheck, DuckDbClient):
    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [KeepLastStagedDuckDbMergeJob.from_table_chain(table_chain, self.sql_client)]


def _builtin_type(factory: type) -> str:
    return DestinationReference.normalize_type(f"{factory.__module__}.{factory.__qualname__}")


class CapabilitiesOnce:
    """dlt asks a destination factory for its capabilities a dozen times per run, and each
    time without a configuration it resolves one through every config provider: about
    40 ms per run. The answer for a naming convention is kept (a copy goes out each time,
    as dlt adjusts what it gets)."""

    def capabilities(
        self, config: Any = None, naming: Any = None
    ) -> DestinationCapabilitiesContext:
        if config is not None:
            return super().capabilities(config, naming)  # type: ignore[misc,no-any-return]
        kept: list[tuple[Any, DestinationCapabilitiesContext]] = self.__dict__.setdefault(
            "_capabilities_by_naming", []
        )
        for known, caps in kept:
            if known is naming:
                return copy.copy(caps)
        caps = super().capabilities(None, naming)  # type: ignore[misc]
        kept.append((naming, caps))
        return copy.copy(caps)


class nurture_postgres(CapabilitiesOnce, postgres):  # lower case like dlt's factories
    """`dlt.destinations.postgres` with the merge above; pipelines see the same type."""

    @property
    def client_class(self) -> type[PostgresClient]:
        return NurturePostgresClient

    @property
    def destination_type(self) -> str:
        return _builtin_type(postgres)


class nurture_duckdb(CapabilitiesOnce, duckdb):  # lower case like dlt's factories
    """`dlt.destinations.duckdb` with the merge above; pipelines see the same type."""

    @property
    def client_class(self) -> type[DuckDbClient]:
        return NurtureDuckDbClient

    @property
    def destination_type(self) -> str:
        return _builtin_type(duckdb)
