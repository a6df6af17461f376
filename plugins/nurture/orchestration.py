"""What every DAG shares: Assets, default arguments, and the task bodies they call.

DAG files import only this module at parse time; it imports nothing heavy, and each
task body imports its own work inside, so `dags/` parses in well under two seconds.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, dag, get_current_context, task

RAW_ASSETS = {
    source: Asset(name=f"raw_{source}", uri=f"nurture://warehouse/raw_{source}")
    for source in ("marketo", "hubspot", "salesforce", "files")
}
MARTS = Asset(name="marts", uri="nurture://warehouse/marts")
MQL_OUTBOX = Asset(name="mql_outbox", uri="nurture://warehouse/ops/mql_outbox")

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-engineering",
    "retries": 3,
    # The demo and tests shorten the first delay; production keeps the default.
    "retry_delay": timedelta(seconds=float(os.environ.get("NURTURE_RETRY_DELAY_SECONDS", 30))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def window_end(context: dict[str, Any]) -> datetime:
    """The end of the run's data window: the logical date's interval end, in UTC."""
    end = context.get("data_interval_end") or context["logical_date"]
    return end.astimezone(UTC)


def backfill_start(context: dict[str, Any]) -> datetime | None:
    """For backfill runs, the window start: such runs reload exactly their own window."""
    dag_run = context.get("dag_run")
    if dag_run is not None and str(getattr(dag_run, "run_type", "")).endswith("backfill"):
        start = context.get("data_interval_start") or context["logical_date"]
        return start.astimezone(UTC)
    return None


def sync_task(source: str, context: dict[str, Any]) -> dict[str, Any]:
    from nurture.config import load_settings
    from nurture.load.sync import run_sync

    summary = run_sync(
        source, load_settings(), until=window_end(context), since=backfill_start(context)
    )
    return summary.as_dict()


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


def dbt_exclusions_task() -> list[str]:
    from nurture.config import load_settings
    from nurture.transform.dbt import exclusions

    return exclusions(load_settings())


def scoring_task(context: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict

    from nurture.config import load_settings
    from nurture.scoring.run import run_scoring

    return asdict(run_scoring(load_settings(), as_of=window_end(context)))


def feed_task(context: dict[str, Any]) -> dict[str, Any]:
    """The day's CSV feed (the logical date's day), rebuilt whole."""
    return handoff_target_task("csv_feed", context)


def assign_owners_task() -> dict[str, int]:
    """Owners for new outbox entries; a failure here leaves them waiting, so fail and retry."""
    from nurture.config import load_settings
    from nurture.handoff.run import assign

    return assign(load_settings())


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
        schedule="@daily",
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
            return {"load": summary, "gate": gate_task(f"raw_{source}")}

        quality_gate(extract_load())

    return sync()
