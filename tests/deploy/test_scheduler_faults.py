"""Faults on a real deployment: the cycle completes on retry and loses or doubles nothing.

The CeleryExecutor with two workers and the PostgreSQL warehouse, as in
test_scheduler.py, with every fault at once: the sandbox's `chaos` profile on every
source (429 bursts, 5xx, stalls, truncated and shifting pages, drifting fields), one
Celery worker SIGKILLed while it runs a sync, and the warehouse's connections
terminated while a sync loads. Retries are expected here; the outcome must equal the
fault-free `make demo` path for the same world.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from nurture.demo import sandbox_logical_date
from nurture.sandbox.server import running_sandbox
from tests.conftest import _admin_connect, settings_for
from tests.deploy.airflow_stack import PIPELINE, SYNCS, AirflowStack, airflow_stack, stack_env
from tests.deploy.conftest import LEADS, SEED, outcome

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.scheduler]


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
