"""
### build_marts

Builds the dbt project (staging → intermediate → marts) on the warehouse once every
source sync has updated its raw Asset, then updates the `marts` Asset, which
schedules `score_and_handoff`. A failing model or test fails the task with the
names of the failing nodes.
"""

from airflow.sdk import dag, task

from nurture.orchestration import DEFAULT_ARGS, MARTS, RAW_ASSETS, START_DATE


@dag(
    schedule=RAW_ASSETS["marketo"] & RAW_ASSETS["hubspot"] & RAW_ASSETS["salesforce"],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["transform"],
    doc_md=__doc__,
)
def build_marts():
    @task
    def seed() -> dict:
        from nurture.orchestration import dbt_build_task

        return dbt_build_task(["--select", "resource_type:seed"])

    @task(outlets=[MARTS])
    def build(_: dict) -> dict:
        from nurture.orchestration import dbt_build_task

        return dbt_build_task(["--exclude", "resource_type:seed"])

    build(seed())


build_marts()
