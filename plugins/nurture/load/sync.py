"""Run one source's sync: extract with its connector, load with dlt, log the run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from nurture.config import Settings
from nurture.connections import ApiConnection, get_connection
from nurture.connectors.records import Quarantine
from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.load.locks import pipeline_lock
from nurture.load.ops_tables import write_ops
from nurture.load.parking import has_pending, load_pending
from nurture.warehouse import Warehouse, get_warehouse

log = logging.getLogger(__name__)

SOURCES = ("marketo", "hubspot", "salesforce")
DEFAULT_HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_LOOKBACK = timedelta(hours=2)


@dataclass
class SyncSummary:
    source: str
    run_id: str
    until: str
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    calls: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "run_id": self.run_id,
            "until": self.until,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "calls": self.calls,
        }


def _client_and_source(
    source: str,
    conn: ApiConnection,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool,
) -> tuple[Any, Any]:
    if source == "marketo":
        from nurture.connectors.marketo import MarketoClient, marketo_source

        client = MarketoClient(conn)
        return client, marketo_source(client, history_start, until, lookback, quarantine, backfill)
    if source == "hubspot":
        from nurture.connectors.hubspot import HubSpotClient, hubspot_source

        client = HubSpotClient(conn)
        return client, hubspot_source(client, history_start, until, lookback, quarantine, backfill)
    if source == "salesforce":
        from nurture.connectors.salesforce import SalesforceClient, salesforce_source

        client = SalesforceClient(conn)
        return client, salesforce_source(
            client, history_start, until, lookback, quarantine, backfill
        )
    raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def run_sync(
    source: str,
    settings: Settings,
    until: datetime,
    since: datetime | None = None,
    conn: ApiConnection | None = None,
) -> SyncSummary:
    """Load everything modified before `until`; with `since`, only that window (a backfill).

    Incremental runs start from dlt's stored cursor minus the lookback, and every
    table merges on its primary key, so repeating a run changes nothing.
    """
    settings.ensure_dirs()
    conn = conn or get_connection(f"{source}_default")
    history_start = _as_utc(conn.extra.get("history_start")) or DEFAULT_HISTORY_START
    lookback = float(conn.extra.get("lookback_seconds", DEFAULT_LOOKBACK.total_seconds()))
    backfill = since is not None
    quarantine = Quarantine(source)
    run_id = f"{source}:{until.isoformat()}" + (f":from:{since.isoformat()}" if since else "")
    started = datetime.now(UTC)
    warehouse = get_warehouse(settings)
    pipelines_dir = str(settings.dlt_dir / warehouse.kind)
    client, dlt_source = _client_and_source(
        source, conn, since or history_start, until, lookback, quarantine, backfill
    )
    try:
        row_counts = _load(source, client, dlt_source, warehouse, pipelines_dir, run_id, until)
    except Exception as exc:
        _record_failure(warehouse, pipelines_dir, quarantine, run_id, source, until, started, exc)
        raise
    rows = {name: n for name, n in row_counts.items() if not name.startswith("_dlt")}
    summary = SyncSummary(
        source=source,
        run_id=run_id,
        until=until.isoformat(),
        rows=rows,
        quarantined={obj: quarantine.count(obj) for obj in quarantine.objects},
        calls=client.http.stats.as_dict(),
    )
    run_rows = [
        {
            "run_id": run_id,
            "source": source,
            "object": obj,
            "logical_date": until,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "rows_loaded": rows.get(obj, 0),
            "rows_quarantined": quarantine.count(obj),
            "pages": summary.calls["pages"],
            "retries": summary.calls["retries"],
            "status": "success",
            "error": None,
        }
        for obj in sorted(set(rows) | set(summary.quarantined)) or ["(none)"]
    ]
    write_ops(warehouse, pipelines_dir, quarantine, run_id, run_rows)
    log.info("sync %s: %s", source, summary.as_dict())
    return summary


FAILED_RUN_OBJECT = "(run)"


def _record_failure(
    warehouse: Warehouse,
    pipelines_dir: str,
    quarantine: Quarantine,
    run_id: str,
    source: str,
    until: datetime,
    started: datetime,
    exc: BaseException,
) -> None:
    """A failed run in `ops.sync_runs` (status `failed`, the error's first line), with what
    it quarantined before failing. Each failed attempt keeps a row of its own (its run id
    ends with `:failed:<start>`), so a re-run that succeeds leaves the failures' history.
    Best effort: the warehouse may be what failed."""
    from nurture.alerts import error_first_line
    from nurture.connectors.http import redact_url_secrets
    from nurture.retryable import root_cause

    row = {
        "run_id": f"{run_id}:failed:{started.isoformat()}",
        "source": source,
        "object": FAILED_RUN_OBJECT,
        "logical_date": until,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "rows_loaded": 0,
        "rows_quarantined": quarantine.count(),
        "pages": 0,
        "retries": 0,
        "status": "failed",
        "error": redact_url_secrets(error_first_line(root_cause(exc)))[:1000],
    }
    try:
        write_ops(warehouse, pipelines_dir, quarantine, run_id, [row])
    except Exception as ops_error:  # the original error is the one to raise
        log.warning("sync %s: could not record the failed run: %s", source, ops_error)


def _load(
    source: str,
    client: Any,
    dlt_source: Any,
    warehouse: Warehouse,
    pipelines_dir: str,
    run_id: str,
    until: datetime,
) -> dict[str, int]:
    with pipeline_lock(pipelines_dir, f"nurture_{source}"):
        try:
            pipeline = dlt.pipeline(
                pipeline_name=f"nurture_{source}",
                destination=warehouse.dlt_destination(),
                dataset_name=f"raw_{source}",
                pipelines_dir=pipelines_dir,
                progress="log",
            )
            if has_pending(pipeline):
                # A run killed after extracting left packages behind; dlt's `run` would only
                # load those and skip this run's data, so finish them first (they merge).
                # One that cannot load is set aside, and its records are extracted again.
                log.warning("sync %s: loading the packages an interrupted run left", source)
                parked = load_pending(pipeline, pipelines_dir)
                if parked:
                    # recorded at once: the rest of the run may fail
                    write_ops(
                        warehouse, pipelines_dir, Quarantine(source), run_id, [], parked, until
                    )
            pipeline.run(
                as_arrow(dlt_source),
                loader_file_format=LOAD_FILE_FORMAT,
            )
            return dict(pipeline.last_trace.last_normalize_info.row_counts)
        finally:
            client.close()


def _as_utc(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
