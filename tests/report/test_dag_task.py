"""score_and_handoff ends with the report: a teardown that never changes the run's state."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.cli import main

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "score_and_handoff.py"))
    assert bag.import_errors == {}
    return bag.dags["score_and_handoff"]


def test_the_report_runs_last_whatever_the_targets_did(dag):
    report = dag.get_task("report")
    assert report.upstream_task_ids == {"slack"}
    assert report.is_teardown and not report.on_failure_fail_dagrun
    # a teardown runs once its upstream is done, failed or not (no setup to wait for)
    assert report.trigger_rule == "all_done_setup_success"
    assert report.retries >= 2 and report.owner == "data-engineering"


def test_the_report_does_not_decide_the_runs_state(dag):
    """Airflow judges a run by its leaves, teardowns left out: still the Slack target."""
    from airflow.models.dagrun import DagRun

    class Ti:
        def __init__(self, task_id):
            self.task_id, self.state = task_id, None

    tis = [Ti(task.task_id) for task in dag.tasks]
    judged = DagRun._tis_for_dagrun_state(None, dag=dag, tis=tis)  # type: ignore[arg-type]
    assert {ti.task_id for ti in judged} == {"slack"}


def test_nurture_report_prints_where_it_wrote(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path}/reports/report-" in out
    assert f"latest: {tmp_path}/reports/latest.html" in out
    assert "0 of 12 sections with data" in out
    assert main(["report", "--output", str(tmp_path / "one.html")]) == 0
    assert (tmp_path / "one.html").is_file()
