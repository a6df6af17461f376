"""Salesforce: every synced sObject, incremental on `SystemModstamp`, read with `queryAll`.

Large pulls (the history load, or a window whose `SELECT COUNT()` passes the connection's
`bulk_threshold`) run as a Bulk API 2.0 `queryAll` job whose CSV results are streamed
page by page (`Sforce-Locator`); small deltas use SOQL `queryAll` with `nextRecordsUrl`.
Either way deleted records arrive with `IsDeleted = true` and are kept (soft delete).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import dlt
import httpx

from nurture.connections import ApiConnection
from nurture.connectors.csvstream import batched, csv_records
from nurture.connectors.http import ApiError, RetryingClient, retry_options
from nurture.connectors.records import Quarantine, materialized, typed_pages
from nurture.connectors.windows import window_cursor, window_start

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v60.0"
CURSOR = "SystemModstamp"
# Field kinds (see records.PARSERS) and the warehouse type dlt gives each.
DLT_TYPES = {
    "text": "text",
    "bool": "bool",
    "int": "bigint",
    "float": "double",
    "date": "date",
    "timestamp": "timestamp",
}
STRATEGIES = ("auto", "bulk", "soql")
JOB_FAILED = ("Failed", "Aborted")
POLL_CAP_SECONDS = 30.0
COLLECTION_LIMIT = 200  # records per sObject Collections call
HISTORY_LOADED = "history_loaded"  # resource state: the first (history) load has run


@dataclass(frozen=True)
class SObject:
    """One synced sObject: its API name, its raw table, and its fields with their kinds."""

    name: str
    table: str
    fields: Mapping[str, str]
    cursor: str = CURSOR  # the incremental field (history objects have no SystemModstamp)

    def columns(self) -> dict[str, dict[str, str]]:
        """dlt column hints, so every declared column exists with its type, even all null."""
        return {name: {"data_type": DLT_TYPES[kind]} for name, kind in self.fields.items()}


def sobject(
    name: str, table: str, specs: str, deletable: bool = True, history: bool = False
) -> SObject:
    """An `SObject` from whitespace-separated `Field` or `Field:kind` specs (kind defaults
    to text). Every object has `Id` and the audit timestamps; all but User have `IsDeleted`.
    A field history object (`history`) is never modified: it has `CreatedDate` only, which
    is its cursor.
    """
    stamps = "CreatedDate:timestamp" + ("" if history else f" {CURSOR}:timestamp")
    audit = stamps + (" IsDeleted:bool" if deletable else "")
    kinds = {}
    for spec in f"Id {specs} {audit}".split():
        field_name, _, kind = spec.partition(":")
        if (kind or "text") not in DLT_TYPES:
            raise ValueError(f"{name}.{field_name}: unknown field kind {kind!r}")
        kinds[field_name] = kind or "text"
    return SObject(name, table, kinds, "CreatedDate" if history else CURSOR)


# The fields the sandbox serves (sandbox/world.py TABLES), all standard in a real org but
# the Nurture_*__c custom fields the handoff writes. Probability is a percent field, a
# double in Salesforce (whole numbers in the sandbox). User has no IsDeleted: users are
# deactivated, never deleted.
SOBJECTS: tuple[SObject, ...] = (
    sobject(
        "Lead",
        "leads",
        """Email FirstName LastName Company Title Industry NumberOfEmployees:int Status
        LeadSource OwnerId IsConverted:bool ConvertedDate:date ConvertedAccountId
        ConvertedContactId ConvertedOpportunityId Nurture_Lead_Id__c Nurture_Score__c:float
        Nurture_Grade__c""",
    ),
    sobject(
        "Contact",
        "contacts",
        "AccountId Email FirstName LastName Title Department LeadSource OwnerId",
    ),
    sobject("Account", "accounts", "Name Website Industry NumberOfEmployees:int OwnerId"),
    sobject(
        "Opportunity",
        "opportunities",
        """AccountId Name Type StageName Amount:float CloseDate:date IsClosed:bool
        IsWon:bool Probability:float LeadSource OwnerId""",
    ),
    sobject(
        "OpportunityHistory",
        "opportunity_history",
        "OpportunityId StageName Amount:float CloseDate:date Probability:float",
    ),
    sobject(
        "OpportunityContactRole",
        "opportunity_contact_roles",
        "OpportunityId ContactId Role IsPrimary:bool",
    ),
    sobject(
        "Task",
        "tasks",
        "WhoId Subject Description Status Priority ActivityDate:date OwnerId",
    ),
    sobject(
        "Campaign",
        "campaigns",
        "Name Type StartDate:date EndDate:date IsActive:bool BudgetedCost:float ActualCost:float",
    ),
    sobject(
        "CampaignMember",
        "campaign_members",
        "CampaignId LeadId ContactId Status HasResponded:bool",
    ),
    sobject("User", "users", "Name FirstName LastName Email Title IsActive:bool", deletable=False),
    # Lead field history: creation, Status and hand-off (Nurture_Lead_Id__c) changes
    sobject("LeadHistory", "lead_history", "LeadId Field OldValue NewValue", history=True),
)


# QueryOptions field -> the connection extra that sets it.
OPTION_EXTRAS = {
    "strategy": "query_strategy",
    "bulk_threshold": "bulk_threshold",
    "page_size": "bulk_page_size",
    "poll_seconds": "bulk_poll_seconds",
    "job_timeout_seconds": "bulk_timeout_seconds",
    "limit_retries": "limit_retries",
    "limit_backoff_seconds": "limit_backoff_seconds",
}


@dataclass(frozen=True)
class QueryOptions:
    """How reads are made; the connection extras in OPTION_EXTRAS override the defaults."""

    strategy: str = "auto"  # auto (history or COUNT() above threshold: bulk), bulk, soql
    bulk_threshold: int = 10_000
    page_size: int = 50_000  # maxRecords per Bulk results page
    chunk_rows: int = 2_000  # rows handed on at a time, which bounds memory
    poll_seconds: float = 0.5
    job_timeout_seconds: float = 3_600.0
    limit_retries: int = 3
    limit_backoff_seconds: float = 30.0

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any]) -> QueryOptions:
        kinds = {f.name: type(f.default) for f in fields(cls)}
        values = {
            name: kinds[name](extra[key]) for name, key in OPTION_EXTRAS.items() if key in extra
        }
        options = cls(**values)
        if options.strategy not in STRATEGIES:
            raise ValueError(
                f"Salesforce connection extra query_strategy={options.strategy!r}; "
                f"expected one of {', '.join(STRATEGIES)}"
            )
        return options


_SFID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def soql_id_list(ids: Iterable[str]) -> str:
    """Record ids as a SOQL `IN (...)` list. An id is 15 or 18 letters and digits; one
    that is not (a crafted value in a synced column) is refused, never quoted into SOQL."""
    found = sorted(set(ids))
    bad = [i for i in found if not _SFID.match(str(i))]
    if bad:
        raise ValueError(f"not a Salesforce record id: {bad[0]!r}")
    return ", ".join(f"'{i}'" for i in found)


def soql_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def use_bulk(options: QueryOptions, history: bool, count: Callable[[], int]) -> bool:
    """Bulk for the history load and for windows above the threshold; `count` runs only
    when its answer decides."""
    if options.strategy != "auto":
        return options.strategy == "bulk"
    return history or count() > options.bulk_threshold


def error_code(exc: ApiError) -> tuple[str, str]:
    """Salesforce's `[{"errorCode", "message"}]` body as (code, message); ("", "") if not."""
    try:
        first = json.loads(exc.body)[0]
        return str(first.get("errorCode", "")), str(first.get("message", ""))
    except (ValueError, LookupError, TypeError, AttributeError):
        return "", ""


class SalesforceClient:
    def __init__(self, conn: ApiConnection) -> None:
        self.conn = conn
        self.api_version = str(conn.extra.get("api_version", DEFAULT_API_VERSION))
        self.options = QueryOptions.from_extra(conn.extra)
        self._token: str | None = None
        self.http = RetryingClient(
            conn.base_url,
            auth_headers=self._auth_headers,
            on_unauthorized=self._expire_token,
            timeout=conn.timeout_seconds,
            **retry_options(conn.extra),
        )

    def close(self) -> None:
        self.http.close()

    def _expire_token(self) -> None:
        self._token = None

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None:
            self._refresh_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _refresh_token(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.conn.login,
            "client_secret": self.conn.password,
        }
        if self.conn.extra.get("username"):
            form.update(
                grant_type="password",
                username=self.conn.extra["username"],
                password=self.conn.extra.get("user_password", ""),
            )
        try:
            response = self.http.post("/services/oauth2/token", data=form, authenticated=False)
        except ApiError as exc:
            raise ApiError(
                f"Salesforce OAuth refused the credentials ({exc}); check the connection's "
                "login (client id) and password (client secret)."
            ) from exc
        self._token = response.json()["access_token"]

    def _path(self, rest: str) -> str:
        return f"/services/data/{self.api_version}/{rest}"

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A call through the retrying client, backing off on `REQUEST_LIMIT_EXCEEDED`."""
        attempt = 0
        while True:
            try:
                return self.http.request(method, url, **kwargs)
            except ApiError as exc:
                self._wait_out_request_limit(exc, attempt)
            attempt += 1

    def _wait_out_request_limit(self, exc: ApiError, attempt: int) -> None:
        """Re-raise `exc` unless it is a request-limit refusal worth waiting for; then wait.

        Salesforce answers 403 `REQUEST_LIMIT_EXCEEDED` both for too many concurrent long
        requests (clears in seconds to minutes: wait and retry a few times) and for the
        org's rolling 24-hour allowance (`TotalRequests`: retrying only burns calls, so stop).
        """
        code, message = error_code(exc)
        if code != "REQUEST_LIMIT_EXCEEDED":
            raise exc
        if "TotalRequests" in message or attempt >= self.options.limit_retries:
            waited = f" after {attempt} back-offs" if attempt else ""
            raise ApiError(
                f"Salesforce API request limit exceeded ({message or code}){waited}; the sync "
                "stops rather than spend more calls. Rerun later or raise the org's API limit.",
                status=exc.status,
                body=exc.body,
            ) from exc
        self.http.stats.retries += 1
        self.http.wait(self.options.limit_backoff_seconds * 2**attempt)

    # ---- SOQL ----------------------------------------------------------------------

    def query_all(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a SOQL `queryAll` (deleted rows included, flagged `IsDeleted`)."""
        url: str | None = self._path("queryAll")
        params: dict[str, str] | None = {"q": soql}
        while url:
            body = self.request("GET", url, params=params).json()
            self.http.stats.count_page()
            records = body.get("records") or []
            if records:
                yield [{k: v for k, v in r.items() if k != "attributes"} for r in records]
            url = None if body.get("done", True) else body.get("nextRecordsUrl")
            params = None

    def count(self, sobject_name: str, where: str) -> int:
        soql = f"SELECT COUNT() FROM {sobject_name} WHERE {where}"
        return int(
            self.request("GET", self._path("queryAll"), params={"q": soql}).json()["totalSize"]
        )

    def query(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a SOQL `query` (live records only)."""
        url: str | None = self._path("query")
        params: dict[str, str] | None = {"q": soql}
        while url:
            body = self.request("GET", url, params=params).json()
            records = body.get("records") or []
            if records:
                yield [{k: v for k, v in r.items() if k != "attributes"} for r in records]
            url = None if body.get("done", True) else body.get("nextRecordsUrl")
            params = None

    # ---- writes: sObject Collections ---------------------------------------------------

    def upsert_collection(
        self, sobject_name: str, ext_field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Upsert up to 200 records by external id (`allOrNone` false): one result per
        record, in order, each with `id`, `success`, `created` and `errors`."""
        if len(records) > COLLECTION_LIMIT:
            raise ValueError(f"at most {COLLECTION_LIMIT} records per sObject Collections call")
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": sobject_name}, **r} for r in records],
        }
        path = self._path(f"composite/sobjects/{sobject_name}/{ext_field}")
        return list(self.request("PATCH", path, json=body).json())

    def create_collection(
        self, sobject_name: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Create up to 200 records (`allOrNone` false): one result per record, in order."""
        if len(records) > COLLECTION_LIMIT:
            raise ValueError(f"at most {COLLECTION_LIMIT} records per sObject Collections call")
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": sobject_name}, **r} for r in records],
        }
        return list(self.request("POST", self._path("composite/sobjects"), json=body).json())

    # ---- Bulk API 2.0 ----------------------------------------------------------------

    def bulk_query_all(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """Rows of a Bulk API 2.0 `queryAll` job, `chunk_rows` at a time; the job is
        deleted afterwards (its results would otherwise stay stored for days)."""
        job = self.request(
            "POST",
            self._path("jobs/query"),
            json={
                "operation": "queryAll",
                "query": soql,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            },
        ).json()
        job_id = str(job["id"])
        try:
            info = self.wait_for_job(job_id, str(job.get("object", "")))
            read = yield from self.result_pages(job_id)
            processed = info.get("numberRecordsProcessed")
            if processed is not None and int(processed) != read:
                raise ApiError(
                    f"Salesforce Bulk job {job_id}: read {read} rows, the job processed {processed}"
                )
        finally:
            self._delete_job(job_id)

    def wait_for_job(self, job_id: str, sobject_name: str = "") -> dict[str, Any]:
        """Poll with growing pauses until `JobComplete`; fail readably otherwise."""
        delay, waited = self.options.poll_seconds, 0.0
        while True:
            info = self.request("GET", self._path(f"jobs/query/{job_id}")).json()
            state = info.get("state")
            if state == "JobComplete":
                return info
            what = f"Salesforce Bulk query job {job_id} ({sobject_name or info.get('object')})"
            if state in JOB_FAILED:
                reason = info.get("errorMessage") or "no reason given"
                raise ApiError(f"{what} ended {state}: {reason}")
            if waited >= self.options.job_timeout_seconds:
                self._abort_job(job_id)
                raise ApiError(
                    f"{what} still {state} after {waited:.0f}s; aborted it "
                    "(raise the connection extra bulk_timeout_seconds to wait longer)"
                )
            self.http.wait(delay)
            waited += delay
            delay = min(POLL_CAP_SECONDS, delay * 1.5)

    def result_pages(self, job_id: str) -> Generator[list[dict[str, Any]], None, int]:
        """Every results page by `Sforce-Locator`, each streamed; returns the rows read."""
        locator, total = "", 0
        while locator != "null":
            params: dict[str, Any] = {"maxRecords": self.options.page_size}
            if locator:
                params["locator"] = locator
            response = self.request(
                "GET", self._path(f"jobs/query/{job_id}/results"), params=params, stream=True
            )
            with closing(response):
                self.http.stats.count_page()
                locator = response.headers.get("Sforce-Locator") or "null"
                announced = response.headers.get("Sforce-NumberOfRecords")
                read = 0
                for rows in batched(csv_records(response.iter_bytes()), self.options.chunk_rows):
                    read += len(rows)
                    yield [{k: (v if v != "" else None) for k, v in r.items()} for r in rows]
            if announced is not None and int(announced) != read:
                raise ApiError(
                    f"Salesforce Bulk job {job_id}: a results page announced {announced} "
                    f"rows and held {read}"
                )
            total += read
        return total

    def _abort_job(self, job_id: str) -> None:
        try:
            self.request("PATCH", self._path(f"jobs/query/{job_id}"), json={"state": "Aborted"})
        except ApiError as exc:
            log.warning("could not abort Salesforce Bulk job %s: %s", job_id, exc)

    def _delete_job(self, job_id: str) -> None:
        try:
            self.request("DELETE", self._path(f"jobs/query/{job_id}"))
        except ApiError as exc:
            log.warning("could not delete Salesforce Bulk job %s: %s", job_id, exc)

    # ---- one window of one object ----------------------------------------------------

    def modified(
        self, obj: SObject, since: datetime, until: datetime, history: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of `obj` with `since <= SystemModstamp < until` (`CreatedDate` for a
        history object), deleted rows included."""
        cursor = obj.cursor
        where = f"{cursor} >= {soql_datetime(since)} AND {cursor} < {soql_datetime(until)}"
        select = f"SELECT {', '.join(obj.fields)} FROM {obj.name} WHERE {where}"
        if use_bulk(self.options, history, lambda: self.count(obj.name, where)):
            log.info("Salesforce %s: Bulk API 2.0 queryAll from %s", obj.name, since)
            return self.bulk_query_all(select)
        return self.query_all(f"{select} ORDER BY {cursor}")


def sobject_resource(
    client: SalesforceClient,
    obj: SObject,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool,
) -> Any:
    """The merge-on-`Id` resource of one sObject, incremental on `SystemModstamp`."""

    def rows(
        cursor: dlt.sources.incremental[datetime] = window_cursor(
            obj.cursor, history_start, until, lookback, backfill
        ),
    ) -> Iterator[Any]:
        since = window_start(cursor, history_start)
        # The first scheduled run reads the whole history; a flag rather than the cursor
        # tells, as the cursor of an object with no records never moves.
        state = dlt.current.resource_state()
        history = not backfill and not state.get(HISTORY_LOADED)
        yield from materialized(
            typed_pages(
                client.modified(obj, since, until, history),
                obj=obj.table,
                key="Id",
                types=dict(obj.fields),
                required=(obj.cursor,),
                quarantine=quarantine,
            )
        )
        if history:
            state[HISTORY_LOADED] = True  # stored with this load's state, so only if it lands

    return dlt.resource(
        rows,
        name=obj.table,
        primary_key="Id",
        write_disposition="merge",
        columns=obj.columns(),
    )


@dlt.source(name="salesforce", max_table_nesting=0)
def salesforce_source(
    client: SalesforceClient,
    history_start: datetime,
    until: datetime,
    lookback: float,
    quarantine: Quarantine,
    backfill: bool = False,
    objects: tuple[SObject, ...] = SOBJECTS,
) -> Any:
    return [
        sobject_resource(client, obj, history_start, until, lookback, quarantine, backfill)
        for obj in objects
    ]
