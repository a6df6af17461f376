"""Nurture under the real Airflow scheduler, as a deployment runs it (docs/deploy.md).

Not `dag.test()`: a scheduler, DAG processor, triggerer, API server and (Celery)
workers in processes of their own, PostgreSQL as the metadata DB, runs created the way
Airflow creates them (scheduled, triggered from the CLI with and without a logical
date, asset-triggered, backfill). The Asset chain must take the syncs through
`build_marts` to `score_and_handoff` by itself, with no task retried, and end where
`make demo` ends for the same world. Then the same deployment under every fault at
once: the sandbox's `chaos` profile on every source (429 bursts, 5xx, stalls, truncated
and shifting pages, drifting fields), one Celery worker SIGKILLed while it runs a sync,
and the warehouse's connections terminated while a sync loads; there retries are
expected, and the outcome must still equal the fault-free run.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from nurture.demo import sandbox_logical_date
from nurture.sandbox.server import running_sandbox
from nurture.warehouse import get_warehouse
from tests.conftest import _admin_connect, settings_for
from tests.deploy.airflow_stack import PIPELINE, SYNCS, AirflowStack, airflow_stack, stack_env
from tests.deploy.conftest import LEADS, SEED, outcome

# One file, so that xdist runs these one after another on one worker (each starts a
# whole deployment) while the other worker takes the rest of the suite.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.scheduler,
    pytest.mark.timeout(2400),
]


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


def running_syncs(stack: AirflowStack) -> list[str]:
    return [
        f"{dag_id}/{run['dag_run_id']}/{ti['task_id']}"
        for dag_id in SYNCS
        for run in stack.runs(dag_id)
        for ti in stack.task_instances(dag_id, run["dag_run_id"])
        if ti["state"] == "running"
    ]


def busy(stack: AirflowStack, worker: str) -> bool:
    """The Celery worker holds a task it received and has not finished (its own log)."""
    log = stack.logs(worker, tail=10**7)
    received = set(re.findall(r"execute_workload\[([0-9a-f-]+)\] received", log))
    done = set(re.findall(r"execute_workload\[([0-9a-f-]+)\] (?:succeeded|failed|raised)", log))
    return bool(received - done)


class ConnectionDropper(threading.Thread):
    """Terminates warehouse backends that are writing (COPY, INSERT, MERGE), once each,
    until `limit` were dropped: what a failover or a restarted PostgreSQL does."""

    def __init__(self, database: str, limit: int = 2) -> None:
        super().__init__(daemon=True)
        self.database, self.limit = database, limit
        self.dropped: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with _admin_connect() as con:
            while not self.stop.is_set() and len(self.dropped) < self.limit:
                rows = con.execute(
                    "select pid, left(query, 60) from pg_stat_activity "
                    "where datname = %s and pid <> pg_backend_pid() and state = 'active' "
                    "and (query ilike 'copy%%' or query ilike 'insert%%' "
                    "or query ilike 'merge%%')",
                    (self.database,),
                ).fetchall()
                for pid, query in rows:
                    con.execute("select pg_terminate_backend(%s)", (pid,))
                    self.dropped.append(query)
                    time.sleep(5)  # let the retry get under way before the next drop
                time.sleep(0.05)


def test_celery_deployment_completes_under_every_fault(
    demo_outcome, tmp_path: Path, pg_database: str, metadata_db: str, redis_db: int
):
    settings = settings_for(tmp_path, "postgres", pg_database)
    with running_sandbox(seed=SEED, leads=LEADS, faults="chaos", home=tmp_path) as url:
        day = sandbox_logical_date(url)
        env = stack_env(tmp_path, settings, metadata_db, "CeleryExecutor", url, day, redis_db)
        # a killed worker's task is found by its missing heartbeats: 20 s, not 5 minutes
        env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] = "20"
        env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"] = "5"
        with airflow_stack(env, tmp_path, workers=2) as stack:
            dropper = ConnectionDropper(pg_database)
            dropper.start()
            for dag_id in PIPELINE:
                stack.patch(f"/dags/{dag_id}", {"is_paused": False})
            for dag_id in SYNCS:
                stack.run("airflow", "dags", "trigger", dag_id, "--logical-date", day.isoformat())
            running = stack.wait_for(
                "worker 1 running a sync",
                lambda: busy(stack, "worker1") and running_syncs(stack),
                timeout=600,
                every=0.5,
            )
            stack.kill("worker1")
            stack.wait_for_runs("score_and_handoff", 1, timeout=1800)
            dropper.stop.set()
            retried = {key: n for key, n in stack.tries().items() if n > 1}
    assert dropper.dropped, "no warehouse write was caught to drop its connection"
    assert any(retried.get(key, 1) > 1 for key in running), "the killed task was not retried"
    faulty = outcome(settings)
    for key in ("raw", "mqls", "outbox", "deliveries"):
        assert faulty[key] == demo_outcome[key], key
