"""Nurture under the real Airflow scheduler, as a deployment runs it (docs/deploy.md).

Not `dag.test()`: a scheduler, DAG processor, triggerer, API server and (Celery)
workers in processes of their own, PostgreSQL as the metadata DB, runs created the way
Airflow creates them (scheduled, triggered from the CLI with and without a logical
date, asset-triggered, backfill). The Asset chain must take the syncs through
`build_marts` to `score_and_handoff` by itself, with no task retried, and end where
`make demo` ends for the same world.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from nurture.demo import sandbox_logical_date
from nurture.sandbox.server import running_sandbox
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.deploy.airflow_stack import PIPELINE, SYNCS, airflow_stack, stack_env
from tests.deploy.conftest import LEADS, SEED, outcome

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.scheduler]


def assert_no_retries(tries: dict[str, int]) -> None:
    retried = {key: n for key, n in tries.items() if n > 1}
    assert tries and not retried, f"tasks needed a retry: {retried}"


def test_celery_deployment_hands_over_the_demo_mqls_by_itself(
    demo_outcome, tmp_path: Path, pg_database: str, metadata_db: str, redis_db: int
):
    """CeleryExecutor on Redis, two workers, the PostgreSQL warehouse. Unpausing the DAGs
    starts scheduled sync runs; their raw Assets trigger `build_marts`, whose Asset
    triggers `score_and_handoff`. Then a backfill (concurrent runs of one sync) and a
    trigger without a logical date, as users run them."""
    settings = settings_for(tmp_path, "postgres", pg_database)
    with running_sandbox(seed=SEED, leads=LEADS, home=tmp_path) as url:
        day = sandbox_logical_date(url)
        env = stack_env(tmp_path, settings, metadata_db, "CeleryExecutor", url, day, redis_db)
        # The syncs' last scheduled time before now is the sandbox's last midnight: the
        # scheduled runs unpausing creates stand for the same window as the demo's.
        # Two earlier monthly points give the backfill below two runs.
        months = ",".join(str((day.month - k - 1) % 12 + 1) for k in (2, 1, 0))
        env["NURTURE_SYNC_SCHEDULE"] = f"0 0 {day.day} {months} *"
        with airflow_stack(env, tmp_path, workers=2) as stack:
            for dag_id in PIPELINE:
                stack.patch(f"/dags/{dag_id}", {"is_paused": False})
            [handoff] = stack.wait_for_runs("score_and_handoff", 1, timeout=1200)
            assert handoff["run_type"] == "asset_triggered"
            for dag_id in SYNCS:
                assert {r["run_type"] for r in stack.runs(dag_id)} == {"scheduled"}
            assert outcome(settings) == demo_outcome

            # Backfill: a run per earlier schedule point, two at once; each loads its
            # own window (not an empty one) and none trips over the other's files.
            stack.run(
                "airflow", "backfill", "create", "--dag-id", "sync_hubspot",
                "--from-date", (day - timedelta(days=70)).date().isoformat(),
                "--to-date", (day - timedelta(days=1)).date().isoformat(),
                "--max-active-runs", "2",
            )  # fmt: skip
            backfills = stack.wait_for(
                "the backfill runs",
                lambda: [
                    r
                    for r in stack.wait_for_runs("sync_hubspot", 3, timeout=600)
                    if r["run_type"] == "backfill"
                ],
                timeout=600,
            )
            assert len(backfills) == 2
            loaded = get_warehouse(settings).query(
                "select run_id, object, rows_loaded from ops.sync_runs where run_id like '%:from:%'"
            )
            assert len(set(loaded["run_id"])) == 2
            assert loaded.groupby("run_id")["rows_loaded"].sum().min() > 7  # more than owners

            # A trigger without a logical date: the run stands for now.
            stack.run("airflow", "dags", "trigger", "sync_salesforce")
            stack.wait_for_runs("sync_salesforce", 2, timeout=600)
            assert {r["run_type"] for r in stack.runs("sync_salesforce")} == {
                "scheduled",
                "manual",
            }
            assert_no_retries(stack.tries())
    # nothing the later runs did changes what sales received
    assert outcome(settings)["deliveries"] == demo_outcome["deliveries"]


def test_local_executor_on_duckdb_runs_the_chain_from_cli_triggers(
    demo_outcome, tmp_path: Path, metadata_db: str
):
    """LocalExecutor and the embedded DuckDB warehouse (one writer at a time, through the
    pool): the three syncs triggered at once from the CLI, with a logical date."""
    settings = settings_for(tmp_path, "duckdb")
    with running_sandbox(seed=SEED, leads=LEADS, home=tmp_path) as url:
        day = sandbox_logical_date(url)
        env = stack_env(tmp_path, settings, metadata_db, "LocalExecutor", url, day, redis_db=0)
        with airflow_stack(env, tmp_path) as stack:
            for dag_id in PIPELINE:
                stack.patch(f"/dags/{dag_id}", {"is_paused": False})
            for dag_id in SYNCS:
                stack.run("airflow", "dags", "trigger", dag_id, "--logical-date", day.isoformat())
            stack.wait_for_runs("score_and_handoff", 1, timeout=1200)
            assert_no_retries(stack.tries())
            pool = stack.get("/pools/nurture_warehouse")
            assert pool["slots"] == 1
    assert outcome(settings) == demo_outcome
