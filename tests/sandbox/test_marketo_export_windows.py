"""The connector's bulk export against the emulator: Marketo's date filters include both
ends, so an activity at a window's edge is sent in two windows; the sync keeps it once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx

from nurture.connections import ApiConnection
from nurture.connectors.marketo import ACTIVITY_TYPE_IDS, MAX_EXPORT_DAYS, MarketoClient
from nurture.connectors.records import parse_timestamp
from tests.sandbox.test_marketo import _walk_activities


def test_an_activity_on_a_window_edge_is_exported_once(base_url: str, client: httpx.Client) -> None:
    walked = _walk_activities(client, "2020-01-01T00:00:00Z")
    times = Counter(parse_timestamp(a["activityDate"]) for a in walked)
    edge = next(t for t, _ in times.most_common() if t.second == 0 and t.minute == 0)
    start = edge - timedelta(days=MAX_EXPORT_DAYS)  # the first window ends on `edge`
    end = edge + timedelta(days=2)
    expected = {
        a["marketoGUID"]
        for a in walked
        if start <= parse_timestamp(a["activityDate"]) < end
        and a["activityTypeId"] in ACTIVITY_TYPE_IDS
    }

    marketo = MarketoClient(ApiConnection("marketo_default", base_url, "id", "secret"))
    marketo.poll_seconds = 0.05
    try:
        guids = [
            row["marketoGUID"] for page in marketo.export_activities(start, end) for row in page
        ]
    finally:
        marketo.close()

    assert times[edge] >= 1 and start < edge < end
    assert sorted(guids) == sorted(expected)  # nothing doubled at the edge, nothing missing
