"""A failed gate fails its task at once (no retries) with the findings as the reason."""

import pandas as pd
import pytest

from nurture.warehouse import get_warehouse
from tests.conftest import settings_for


def test_gate_task_fails_fast_with_a_readable_reason(tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from nurture.orchestration import gate_task

    settings = settings_for(tmp_path, "duckdb")
    with get_warehouse(settings).transaction() as session:
        session.execute("create schema raw_salesforce")
        session.execute(
            "create table raw_salesforce.leads (id varchar, "
            "system_modstamp timestamp with time zone, is_deleted boolean)"
        )
        session.insert_frame(
            "raw_salesforce.leads",
            pd.DataFrame(
                [
                    {
                        "id": "00Q1",
                        "system_modstamp": pd.Timestamp("2026-09-01", tz="UTC"),
                        "is_deleted": False,
                    },
                    {"id": "00Q1", "system_modstamp": None, "is_deleted": False},
                ]
            ),
        )
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    with pytest.raises(AirflowFailException) as err:
        gate_task("raw_salesforce")
    assert "expect_column_values_to_be_unique(id) failed: 2 unexpected" in str(err.value)
    assert "expect_column_values_to_not_be_null(system_modstamp) failed: 1 unexpected" in str(
        err.value
    )
