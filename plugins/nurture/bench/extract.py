"""Extraction rate as a share of the sandbox's rate-limit ceiling.

The sandbox enforces the vendors' limits (Marketo 100 calls / 20 s, HubSpot search
5 requests / s). Each client pages through a long history until it has made enough calls
to span several limit windows; share = calls per second / ceiling per second.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from nurture.bench.common import Result, Stopwatch, sandbox_connection, sandbox_today
from nurture.connectors.http import RetryingClient
from nurture.connectors.hubspot import CONTACTS, HubSpotClient
from nurture.connectors.marketo import MarketoClient


def _share(
    name: str,
    limit: tuple[int, float],
    http: RetryingClient,
    pages: Iterator[list[dict[str, Any]]],
    calls: int,
) -> Result:
    """Page until `calls` requests went out; their steady rate over the ceiling.

    A limit of n calls per window lets the first n go at once, so the steady rate is taken
    from the moment that first burst is spent: (calls - n) / time since then.
    """
    burst, window = limit
    start = http.stats.requests
    watch = Stopwatch()
    rows, burst_spent = 0, None
    for page in pages:
        rows += len(page)
        made = http.stats.requests - start
        if burst_spent is None and made >= burst:
            burst_spent = (made, watch.seconds)
        if made >= calls:
            break
    made, seconds = http.stats.requests - start, watch.seconds
    steady_calls, since = burst_spent if burst_spent else (0, 0.0)
    rate = (made - steady_calls) / max(seconds - since, 1e-9)
    detail = {"calls": made, "seconds": round(seconds, 1), "rows": rows}
    detail["steady_calls_per_second"] = round(rate, 3)
    detail["retries"] = http.stats.retries
    return Result(name, rate / (burst / window), 0.9, True, detail)


def marketo_share(base_url: str, calls: int) -> Result:
    until = sandbox_today(base_url)
    client = MarketoClient(sandbox_connection("marketo", base_url, until))
    try:
        client.call("GET", "/rest/v1/activities/types.json")  # token and first call, untimed
        pages = client.activities(until - timedelta(days=730), until)
        name = "extract: Marketo REST rate / ceiling (100 per 20 s)"
        return _share(name, (100, 20.0), client.http, pages, calls)
    finally:
        client.close()


def hubspot_search_share(base_url: str, calls: int) -> Result:
    until = sandbox_today(base_url)
    client = HubSpotClient(sandbox_connection("hubspot", base_url, until))
    try:
        pages = client.modified(CONTACTS, until - timedelta(days=731), until)
        name = "extract: HubSpot search rate / ceiling (5 per s)"
        return _share(name, (5, 1.0), client.http, pages, calls)
    finally:
        client.close()
