"""The `ops` tables every sync writes: quarantine and the run log."""

from __future__ import annotations

from typing import Any

import dlt

from nurture.connectors.records import Quarantine
from nurture.load.arrow_pages import LOAD_FILE_FORMAT
from nurture.load.locks import pipeline_lock
from nurture.warehouse import Warehouse

QUARANTINE_KEY = ("source", "object", "record_key", "reason")


def write_ops(
    warehouse: Warehouse,
    pipelines_dir: str,
    quarantine: Quarantine,
    run_id: str,
    run_rows: list[dict[str, Any]],
) -> None:
    """Merge quarantined records and run-log rows into `ops` (re-runs overwrite, never double)."""
    pipeline = dlt.pipeline(
        pipeline_name="nurture_ops",
        destination=warehouse.dlt_destination(),
        dataset_name="ops",
        pipelines_dir=pipelines_dir,
    )
    resources = [
        dlt.resource(
            run_rows,
            name="sync_runs",
            primary_key=("run_id", "object"),
            write_disposition="merge",
            # null on every successful run: typed here, or dlt warns it cannot infer it
            columns={"error": {"data_type": "text"}},
        ),
    ]
    if quarantine.count():
        resources.append(
            dlt.resource(
                quarantine.rows(run_id),  # streamed from the spool, not a list
                name="quarantine",
                primary_key=QUARANTINE_KEY,
                write_disposition="merge",
            )
        )
    with pipeline_lock(pipelines_dir, "nurture_ops"):
        if pipeline.has_pending_data:
            # a run killed mid-load left a package: `run` would load only that one
            pipeline.run()
        # Parquet, as the raw loads: DuckDB's default (INSERT statements) parses the whole
        # quarantine as SQL text, gigabytes for a file of bad rows
        pipeline.run(resources, loader_file_format=LOAD_FILE_FORMAT)
