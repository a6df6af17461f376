"""Run one source's sync: extract with its connector, load with dlt, log the run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.runtime.collector import LogCollector
from dlt.extract.items_transform import ItemTransform

from nurture.config import Settings
from nurture.connections import ApiConnection, get_connection
from nurture.connectors.records import Quarantine
from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.load.locks import pipeline_lock
from nurture.load.ops_tables import write_ops
from nurture.load.parking import has_pending, load_pending
from nurture.progress import NO_PROGRESS, Progress
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
    # object -> where its window started (ISO), None for one read in full each run; not
    # there for what is read with another object (HubSpot's associations of the contacts)
    windows: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "run_id": self.run_id,
            "until": self.until,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "calls": self.calls,
            "windows": self.windows,
        }

    def render(self) -> str:
        """A few lines for people: per object, rows loaded, quarantined, window."""
        objects = list(self.windows)
        objects += sorted((set(self.rows) | set(self.quarantined)) - set(objects))
        until = _when(self.until, zone=False)
        header = ("object", "rows loaded", "quarantined", "window")
        table = [
            (
                obj,
                f"{self.rows.get(obj, 0):,}",
                f"{self.quarantined.get(obj, 0):,}",
                _window(self.windows.get(obj), until, obj in self.windows),
            )
            for obj in objects
        ]
        table.append(
            (
                "total",
                f"{sum(self.rows.values()):,}",
                f"{sum(self.quarantined.values()):,}",
                "",
            )
        )
        widths = [max(len(row[i]) for row in [header, *table]) for i in range(3)]
        lines = [f"{self.source} sync up to {until} (UTC)"]
        for row in [header, *table]:
            name, loaded, quarantined, window = row
            lines.append(
                f"  {name:<{widths[0]}}  {loaded:>{widths[1]}}  {quarantined:>{widths[2]}}  "
                f"{window}".rstrip()
            )
        calls = self.calls
        if calls:
            lines.append(
                f"API: {calls.get('requests', 0):,} requests, {calls.get('pages', 0):,} pages, "
                f"{calls.get('retries', 0):,} retries, "
                f"{float(calls.get('waited_seconds', 0)):.1f}s waiting"
            )
        if any(self.quarantined.values()):
            lines.append("Quarantined records: ops.quarantine (nurture doctor shows the reasons)")
        return "\n".join(lines)


def _when(iso: str, zone: bool = True) -> str:
    """`2026-10-01 00:00 UTC` from an ISO timestamp (as it is if it does not parse)."""
    try:
        value = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + (" UTC" if zone else "")


def _window(start: str | None, until: str, known: bool) -> str:
    if not known:
        return ""
    if start is None:
        return "every record"
    return f"{_when(start, zone=False)} to {until}"


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
    *,
    progress: Progress = NO_PROGRESS,
    quiet: bool = False,
) -> SyncSummary:
    """Load everything modified before `until`; with `since`, only that window (a backfill).

    Incremental runs start from dlt's stored cursor minus the lookback, and every
    table merges on its primary key, so repeating a run changes nothing.

    `progress` is told of the pages fetched and rows extracted per object, then the rows
    loaded. dlt's own progress lines go to stdout (the Airflow task log) unless `quiet`,
    which logs them (`nurture.load.sync.progress`, shown by `nurture -v`): the `nurture`
    command keeps stdout for its summary.
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
    counter = ObjectCounter(source, client.http.stats, progress) if progress.active else None
    if counter is not None:
        counter.attach(dlt_source)
    try:
        row_counts = _load(
            source, client, dlt_source, warehouse, pipelines_dir, run_id, until, quiet
        )
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
        windows=_windows(dlt_source, since or history_start),
    )
    if counter is not None:
        counter.loaded(summary)
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
    quiet: bool = False,
) -> dict[str, int]:
    # dlt's progress lines every second: on stdout (the task log), or logged when quiet
    collector = LogCollector(logger=logging.getLogger(f"{__name__}.progress")) if quiet else "log"
    with pipeline_lock(pipelines_dir, f"nurture_{source}"):
        try:
            pipeline = dlt.pipeline(
                pipeline_name=f"nurture_{source}",
                destination=warehouse.dlt_destination(),
                dataset_name=f"raw_{source}",
                pipelines_dir=pipelines_dir,
                progress=collector,
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


def _windows(dlt_source: Any, start: datetime) -> dict[str, str | None]:
    """Where each object's window started in the run just made: its cursor's start (the
    stored cursor less the lookback, or the backfill's start), never before `start`;
    None for an object read in full (no cursor); nothing for one read with another."""
    windows: dict[str, str | None] = {}
    for name, resource in dlt_source.resources.items():
        if resource.is_transformer:
            continue
        if resource.incremental is None:
            windows[name] = None
            continue
        begun = getattr(getattr(resource.incremental, "incremental", None), "start_value", None)
        begun = _as_utc(begun) if isinstance(begun, (datetime, str)) else None
        windows[name] = max(begun, start).isoformat() if begun is not None else start.isoformat()
    return windows


class ObjectCounter:
    """Pages fetched and rows extracted per object, told to a `Progress` as they come.

    dlt advances one resource at a time and passes what it yields through the resource's
    steps at once, so the pages fetched since the last page handed to dlt belong to the
    resource whose page comes next. Only attached when someone watches (`progress.active`).
    """

    def __init__(self, source: str, stats: Any, progress: Progress) -> None:
        self.source = source
        self.stats = stats
        self.progress = progress
        self.pages: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self._counted = 0
        stats.on_page = self.page

    def attach(self, dlt_source: Any) -> None:
        self.progress.update(self.source, f"{self.source}: connecting")
        for name, resource in dlt_source.resources.items():
            self.pages[name] = self.rows[name] = 0
            resource.add_step(_CountPages(self, name))

    def page(self) -> None:
        self.progress.update(self.source, f"{self.source}: {_pages(self.stats.pages)} fetched")

    def handed(self, name: str, rows: int) -> None:
        self.pages[name] = self.pages.get(name, 0) + self.stats.pages - self._counted
        self._counted = self.stats.pages
        self.rows[name] = self.rows.get(name, 0) + rows
        self.progress.update(
            f"{self.source}.{name}",
            f"  {name}: {_pages(self.pages[name])}, {self.rows[name]:,} rows",
        )

    def loaded(self, summary: SyncSummary) -> None:
        for name in self.pages:
            quarantined = summary.quarantined.get(name, 0)
            self.progress.done(
                f"{self.source}.{name}",
                f"  {name}: {summary.rows.get(name, 0):,} rows loaded"
                + (f", {quarantined:,} quarantined" if quarantined else ""),
            )
        self.progress.done(
            self.source,
            f"{self.source}: {_pages(self.stats.pages)} fetched, "
            f"{sum(summary.rows.values()):,} rows loaded",
        )


def _pages(n: int) -> str:
    return f"{n:,} page{'' if n == 1 else 's'}"


class _CountPages(ItemTransform[Any, Any]):
    """A pipe step that tells the counter of each page a resource hands to dlt."""

    def __init__(self, counter: ObjectCounter, name: str) -> None:
        super().__init__(lambda item: item)
        self.counter = counter
        self.name = name

    def __call__(self, item: Any, meta: Any = None) -> Any:
        if isinstance(item, list):
            self.counter.handed(self.name, len(item))
        elif isinstance(item, pa.Table):
            self.counter.handed(self.name, item.num_rows)
        return item


def _as_utc(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
