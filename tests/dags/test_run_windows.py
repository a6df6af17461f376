"""Every run type Airflow 3 creates gives a task its data window, and bugs fail at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from nurture.orchestration import RAW_ASSETS, WINDOW_END, backfill_start, window_end

D = datetime(2026, 9, 30, tzinfo=UTC)


def run(run_type: str, run_after: datetime = D) -> SimpleNamespace:
    # the type tasks get from the task SDK (its str() is "DagRunType.BACKFILL")
    from airflow.sdk.api.datamodels._generated import DagRunType

    return SimpleNamespace(run_type=DagRunType(run_type), run_after=run_after)


def event(end: datetime) -> SimpleNamespace:
    return SimpleNamespace(extra={WINDOW_END: end.isoformat()})


def test_asset_triggered_run_without_logical_date_takes_its_events_window():
    """What the real scheduler gives `score_and_handoff`: no logical date, no interval."""
    context = {
        "dag_run": run("asset_triggered", run_after=D + timedelta(days=60)),
        "triggering_asset_events": {
            RAW_ASSETS["marketo"]: [event(D - timedelta(days=1)), event(D)],
            RAW_ASSETS["hubspot"]: [event(D)],
            RAW_ASSETS["salesforce"]: [event(D - timedelta(hours=2))],
        },
    }
    # per source the latest, across sources the earliest: the marts are whole up to there
    assert window_end(context) == D - timedelta(hours=2)
    assert backfill_start(context) is None


def test_manual_run_without_logical_date_stands_for_when_it_was_asked():
    context = {"dag_run": run("manual", run_after=D + timedelta(hours=5))}
    assert window_end(context) == D + timedelta(hours=5)


def test_asset_triggered_run_with_events_without_window_uses_run_after():
    context = {
        "dag_run": run("asset_triggered"),
        "triggering_asset_events": {RAW_ASSETS["files"]: [SimpleNamespace(extra={})]},
    }
    assert window_end(context) == D


def test_manual_run_with_a_logical_date_stands_for_that_date():
    """`airflow dags trigger --logical-date D`: Airflow 3 sets the interval from the
    trigger time; the user asked for the data as of D."""
    context = {
        "dag_run": run("manual", run_after=D + timedelta(days=60)),
        "logical_date": D,
        "data_interval_start": D + timedelta(days=59),
        "data_interval_end": D + timedelta(days=60),
    }
    assert window_end(context) == D


def test_scheduled_runs_end_at_their_interval_end():
    context = {
        "dag_run": run("scheduled"),
        "logical_date": D - timedelta(days=1),
        "data_interval_start": D - timedelta(days=1),
        "data_interval_end": D,
    }
    assert window_end(context) == D
    assert backfill_start(context) is None


def test_backfill_runs_reload_exactly_their_interval():
    context = {
        "dag_run": run("backfill"),
        "data_interval_start": D - timedelta(days=1),
        "data_interval_end": D,
    }
    assert (backfill_start(context), window_end(context)) == (D - timedelta(days=1), D)


def test_fail_fast_turns_bugs_into_final_failures_and_keeps_outside_errors_retryable():
    import httpx
    from airflow.sdk.exceptions import AirflowFailException

    from nurture.connectors.http import ApiError
    from nurture.retryable import fail_fast

    def raising(exc: Exception):
        @fail_fast
        def body() -> None:
            raise exc

        return body

    with pytest.raises(AirflowFailException, match=r"KeyError: 'logical_date'.*not retried"):
        raising(KeyError("logical_date"))()
    with pytest.raises(AirflowFailException, match="401"):
        raising(ApiError("Marketo identity answered 401", status=401))()
    for transient in (
        ApiError("still failing after 6 attempts"),
        ApiError("answered 503", status=503),
        httpx.ConnectError("refused"),
        RuntimeError("IO Error: Could not set lock on file /x/warehouse.duckdb"),
    ):
        with pytest.raises(type(transient)):
            raising(transient)()
    # a wrapped cause counts: dlt wraps the load error of a dropped connection
    try:
        raise ConnectionResetError("peer reset")
    except ConnectionResetError as cause:
        wrapped = RuntimeError("load step failed")
        wrapped.__cause__ = cause
    with pytest.raises(RuntimeError, match="load step failed"):
        raising(wrapped)()
