"""Nurture's dlt destinations: merges keep one row per key (the version staged last) on
both warehouses, and timestamps reach PostgreSQL (Parquet, binary COPY) as the same
instants whatever the server's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import dlt
import psycopg
import pytest

from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for


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
