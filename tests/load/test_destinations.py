"""Nurture's dlt destinations: merges keep one row per key (the version staged last) on
both warehouses, skip the de-duplication only when the staged keys are provably unique,
and timestamps reach PostgreSQL (Parquet, binary COPY) as the same instants whatever the
server's time zone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dlt
import psycopg
import pytest

from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.warehouse import get_warehouse
from tests.conftest import settings_env, settings_for


@pytest.fixture(autouse=True)
def keep_completed_jobs(monkeypatch):
    """These tests read the merge SQL dlt wrote; Nurture deletes completed jobs by default."""
    monkeypatch.setenv("LOAD__DELETE_COMPLETED_JOBS", "false")


def _load(settings, pages, pipelines_dir, name="leads"):
    pipeline = dlt.pipeline(
        pipeline_name="destinations_test",
        destination=get_warehouse(settings).dlt_destination(),
        dataset_name="raw_test",
        pipelines_dir=str(pipelines_dir),
    )
    resource = dlt.resource(iter(pages), name=name, primary_key="id", write_disposition="merge")
    pipeline.run(as_arrow(resource), loader_file_format=LOAD_FILE_FORMAT)
    return pipeline


def _merge_sql(pipeline, table: str = "leads") -> str:
    jobs = pipeline.last_trace.last_load_info.load_packages[0].jobs["completed_jobs"]
    (merge,) = [
        j
        for j in jobs
        if j.job_file_info.table_name == table and j.job_file_info.file_format == "sql"
    ]
    return Path(merge.file_path).read_text()


def _rows(settings) -> list[tuple]:
    frame = get_warehouse(settings).query("select id, status from raw_test.leads order by id")
    return [(int(i), s) for i, s in frame.itertuples(index=False)]


def test_duplicates_within_a_load_keep_the_last_staged_version(warehouse_settings, tmp_path):
    settings = warehouse_settings
    pages = [
        [{"id": 1, "status": "Open"}, {"id": 2, "status": "Open"}],
        # a record that changed while the run paged through the source comes again later
        [{"id": 1, "status": "Working"}, {"id": 3, "status": "Open"}],
    ]
    pipeline = _load(settings, pages, tmp_path / "dlt")
    builtin = getattr(dlt.destinations, settings.warehouse)
    assert pipeline.destination.destination_type == builtin().destination_type
    assert _rows(settings) == [(1, "Working"), (2, "Open"), (3, "Open")]

    # a later load replaces by key and leaves the others
    _load(
        settings,
        [[{"id": 2, "status": "Recycled"}, {"id": 2, "status": "Closed"}]],
        tmp_path / "dlt",
    )
    assert _rows(settings) == [(1, "Working"), (2, "Closed"), (3, "Open")]


def test_the_anti_join_runs_only_when_a_key_was_staged_twice(warehouse_settings, tmp_path):
    unique = [[{"id": 1, "status": "Open"}], [{"id": 2, "status": "Open"}]]
    pipeline = _load(warehouse_settings, unique, tmp_path / "dlt")
    assert "NOT EXISTS" not in _merge_sql(pipeline)

    repeated = [[{"id": 1, "status": "Working"}], [{"id": 1, "status": "Nurturing"}]]
    pipeline = _load(warehouse_settings, repeated, tmp_path / "dlt")
    assert "NOT EXISTS" in _merge_sql(pipeline)
    assert _rows(warehouse_settings) == [(1, "Nurturing"), (2, "Open")]


# Loads the package and dies the moment a file's rows are committed to the staging table,
# before dlt notes that the copy job is done: the next run copies that file again.
KILLED_AFTER_COPY = """
import json, os, signal, sys
import dlt
from dlt.common.destination.client import RunnableLoadJob
from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.warehouse import get_warehouse
from nurture.config import load_settings

run_managed = RunnableLoadJob.run_managed

def run_then_die(self, *args, **kwargs):
    run = self.run

    def copy_then_die():
        run()
        if self._file_path.endswith(".parquet"):
            os.kill(os.getpid(), signal.SIGKILL)

    self.run = copy_then_die
    run_managed(self, *args, **kwargs)

RunnableLoadJob.run_managed = run_then_die
args = json.loads(sys.argv[1])
pipeline = dlt.pipeline(
    pipeline_name="destinations_test",
    destination=get_warehouse(load_settings()).dlt_destination(),
    dataset_name="raw_test",
    pipelines_dir=args["pipelines_dir"],
)
resource = dlt.resource(
    iter(args["pages"]), name="leads", primary_key="id", write_disposition="merge"
)
pipeline.run(as_arrow(resource), loader_file_format=LOAD_FILE_FORMAT)
"""


def test_a_file_copied_twice_after_a_crash_still_merges_to_one_row_per_key(
    warehouse_settings, tmp_path
):
    settings = warehouse_settings
    pipelines_dir = tmp_path / "dlt"
    _load(settings, [[{"id": 1, "status": "Open"}]], pipelines_dir)
    pages = [[{"id": 1, "status": "Working"}, {"id": 2, "status": "Open"}]]
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_AFTER_COPY,
            json.dumps({"pages": pages, "pipelines_dir": str(pipelines_dir)}),
        ],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr

    pipeline = dlt.pipeline(
        pipeline_name="destinations_test",
        destination=get_warehouse(settings).dlt_destination(),
        dataset_name="raw_test",
        pipelines_dir=str(pipelines_dir),
    )
    assert pipeline.has_pending_data
    pipeline.run()  # the interrupted package: its file is copied a second time
    assert "NOT EXISTS" in _merge_sql(pipeline)
    assert _rows(settings) == [(1, "Working"), (2, "Open")]


@pytest.mark.postgres
def test_utc_timestamps_land_as_the_same_instants_whatever_the_server_zone(pg_database, tmp_path):
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as con:
        con.execute(f"alter database {pg_database} set timezone = 'Asia/Tokyo'")
    settings = settings_for(tmp_path, "postgres", pg_database)
    moment = datetime(2025, 1, 25, 5, 54, 22, 123456, tzinfo=UTC)
    pipeline = _load(
        settings, [[{"id": 1, "changed_at": moment}]], tmp_path / "dlt", name="changes"
    )
    jobs = pipeline.last_trace.last_load_info.load_packages[0].jobs["completed_jobs"]
    formats = {j.job_file_info.file_format for j in jobs if j.job_file_info.table_name == "changes"}
    assert formats == {"parquet", "sql"}  # the rows by binary COPY, then the merge
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={pg_database}") as con:
        stored, kind = con.execute(
            "select changed_at, pg_typeof(changed_at)::text from raw_test.changes"
        ).fetchone()
    assert kind == "timestamp with time zone"
    assert stored == moment


def test_staged_key_rows_counts_rows_and_distinct_keys_across_files(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nurture.load.destinations import staged_key_rows

    first, second, empty = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": [1, 2], "kind": ["lead", "lead"]}), first)
    pq.write_table(pa.table({"id": [2, 3], "kind": ["contact", "lead"]}), second)
    pq.write_table(
        pa.table({"id": pa.array([], pa.int64()), "kind": pa.array([], pa.string())}), empty
    )
    assert staged_key_rows([first, second, empty], ["id"]) == (4, 3)
    assert staged_key_rows([first, second, empty], ["id", "kind"]) == (4, 4)
    assert staged_key_rows([empty], ["id"]) == (0, 0)


def test_duckdb_loads_keep_to_their_memory_budget(tmp_path):
    from nurture.config import ConfigError, load_settings

    settings = load_settings({"NURTURE_HOME": str(tmp_path), "NURTURE_DUCKDB_LOAD_MEMORY": "300MB"})
    pipeline = _load(settings, [[{"id": 1, "status": "Open"}]], tmp_path / "dlt")
    with pipeline.sql_client() as client:
        limit = client.execute_sql("select current_setting('memory_limit')")[0][0]
    assert limit.replace(" ", "") in ("300.0MB", "286.1MiB")
    assert _rows(settings) == [(1, "Open")]

    with pytest.raises(ConfigError, match="NURTURE_DUCKDB_LOAD_MEMORY"):
        load_settings({"NURTURE_HOME": str(tmp_path), "NURTURE_DUCKDB_LOAD_MEMORY": "lots"})
