"""The `ops` tables every sync writes: quarantine and the run log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import dlt

from nurture.connectors.records import Quarantine
from nurture.load.arrow_pages import LOAD_FILE_FORMAT
from nurture.load.locks import pipeline_lock
from nurture.load.parking import ParkedPackage, has_pending, load_pending
from nurture.warehouse import Warehouse

QUARANTINE_KEY = ("source", "object", "record_key", "reason")
# The ops loads' DuckDB budget, below the raw loads' (NURTURE_DUCKDB_LOAD_MEMORY): the ops
# tables are small, but for the quarantine of a file of bad rows, whose merge then spills
# to disk instead of filling the raw loads' budget. An import's peak memory stays flat in
# its bad rows (`nurture bench --only quarantine`: 1.01x for ten times as many; 1.29x in
# the raw loads' 256MB).
OPS_LOAD_MEMORY = "64MB"


def write_ops(
    warehouse: Warehouse,
    pipelines_dir: str,
    quarantine: Quarantine,
    run_id: str,
    run_rows: list[dict[str, Any]],
    parked: Sequence[ParkedPackage] = (),
    logical_date: datetime | None = None,
) -> None:
    """Merge quarantined records and run-log rows into `ops` (re-runs overwrite, never double),
    with a row in each for every load package `parked` (nurture.load.parking)."""
    pipeline = dlt.pipeline(
        pipeline_name="nurture_ops",
        destination=warehouse.dlt_destination(memory=OPS_LOAD_MEMORY),
        dataset_name="ops",
        pipelines_dir=pipelines_dir,
    )
    with pipeline_lock(pipelines_dir, "nurture_ops"):
        if has_pending(pipeline):
            # a run killed mid-load left a package: `run` would load only that one
            parked = [*parked, *load_pending(pipeline, pipelines_dir)]
        # Parquet, as the raw loads: DuckDB's default (INSERT statements) parses the whole
        # quarantine as SQL text, gigabytes for a file of bad rows
        pipeline.run(
            _resources(quarantine, run_id, run_rows, parked, logical_date),
            loader_file_format=LOAD_FILE_FORMAT,
        )


def _resources(
    quarantine: Quarantine,
    run_id: str,
    run_rows: list[dict[str, Any]],
    parked: Sequence[ParkedPackage],
    logical_date: datetime | None,
) -> list[Any]:
    resources = [
        dlt.resource(
            [*run_rows, *(package.run_row(logical_date) for package in parked)],
            name="sync_runs",
            primary_key=("run_id", "object"),
            write_disposition="merge",
            # null on every successful run: typed here, or dlt warns it cannot infer it
            columns={"error": {"data_type": "text"}},
        ),
    ]
    if quarantine.count() or parked:
        rows: Iterator[dict[str, Any]] = chain(
            quarantine.rows(run_id),  # streamed from the spool, not a list
            (package.quarantine_row(run_id) for package in parked),
        )
        resources.append(
            dlt.resource(
                rows,
                name="quarantine",
                primary_key=QUARANTINE_KEY,
                write_disposition="merge",
            )
        )
    return resources
