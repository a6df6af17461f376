"""Extraction rate as a share of the sandbox's rate-limit ceiling.

The sandbox enforces the vendors' limits (Marketo 100 calls / 20 s, HubSpot search
5 requests / s). Each client pages through a long history until it has made enough calls
to span several limit windows; share = calls per second / ceiling per second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from nurture.bench.common import Result, sandbox_connection, sandbox_today
from nurture.connectors.http import SlidingWindowLimiter
from nurture.connectors.hubspot import CONTACTS, HubSpotClient
from nurture.connectors.marketo import MarketoClient


def _share(
    name: str,
    limit: tuple[int, float],
    limiter: SlidingWindowLimiter,
    pages: Iterator[list[dict[str, Any]]],
    calls: int,
) -> Result:
    """Page until `calls` requests went out; their rate over whole limit windows.

    A limit of n calls per window lets n go at once at each window's start, so a rate over
    a stretch that ends mid-window over- or under-counts; only whole windows from the
    first call on are counted.
    """
    burst, window = limit
    sent: list[float] = []
    record = limiter.record

    def timed_record() -> None:
        sent.append(time.monotonic())
        record()

    limiter.record = timed_record  # type: ignore[method-assign]
    rows = 0
    for page in pages:
        rows += len(page)
        if len(sent) >= calls:
            break
    elapsed = sent[-1] - sent[0]
    windows = max(1, int(elapsed // window))
    counted = sum(1 for t in sent if t - sent[0] < windows * window)
    rate = counted / (windows * window)
    detail = {"calls": len(sent), "seconds": round(elapsed, 1), "rows": rows}
    detail |= {"whole_windows": windows, "calls_in_them": counted, "calls_per_second": rate}
    return Result(name, rate / (burst / window), 0.9, True, detail)


def marketo_share(base_url: str, calls: int) -> Result:
    until = sandbox_today(base_url)
    client = MarketoClient(sandbox_connection("marketo", base_url, until))
    try:
        client.call("GET", "/rest/v1/activities/types.json")  # token and first call, untimed
        pages = client.activities(until - timedelta(days=730), until)
        name = "extract: Marketo REST rate / ceiling (100 per 20 s)"
        assert client.http.limiter is not None
        return _share(name, (100, 20.0), client.http.limiter, pages, calls)
    finally:
        client.close()


def hubspot_search_share(base_url: str, calls: int) -> Result:
    until = sandbox_today(base_url)
    client = HubSpotClient(sandbox_connection("hubspot", base_url, until))
    try:
        pages = client.modified(CONTACTS, until - timedelta(days=731), until)
        name = "extract: HubSpot search rate / ceiling (5 per s)"
        return _share(name, (5, 1.0), client.search_limiter, pages, calls)
    finally:
        client.close()
