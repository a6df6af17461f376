"""
### score_and_handoff

Scores every lead with `include/scoring/rules.yaml` as of the logical date, writes
`marts.fct_lead_scores` and enqueues new MQLs in `ops.mql_outbox` (keyed by lead
and cycle, in the same transaction), then delivers the day's CSV feed to
`$NURTURE_HOME/feeds/`. Re-runs rebuild the same feed and never enqueue twice.
"""

from airflow.sdk import dag, get_current_context, task

from nurture.orchestration import DEFAULT_ARGS, MARTS, MQL_OUTBOX, START_DATE


@dag(
    schedule=[MARTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["scoring", "handoff"],
    doc_md=__doc__,
)
def score_and_handoff():
    @task(outlets=[MQL_OUTBOX])
    def score() -> dict:
        from nurture.orchestration import scoring_task

        return scoring_task(get_current_context())

    @task
    def csv_feed(scored: dict) -> dict:
        from nurture.orchestration import feed_task

        return {"scoring": scored, "feed": feed_task(get_current_context())}

    csv_feed(score())


score_and_handoff()
