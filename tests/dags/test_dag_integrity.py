"""Every DAG imports cleanly, fast, with the defaults operators rely on."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
APPROVED_TAGS = {
    "ingest",
    "transform",
    "scoring",
    "handoff",
    "ops",
    "marketo",
    "hubspot",
    "salesforce",
    "files",
}
EXPECTED_DAGS = {
    "sync_marketo",
    "sync_hubspot",
    "sync_salesforce",
    "build_marts",
    "score_and_handoff",
    "import_files",
}


def core_timetable(dag):
    """The timetable as the scheduler sees it (DAG files hold only its definition)."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    return coerce_to_core_timetable(dag.timetable)


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags_exist(dagbag):
    assert set(dagbag.dag_ids) >= EXPECTED_DAGS


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_defaults(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags and set(dag.tags) <= APPROVED_TAGS
    assert dag.doc_md
    for task in dag.tasks:
        assert task.owner and task.owner != "airflow"
        assert task.retries >= 2
        assert task.retry_exponential_backoff


def test_no_cycles(dagbag):
    for dag in dagbag.dags.values():
        order = dag.topological_sort()
        assert len(order) == len(dag.tasks)


def test_assets_chain_the_pipeline(dagbag):
    def outlets(dag_id):
        return {o.name for t in dagbag.dags[dag_id].tasks for o in t.outlets}

    assert outlets("sync_marketo") == {"raw_marketo"}
    assert outlets("import_files") == {"raw_files"}
    assert outlets("build_marts") == {"marts"}
    build_schedule = str(dagbag.dags["build_marts"].timetable.asset_condition)
    for source in ("marketo", "hubspot", "salesforce"):
        assert f"raw_{source}" in build_schedule
    assert "marts" in str(dagbag.dags["score_and_handoff"].timetable.asset_condition)


def test_files_arrive_any_time(dagbag):
    dag = dagbag.dags["import_files"]
    assert core_timetable(dag)._expression == "0 * * * *"
    assert dag.catchup is False
    assert [t.task_id for t in dag.topological_sort()] == ["import_files", "quality_gate"]


def test_parse_is_fast_and_needs_no_secrets(tmp_path):
    """Parse `dags/` in a fresh interpreter without connections: under 2 s of parse time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    code = (
        "import time; from airflow.dag_processing.dagbag import DagBag;"
        f"t = time.perf_counter(); b = DagBag(dag_folder={str(DAGS_FOLDER)!r}"
        "); s = time.perf_counter() - t;"
        "assert not b.import_errors, b.import_errors; print(s)"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    parse_seconds = float(out.stdout.strip().splitlines()[-1])
    assert parse_seconds < 2.0, f"dags/ took {parse_seconds:.2f}s to parse"
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_every_task_takes_a_warehouse_pool_slot(dagbag, dag_id):
    """The embedded DuckDB file takes one process at a time: the pool serialises them."""
    from nurture.orchestration import WAREHOUSE_POOL

    assert {task.pool for task in dagbag.dags[dag_id].tasks} == {WAREHOUSE_POOL}


@pytest.mark.parametrize("dag_id", ["sync_marketo", "sync_hubspot", "sync_salesforce"])
def test_daily_runs_stand_for_the_day_before(dagbag, dag_id):
    """Scheduled and backfill runs of a sync get a one-day data interval, never an empty one."""
    from datetime import UTC, datetime, timedelta

    from airflow.timetables.base import DataInterval, TimeRestriction

    timetable = core_timetable(dagbag.dags[dag_id])
    restriction = TimeRestriction(
        earliest=datetime(2026, 9, 27, tzinfo=UTC), latest=None, catchup=True
    )
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert first.data_interval.end - first.data_interval.start == timedelta(days=1)
    assert first.run_after == first.data_interval.end
    following = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(*first.data_interval), restriction=restriction
    )
    assert following.data_interval.start == first.data_interval.end
    manual = timetable.infer_manual_data_interval(run_after=datetime(2026, 9, 29, tzinfo=UTC))
    assert manual.end - manual.start == timedelta(days=1)
