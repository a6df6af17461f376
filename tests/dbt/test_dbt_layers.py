"""The layer selectors the Airflow tasks run pick the models they are meant to."""

from __future__ import annotations

from pathlib import Path

from dbt.cli.main import dbtRunner

from nurture.transform.layers import SCORE_DEPENDENT

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def _selected_models(tmp_path: Path, select: tuple[str, ...]) -> set[str]:
    result = dbtRunner().invoke(
        [
            "ls",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            "duckdb",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--resource-type",
            "model",
            "--output",
            "name",
            "--select",
            *select,
        ]
    )
    assert result.success, result.exception
    return set(result.result)


def test_score_dependent_layer_rebuilds_lifecycle_and_funnel(tmp_path, monkeypatch):
    """After scoring, the stage history and everything reading it are rebuilt: the funnel
    must count the MQLs of the run that just scored, not wait for the next build."""
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    models = _selected_models(tmp_path, SCORE_DEPENDENT.select)
    assert {
        "int_lifecycle_stage_history",
        "int_lead_funnel_stages",
        "mart_funnel",
        "dim_lead",
    } <= models
    # engagement does not read the scores and is left alone
    assert "fct_engagement_events" not in models
