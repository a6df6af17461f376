"""HubSpot CRM v3: contacts by search on `lastmodifieddate`, never losing rows to the 10k cap."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt

from nurture.connections import ApiConnection
from nurture.connectors.http import RetryingClient
from nurture.connectors.records import Quarantine, parse_timestamp, typed_pages
from nurture.connectors.windows import window_cursor, window_start

CONTACT_PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "company",
    "jobtitle",
    "industry",
    "lifecyclestage",
    "hs_lead_status",
    "hubspot_owner_id",
    "createdate",
    "lastmodifieddate",
    "hs_object_id",
)
CONTACT_TYPES = {"createdate": "timestamp", "lastmodifieddate": "timestamp", "archived": "bool"}
SEARCH_RESULT_CAP = 10_000
SEARCH_PAGE = 200


def _ms(value: datetime) -> str:
    return str(int(value.timestamp() * 1000))


class HubSpotClient:
    def __init__(self, conn: ApiConnection) -> None:
        self.conn = conn
        self.http = RetryingClient(
            conn.base_url, auth_headers=self._auth_headers, timeout=conn.timeout_seconds
        )
        # The search API has its own limit (about 4-5 requests/s) and sends no headers for it.
        self.search_interval = 1.0 / float(conn.extra.get("search_requests_per_second", 4))
        self._last_search = 0.0

    def close(self) -> None:
        self.http.close()

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.conn.password}"}

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        pause = self._last_search + self.search_interval - time.monotonic()
        if pause > 0:
            self.http.wait(pause)
        self._last_search = time.monotonic()
        response = self.http.post("/crm/v3/objects/contacts/search", json=body)
        self.http.stats.pages += 1
        return response.json()

    def contacts_modified(
        self,
        since: datetime,
        until: datetime,
        properties: tuple[str, ...] = CONTACT_PROPERTIES,
    ) -> Iterator[list[dict[str, Any]]]:
        """Contacts with `since <= lastmodifieddate < until`, oldest first.

        A search query stops at 10,000 results, so the window restarts at the last
        timestamp seen; when one timestamp alone holds the cap, it pages by object id.
        """
        low, high = _ms(since), _ms(until)
        done_at_low: set[str] = set()  # ids already yielded whose timestamp equals `low`
        while True:
            count, last_ts, ids_at_last = 0, low, set[str]()
            for page in self._search_pages(low, high, properties):
                fresh = []
                for row in page:
                    count += 1
                    ts = _ms_of(row["properties"].get("lastmodifieddate"))
                    if ts == low and row["id"] in done_at_low:
                        continue
                    if ts != last_ts:
                        last_ts, ids_at_last = ts, set()
                    ids_at_last.add(row["id"])
                    fresh.append(_contact_row(row))
                if fresh:
                    yield fresh
            if count < SEARCH_RESULT_CAP:
                return
            if last_ts == low:
                yield from self._same_timestamp(low, properties, done_at_low | ids_at_last)
                low, done_at_low = str(int(low) + 1), set()
            else:
                low, done_at_low = last_ts, ids_at_last

    def _search_pages(
        self, low: str, high: str, properties: tuple[str, ...]
    ) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        fetched = 0
        while fetched < SEARCH_RESULT_CAP:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": low},
                            {"propertyName": "lastmodifieddate", "operator": "LT", "value": high},
                        ]
                    }
                ],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "properties": list(properties),
                "limit": SEARCH_PAGE,
            }
            if after:
                body["after"] = after
            result = self._search(body)
            rows = result.get("results") or []
            fetched += len(rows)
            if rows:
                yield rows
            after = ((result.get("paging") or {}).get("next") or {}).get("after")
            if not after or not rows:
                return

    def _same_timestamp(
        self, stamp: str, properties: tuple[str, ...], seen: set[str]
    ) -> Iterator[list[dict[str, Any]]]:
        last_id = "0"
        while True:
            result = self._search(
                {
                    "filterGroups": [
                        {
                            "filters": [
                                {
                                    "propertyName": "lastmodifieddate",
                                    "operator": "EQ",
                                    "value": stamp,
                                },
                                {
                                    "propertyName": "hs_object_id",
                                    "operator": "GT",
                                    "value": last_id,
                                },
                            ]
                        }
                    ],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "properties": list(properties),
                    "limit": SEARCH_PAGE,
                }
            )
            rows = result.get("results") or []
            if not rows:
                return
            last_id = rows[-1]["id"]
            fresh = [row for row in rows if row["id"] not in seen]
            if fresh:
                yield [_contact_row(row) for row in fresh]


def _ms_of(value: str | None) -> str:
    parsed = parse_timestamp(value) if value else None
    return _ms(parsed) if parsed else "0"


def _contact_row(contact: dict[str, Any]) -> dict[str, Any]:
    row = dict(contact.get("properties") or {})
    row["id"] = contact["id"]
    row["archived"] = contact.get("archived", False)
    return row


@dlt.source(name="hubspot", max_table_nesting=0)
def hubspot_source(
    client: HubSpotClient,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool = False,
) -> Any:
    @dlt.resource(name="contacts", primary_key="id", write_disposition="merge")
    def contacts(
        cursor: dlt.sources.incremental[datetime] = window_cursor(
            "lastmodifieddate", history_start, until, lookback, backfill
        ),
    ) -> Iterator[list[dict[str, Any]]]:
        since = window_start(cursor, history_start)
        yield from typed_pages(
            client.contacts_modified(since, until),
            obj="contacts",
            key="id",
            types=CONTACT_TYPES,
            required=("email", "lastmodifieddate"),
            quarantine=quarantine,
        )

    return contacts
