"""
### sync_hubspot

HubSpot CRM: contacts by search on lastmodifieddate into `raw_hubspot`.

Incremental from the stored cursor minus a lookback, merged by primary key, so a
re-run of the same logical date changes nothing; backfill runs reload their own
window. Rejected records land in `ops.quarantine`; the GX gate must pass before
the `raw_hubspot` Asset is updated (which schedules `build_marts`).
Connection: `hubspot_default` (`AIRFLOW_CONN_HUBSPOT_DEFAULT`).
"""

from airflow.sdk import dag, get_current_context, task

from nurture.orchestration import DEFAULT_ARGS, RAW_ASSETS, START_DATE


@dag(
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "hubspot"],
    doc_md=__doc__,
)
def sync_hubspot():
    @task
    def extract_load() -> dict:
        from nurture.orchestration import sync_task

        return sync_task("hubspot", get_current_context())

    @task(outlets=[RAW_ASSETS["hubspot"]])
    def quality_gate(summary: dict) -> dict:
        from nurture.orchestration import gate_task

        return {"load": summary, "gate": gate_task("raw_hubspot")}

    quality_gate(extract_load())


sync_hubspot()
