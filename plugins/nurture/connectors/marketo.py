"""Marketo Engage: identity token, activities by paging token, bulk lead extracts."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import dlt

from nurture.connections import ApiConnection
from nurture.connectors.http import (
    ApiError,
    RetryingClient,
    SlidingWindowLimiter,
    retry_options,
)
from nurture.connectors.records import Quarantine, materialized, parse_timestamp, typed_pages
from nurture.connectors.windows import window_cursor, window_start

log = logging.getLogger(__name__)

# The activity types the marts read (docs/kpis.md); Marketo takes 10 ids per call.
ACTIVITY_TYPE_IDS = (1, 2, 6, 7, 8, 9, 10, 11, 12, 104)
LEAD_FIELDS = (
    "id",
    "email",
    "firstName",
    "lastName",
    "company",
    "title",
    "industry",
    "numberOfEmployees",
    "leadSource",
    "unsubscribed",
    "emailInvalid",
    "createdAt",
    "updatedAt",
)
LEAD_TYPES = {
    "id": "int",
    "numberOfEmployees": "int",
    "unsubscribed": "bool",
    "emailInvalid": "bool",
    "createdAt": "timestamp",
    "updatedAt": "timestamp",
}
ACTIVITY_TYPES = {
    "id": "int",
    "leadId": "int",
    "activityTypeId": "int",
    "campaignId": "int",
    "primaryAttributeValueId": "int",
    "activityDate": "timestamp",
}
ACTIVITY_EXPORT_FIELDS = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
)
PROGRAM_TYPES = {
    "id": "int",
    "createdAt": "timestamp",
    "updatedAt": "timestamp",
    "startDate": "timestamp",
    "endDate": "timestamp",
    "period_cost": "float",
    "period_cost_count": "int",
}
EMAIL_TYPES = {"id": "int", "program_id": "int", "createdAt": "timestamp", "updatedAt": "timestamp"}
ASSET_PAGE = 200  # the Asset API's maxReturn ceiling
MAX_EXPORT_DAYS = 31
# Windows longer than this go through bulk extract (few calls); shorter ones through REST.
REST_MAX_WINDOW = timedelta(days=7)
TOKEN_ERRORS = {"601", "602"}
THROTTLE_ERRORS = {"606", "615", "1029"}


class MarketoClient:
    def __init__(
        self, conn: ApiConnection, batch_size: int = 300, poll_seconds: float = 0.2
    ) -> None:
        self.conn = conn
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._token: str | None = None
        self._token_expires = 0.0
        # Marketo allows 100 calls per 20 s per instance; stay a little under it.
        limit = int(conn.extra.get("calls_per_20s", 100))
        self.http = RetryingClient(
            conn.base_url,
            auth_headers=self._auth_headers,
            on_unauthorized=self._expire_token,
            limiter=SlidingWindowLimiter(max(1, limit - 2), 20.0),
            timeout=conn.timeout_seconds,
            **retry_options(conn.extra),
        )

    def close(self) -> None:
        self.http.close()

    def _expire_token(self) -> None:
        self._token = None

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._token_expires:
            self._refresh_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _refresh_token(self) -> None:
        params = {
            "grant_type": "client_credentials",
            "client_id": self.conn.login,
            "client_secret": self.conn.password,
        }
        for attempt in range(1, 9):
            try:
                # The token call itself carries no bearer header.
                response = self.http.get(
                    "/identity/oauth/token", authenticated=False, params=params
                )
            except ApiError as exc:
                if exc.status in (400, 401, 403):
                    raise ApiError(
                        f"Marketo identity refused the client credentials ({exc}); check "
                        "the connection's login (client id) and password (client secret).",
                        status=exc.status,
                    ) from exc
                # no answer, or a server error: the credentials were never judged
                raise ApiError(
                    f"Marketo identity at {self.conn.base_url} could not be reached ({exc}); "
                    "check the connection's host and that Marketo is up.",
                    status=exc.status,
                ) from exc
            body = response.json()
            if "access_token" in body:
                self._token = body["access_token"]
                # Refresh a minute early so a page never starts with a lapsing token.
                lifetime = int(body.get("expires_in", 3600))
                self._token_expires = time.monotonic() + max(30, lifetime - 60)
                return
            self._handle_envelope_errors("/identity/oauth/token", body, attempt)
        raise ApiError("Marketo identity: no token after retries")

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One REST call, unwrapping Marketo's always-200 envelope into errors or a body."""
        for attempt in range(1, 9):
            body = self.http.request(method, path, **kwargs).json()
            if body.get("success", True):
                return body
            self._handle_envelope_errors(path, body, attempt)
        raise ApiError(f"Marketo {path}: still throttled or unauthorised after retries")

    def _handle_envelope_errors(self, path: str, body: dict[str, Any], attempt: int) -> None:
        """Prepare a retry for token and throttling errors; raise for anything else."""
        codes = {str(err.get("code")) for err in body.get("errors", [])}
        if codes & TOKEN_ERRORS:
            self._expire_token()
        elif codes & THROTTLE_ERRORS:
            self.http.stats.retries += 1
            self.http.wait(min(20.0, 2.0**attempt))
        else:
            raise ApiError(f"Marketo {path}: {body.get('errors')}")

    def activities(
        self, since: datetime, until: datetime, type_ids: tuple[int, ...] = ACTIVITY_TYPE_IDS
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of activities with `since <= activityDate < until`, oldest first."""
        params = {"activityTypeIds": ",".join(map(str, type_ids))}
        yield from self._token_pages("/rest/v1/activities.json", since, until, params)

    def deleted_leads(self, since: datetime, until: datetime) -> Iterator[list[dict[str, Any]]]:
        """Leads deleted or merged away with `since <= activityDate < until` (the loser's id
        in `leadId`, the survivor in `Merged Into Lead ID`)."""
        yield from self._token_pages("/rest/v1/activities/deletedleads.json", since, until, {})

    def _token_pages(
        self, path: str, since: datetime, until: datetime, params: dict[str, Any]
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages from a paging-token endpoint, flattened, stopping at `until`."""
        token = self.call(
            "GET",
            "/rest/v1/activities/pagingtoken.json",
            params={"sinceDatetime": since.isoformat()},
        )["nextPageToken"]
        while True:
            body = self.call(
                "GET",
                path,
                params={**params, "nextPageToken": token, "batchSize": self.batch_size},
            )
            self.http.stats.count_page()
            page, passed_end = [], False
            for activity in body.get("result") or []:
                if not _before(activity.get("activityDate"), until):
                    passed_end = True
                    continue
                page.append(_flatten_attributes(activity))
            if page:
                yield page
            token = body.get("nextPageToken", token)
            if passed_end or not body.get("moreResult"):
                return

    def assets(self, kind: str) -> Iterator[list[dict[str, Any]]]:
        """Every program or email (`kind`: programs | emails) of the Asset API, by offset."""
        offset = 0
        while True:
            body = self.call(
                "GET",
                f"/rest/asset/v1/{kind}.json",
                params={"offset": offset, "maxReturn": ASSET_PAGE},
            )
            self.http.stats.count_page()
            result = body.get("result") or []  # "No assets found" ends the listing
            if result:
                yield [_flatten_asset(asset) for asset in result]
            if len(result) < ASSET_PAGE:
                return
            offset += ASSET_PAGE

    def export_leads(
        self,
        start: datetime,
        end: datetime,
        filter_field: str = "updatedAt",
        fields: tuple[str, ...] = LEAD_FIELDS,
        chunk: int = 5000,
    ) -> Iterator[list[dict[str, Any]]]:
        """Bulk-extract leads with `start <= filter_field < end`, in chunks of CSV rows."""
        yield from self._export("leads", filter_field, start, end, {"fields": list(fields)}, chunk)

    def export_activities(
        self,
        start: datetime,
        end: datetime,
        type_ids: tuple[int, ...] = ACTIVITY_TYPE_IDS,
        chunk: int = 5000,
    ) -> Iterator[list[dict[str, Any]]]:
        """Bulk-extract activities with `start <= activityDate < end`, attributes flattened."""
        extra = {
            "fields": list(ACTIVITY_EXPORT_FIELDS),
            "filter": {"activityTypeIds": list(type_ids)},
        }
        for rows in self._export(
            "activities", "createdAt", start, end, extra, chunk, row_time="activityDate"
        ):
            yield [_flatten_attributes(_decode_attributes(row)) for row in rows]

    def _export(
        self,
        kind: str,
        filter_field: str,
        start: datetime,
        end: datetime,
        body: dict[str, Any],
        chunk: int,
        row_time: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        # Marketo's date filters include `endAt`: a row at a window's end comes again as
        # the next window's first (or in the next run), so each window keeps only the rows
        # before its end. A row whose time does not parse is kept: typed_rows quarantines it.
        time_field = row_time or filter_field
        window_from = start
        while window_from < end:
            window_to = min(end, window_from + timedelta(days=MAX_EXPORT_DAYS))
            request = {
                **body,
                "format": "CSV",
                "filter": {
                    **body.get("filter", {}),
                    filter_field: {
                        "startAt": window_from.isoformat(),
                        "endAt": window_to.isoformat(),
                    },
                },
            }
            for rows in self._export_window(kind, request, chunk):
                kept = [r for r in rows if _before(r.get(time_field), window_to)]
                if kept:
                    yield kept
            window_from = window_to

    def _export_window(
        self, kind: str, request: dict[str, Any], chunk: int
    ) -> Iterator[list[dict[str, Any]]]:
        created = self.call("POST", f"/bulk/v1/{kind}/export/create.json", json=request)
        export_id = created["result"][0]["exportId"]
        self.call("POST", f"/bulk/v1/{kind}/export/{export_id}/enqueue.json")
        delay = self.poll_seconds
        while True:
            status = self.call("GET", f"/bulk/v1/{kind}/export/{export_id}/status.json")
            state = status["result"][0]["status"]
            if state == "Completed":
                break
            if state in ("Failed", "Cancelled"):
                raise ApiError(
                    f"Marketo {kind} export {export_id} ended {state}: "
                    f"{status['result'][0].get('errorMsg')}"
                )
            self.http.wait(delay)
            delay = min(30.0, delay * 1.5)
        job = status["result"][0]
        yield from self._export_file(kind, export_id, job, chunk)

    def _export_file(
        self, kind: str, export_id: str, job: dict[str, Any], chunk: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Stream the export file, then prove it whole: row count and SHA-256 as announced.

        Marketo answers errors on this endpoint as a JSON envelope with HTTP 200 (for
        example 606 when throttled); reading that as CSV would silently lose a window.
        """
        path = f"/bulk/v1/{kind}/export/{export_id}/file.json"
        for attempt in range(1, 9):
            response = self.http.get(path, stream=True)
            if not response.headers.get("content-type", "").startswith("application/json"):
                break
            body = json.loads(response.read())
            response.close()
            self._handle_envelope_errors(path, body, attempt)
        else:
            raise ApiError(f"Marketo {path}: still throttled or unauthorised after retries")
        digest = hashlib.sha256()
        rows = 0
        with closing(response):
            self.http.stats.count_page()
            batch: list[dict[str, Any]] = []
            for row in csv.DictReader(_lines(response.iter_bytes(), digest)):
                # CSV has no null: an empty cell is an absent value, as in the REST reads.
                batch.append({k: (None if v == "" else v) for k, v in row.items()})
                rows += 1
                if len(batch) >= chunk:
                    yield batch
                    batch = []
            if batch:
                yield batch
        expected_rows = job.get("numberOfRecords")
        if expected_rows is not None and int(expected_rows) != rows:
            raise ApiError(
                f"Marketo {kind} export {export_id}: read {rows} rows, "
                f"the job announced {expected_rows}"
            )
        checksum = str(job.get("fileChecksum") or "")
        if checksum.startswith("sha256:") and checksum[7:] != digest.hexdigest():
            raise ApiError(f"Marketo {kind} export {export_id}: file checksum mismatch")


def _lines(chunks: Iterator[bytes], digest: Any) -> Iterator[str]:
    """Text lines of a byte stream, hashing the bytes on the way through."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    for raw in chunks:
        digest.update(raw)
        pending += decoder.decode(raw)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line.rstrip("\r")
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending.rstrip("\r")


def _decode_attributes(row: dict[str, Any]) -> dict[str, Any]:
    """Bulk files carry attributes as one JSON object; REST as a list of name/value pairs."""
    text = row.get("attributes")
    if not text:
        return {**row, "attributes": []}
    try:
        pairs = json.loads(text)
    except ValueError:
        return row  # left as text: typed_rows will not touch it, the payload stays intact
    return {**row, "attributes": [{"name": k, "value": v} for k, v in pairs.items()]}


def _before(value: Any, end: datetime) -> bool:
    when = _safe_timestamp(value)
    return when is None or when < end


def _safe_timestamp(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        return None


def _flatten_attributes(activity: dict[str, Any]) -> dict[str, Any]:
    """Attributes become columns (dlt snake-cases the names; new ones are schema drift)."""
    row = {k: v for k, v in activity.items() if k != "attributes"}
    for attribute in activity.get("attributes") or []:
        name = attribute.get("name")
        if name and name not in row:
            value = attribute.get("value")
            # Marketo attributes are loosely typed; text keeps REST and bulk rows alike.
            row[name] = (
                None
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    return row


def _flatten_asset(asset: dict[str, Any]) -> dict[str, Any]:
    """Nested asset fields to columns: an email's subject text and program (its folder),
    a program's tags as `tag_<type>` (e.g. the content type of its creative) and its
    period `costs` ([{startDate, cost, note}]) as `period_cost` (their sum) and
    `period_cost_count`; a program listed without `costs` has neither."""
    row = {k: v for k, v in asset.items() if k not in ("subject", "folder", "tags", "costs")}
    costs = asset.get("costs")
    if isinstance(costs, list):
        row["period_cost"] = float(sum(float(c.get("cost") or 0) for c in costs))
        row["period_cost_count"] = len(costs)
    subject = asset.get("subject")
    if isinstance(subject, dict):
        row["subject"] = subject.get("value")
    folder = asset.get("folder")
    if isinstance(folder, dict):
        row["program_id" if folder.get("type") == "Program" else "folder_id"] = folder.get("value")
    for tag in asset.get("tags") or []:
        name = str(tag.get("tagType", "")).strip().lower().replace(" ", "_")
        if name:
            row[f"tag_{name}"] = tag.get("tagValue")
    return row


@dlt.source(name="marketo", max_table_nesting=0)
def marketo_source(
    client: MarketoClient,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool = False,
) -> Any:
    """Leads (bulk extract on `updatedAt`), activities (bulk extract or paging token),
    deleted (merged) leads, programs and emails (Asset API), merged by key."""

    @dlt.resource(name="leads", primary_key="id", write_disposition="merge")
    def leads(
        cursor: dlt.sources.incremental[datetime] = window_cursor(
            "updatedAt", history_start, until, lookback, backfill
        ),
    ) -> Iterator[list[dict[str, Any]]]:
        since = window_start(cursor, history_start)
        yield from typed_pages(
            client.export_leads(since, until),
            obj="leads",
            key="id",
            types=LEAD_TYPES,
            required=("email", "updatedAt"),
            quarantine=quarantine,
        )

    @dlt.resource(name="activities", primary_key="marketoGUID", write_disposition="merge")
    def activities(
        cursor: dlt.sources.incremental[datetime] = window_cursor(
            "activityDate", history_start, until, lookback, backfill
        ),
    ) -> Iterator[list[dict[str, Any]]]:
        since = window_start(cursor, history_start)
        pages = (
            client.export_activities(since, until)
            if until - since > REST_MAX_WINDOW
            else client.activities(since, until)
        )
        yield from typed_pages(
            pages,
            obj="activities",
            key="marketoGUID",
            types=ACTIVITY_TYPES,
            required=("leadId", "activityDate", "activityTypeId"),
            quarantine=quarantine,
        )

    @dlt.resource(
        name="deleted_leads",
        primary_key="leadId",
        write_disposition="merge",
        columns={
            "id": {"data_type": "bigint"},
            "leadId": {"data_type": "bigint"},
            "activityDate": {"data_type": "timestamp"},
            "Merged Into Lead ID": {"data_type": "text"},
        },
    )
    def deleted_leads(
        cursor: dlt.sources.incremental[datetime] = window_cursor(
            "activityDate", history_start, until, lookback, backfill
        ),
    ) -> Iterator[list[dict[str, Any]]]:
        # Leads never leave the raw table; the marts drop these and map merged ids.
        since = window_start(cursor, history_start)
        yield from materialized(
            typed_pages(
                client.deleted_leads(since, until),
                obj="deleted_leads",
                key="leadId",
                types=ACTIVITY_TYPES,
                required=("activityDate",),
                quarantine=quarantine,
            )
        )

    def asset_resource(kind: str, types: dict[str, str]) -> Any:
        # A few hundred assets: each run reads them all and merges, so edits are caught.
        @dlt.resource(name=kind, primary_key="id", write_disposition="merge")
        def assets() -> Iterator[list[dict[str, Any]]]:
            yield from typed_pages(
                client.assets(kind),
                obj=kind,
                key="id",
                types=types,
                required=("name", "updatedAt"),
                quarantine=quarantine,
            )

        return assets

    return (
        leads,
        activities,
        deleted_leads,
        asset_resource("programs", PROGRAM_TYPES),
        asset_resource("emails", EMAIL_TYPES),
    )
