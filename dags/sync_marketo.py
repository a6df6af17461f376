"""
### sync_marketo

Marketo Engage: leads (bulk extract) and activities (paging token) into `raw_marketo`.

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_marketo` Asset is updated (which schedules `build_marts`).
Connection: `marketo_default` (`AIRFLOW_CONN_MARKETO_DEFAULT`).
"""

from airflow.sdk import dag, get_current_context, task

from nurture.orchestration import DEFAULT_ARGS, RAW_ASSETS, START_DATE


@dag(
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "marketo"],
    doc_md=__doc__,
)
def sync_marketo():
    @task
    def extract_load() -> dict:
        from nurture.orchestration import sync_task

        return sync_task("marketo", get_current_context())

    @task(outlets=[RAW_ASSETS["marketo"]])
    def quality_gate(summary: dict) -> dict:
        from nurture.orchestration import gate_task

        return {"load": summary, "gate": gate_task("raw_marketo")}

    quality_gate(extract_load())


sync_marketo()
