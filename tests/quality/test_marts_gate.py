"""The GX gate on the marts scoring reads: a broken mart stops scoring with a readable reason."""

import pandas as pd
import pytest

from nurture.quality.gate import GateFailed, run_gate
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for

LEADS = pd.DataFrame(
    {
        "lead_id": ["lead-1", "lead-2", "lead-3"],
        "size_band": ["5000+", "unknown", "50-249"],
        "seniority": ["vp", None, "staff"],
        "department": ["it", None, "sales"],
        "funnel_stage": ["lead", "mql", "lead"],
        "is_unsubscribed": [False, False, True],
        "is_email_invalid": [False, False, False],
        "is_deleted": [False, False, False],
    }
)
EVENTS = pd.DataFrame(
    {
        "event_id": ["e1", "e2"],
        "lead_id": ["lead-1", "lead-2"],
        "activity_type": ["click_email", "fill_out_form"],
        "occurred_at": pd.to_datetime(["2026-09-01", "2026-09-02"], utc=True),
    }
)


def _marts(tmp_path, leads: pd.DataFrame, events: pd.DataFrame = EVENTS):
    settings = settings_for(tmp_path, "duckdb")
    warehouse = get_warehouse(settings)
    with warehouse.transaction() as session:
        session.execute("create schema if not exists marts")
        session.execute(
            "create table marts.dim_lead (lead_id varchar, size_band varchar, seniority "
            "varchar, department varchar, funnel_stage varchar, is_unsubscribed boolean, "
            "is_email_invalid boolean, is_deleted boolean)"
        )
        session.execute(
            "create table marts.fct_engagement_events (event_id varchar, lead_id varchar, "
            "activity_type varchar, occurred_at timestamp with time zone)"
        )
        if len(leads):
            session.insert_frame("marts.dim_lead", leads)
        session.insert_frame("marts.fct_engagement_events", events)
    return warehouse


def test_good_marts_pass(tmp_path):
    checked = run_gate(_marts(tmp_path, LEADS), "marts.")
    assert set(checked) == {"marts.dim_lead", "marts.fct_engagement_events"}


def test_duplicated_lead_id_fails_with_expectation_column_and_rows(tmp_path):
    broken = pd.concat([LEADS, LEADS.iloc[[0]]], ignore_index=True)
    with pytest.raises(GateFailed) as err:
        run_gate(_marts(tmp_path, broken), "marts.")
    assert (
        "marts.dim_lead: expect_column_values_to_be_unique(lead_id) failed: "
        "2 unexpected, e.g. ['lead-1', 'lead-1'] (4 rows checked)"
    ) in str(err.value)


def test_out_of_range_score_input_and_empty_table_are_named(tmp_path):
    bad = LEADS.assign(size_band=["5000+", "huge", None])
    with pytest.raises(GateFailed) as err:
        run_gate(_marts(tmp_path, bad), "marts.")
    message = str(err.value)
    assert "expect_column_values_to_be_in_set(size_band) failed: 1 unexpected" in message
    assert "expect_column_values_to_not_be_null(size_band) failed: 1 unexpected" in message
    with pytest.raises(
        GateFailed, match=r"expect_table_row_count_to_be_between failed: observed 0"
    ):
        run_gate(_marts(tmp_path / "empty", LEADS.iloc[0:0]), "marts.")
