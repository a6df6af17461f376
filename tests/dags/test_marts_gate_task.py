"""score_and_handoff: the marts gate runs first, and a broken mart fails it readably."""

from pathlib import Path

import pandas as pd
import pytest

from nurture.warehouse import get_warehouse
from tests.conftest import settings_for

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_gate_precedes_scoring(dagbag):
    dag = dagbag.dags["score_and_handoff"]
    gate = dag.get_task("marts_gate")
    assert next(t.task_id for t in dag.topological_sort()) == "marts_gate"
    assert gate.downstream_task_ids == {"score"}
    assert dag.get_task("score").upstream_task_ids == {"marts_gate"}
    # a failed gate stops everything after it: no task downstream runs on all_done
    # unless it follows the handoff chain, which itself needs `score` to succeed
    assert dag.get_task("score").trigger_rule == "all_success"
    assert dag.get_task("assign_owners").trigger_rule == "all_success"


def test_build_marts_runs_when_files_are_dropped(dagbag):
    schedule = str(dagbag.dags["build_marts"].timetable.asset_condition)
    for source in ("marketo", "hubspot", "salesforce", "files"):
        assert f"raw_{source}" in schedule


def test_marts_gate_task_fails_fast_with_a_readable_reason(tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from nurture.orchestration import marts_gate_task

    settings = settings_for(tmp_path, "duckdb")
    with get_warehouse(settings).transaction() as session:
        session.execute("create schema marts")
        session.execute(
            "create table marts.dim_lead (lead_id varchar, size_band varchar, seniority "
            "varchar, department varchar, funnel_stage varchar, is_unsubscribed boolean, "
            "is_email_invalid boolean, is_deleted boolean)"
        )
        session.execute(
            "insert into marts.dim_lead values "
            "('lead-1', 'unknown', null, null, 'lead', false, false, false), "
            "('lead-1', 'unknown', null, null, 'lead', false, false, false)"
        )
        session.execute(
            "create table marts.fct_engagement_events (event_id varchar, lead_id varchar, "
            "activity_type varchar, occurred_at timestamp with time zone)"
        )
        session.insert_frame(
            "marts.fct_engagement_events",
            pd.DataFrame(
                {
                    "event_id": ["e1"],
                    "lead_id": ["lead-1"],
                    "activity_type": ["open_email"],
                    "occurred_at": [pd.Timestamp("2026-09-01", tz="UTC")],
                }
            ),
        )
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    with pytest.raises(AirflowFailException) as err:
        marts_gate_task()
    assert (
        "marts.dim_lead: expect_column_values_to_be_unique(lead_id) failed: 2 unexpected, "
        "e.g. ['lead-1', 'lead-1'] (2 rows checked)" in str(err.value)
    )
