"""The incremental cursor every sync declares: a time window with a lookback.

Scheduled runs read from the stored cursor minus the lookback up to the run's window
end; backfill runs fix both ends (dlt's `end_value`), which leaves the stored cursor
untouched.
"""

from __future__ import annotations

from datetime import datetime

import dlt


def window_cursor(
    field: str, history_start: datetime, until: datetime, lookback: float, backfill: bool
) -> dlt.sources.incremental[datetime]:
    return dlt.sources.incremental(
        field,
        initial_value=history_start,
        end_value=until if backfill else None,
        lag=lookback,
        range_end="open",
    )


def window_start(cursor: dlt.sources.incremental[datetime], history_start: datetime) -> datetime:
    """Where this run reads from: the lag-adjusted cursor, never before the history start."""
    return max(history_start, cursor.last_value or history_start)
