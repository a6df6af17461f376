"""World time: 'today' is a fixed anchor plus the days advanced.

The world never reads the wall clock itself; ``serve --clock wall`` (see ``wallclock``)
advances it to the wall date, which ``wall_now`` gives.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ANCHOR = date(2026, 9, 30)
HISTORY_DAYS = 180
DAY = 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Tests only: replaces the wall clock with an ISO instant, or with ``file:PATH`` (the
# instant written in that file, read on every call, so a test moves time by rewriting it).
NOW_ENV = "NURTURE_SANDBOX_NOW"


def day_ts(d: date) -> int:
    """Seconds since the epoch at midnight UTC of a date."""
    return int((datetime(d.year, d.month, d.day, tzinfo=UTC) - EPOCH).total_seconds())


def today(days_advanced: int = 0) -> date:
    return ANCHOR + timedelta(days=days_advanced)


def today_ts(days_advanced: int = 0) -> int:
    return day_ts(today(days_advanced))


def history_start() -> int:
    return day_ts(ANCHOR) - HISTORY_DAYS * DAY


def to_datetime(ts: int) -> datetime:
    return EPOCH + timedelta(seconds=int(ts))


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, as Marketo and HubSpot print timestamps."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp or date; naive values are UTC. Returns naive UTC."""
    raw = text.strip().replace("Z", "+00:00")
    if len(raw) == 10:
        raw += "T00:00:00+00:00"
    value = datetime.fromisoformat(raw)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def wall_now() -> datetime:
    """The wall clock in UTC, or the instant ``NURTURE_SANDBOX_NOW`` sets (tests)."""
    spec = os.environ.get(NOW_ENV, "").strip()
    if not spec:
        return datetime.now(UTC)
    if spec.startswith("file:"):
        spec = Path(spec.removeprefix("file:")).read_text().strip()
    return parse_iso(spec).replace(tzinfo=UTC)


def wall_clock_injected() -> bool:
    return bool(os.environ.get(NOW_ENV, "").strip())


def days_since_anchor(d: date) -> int:
    """The days to advance a world for its today to be ``d`` (negative before ANCHOR)."""
    return (d - ANCHOR).days
