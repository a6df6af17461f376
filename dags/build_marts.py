"""
### build_marts

Builds the dbt project on the warehouse once every source sync has updated its raw
Asset, then updates the `marts` Asset, which schedules `score_and_handoff`.

First `freshness`: how old each source's newest row is at the window end the syncs'
Asset events carry; a stale source warns on Slack, one past its error threshold fails
the run with the tables and their age as the reason (docs/operations.md).

Then the dbt project, rendered with astronomer-cosmos, a task per layer: staging
(seeds, staging views, snapshots) → marts (intermediate and marts models) → bi. Each
runs `dbt build` on its layer (models, snapshots, seeds, their data and unit tests),
starting from the parse the freshness check left; a failing model or test fails that
task and the layers after it, at once (no retry). Models of optional sources with no
data yet (dropped files) are left out, not failed. `publish` updates the `marts` Asset
with the window the marts cover, for `score_and_handoff`.
"""

from airflow.sdk import dag, task

from nurture.orchestration import DEFAULT_ARGS, MARTS, RAW_ASSETS, START_DATE
from nurture.transform.layers import LAYERS, layer_operator


@dag(
    schedule=(RAW_ASSETS["marketo"] & RAW_ASSETS["hubspot"] & RAW_ASSETS["salesforce"])
    | RAW_ASSETS["files"],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    render_template_as_native_obj=True,
    tags=["transform"],
    doc_md=__doc__,
)
def build_marts():
    @task
    def plan() -> list[str]:
        """dbt exclusions for optional sources that have not loaded anything yet."""
        from nurture.orchestration import dbt_exclusions_task

        return dbt_exclusions_task()

    @task
    def freshness() -> dict:
        """dbt source freshness at the window end: stale warns on Slack, too stale fails."""
        from airflow.sdk import get_current_context

        from nurture.orchestration import freshness_check_task

        return freshness_check_task(get_current_context())

    previous = freshness()
    plan() >> previous
    for layer in LAYERS:
        step = layer_operator(
            layer,
            exclude="{{ ti.xcom_pull(task_ids='plan') }}",
        )
        previous >> step
        previous = step

    @task(outlets=[MARTS])
    def publish() -> None:
        """Update the `marts` Asset with the window the marts now cover (for scoring)."""
        from airflow.sdk import get_current_context

        from nurture.orchestration import publish_window

        publish_window(get_current_context(), MARTS)

    previous >> publish()


build_marts()
