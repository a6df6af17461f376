"""A real Airflow deployment on localhost, as docs/deploy.md starts it, for tests.

PostgreSQL (a database of its own) as the metadata DB; the CeleryExecutor on Redis (a
db number of its own) or the LocalExecutor; scheduler, DAG processor, triggerer, API
server and Celery workers as separate processes; the sandbox as every source. Users'
actions go through the `airflow` and `nurture` commands; the test watches through the
REST API.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from nurture.config import REPO_ROOT, Settings
from nurture.connections import connection_env
from nurture.demo import SANDBOX_CREDENTIALS, SANDBOX_HISTORY
from nurture.transform.pseudonyms import DEMO_KEY
from tests.conftest import PG, settings_env

BIN = Path(sys.executable).parent
PIPELINE = ("sync_marketo", "sync_hubspot", "sync_salesforce", "build_marts", "score_and_handoff")
SYNCS = PIPELINE[:3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_url(database: str, driver: str) -> str:
    auth = PG["user"] + (f":{PG['password']}" if PG["password"] else "")
    return f"{driver}://{auth}@{PG['host']}:{PG['port']}/{database}"


def stack_env(
    home: Path,
    settings: Settings,
    metadata_db: str,
    executor: str,
    sandbox_url: str,
    history_until: Any,
    redis_db: int,
) -> dict[str, str]:
    api_port = free_port()
    env = {
        **settings_env(settings),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _pg_url(metadata_db, "postgresql+psycopg2"),
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": _pg_url(metadata_db, "db+postgresql"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "NURTURE_SYNC_SCHEDULE": "manual",
        "NURTURE_RETRY_DELAY_SECONDS": "2",
        # the sandbox's made-up people: the bi pseudonyms under the public demo key
        "NURTURE_PSEUDONYM_KEY": DEMO_KEY,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    history_start = (history_until - SANDBOX_HISTORY).isoformat()
    for conn_id, (login, password) in SANDBOX_CREDENTIALS.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = connection_env(
            sandbox_url, login, password, history_start=history_start, limit_backoff_seconds=1
        )
    env["AIRFLOW_CONN_SLACK_DEFAULT"] = connection_env(
        f"{sandbox_url}/hooks/slack/nurture",
        "",
        "",
        verify_url=f"{sandbox_url}/hooks/slack/_messages",
    )
    return env


@dataclass
class AirflowStack:
    env: dict[str, str]
    home: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.env["AIRFLOW__API__BASE_URL"]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """A command as a user types it, in the deployment's environment."""
        done = subprocess.run(
            list(args), env=self.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, (
            f"{' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        return done

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> None:
        log = (self.home / "logs" / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            list(args),
            env={**self.env, **(extra_env or {})},
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill a component and its children (a worker's running task with it)."""
        proc = self.processes.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self, name: str, tail: int = 4000) -> str:
        return (self.home / "logs" / f"{name}.log").read_text(errors="replace")[-tail:]

    def all_logs(self) -> str:
        names = sorted(p.stem for p in (self.home / "logs").glob("*.log"))
        return "\n".join(f"==== {name}\n{self.logs(name)}" for name in names)

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.api}/api/v2{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.patch(f"{self.api}/api/v2{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def wait_for(
        self, what: str, check: Callable[[], Any], timeout: float, every: float = 3
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                assert proc.poll() is None, f"{name} exited ({proc.returncode}):\n{self.logs(name)}"
            try:
                result = check()
            except httpx.HTTPError:
                result = None
            if result:
                return result
            time.sleep(every)
        raise AssertionError(f"timed out waiting for {what}\n{self.all_logs()}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)[
            "task_instances"
        ]

    def wait_for_runs(self, dag_id: str, count: int, timeout: float) -> list[dict[str, Any]]:
        """Wait until `dag_id` has `count` finished runs; fail at once on a failed one."""

        def finished() -> list[dict[str, Any]] | None:
            runs = self.runs(dag_id)
            failed = [r for r in runs if r["state"] == "failed"]
            assert not failed, f"{dag_id} failed: {self.failure_report(dag_id, failed)}"
            done = [r for r in runs if r["state"] == "success"]
            return done if len(done) >= count else None

        return self.wait_for(f"{count} successful run(s) of {dag_id}", finished, timeout)

    def failure_report(self, dag_id: str, runs: list[dict[str, Any]]) -> str:
        lines = []
        for run in runs:
            for ti in self.task_instances(dag_id, run["dag_run_id"]):
                if ti["state"] not in ("success", "skipped"):
                    lines.append(f"{run['dag_run_id']} {ti['task_id']} {ti['state']}")
        return "; ".join(lines) + "\n" + self.all_logs()

    def tries(self) -> dict[str, int]:
        """The try number of every task instance of every run: 1 means no retry."""
        out: dict[str, int] = {}
        for dag_id in PIPELINE:
            for run in self.runs(dag_id):
                for ti in self.task_instances(dag_id, run["dag_run_id"]):
                    out[f"{dag_id}/{run['dag_run_id']}/{ti['task_id']}"] = ti["try_number"]
        return out


@contextmanager
def airflow_stack(env: dict[str, str], home: Path, workers: int = 2) -> Iterator[AirflowStack]:
    """Migrate, initialise and start every component; stop them all on exit."""
    (home / "logs").mkdir(parents=True, exist_ok=True)
    stack = AirflowStack(env=env, home=home)
    stack.run(str(BIN / "airflow"), "db", "migrate", timeout=600)
    stack.run(str(BIN / "nurture"), "airflow-init")
    try:
        port = env["AIRFLOW__API__PORT"]
        stack.start("api-server", str(BIN / "airflow"), "api-server", "--port", port)
        stack.start("scheduler", str(BIN / "airflow"), "scheduler")
        stack.start("dag-processor", str(BIN / "airflow"), "dag-processor")
        stack.start("triggerer", str(BIN / "airflow"), "triggerer")
        if env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor":
            for n in range(1, workers + 1):
                stack.start(
                    f"worker{n}",
                    str(BIN / "airflow"),
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"nurture-test-{n}@%h",
                    extra_env={"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
                )
        stack.wait_for("the API server", lambda: stack.get("/monitor/health"), timeout=180)
        stack.wait_for(
            "the DAG processor to parse dags/",
            lambda: {d["dag_id"] for d in stack.get("/dags", limit=100)["dags"]} >= set(PIPELINE),
            timeout=240,
        )
        yield stack
    finally:
        stack.stop()
