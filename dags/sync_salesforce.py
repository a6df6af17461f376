"""
### sync_salesforce

Salesforce: leads by SOQL queryAll on SystemModstamp into `raw_salesforce`.

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_salesforce` Asset is updated (which schedules `build_marts`).
Connection: `salesforce_default` (`AIRFLOW_CONN_SALESFORCE_DEFAULT`).
"""

from airflow.sdk import dag, get_current_context, task

from nurture.orchestration import DEFAULT_ARGS, RAW_ASSETS, START_DATE


@dag(
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "salesforce"],
    doc_md=__doc__,
)
def sync_salesforce():
    @task
    def extract_load() -> dict:
        from nurture.orchestration import sync_task

        return sync_task("salesforce", get_current_context())

    @task(outlets=[RAW_ASSETS["salesforce"]])
    def quality_gate(summary: dict) -> dict:
        from nurture.orchestration import gate_task

        return {"load": summary, "gate": gate_task("raw_salesforce")}

    quality_gate(extract_load())


sync_salesforce()
