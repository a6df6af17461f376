"""`nurture demo`: the whole pipeline once, through Airflow, against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from nurture.config import REPO_ROOT, Settings
from nurture.connections import connection_env
from nurture.progress import NO_PROGRESS, Progress
from nurture.report.run import ensure_report
from nurture.summary import PipelineSummary, collect_summary
from nurture.transform.pseudonyms import DEMO_KEY, KEY_CONNECTION, KEY_ENV

PIPELINE_DAGS = (
    "sync_marketo",
    "sync_hubspot",
    "sync_salesforce",
    "build_marts",
    "score_and_handoff",
)


# The sandbox world holds two years of history before its "today".
SANDBOX_HISTORY = timedelta(days=731)


# Any non-empty credentials work against the sandbox; HubSpot takes a token as password.
SANDBOX_CREDENTIALS = {
    "marketo_default": ("nurture-demo", "demo-client-secret"),
    "hubspot_default": ("", "demo-private-app-token"),
    "salesforce_default": ("nurture-demo", "demo-client-secret"),
}


class DemoFailed(RuntimeError):
    """A step of the demo failed; the message points at its log."""


def airflow_env(
    airflow_home: Path, base_url: str, settings: Settings, logical_date: datetime
) -> dict[str, str]:
    """An ephemeral Airflow (SQLite metadata, no examples) with connections to the sandbox."""
    history_start = (logical_date - SANDBOX_HISTORY).isoformat()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "NURTURE_HOME": str(settings.home),
        "NURTURE_WAREHOUSE": settings.warehouse,
        "NURTURE_RETRY_DELAY_SECONDS": "2",
    }
    for conn_id, (login, password) in SANDBOX_CREDENTIALS.items():
        # The sandbox's request-limit refusals clear at once: no 30 s Salesforce back-off.
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = connection_env(
            base_url, login, password, history_start=history_start, limit_backoff_seconds=1
        )
    # The sandbox lists what its webhook received: a notice cut short by a crash is
    # checked there before it is sent again (exactly once, not at most once).
    env["AIRFLOW_CONN_SLACK_DEFAULT"] = connection_env(
        f"{base_url}/hooks/slack/nurture", "", "", verify_url=f"{base_url}/hooks/slack/_messages"
    )
    if uses_demo_key(env):
        env[KEY_ENV] = DEMO_KEY
    return env


def uses_demo_key(environ: Mapping[str, str]) -> bool:
    """The sandbox's made-up people get the bi schema's pseudonyms under the public demo
    key, unless a key is configured (docs/bi.md)."""
    return not (
        environ.get(KEY_ENV, "").strip()
        or environ.get(f"AIRFLOW_CONN_{KEY_CONNECTION.upper()}", "").strip()
    )


def _run_logged(
    cmd: list[str],
    env: dict[str, str],
    log_path: Path,
    what: str,
    on_dag: Callable[[str, str, str], None] | None = None,
) -> None:
    """Run `cmd` with its output in `log_path`; `on_dag(dag_id, state, rest)` gets each
    `::dag` line `nurture.dagrun` prints (`started`, then the state it ended in)."""
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if on_dag is not None and line.startswith("::dag "):
                _, dag_id, state, *rest = line.split()
                on_dag(dag_id, state, " ".join(rest))
        code = proc.wait()
    if code != 0:
        tail = "".join(log_path.read_text(encoding="utf-8").splitlines(True)[-25:])
        raise DemoFailed(f"{what} failed (exit {code}); full log: {log_path}\n{tail}")


def sandbox_logical_date(base_url: str) -> datetime:
    """The run's logical date: midnight after the sandbox world's last simulated day."""
    today = httpx.get(f"{base_url}/health", timeout=10).json()["today"]
    day = datetime.fromisoformat(today).replace(tzinfo=UTC)
    return day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def run_demo(
    settings: Settings,
    seed: int,
    leads: int,
    faults: str = "none",
    logical_date: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> PipelineSummary:
    """The sandbox, an ephemeral Airflow and the pipeline DAGs, once; `progress` is told
    the step the demo is on (sandbox, Airflow, each DAG, the report)."""
    from nurture.sandbox.server import running_sandbox

    steps = DemoSteps(progress)
    settings.ensure_dirs()
    demo_started = time.time()
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="nurture-airflow-") as tmp:
        airflow_home = Path(tmp)
        print(f"Sandbox: seed {seed}, {leads:,} leads, faults {faults}", flush=True)
        if uses_demo_key(os.environ):
            print(
                f"Pseudonyms: the public demo key ({KEY_ENV} is not set), fine for the "
                "sandbox's made-up people, never for real data (docs/bi.md)",
                flush=True,
            )
        steps.step(f"starting the sandbox ({leads:,} leads)")
        with running_sandbox(seed=seed, leads=leads, faults=faults, home=settings.home) as base_url:
            when = logical_date or sandbox_logical_date(base_url)
            env = airflow_env(airflow_home, base_url, settings, when)
            started = time.monotonic()
            steps.step("setting up Airflow (airflow db migrate)")
            _run_logged(
                [python, "-m", "airflow", "db", "migrate"],
                env,
                logs / "airflow-db.log",
                "airflow db migrate",
            )
            print(
                f"Airflow: ephemeral home ready ({time.monotonic() - started:.0f}s); "
                "running the DAGs with dag.test()",
                flush=True,
            )
            _run_logged(
                [
                    python,
                    "-m",
                    "nurture.dagrun",
                    "--dags-folder",
                    env["AIRFLOW__CORE__DAGS_FOLDER"],
                    "--logical-date",
                    when.isoformat(),
                    *PIPELINE_DAGS,
                ],
                env,
                logs / "demo-dags.log",
                "the pipeline DAGs",
                on_dag=steps.dag,
            )
    # score_and_handoff's report task wrote the KPI report; a teardown never fails the
    # run, so a report it could not write is written (or its error raised) here.
    steps.step("checking the KPI report")
    ensure_report(settings, since=demo_started)
    steps.step("summing up the warehouse")
    summary = collect_summary(settings)
    steps.finish()
    return summary


class DemoSteps:
    """The demo's steps for a `Progress` (one line: `demo step 3/9: running the
    sync_hubspot DAG`), and each `::dag` line on stdout, as before."""

    KEY = "demo"
    TOTAL = 2 + len(PIPELINE_DAGS) + 2  # sandbox, Airflow, the DAGs, report, summary

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.started = 0

    def step(self, what: str) -> None:
        self.started += 1
        self.progress.update(
            self.KEY,
            f"demo step {self.started}/{self.TOTAL}: {what}",
            completed=self.started - 1,
            total=self.TOTAL,
        )

    def dag(self, dag_id: str, state: str, rest: str) -> None:
        if state == "started":
            self.step(f"running the {dag_id} DAG")
        print(f"  {dag_id:<20} {state:<8} {rest}", flush=True)

    def finish(self) -> None:
        self.progress.done(self.KEY, f"demo: {self.TOTAL} steps done")
