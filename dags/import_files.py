"""
### import_files

CSV files marketers drop into the drop folder (`$NURTURE_HOME/dropbox` unless
`include/files/sources.yaml` names another): trade-show lead lists and business-card
exports (Sansan, Eight), UTF-8 or cp932, Japanese or English headers.

Every hour, each file whose name matches a kind's globs is read as a stream, its rows
mapped to canonical columns and merged into `raw_files.<kind>` on (file_sha256,
row_number); the file is recorded in `raw_files.imported_files` and moved to
`processed/<date>/`. The same content dropped again changes nothing. Rows without an
e-mail or with a bad date, and files that cannot be decoded or have no e-mail header,
land in `ops.quarantine` (source `files`) and the import goes on. The GX gate of the
kinds that received rows must pass before the `raw_files` Asset is updated, which
schedules `build_marts`: the people in the files join identity resolution, `dim_lead`,
scoring and the MQL feed. A run with nothing new skips the gate and leaves the Asset
alone.
"""

from airflow.sdk import dag, get_current_context, task

from nurture.orchestration import (
    DEFAULT_ARGS,
    HOURLY,
    RAW_ASSETS,
    START_DATE,
    files_gate_task,
    files_import_task,
    publish_window,
)


@dag(
    schedule=HOURLY,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "files"],
    doc_md=__doc__,
)
def import_files():
    @task(task_id="import_files")
    def import_dropped_files() -> dict:
        return files_import_task(get_current_context())

    @task(outlets=[RAW_ASSETS["files"]])
    def quality_gate(summary: dict) -> dict:
        checked = files_gate_task(summary)
        publish_window(get_current_context(), RAW_ASSETS["files"])
        return {"import": summary, "gate": checked}

    quality_gate(import_dropped_files())


import_files()
