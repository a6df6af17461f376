"""
### score_and_handoff

First `marts_gate`: the Great Expectations suites on the marts scoring reads
(`include/gx/marts.*.json`: `dim_lead` not empty, lead ids present and unique, score
inputs within their values; engagement events keyed and dated). A failure stops the
run before anything is scored, with the expectation, column and row count as reason.

Then scores every lead with `include/scoring/rules.yaml` as of the logical date, writes
`marts.fct_lead_scores` and enqueues new MQLs in `ops.mql_outbox` (keyed by lead and
cycle, in the same transaction), rebuilds the dbt models that read the scores
(lifecycle stages, funnel; cosmos, `source:scoring+`), assigns each new MQL its owner
(`include/handoff/owners.yaml`, stored in `ops.mql_assignments`), then hands the
outbox to sales, one task per target: Salesforce (Lead upsert by `Nurture_Lead_Id__c`
plus a Task with the reasons), HubSpot (lifecycle stage), the day's CSV feed in
`$NURTURE_HOME/feeds/`, and one Slack notice per owner.

Each delivery is recorded per entry and target in `ops.mql_deliveries`; re-runs and
retries deliver only what is pending and never create a second lead, Task or notice.
A target that fails leaves its entries pending and its task red; the other targets
still run (they trigger on `all_done`).

Last, `report` writes the KPI report from the marts this run left
(`$NURTURE_HOME/reports/latest.html`, docs/report.md). It is a teardown task: it runs
whatever the targets did and never changes the run's state (a red report task alerts
on its own).
"""

from airflow.sdk import dag, get_current_context, task

from nurture.orchestration import DEFAULT_ARGS, MARTS, MQL_OUTBOX, START_DATE
from nurture.transform.layers import SCORE_DEPENDENT, layer_operator


@dag(
    schedule=[MARTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["scoring", "handoff"],
    render_template_as_native_obj=True,
    doc_md=__doc__,
)
def score_and_handoff():
    @task
    def marts_gate() -> dict:
        """Great Expectations on the marts scoring reads; bad data fails the run here."""
        from nurture.orchestration import marts_gate_task

        return marts_gate_task()

    @task(outlets=[MQL_OUTBOX])
    def score() -> dict:
        from nurture.orchestration import scoring_task

        return scoring_task(get_current_context())

    @task
    def plan() -> list[str]:
        """dbt exclusions for optional sources that have not loaded anything yet."""
        from nurture.orchestration import dbt_exclusions_task

        return dbt_exclusions_task()

    score_marts = layer_operator(SCORE_DEPENDENT, exclude="{{ ti.xcom_pull(task_ids='plan') }}")

    @task
    def assign_owners() -> dict:
        from nurture.orchestration import assign_owners_task

        return assign_owners_task()

    # One task per target, in a chain: the embedded DuckDB warehouse takes one writer
    # at a time. `all_done` lets each target run whatever happened to the one before.
    @task(trigger_rule="all_done")
    def salesforce() -> dict:
        from nurture.orchestration import handoff_target_task

        return handoff_target_task("salesforce", get_current_context())

    @task(trigger_rule="all_done")
    def hubspot() -> dict:
        from nurture.orchestration import handoff_target_task

        return handoff_target_task("hubspot", get_current_context())

    @task(trigger_rule="all_done")
    def csv_feed() -> dict:
        from nurture.orchestration import feed_task

        return feed_task(get_current_context())

    @task(trigger_rule="all_done")
    def slack() -> dict:
        from nurture.orchestration import handoff_target_task

        return handoff_target_task("slack", get_current_context())

    @task
    def report() -> dict:
        """The KPI report (HTML) in $NURTURE_HOME/reports/."""
        from nurture.report import report_task

        return report_task()

    marts_gate() >> score() >> plan() >> score_marts
    handoff = score_marts >> assign_owners() >> salesforce() >> hubspot() >> csv_feed() >> slack()
    handoff >> report().as_teardown()


score_and_handoff()
