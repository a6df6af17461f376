"""The pipeline's DAGs run as `nurture demo` runs them, for the benchmarks that time them:
`python -m nurture.dagrun` (`dag.test()`, tasks in that process) in an ephemeral Airflow
home whose connections point at a sandbox.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nurture.bench.common import Stopwatch
from nurture.config import REPO_ROOT, Settings

_DAG_LINE = re.compile(r"^::dag (\S+) (\S+) ([\d.]+)s(?: peak-rss (\d+)MB)?")


class PipelineFailed(RuntimeError):
    """A DAG did not succeed; the message names the log."""


@dataclass(frozen=True)
class DagTiming:
    dag_id: str
    state: str
    seconds: float  # from the DAG run's start to its end, as nurture.dagrun reports it
    peak_rss_mb: int | None  # the process's peak while this DAG ran


@dataclass(frozen=True)
class DagRuns:
    wall_seconds: float  # the whole process: Python, Airflow start-up, the DAG bag, the runs
    dags: tuple[DagTiming, ...]
    log: Path

    def seconds(self, dag_id: str) -> float:
        return next(d.seconds for d in self.dags if d.dag_id == dag_id)

    def stages(self) -> dict[str, dict[str, Any]]:
        return {
            d.dag_id: {"seconds": round(d.seconds, 1), "peak_rss_mb": d.peak_rss_mb}
            for d in self.dags
        }


class EphemeralAirflow:
    """An Airflow home (SQLite metadata, migrated once) whose connections reach `base_url`;
    each run's output goes to `logs` (emptied first), kept to see where the time went."""

    def __init__(
        self, home: Path, base_url: str, settings: Settings, logical_date: datetime, logs: Path
    ) -> None:
        from nurture.demo import airflow_env

        home.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        self.logs = logs
        # The connections' history start follows the first run's date, as a deployment's would.
        self.env = airflow_env(home, base_url, settings, logical_date)
        watch = Stopwatch()
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=self.env,
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
        self.migrate_seconds = watch.seconds
        self._runs = 0

    def run(self, dag_ids: list[str], logical_date: datetime, name: str) -> DagRuns:
        """Run the DAGs one after the other in one process; fail if one does not succeed."""
        self._runs += 1
        log = self.logs / f"{self._runs:02d}-{name}.log"
        cmd = [
            sys.executable,
            "-m",
            "nurture.dagrun",
            "--dags-folder",
            self.env["AIRFLOW__CORE__DAGS_FOLDER"],
            "--logical-date",
            logical_date.isoformat(),
            *dag_ids,
        ]
        watch = Stopwatch()
        with log.open("w", encoding="utf-8") as out:
            code = subprocess.run(
                cmd, env=self.env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
            ).returncode
        wall = watch.seconds
        dags = []
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if found := _DAG_LINE.match(line):
                dag_id, state, seconds, peak = found.groups()
                dags.append(DagTiming(dag_id, state, float(seconds), int(peak) if peak else None))
        if code != 0 or [d.dag_id for d in dags] != dag_ids:
            raise PipelineFailed(f"{name}: {', '.join(dag_ids)} did not all succeed; see {log}")
        return DagRuns(wall, tuple(dags), log)
