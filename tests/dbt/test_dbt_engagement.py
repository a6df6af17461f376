"""The engagement marts over the raw world's e-mail program (DuckDB).

The e-mail program 500 of dbt_raw_fixtures (section "engagement marts") is built
once; then a late load arrives (a form fill loaded days after it happened, a lead
changing address) and the incremental mart_lead_engagement must equal a full
refresh. Both adapters run the marts' unit and data tests in test_dbt_build.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from dbt_raw_fixtures import (
    ENGAGEMENT_FIRST_SEND,
    ENGAGEMENT_LEADS,
    ENGAGEMENT_PROGRAM_ID,
    ENGAGEMENT_RUNS,
    ENGAGEMENT_SOCIAL_PROGRAM_ID,
    LOAD_3,
    RawWorld,
    build_world,
    late_load,
)
from test_dbt_build import Warehouse, _duckdb_warehouse

LATE_FORM_LEAD = ENGAGEMENT_LEADS[9]  # variant B, no click on the last run
LEAD_ENGAGEMENT = (
    "select lead_id, snapshot_date, delivered_sends_in_window, responded_sends_in_window,"
    " continuous_response_rate, engagement_band from marts.mart_lead_engagement order by 1, 2"
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.delenv("NURTURE_WAREHOUSE", raising=False)
    try:
        for built in _duckdb_warehouse(tmp_path_factory.mktemp("dbt_engagement"), monkeypatch):
            built.write(build_world(), True)
            built.build()
            yield built
    finally:
        monkeypatch.undo()


def _late_engagement() -> RawWorld:
    """The standard late load plus a form fill answering the last send, loaded late."""
    late = late_load(build_world())
    last_send = ENGAGEMENT_FIRST_SEND + timedelta(days=7 * (ENGAGEMENT_RUNS - 1))
    late.add(
        "raw_marketo.activities",
        marketo_guid="guid-eng-late-form",
        id=29_999,
        lead_id=LATE_FORM_LEAD,
        activity_date=last_send + timedelta(days=2),
        activity_type_id=2,
        campaign_id=ENGAGEMENT_PROGRAM_ID,
        channel="webinar",
        _dlt_load_id=LOAD_3,
    )
    return late


def _rows(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return warehouse.query(sql)


def test_dim_campaign_has_variants_and_programs_without_email(warehouse):
    rows = _rows(
        warehouse,
        "select campaign_id, variant, marketo_email_id, creative_id, channel, is_ab_test"
        " from marts.dim_campaign order by campaign_id, variant",
    )
    assert (str(ENGAGEMENT_PROGRAM_ID), "A", 300, 3, "email", True) in rows
    assert (str(ENGAGEMENT_PROGRAM_ID), "B", 301, 4, "email", True) in rows
    assert (str(ENGAGEMENT_SOCIAL_PROGRAM_ID), "none", None, None, "social", False) in rows


def test_campaign_performance_rates_use_delivered(warehouse):
    rows = _rows(
        warehouse,
        "select delivered, unique_clicks, unsubscribes, click_through_rate, unsubscribe_rate"
        " from marts.mart_campaign_performance where marketo_campaign_run_id between 700 and 705",
    )
    assert len(rows) == 2 * ENGAGEMENT_RUNS
    for delivered, clicks, unsubscribes, ctr, unsubscribe_rate in rows:
        assert ctr == pytest.approx(clicks / delivered)
        assert unsubscribe_rate == pytest.approx(unsubscribes / delivered)
    assert sum(row[2] for row in rows) == 1


def test_ab_test_is_inconclusive_below_min_sample(warehouse):
    rows = _rows(
        warehouse,
        "select challenger_variant, control_creative_id, challenger_creative_id, winner,"
        " p_value > 0 and p_value <= 1"
        f" from marts.mart_ab_tests where campaign_id = '{ENGAGEMENT_PROGRAM_ID}'",
    )
    assert rows == [("B", 3, 4, "inconclusive", True)]


def test_fading_creative_is_flagged(warehouse):
    # the fixture's weeks are a handful of sends: below the default minimum weekly
    # sample nothing is judged, so judge every week here
    result = warehouse.dbt(
        "run",
        "--select",
        "mart_creative_fatigue",
        "--vars",
        "{creative_fatigue_min_weekly_sample: 1}",
    )
    assert result.success
    flagged = _rows(
        warehouse,
        "select distinct creative_id from marts.mart_creative_fatigue"
        " where is_fatigued and weeks_since_launch >= 3",
    )
    assert (3,) in flagged


def test_web_circulation_counts_sessions_with_two_more_pages(warehouse):
    rows = _rows(
        warehouse,
        "select max_pages_beyond_landing, is_circulated from marts.mart_web_circulation"
        " where touch_id like 'guid-eng-%'",
    )
    assert rows
    assert all(circulated == (pages >= 2) for pages, circulated in rows)
    assert {pages for pages, _ in rows} >= {1, 2}


def test_incremental_lead_engagement_takes_late_data_like_a_full_refresh(warehouse):
    before = _rows(warehouse, LEAD_ENGAGEMENT)
    warehouse.build()
    assert _rows(warehouse, LEAD_ENGAGEMENT) == before

    warehouse.write(_late_engagement(), False)
    warehouse.build()
    incremental = _rows(warehouse, LEAD_ENGAGEMENT)
    assert incremental != before
    result = warehouse.dbt("run", "--full-refresh", "--select", "mart_lead_engagement")
    assert result.success, result.exception
    assert _rows(warehouse, LEAD_ENGAGEMENT) == incremental
    # the lead who changed address keeps no snapshot under the old lead_id
    lead_ids = {row[0] for row in incremental}
    known = {row[0] for row in _rows(warehouse, "select lead_id from marts.dim_lead")}
    assert lead_ids <= known
