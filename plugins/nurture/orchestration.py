"""What every DAG shares: Assets, default arguments, and the task bodies they call.

DAG files import only this module at parse time; it imports nothing heavy, and each
task body imports its own work inside, so `dags/` parses in well under two seconds.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, CronTriggerTimetable, dag, get_current_context, task

from nurture.alerts import task_failure_alert
from nurture.retryable import fail_fast

RAW_ASSETS = {
    source: Asset(name=f"raw_{source}", uri=f"nurture://warehouse/raw_{source}")
    for source in ("marketo", "hubspot", "salesforce", "files")
}
MARTS = Asset(name="marts", uri="nurture://warehouse/marts")
MQL_OUTBOX = Asset(name="mql_outbox", uri="nurture://warehouse/ops/mql_outbox")

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
# Every task reads or writes the warehouse. The embedded DuckDB file takes one process at
# a time, so this pool has one slot there (`nurture airflow-init` sizes and creates it);
# on PostgreSQL it has as many as the deployment runs at once.
WAREHOUSE_POOL = "nurture_warehouse"
# A daily sync at midnight UTC stands for the day before it: data interval [D-1, D].
# (Airflow 3's plain "@daily" gives runs an empty interval, which left backfills nothing.)
# `NURTURE_SYNC_SCHEDULE` moves the syncs (a cron expression in UTC) or, `manual`, leaves
# them to triggers; read when the DAG files parse, so set it alike on every component.
SYNC_CRON = os.environ.get("NURTURE_SYNC_SCHEDULE", "0 0 * * *").strip()
HOURLY = CronTriggerTimetable("0 * * * *", timezone="UTC", interval=timedelta(hours=1))
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-engineering",
    "pool": WAREHOUSE_POOL,
    # Retries are for the outside world (network, vendor limits, a dropped connection):
    # task bodies turn every other error into a failure at once (nurture.retryable).
    "retries": 3,
    # The demo and tests shorten the first delay; production keeps the default.
    "retry_delay": timedelta(seconds=float(os.environ.get("NURTURE_RETRY_DELAY_SECONDS", 30))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    # one Slack message when a task has failed for good (docs/operations.md)
    "on_failure_callback": task_failure_alert,
}
WINDOW_END = "window_end"


def sync_schedule() -> CronTriggerTimetable | None:
    """The syncs' timetable: daily at midnight UTC unless `NURTURE_SYNC_SCHEDULE` says."""
    if SYNC_CRON.lower() in ("manual", "none", ""):
        return None
    # A run stands for the day before it, whatever hour it runs at.
    return CronTriggerTimetable(SYNC_CRON, timezone="UTC", interval=timedelta(days=1))


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _triggering_window_end(context: dict[str, Any]) -> datetime | None:
    """For asset-triggered runs: how far every triggering source has data.

    Each Asset event carries the window end of the run that produced it; per asset the
    latest counts, and across assets the earliest (the marts are complete up to there).
    """
    events = context.get("triggering_asset_events") or {}
    latest: list[datetime] = []
    for asset in events:
        ends = [
            _as_utc(event.extra[WINDOW_END])
            for event in events[asset]
            if isinstance(getattr(event, "extra", None), dict) and event.extra.get(WINDOW_END)
        ]
        if ends:
            latest.append(max(ends))
    return min(latest) if latest else None


def run_type(context: dict[str, Any]) -> str:
    """`manual`, `scheduled`, `backfill`, `asset_triggered`, ... (the enum's value: the
    task SDK's `DagRunType` prints as `DagRunType.BACKFILL`)."""
    kind = getattr(context.get("dag_run"), "run_type", "")
    return str(getattr(kind, "value", kind))


def window_end(context: dict[str, Any]) -> datetime:
    """The end of the data a run stands for, in UTC, for every run type Airflow 3 makes.

    Asset-triggered runs have no logical date nor data interval: they take the window
    their triggering events carry. A manual run given a logical date stands for that
    date; scheduled and backfill runs for their data interval; a manual run without a
    logical date for the moment it was asked to run (`run_after`).
    """
    from_events = _triggering_window_end(context)
    if from_events is not None:
        return from_events
    logical_date = context.get("logical_date")
    if logical_date is not None and run_type(context) == "manual":
        # Airflow 3 gives a manual run the interval before it was triggered, whatever
        # logical date it was given; a user who names a date means the data as of then.
        return _as_utc(logical_date)
    end = context.get("data_interval_end")
    if end is None:
        end = context["dag_run"].run_after
    return _as_utc(end)


def backfill_start(context: dict[str, Any]) -> datetime | None:
    """For backfill runs, the window start: such runs reload exactly their own window."""
    if run_type(context) != "backfill":
        return None
    start = context.get("data_interval_start")
    if start is None or _as_utc(start) >= window_end(context):
        return None
    return _as_utc(start)


def publish_window(context: dict[str, Any], asset: Asset, **extra: Any) -> None:
    """Attach the run's window end (and `extra`) to the Asset event this task emits."""
    context["outlet_events"][asset].extra = {WINDOW_END: window_end(context).isoformat(), **extra}


@fail_fast
def sync_task(source: str, context: dict[str, Any]) -> dict[str, Any]:
    from nurture.config import load_settings
    from nurture.load.sync import run_sync

    summary = run_sync(
        source, load_settings(), until=window_end(context), since=backfill_start(context)
    )
    return summary.as_dict()


@fail_fast
def gate_task(prefix: str) -> dict[str, int]:
    from airflow.sdk.exceptions import AirflowFailException

    from nurture.config import load_settings
    from nurture.quality.gate import GateFailed, run_gate
    from nurture.warehouse import get_warehouse

    try:
        return run_gate(get_warehouse(load_settings()), prefix)
    except GateFailed as exc:
        # Bad data stays bad on retry: fail at once, with the findings as the reason.
        raise AirflowFailException(str(exc)) from exc


@fail_fast
def files_import_task(context: dict[str, Any]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from nurture.config import ConfigError, load_settings
    from nurture.files.importer import import_drop_folder

    try:
        summary = import_drop_folder(load_settings(), logical_date=window_end(context))
    except ConfigError as exc:
        # A bad sources.yaml or a missing drop folder stays so on retry: fail at once.
        raise AirflowFailException(str(exc)) from exc
    return summary.as_dict()


@fail_fast
def files_gate_task(summary: dict[str, Any]) -> dict[str, int]:
    """Gate the kinds that received rows this run, and the file log; with no new rows,
    skip, so the `raw_files` Asset is only updated when there is something new."""
    from airflow.sdk.exceptions import AirflowSkipException

    kinds = sorted(kind for kind, rows in summary["rows"].items() if rows)
    if not kinds:
        raise AirflowSkipException("no new rows in the drop folder")
    checked: dict[str, int] = {}
    for table in [*kinds, "imported_files"]:
        checked |= gate_task(f"raw_files.{table}")
    return checked


# The marts the scorer reads (nurture.scoring.run): their suites are include/gx/marts.*.json
MARTS_GATE = "marts."


@fail_fast
def marts_gate_task() -> dict[str, int]:
    """The GX gate on the marts scoring reads: a failure stops scoring and the handoff,
    naming the expectation, column and how many rows broke it."""
    return gate_task(MARTS_GATE)


@fail_fast
def freshness_check_task(context: dict[str, Any]) -> dict[str, Any]:
    """How old each source's newest row is at the window end: warn on Slack, fail past
    the error threshold (the reason names the tables and their age)."""
    from nurture.config import load_settings
    from nurture.transform.freshness import freshness_task

    return freshness_task(load_settings(), as_of=window_end(context))


@fail_fast
def dbt_exclusions_task() -> list[str]:
    from nurture.config import load_settings
    from nurture.transform.dbt import exclusions

    return exclusions(load_settings())


@fail_fast
def scoring_task(context: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict

    from nurture.config import load_settings
    from nurture.scoring.run import run_scoring

    return asdict(run_scoring(load_settings(), as_of=window_end(context)))


@fail_fast
def feed_task(context: dict[str, Any]) -> dict[str, Any]:
    """The day's CSV feed (the logical date's day), rebuilt whole."""
    return handoff_target_task("csv_feed", context)


@fail_fast
def assign_owners_task() -> dict[str, int]:
    """Owners for new outbox entries; a failure here leaves them waiting, so fail and retry."""
    from nurture.config import load_settings
    from nurture.handoff.run import assign

    return assign(load_settings())


@fail_fast
def handoff_target_task(target: str, context: dict[str, Any]) -> dict[str, Any]:
    """Deliver the pending outbox to one target; red, with the reason, if any entry is left."""
    from nurture.config import load_settings
    from nurture.handoff.run import check, deliver_target

    result = deliver_target(load_settings(), target, window_end(context).date())
    check([result])
    return result.as_dict()


def sync_dag(source: str, doc_md: str) -> DAG:
    """The DAG of one source: extract & load, then the GX gate that updates its raw Asset.

    A failed gate fails the run before the Asset is updated, so `build_marts` never
    builds on data that did not pass.
    """

    @dag(
        dag_id=f"sync_{source}",
        schedule=sync_schedule(),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["ingest", source],
        doc_md=doc_md,
    )
    def sync() -> None:
        @task
        def extract_load() -> dict[str, Any]:
            return sync_task(source, get_current_context())

        @task(outlets=[RAW_ASSETS[source]])
        def quality_gate(summary: dict[str, Any]) -> dict[str, Any]:
            checked = gate_task(f"raw_{source}")
            publish_window(get_current_context(), RAW_ASSETS[source])
            return {"load": summary, "gate": checked}

        quality_gate(extract_load())

    return sync()
