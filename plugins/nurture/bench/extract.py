"""Extraction rate as a share of the sandbox's rate-limit ceiling.

The sandbox enforces the vendors' limits (Marketo 100 calls / 20 s, HubSpot search
5 requests / s). Each client pages through a long history until it has made enough calls
to span several limit windows; share = calls per second / ceiling per second.
"""

from __future__ import annotations

from datetime import timedelta

from nurture.bench.common import Result, Stopwatch, sandbox_connection, sandbox_today
from nurture.connectors.hubspot import HubSpotClient
from nurture.connectors.marketo import MarketoClient

MARKETO_CEILING = 100 / 20.0
HUBSPOT_SEARCH_CEILING = 5 / 1.0


def marketo_share(base_url: str, calls: int) -> Result:
    until = sandbox_today(base_url)
    client = MarketoClient(sandbox_connection("marketo", base_url, until))
    try:
        client.call("GET", "/rest/v1/activities/types.json")  # token and first call, untimed
        start_requests = client.http.stats.requests
        watch = Stopwatch()
        rows = 0
        for page in client.activities(until - timedelta(days=730), until):
            rows += len(page)
            if client.http.stats.requests - start_requests >= calls:
                break
        made = client.http.stats.requests - start_requests
        seconds = watch.seconds
        rate = made / seconds
    finally:
        client.close()
    detail = {
        "calls": made,
        "seconds": round(seconds, 1),
        "rows": rows,
        "retries": client.http.stats.retries,
    }
    return Result(
        "extract: Marketo REST rate / ceiling (100 per 20 s)",
        rate / MARKETO_CEILING,
        0.9,
        True,
        detail,
    )


def hubspot_search_share(base_url: str, calls: int) -> Result:
    until = sandbox_today(base_url)
    client = HubSpotClient(sandbox_connection("hubspot", base_url, until))
    try:
        watch = Stopwatch()
        rows = 0
        for page in client.contacts_modified(until - timedelta(days=731), until):
            rows += len(page)
            if client.http.stats.pages >= calls:
                break
        made = client.http.stats.requests
        seconds = watch.seconds
    finally:
        client.close()
    detail = {
        "calls": made,
        "seconds": round(seconds, 1),
        "rows": rows,
        "retries": client.http.stats.retries,
    }
    return Result(
        "extract: HubSpot search rate / ceiling (5 per s)",
        made / seconds / HUBSPOT_SEARCH_CEILING,
        0.9,
        True,
        detail,
    )
