"""Run DAGs once, in order, in this process with `dag.test()` (no scheduler needed).

Used by `nurture demo`, the end-to-end tests and `nurture bench`: the real DAG files,
the real task code, an ephemeral Airflow home. Exit status 1 names the DAG that failed.
Each DAG's line gives its seconds and the process's peak resident memory while it ran
(`::dag build_marts success 31.2s peak-rss 640MB`; tasks run in this process).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime


def run_dags(dags_folder: str, dag_ids: list[str], logical_date: datetime) -> int:
    from airflow.dag_processing.dagbag import DagBag

    from nurture.bench.memory import peak_rss_kb, reset_peak_rss

    bag = DagBag(dag_folder=dags_folder)
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"DAG import error in {path}:\n{error}", file=sys.stderr)
        return 1
    for dag_id in dag_ids:
        dag = bag.get_dag(dag_id)
        if dag is None:
            print(f"no DAG named {dag_id!r} in {dags_folder}", file=sys.stderr)
            return 1
        reset_peak_rss()
        started = time.monotonic()
        print(f"::dag {dag_id} started", flush=True)
        dag_run = dag.test(logical_date=logical_date)
        state = str(getattr(dag_run.state, "value", dag_run.state))
        seconds = time.monotonic() - started
        peak = f"peak-rss {peak_rss_kb() // 1024}MB"
        print(f"::dag {dag_id} {state} {seconds:.1f}s {peak}", flush=True)
        if state != "success":
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nurture.dagrun")
    parser.add_argument("--dags-folder", required=True)
    parser.add_argument("--logical-date", required=True, type=datetime.fromisoformat)
    parser.add_argument("dag_ids", nargs="+")
    args = parser.parse_args(argv)
    return run_dags(args.dags_folder, args.dag_ids, args.logical_date)


if __name__ == "__main__":
    sys.exit(main())
