"""The HubSpot connector's search walk: every object of the window exactly once, for contacts
and companies alike, although each search query stops at the result cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nurture.connections import ApiConnection
from nurture.connectors import hubspot
from nurture.connectors.hubspot import COMPANIES, CONTACTS, CrmObject, HubSpotClient

CAP, PAGE = 50, 10
START = datetime(2026, 1, 1, tzinfo=UTC)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeSearch:
    """HubSpot search over records {id: modified ms}: filters, one sort, offset paging and
    the cap (paging past it is an error, as HubSpot's 400)."""

    def __init__(self, records: dict[int, int]) -> None:
        self.records = records
        self.by_id_queries = 0

    def __call__(self, obj: CrmObject, body: dict[str, Any]) -> dict[str, Any]:
        after, limit = int(body.get("after") or 0), body["limit"]
        assert after + limit <= CAP, "paged past the cap"
        filters = body["filterGroups"][0]["filters"]
        rows = [
            (i, ms) for i, ms in self.records.items() if all(_match(obj, f, i, ms) for f in filters)
        ]
        by_id = body["sorts"][0]["propertyName"] == "hs_object_id"
        self.by_id_queries += by_id
        rows.sort(key=lambda r: (r[0],) if by_id else (r[1], r[0]))
        page = rows[after : after + limit]
        out: dict[str, Any] = {
            "total": len(rows),
            "results": [
                {"id": str(i), "properties": {obj.modified: _iso(ms), "hs_object_id": str(i)}}
                for i, ms in page
            ],
        }
        if page and after + len(page) < min(len(rows), CAP):
            out["paging"] = {"next": {"after": str(after + len(page))}}
        return out


def _match(obj: CrmObject, flt: dict[str, Any], object_id: int, ms: int) -> bool:
    value = object_id if flt["propertyName"] == "hs_object_id" else ms
    assert flt["propertyName"] in ("hs_object_id", obj.modified)
    target = int(flt["value"])
    return {
        "GTE": value >= target,
        "GT": value > target,
        "LT": value < target,
        "EQ": value == target,
    }[flt["operator"]]


@pytest.mark.parametrize("obj", [CONTACTS, COMPANIES], ids=lambda o: o.name)
def test_modified_reads_every_object_once_past_the_cap(obj, monkeypatch) -> None:
    monkeypatch.setattr(hubspot, "SEARCH_RESULT_CAP", CAP)
    monkeypatch.setattr(hubspot, "SEARCH_PAGE", PAGE)
    base = int(START.timestamp() * 1000)
    # 130 objects a second apart, then 120 sharing one timestamp (more than a query can
    # return), then 30 more; and some outside the window.
    stamps = [base + k * 1000 for k in range(130)] + [base + 200_000] * 120
    stamps += [base + 300_000 + k for k in range(30)]
    records = {1000 + k: ms for k, ms in enumerate(stamps)}
    records[5000] = base - 1
    records[5001] = base + 400_000
    client = HubSpotClient(
        ApiConnection(conn_id="hubspot_default", base_url="http://hubspot.invalid", password="t")
    )
    fake = FakeSearch(records)
    monkeypatch.setattr(client, "_search", fake)
    try:
        pages = list(client.modified(obj, START, START + timedelta(seconds=400)))
    finally:
        client.close()
    ids = [row["id"] for page in pages for row in page]
    assert len(ids) == len(set(ids)) == len(stamps)
    assert set(ids) == {str(i) for i in records if i < 5000}
    assert all(row["archived"] is False for page in pages for row in page)
    assert fake.by_id_queries > 0  # one timestamp held more than the cap: walked by id
