"""`build_marts` (the DAG, through Airflow) against one plain `dbt build` of the same
project on the same warehouse.

The three syncs load a sandbox world into a fresh DuckDB warehouse; one run of each
builds the marts and warms its parse (dbt's `partial_parse.msgpack`: the DAG's in the
cache its tasks share, the plain build's in its own target directory). Then each round
runs the DAG, then the plain build, back to back on the same data (both incremental
from there), and the figure is the median of the rounds' ratios: on a shared machine
only figures measured side by side compare.

The DAG's time is its run's, start to end, as `nurture.dagrun` reports it (what the
Airflow grid shows); the process around it, Python and Airflow's start-up and filling
the DAG bag, is in `dagrun_process_seconds`. The plain build is timed as a process,
`dbt build --exclude <optional sources with no data>`, start-up included.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from nurture.bench.common import (
    Result,
    Stopwatch,
    duckdb_settings,
    sandbox_connection,
    sandbox_today,
)
from nurture.bench.pipeline import EphemeralAirflow
from nurture.config import REPO_ROOT, Settings

GOAL = 1.3


def plain_dbt_build(settings: Settings, work: Path) -> float:
    """Seconds of one `dbt build` process, as a developer would type it."""
    from nurture.transform.dbt import dbt_args, dbt_env, exclusions

    excluded = exclusions(settings)
    cmd = [
        str(Path(sys.executable).with_name("dbt")),
        *dbt_args("build", settings, work),
        *(["--exclude", *excluded] if excluded else []),
    ]
    env = {**os.environ, **dbt_env(settings), "NURTURE_WAREHOUSE": settings.warehouse}
    watch = Stopwatch()
    done = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    seconds = watch.seconds
    if done.returncode != 0:
        raise RuntimeError(f"plain dbt build failed:\n{done.stdout[-3000:]}")
    return seconds


def bench_marts(base_url: str, work: Path, logs: Path, rounds: int = 3) -> Result:
    from nurture.load.sync import SOURCES, run_sync

    settings = duckdb_settings(work)
    until = sandbox_today(base_url)
    for source in SOURCES:
        run_sync(
            source,
            settings,
            until=until,
            conn=sandbox_connection(source, base_url, until),
            quiet=True,
        )
    airflow = EphemeralAirflow(work / "airflow", base_url, settings, until, logs)
    plain_dir = work / "plain"
    first_dag = airflow.run(["build_marts"], until, "build_marts-first").seconds("build_marts")
    first_plain = plain_dbt_build(settings, plain_dir)
    pairs = []
    for n in range(rounds):
        runs = airflow.run(["build_marts"], until, f"build_marts-{n}")
        plain = plain_dbt_build(settings, plain_dir)
        dag = runs.seconds("build_marts")
        pairs.append(
            {
                "build_marts_seconds": round(dag, 1),
                "plain_dbt_build_seconds": round(plain, 1),
                "ratio": round(dag / plain, 3),
                "dagrun_process_seconds": round(runs.wall_seconds, 1),
            }
        )
    ratio = statistics.median(p["ratio"] for p in pairs)
    median = min(pairs, key=lambda p: abs(p["ratio"] - ratio))
    return Result(
        "marts: build_marts DAG / one plain dbt build",
        ratio,
        GOAL,
        False,
        {
            "build_marts_seconds": median["build_marts_seconds"],
            "plain_dbt_build_seconds": median["plain_dbt_build_seconds"],
            "dagrun_process_seconds": median["dagrun_process_seconds"],
            "rounds": pairs,
            "logs": str(logs),
            "warm_up_seconds": {
                "build_marts": round(first_dag, 1),
                "plain_dbt_build": round(first_plain, 1),
            },
        },
    )
