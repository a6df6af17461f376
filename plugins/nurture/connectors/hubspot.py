"""HubSpot CRM: contacts and companies by search on their last-modified date (never losing
rows to the 10k cap), archived ones from the list endpoint (search never returns them),
owners, and each changed contact's company associations (v4)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import dlt
import pyarrow as pa

from nurture.connections import ApiConnection
from nurture.connectors.http import RetryingClient, SlidingWindowLimiter, retry_options
from nurture.connectors.records import Quarantine, parse_timestamp, typed_pages, typed_rows
from nurture.connectors.windows import window_cursor, window_start

SEARCH_RESULT_CAP = 10_000
SEARCH_PAGE = 200
LIST_PAGE = 100
BATCH_LIMIT = 100  # inputs per batch read/create/update/upsert call
OWNER_PAGE = 500
ASSOCIATION_BATCH = 1000  # v4 batch read inputs per call
# v4 batch-read errors that mean "this object has no such associations (any more)".
NO_ASSOCIATIONS = {"crm.associations.NO_ASSOCIATIONS_FOUND", "OBJECT_NOT_FOUND"}


@dataclass(frozen=True)
class CrmObject:
    """A HubSpot object type as the connector reads it."""

    name: str  # URL name and raw table: contacts
    modified: str  # its last-modified property (contacts and companies differ)
    properties: tuple[str, ...]
    types: dict[str, str]
    required: tuple[str, ...]


_STAMPS = {"createdate": "timestamp", "archived": "bool", "archived_at": "timestamp"}
CONTACTS = CrmObject(
    name="contacts",
    modified="lastmodifieddate",
    properties=(
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
    ),
    types={**_STAMPS, "lastmodifieddate": "timestamp"},
    required=("email", "lastmodifieddate"),
)
COMPANIES = CrmObject(
    name="companies",
    modified="hs_lastmodifieddate",
    properties=(
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "city",
        "country",
        "lifecyclestage",
        "hubspot_owner_id",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ),
    types={**_STAMPS, "hs_lastmodifieddate": "timestamp", "numberofemployees": "int"},
    required=("hs_lastmodifieddate",),
)
OWNER_FIELDS = (
    "id",
    "email",
    "firstName",
    "lastName",
    "userId",
    "createdAt",
    "updatedAt",
    "archived",
)
OWNER_TYPES = {
    "userId": "int",
    "createdAt": "timestamp",
    "updatedAt": "timestamp",
    "archived": "bool",
}
ASSOCIATION_KEY = ("contact_id", "company_id", "association_type_id")
ASSOCIATION_COLUMNS = (*ASSOCIATION_KEY, "association_category", "association_label", "removed")


def _ms(value: datetime) -> str:
    return str(int(value.timestamp() * 1000))


def _ms_of(value: str | None) -> str:
    parsed = parse_timestamp(value) if value else None
    return _ms(parsed) if parsed else "0"


def _next_after(body: dict[str, Any]) -> str | None:
    return ((body.get("paging") or {}).get("next") or {}).get("after")


class HubSpotClient:
    def __init__(self, conn: ApiConnection) -> None:
        self.conn = conn
        self.http = RetryingClient(
            conn.base_url,
            auth_headers=self._auth_headers,
            timeout=conn.timeout_seconds,
            **retry_options(conn.extra),
        )
        # The search API has its own limit (5 requests/s) and sends no headers for it: pace
        # to it client-side, with a 5% margin so jitter on the wire rarely meets a 429.
        per_second = int(conn.extra.get("search_requests_per_second", 5))
        self.search_limiter = SlidingWindowLimiter(max(1, per_second), 1.05)

    def close(self) -> None:
        self.http.close()

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.conn.password}"}

    def batch_upsert(
        self, object_name: str, id_property: str, inputs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Upsert up to 100 objects matched on `id_property` (e.g. email); each input is
        `{"id": <value of id_property>, "properties": {...}}`. Returns HubSpot's batch body
        (`results`, and `errors` when some inputs failed)."""
        if len(inputs) > BATCH_LIMIT:
            raise ValueError(f"at most {BATCH_LIMIT} inputs per HubSpot batch call")
        body = {"inputs": [{**i, "idProperty": id_property} for i in inputs]}
        return self.http.post(f"/crm/v3/objects/{object_name}/batch/upsert", json=body).json()

    def _search(self, obj: CrmObject, body: dict[str, Any]) -> dict[str, Any]:
        pause = self.search_limiter.delay()
        if pause > 0:
            self.http.wait(pause)
        self.search_limiter.record()
        response = self.http.post(f"/crm/v3/objects/{obj.name}/search", json=body)
        self.http.stats.count_page()
        return response.json()

    def _get_pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """A list endpoint followed through its `after` cursors."""
        query = dict(params)
        while True:
            body = self.http.get(path, params=query).json()
            self.http.stats.count_page()
            if body.get("results"):
                yield body["results"]
            after = _next_after(body)
            if not after:
                return
            query["after"] = after

    def modified(
        self, obj: CrmObject, since: datetime, until: datetime
    ) -> Iterator[list[dict[str, Any]]]:
        """Live objects with `since <= modified < until`, oldest first.

        A search query stops at 10,000 results, so the window restarts at the last
        timestamp seen; when one timestamp alone holds the cap, it pages by object id.
        """
        low, high = _ms(since), _ms(until)
        done_at_low: set[str] = set()  # ids already yielded whose timestamp equals `low`
        while True:
            count, last_ts, ids_at_last = 0, low, set[str]()
            for page in self._search_pages(obj, low, high):
                fresh = []
                for row in page:
                    count += 1
                    ts = _ms_of(row["properties"].get(obj.modified))
                    if ts == low and row["id"] in done_at_low:
                        continue
                    if ts != last_ts:
                        last_ts, ids_at_last = ts, set()
                    ids_at_last.add(row["id"])
                    fresh.append(_object_row(row))
                if fresh:
                    yield fresh
            if count < SEARCH_RESULT_CAP:
                return
            if last_ts == low:
                yield from self._same_timestamp(obj, low, done_at_low | ids_at_last)
                low, done_at_low = str(int(low) + 1), set()
            else:
                low, done_at_low = last_ts, ids_at_last

    def _search_pages(self, obj: CrmObject, low: str, high: str) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        fetched = 0
        while fetched < SEARCH_RESULT_CAP:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": obj.modified, "operator": "GTE", "value": low},
                            {"propertyName": obj.modified, "operator": "LT", "value": high},
                        ]
                    }
                ],
                "sorts": [{"propertyName": obj.modified, "direction": "ASCENDING"}],
                "properties": list(obj.properties),
                "limit": SEARCH_PAGE,
            }
            if after:
                body["after"] = after
            result = self._search(obj, body)
            rows = result.get("results") or []
            fetched += len(rows)
            if rows:
                yield rows
            after = _next_after(result)
            if not after or not rows:
                return

    def _same_timestamp(
        self, obj: CrmObject, stamp: str, seen: set[str]
    ) -> Iterator[list[dict[str, Any]]]:
        last_id = "0"
        while True:
            filters = [
                {"propertyName": obj.modified, "operator": "EQ", "value": stamp},
                {"propertyName": "hs_object_id", "operator": "GT", "value": last_id},
            ]
            result = self._search(
                obj,
                {
                    "filterGroups": [{"filters": filters}],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "properties": list(obj.properties),
                    "limit": SEARCH_PAGE,
                },
            )
            rows = result.get("results") or []
            if not rows:
                return
            last_id = rows[-1]["id"]
            fresh = [row for row in rows if row["id"] not in seen]
            if fresh:
                yield [_object_row(row) for row in fresh]

    def archived(
        self, obj: CrmObject, since: datetime, until: datetime
    ) -> Iterator[list[dict[str, Any]]]:
        """Archived objects modified (archiving is a change) in `[since, until)`.

        Only the list endpoint serves archived objects, and it cannot filter, so every
        archived object is read and the window applied here.
        """
        params = {"archived": "true", "limit": LIST_PAGE, "properties": ",".join(obj.properties)}
        for page in self._get_pages(f"/crm/v3/objects/{obj.name}", params):
            rows = [_object_row(r) for r in page]
            kept = [r for r in rows if _within(r.get(obj.modified), since, until)]
            if kept:
                yield kept

    def owners(self) -> Iterator[list[dict[str, Any]]]:
        """Every owner, active and archived (a record may still name a former owner)."""
        for archived in ("false", "true"):
            params = {"limit": OWNER_PAGE, "archived": archived}
            for page in self._get_pages("/crm/v3/owners", params):
                yield [{f: o.get(f) for f in OWNER_FIELDS} for o in page]

    def contact_companies(
        self, contact_ids: list[str], quarantine: Quarantine
    ) -> Iterator[list[dict[str, Any]]]:
        """Company association rows of the contacts, and a tombstone (`removed`) for each
        contact that has none, so its earlier rows are deleted."""
        for start in range(0, len(contact_ids), ASSOCIATION_BATCH):
            batch = contact_ids[start : start + ASSOCIATION_BATCH]
            body = self.http.post(
                "/crm/v4/associations/contacts/companies/batch/read",
                json={"inputs": [{"id": i} for i in batch]},
            ).json()
            self.http.stats.count_page()
            rows = [
                row for result in body.get("results") or [] for row in _association_rows(result)
            ]
            none = _without_associations(body.get("errors") or [], quarantine)
            yield rows + [_tombstone(i) for i in none]


# Every row of a page carries the same keys: Arrow takes a page's columns from its first row.
def _object_row(record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record.get("properties") or {})
    row["id"] = record["id"]
    row["archived"] = record.get("archived", False)
    row["archived_at"] = record.get("archivedAt")
    return row


def _within(value: Any, since: datetime, until: datetime) -> bool:
    try:
        stamp = parse_timestamp(value)
    except ValueError:
        return True  # unparsable: let typing put it in quarantine
    return stamp is None or since <= stamp < until


def _association_rows(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    contact = str((result.get("from") or {}).get("id", ""))
    for target in result.get("to") or []:
        for kind in target.get("associationTypes") or []:
            yield {
                "contact_id": contact,
                "company_id": str(target.get("toObjectId", "")),
                "association_type_id": kind.get("typeId"),
                "association_category": kind.get("category"),
                "association_label": kind.get("label"),
                "removed": False,
            }


def _tombstone(contact_id: str) -> dict[str, Any]:
    """Marks a contact without associations: its stored rows are deleted, it is not stored."""
    row: dict[str, Any] = dict.fromkeys(ASSOCIATION_COLUMNS)
    return {**row, "contact_id": contact_id, "removed": True}


def _without_associations(errors: list[dict[str, Any]], quarantine: Quarantine) -> list[str]:
    """Contact ids the errors say have no companies; other errors go to quarantine."""
    none: list[str] = []
    for error in errors:
        ids = (error.get("context") or {}).get("fromObjectId") or [None]
        kind = error.get("subCategory") or error.get("category")
        if kind in NO_ASSOCIATIONS:
            none += [str(i) for i in ids if i is not None]
            continue
        for i in ids:
            quarantine.reject(
                "contact_company_associations", error, i, f"association read failed: {kind}"
            )
    return none


def _page_ids(page: Any) -> list[str]:
    """Ids of a page of records, a list of dicts or (after `as_arrow`) an Arrow table."""
    if isinstance(page, pa.Table):
        return [str(i) for i in page.column("id").to_pylist()]
    return [str(row["id"]) for row in page]


def _typed_associations(
    pages: Iterable[list[dict[str, Any]]], quarantine: Quarantine
) -> Iterator[list[dict[str, Any]]]:
    """Association rows typed (bad ones quarantined); tombstones pass as they are."""
    for page in pages:
        rows = [r for r in page if r.get("removed")]
        rows += typed_rows(
            (r for r in page if not r.get("removed")),
            obj="contact_company_associations",
            key="contact_id",
            types={"association_type_id": "int"},
            required=ASSOCIATION_KEY[1:],
            quarantine=quarantine,
        )
        if rows:
            yield rows


@dlt.source(name="hubspot", max_table_nesting=0)
def hubspot_source(
    client: HubSpotClient,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool = False,
) -> Any:
    def objects(obj: CrmObject) -> Any:
        """Objects changed in the window: live ones by search, then the archived ones."""

        @dlt.resource(name=obj.name, primary_key="id", write_disposition="merge")
        def records(
            cursor: dlt.sources.incremental[datetime] = window_cursor(
                obj.modified, history_start, until, lookback, backfill
            ),
        ) -> Iterator[list[dict[str, Any]]]:
            since = window_start(cursor, history_start)
            yield from typed_pages(
                chain(client.modified(obj, since, until), client.archived(obj, since, until)),
                obj=obj.name,
                key="id",
                types=obj.types,
                required=obj.required,
                quarantine=quarantine,
            )

        return records

    contacts = objects(CONTACTS)

    @dlt.resource(name="owners", primary_key="id", write_disposition="merge")
    def owners() -> Iterator[list[dict[str, Any]]]:
        yield from typed_pages(
            client.owners(),
            obj="owners",
            key="id",
            types=OWNER_TYPES,
            required=(),
            quarantine=quarantine,
        )

    # Delete-insert by contact: a run replaces all associations of the contacts it read.
    @dlt.transformer(
        data_from=contacts,
        name="contact_company_associations",
        primary_key=ASSOCIATION_KEY,
        merge_key="contact_id",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns={
            "company_id": {"data_type": "text", "nullable": True},
            "association_type_id": {"data_type": "bigint", "nullable": True},
            "removed": {"data_type": "bool", "hard_delete": True},
        },
    )
    def contact_company_associations(page: Any) -> Iterator[list[dict[str, Any]]]:
        ids = list(dict.fromkeys(_page_ids(page)))
        yield from _typed_associations(client.contact_companies(ids, quarantine), quarantine)

    return contacts, objects(COMPANIES), owners, contact_company_associations
