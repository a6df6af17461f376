"""The PostgreSQL merge keeps one row per key: the version staged last."""

from __future__ import annotations

import dlt
import psycopg
import pytest

from nurture.load.arrow_pages import as_arrow
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for

pytestmark = pytest.mark.postgres


def _load(settings, pages, pipelines_dir):
    pipeline = dlt.pipeline(
        pipeline_name="pg_destination_test",
        destination=get_warehouse(settings).dlt_destination(),
        dataset_name="raw_test",
        pipelines_dir=str(pipelines_dir),
    )
    resource = dlt.resource(iter(pages), name="leads", primary_key="id", write_disposition="merge")
    pipeline.run(as_arrow(resource), loader_file_format="csv")
    return pipeline


def _rows(database: str) -> list[tuple]:
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as con:
        return con.execute("select id, status from raw_test.leads order by id").fetchall()


def test_duplicates_within_a_load_keep_the_last_staged_version(pg_database, tmp_path):
    settings = settings_for(tmp_path, "postgres", pg_database)
    pages = [
        [{"id": 1, "status": "Open"}, {"id": 2, "status": "Open"}],
        # a record that changed while the run paged through the source comes again later
        [{"id": 1, "status": "Working"}, {"id": 3, "status": "Open"}],
    ]
    pipeline = _load(settings, pages, tmp_path / "dlt")
    assert pipeline.destination.destination_type == dlt.destinations.postgres().destination_type
    assert _rows(pg_database) == [(1, "Working"), (2, "Open"), (3, "Open")]

    # a later load replaces by key and leaves the others
    _load(
        settings,
        [[{"id": 2, "status": "Recycled"}, {"id": 2, "status": "Closed"}]],
        tmp_path / "dlt",
    )
    assert _rows(pg_database) == [(1, "Working"), (2, "Closed"), (3, "Open")]
