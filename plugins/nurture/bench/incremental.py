"""An incremental run's cost as a share of a full run, after one sandbox day (`advance`)
changed about 1% of the records.

Both runs go through `run_sync` for every source into a fresh DuckDB warehouse, against
a sandbox with its rate limits on, as in production. Cost is wall time; API calls are
reported beside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx

from nurture.bench.common import (
    Result,
    Stopwatch,
    duckdb_settings,
    sandbox_connection,
    sandbox_today,
)
from nurture.load.sync import SOURCES, run_sync


def _sync_all(
    base_url: str, home: Path, until: datetime, history_until: datetime
) -> tuple[float, int, int]:
    settings = duckdb_settings(home)
    watch = Stopwatch()
    rows = calls = 0
    for source in SOURCES:
        conn = sandbox_connection(source, base_url, history_until)
        summary = run_sync(source, settings, until=until, conn=conn, quiet=True)
        rows += sum(summary.rows.values())
        calls += int(summary.calls["requests"])
    return watch.seconds, rows, calls


def bench_incremental(base_url: str, home: Path) -> Result:
    until = sandbox_today(base_url)
    full_seconds, full_rows, full_calls = _sync_all(base_url, home, until, until)
    advanced = httpx.post(f"{base_url}/sandbox/advance", params={"days": 1}, timeout=600).json()
    next_until = until + timedelta(days=1)
    inc_seconds, inc_rows, inc_calls = _sync_all(base_url, home, next_until, until)
    changed = {k: v for k, v in advanced.items() if isinstance(v, int) and k != "days"}
    detail = {
        "full_seconds": round(full_seconds, 1),
        "full_rows": full_rows,
        "full_calls": full_calls,
        "incremental_seconds": round(inc_seconds, 1),
        "incremental_rows": inc_rows,
        "incremental_calls": inc_calls,
        "changed_share": round(inc_rows / max(full_rows, 1), 4),
        "advance": changed,
    }
    return Result(
        "incremental: run cost / full run (one day changed)",
        inc_seconds / full_seconds,
        0.1,
        False,
        detail,
    )
