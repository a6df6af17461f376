"""Salesforce connector against a scripted API: CSV typing, locator paging, the choice
between Bulk API 2.0 and SOQL, job failures, polling and request-limit back-off."""

from __future__ import annotations

import itertools
import json
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from nurture.connections import ApiConnection
from nurture.connectors.csvstream import csv_records
from nurture.connectors.http import ApiError
from nurture.connectors.records import Quarantine, typed_pages
from nurture.connectors.salesforce import (
    SOBJECTS,
    QueryOptions,
    SalesforceClient,
    sobject,
    use_bulk,
)

JOBS = "/services/data/v60.0/jobs/query"
OPPORTUNITY = next(o for o in SOBJECTS if o.name == "Opportunity")
SINCE, UNTIL = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], waits: list[float] | None = None, **extra
) -> SalesforceClient:
    client = SalesforceClient(
        ApiConnection("salesforce_default", "http://sf.test", "id", "s", extra)
    )
    client.http._client = httpx.Client(
        base_url="http://sf.test", transport=httpx.MockTransport(handler)
    )
    client.http._sleep = (waits if waits is not None else []).append
    client._token = "t"
    return client


def limit_error(message: str) -> httpx.Response:
    return httpx.Response(403, json=[{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}])


class FakeBulk:
    """A Bulk API 2.0 query job: `states` answered one per poll, then results in pages of
    `page` rows by locator (a locator is the offset, as text)."""

    def __init__(self, csv_rows: list[str], page: int = 2, states: tuple[str, ...] = ()) -> None:
        self.header, self.rows, self.page = "Id,StageName", csv_rows, page
        self.states = list(states) or ["InProgress", "JobComplete"]
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.info: dict[str, object] = {"numberRecordsProcessed": len(csv_rows)}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.calls.append((request.method, request.url.path, params))
        path = request.url.path
        if request.method == "POST" and path == JOBS:
            self.query = json.loads(request.content)
            return httpx.Response(200, json={"id": "750J", "object": "Opportunity"})
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.method == "PATCH":
            return httpx.Response(200, json={"state": "Aborted"})
        if path.endswith("/results"):
            return self.results(params)
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return httpx.Response(200, json={"id": "750J", "state": state, **self.info})

    def results(self, params: dict[str, str]) -> httpx.Response:
        start = int(params.get("locator") or 0)
        size = min(self.page, int(params["maxRecords"]))
        rows = self.rows[start : start + size]
        end = start + len(rows)
        headers = {
            "Sforce-NumberOfRecords": str(len(rows)),
            "Sforce-Locator": str(end) if end < len(self.rows) else "null",
        }
        body = "\n".join([self.header, *rows]) + "\n"
        return httpx.Response(200, content=body.encode(), headers=headers)


# ---- CSV typing -----------------------------------------------------------------------


def test_csv_values_are_typed_and_bad_ones_quarantined():
    csv = (
        "Id,AccountId,Name,StageName,Amount,CloseDate,IsClosed,IsWon,Probability,LeadSource,"
        "OwnerId,CreatedDate,SystemModstamp,IsDeleted\n"
        "006A,001A,Deal A,Closed Won,1260000,2026-10-17,true,true,100,,005A,"
        "2026-09-01T20:34:45.000Z,2026-09-17T06:33:56.000Z,false\n"
        "006B,001A,Deal B,Prospecting,,2026-11-01,false,false,10,Web,005A,"
        "2026-09-02T00:00:00.000Z,2026-09-03T00:00:00.000+0000,true\n"
        "006C,001A,Deal C,Prospecting,lots,2026-11-01,false,false,10,Web,005A,"
        "2026-09-02T00:00:00.000Z,2026-09-03T00:00:00.000Z,false\n"
        "006D,001A,Deal D,Prospecting,5,2026-11-01,maybe,false,10,Web,005A,"
        "2026-09-02T00:00:00.000Z,2026-09-03T00:00:00.000Z,false\n"
    )
    quarantine = Quarantine("salesforce")
    pages = typed_pages(
        [list(csv_records([csv.encode()]))],
        obj="opportunities",
        key="Id",
        types=dict(OPPORTUNITY.fields),
        required=("SystemModstamp",),
        quarantine=quarantine,
    )
    rows = {r["Id"]: r for page in pages for r in page}
    assert sorted(rows) == ["006A", "006B"]
    won, open_ = rows["006A"], rows["006B"]
    assert won["Amount"] == 1260000.0 and won["Probability"] == 100.0
    assert won["IsWon"] is True and won["IsDeleted"] is False and open_["IsDeleted"] is True
    assert won["CloseDate"] == date(2026, 10, 17)
    assert won["SystemModstamp"] == datetime(2026, 9, 17, 6, 33, 56, tzinfo=UTC)
    assert open_["SystemModstamp"] == datetime(2026, 9, 3, tzinfo=UTC)
    assert won["LeadSource"] is None and open_["Amount"] is None  # empty cell: null
    reasons = {r.record_key: r.reason for r in quarantine.rejected}
    assert reasons.keys() == {"006C", "006D"}
    assert reasons["006C"].startswith("bad Amount") and reasons["006D"].startswith("bad IsClosed")


def test_csv_stream_keeps_quoted_line_breaks_across_tiny_chunks():
    body = b'Id,Description\n00T1,"line one\nline ""two"""\n00T2,plain\n'
    rows = list(csv_records(body[i : i + 1] for i in range(len(body))))
    assert rows == [
        {"Id": "00T1", "Description": 'line one\nline "two"'},
        {"Id": "00T2", "Description": "plain"},
    ]


def test_spec_declares_every_object_with_id_and_cursor():
    assert {o.table for o in SOBJECTS} >= {"leads", "opportunity_history", "users"}
    for obj in SOBJECTS:
        # history objects (LeadHistory) have no SystemModstamp: their cursor is CreatedDate
        assert next(iter(obj.fields)) == "Id" and obj.fields[obj.cursor] == "timestamp"
        assert ("IsDeleted" in obj.fields) == (obj.name != "User")
    with pytest.raises(ValueError, match="unknown field kind"):
        sobject("Lead", "leads", "Score:money")


# ---- Bulk results: locator paging, streaming --------------------------------------------


def test_bulk_results_follow_the_locator_in_bounded_chunks():
    rows = [f"006{i:02d},Prospecting" for i in range(7)]
    bulk = FakeBulk(rows, page=3)
    client = client_for(bulk)
    client.options = QueryOptions(page_size=3, chunk_rows=2, poll_seconds=0.1)
    batches = list(client.bulk_query_all("SELECT Id, StageName FROM Opportunity"))
    assert [len(b) for b in batches] == [2, 1, 2, 1, 1]  # chunks never span two pages
    assert [r["Id"] for b in batches for r in b] == [f"006{i:02d}" for i in range(7)]
    locators = [c[2].get("locator") for c in bulk.calls if c[1].endswith("/results")]
    assert locators == [None, "3", "6"]
    assert {c[2]["maxRecords"] for c in bulk.calls if c[1].endswith("/results")} == {"3"}
    assert bulk.query["operation"] == "queryAll"
    assert bulk.calls[-1][0] == "DELETE"  # the job's stored results are cleaned up
    assert client.http.stats.pages == 3


def test_bulk_page_is_streamed_not_read_whole():
    served: list[int] = []

    def body() -> Iterator[bytes]:
        yield b"Id,StageName\n"
        for i in range(1000):
            served.append(i)
            yield f"006{i:04d},Prospecting\n".encode()

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1000"}
        return httpx.Response(200, content=body(), headers=headers)

    client = client_for(handler)
    client.options = QueryOptions(chunk_rows=10)
    pages = client.result_pages("750J")
    first = next(pages)
    assert len(first) == 10 and len(served) < 100  # the rest is still on the wire
    pages.close()


def peak_memory_reading(rows: int) -> int:
    """Peak bytes allocated while one results page of `rows` rows is read through."""
    line = b"006%07d,Negotiation/Review,some longer text to make the row realistic\n"

    def handler(request: httpx.Request) -> httpx.Response:
        body = itertools.chain([b"Id,StageName,Note\n"], (line % i for i in range(rows)))
        headers = {"Sforce-Locator": "null", "Sforce-NumberOfRecords": str(rows)}
        return httpx.Response(200, content=body, headers=headers)

    client = client_for(handler)
    client.options = QueryOptions(chunk_rows=500)
    tracemalloc.start()
    try:
        assert sum(len(batch) for batch in client.result_pages("750J")) == rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_page():
    small, large = peak_memory_reading(2_000), peak_memory_reading(20_000)
    assert large < small * 1.5, (small, large)


def test_short_results_page_fails_the_load():
    bulk = FakeBulk(["006A,Prospecting", "006B,Prospecting"], page=5)
    original = bulk.results

    def short(params: dict[str, str]) -> httpx.Response:
        response = original(params)
        response.headers["Sforce-NumberOfRecords"] = "3"
        return response

    bulk.results = short  # type: ignore[method-assign]
    client = client_for(bulk)
    with pytest.raises(ApiError, match="announced 3 rows and held 2"):
        list(client.bulk_query_all("SELECT Id, StageName FROM Opportunity"))


# ---- job states and polling -------------------------------------------------------------


def test_failed_job_gives_a_readable_error_and_is_deleted():
    bulk = FakeBulk([], states=("InProgress", "Failed"))
    bulk.info["errorMessage"] = "INVALID_FIELD: No such column 'Foo'"
    client = client_for(bulk)
    with pytest.raises(ApiError, match=r"750J \(Opportunity\) ended Failed: INVALID_FIELD"):
        list(client.bulk_query_all("SELECT Id FROM Opportunity"))
    assert bulk.calls[-1][0] == "DELETE"


def test_polling_backs_off_and_gives_up_with_an_abort():
    bulk = FakeBulk([], states=("InProgress",))
    waits: list[float] = []
    client = client_for(bulk, waits, bulk_poll_seconds="1", bulk_timeout_seconds="100")
    with pytest.raises(ApiError, match=r"still InProgress after 1\d\ds; aborted it"):
        client.wait_for_job("750J")
    assert waits[:4] == [1.0, 1.5, 2.25, 3.375] and max(waits) == 30.0
    assert ("PATCH", f"{JOBS}/750J", {}) in bulk.calls


# ---- Bulk or SOQL ------------------------------------------------------------------------


def test_history_loads_go_bulk_without_counting():
    counted: list[int] = []

    def count() -> int:
        counted.append(1)
        return 5

    assert use_bulk(QueryOptions(), history=True, count=count) and counted == []
    assert not use_bulk(QueryOptions(bulk_threshold=5), history=False, count=count)
    assert use_bulk(QueryOptions(bulk_threshold=4), history=False, count=count)
    assert not use_bulk(QueryOptions(strategy="soql"), history=True, count=count)
    assert use_bulk(QueryOptions(strategy="bulk"), history=False, count=count)
    assert len(counted) == 2


@pytest.mark.parametrize(("window_count", "bulk"), [(10_000, False), (10_001, True)])
def test_a_delta_is_counted_then_read_by_the_cheaper_path(window_count: int, bulk: bool):
    fake = FakeBulk(["006A,Prospecting"])
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "")
        if request.url.path.endswith("/queryAll"):
            queries.append(q)
            if q.startswith("SELECT COUNT()"):
                return httpx.Response(200, json={"totalSize": window_count, "done": True})
            record = {"attributes": {"type": "Opportunity"}, "Id": "006A"}
            return httpx.Response(200, json={"totalSize": 1, "done": True, "records": [record]})
        return fake(request)

    client = client_for(handler)
    rows = [r for page in client.modified(OPPORTUNITY, SINCE, UNTIL) for r in page]
    assert rows == [{"Id": "006A", **({"StageName": "Prospecting"} if bulk else {})}]
    window = "SystemModstamp >= 2026-09-01T00:00:00Z AND SystemModstamp < 2026-10-01T00:00:00Z"
    assert queries[0] == f"SELECT COUNT() FROM Opportunity WHERE {window}"
    assert (len(queries) == 1) == bulk
    assert any(c[0] == "POST" for c in fake.calls) == bulk


def test_options_come_from_the_connection_extra():
    options = QueryOptions.from_extra({"bulk_threshold": "2000", "bulk_poll_seconds": "0.2"})
    assert options.bulk_threshold == 2000 and options.poll_seconds == 0.2
    assert QueryOptions.from_extra({}).bulk_threshold == 10_000
    with pytest.raises(ValueError, match="query_strategy='fast'"):
        QueryOptions.from_extra({"query_strategy": "fast"})


# ---- request limits ---------------------------------------------------------------------


def test_concurrent_request_limit_is_waited_out():
    answers = iter(
        [
            limit_error("ConcurrentPerOrgLongTxn Limit exceeded."),
            limit_error("ConcurrentPerOrgLongTxn Limit exceeded."),
            httpx.Response(200, json={"totalSize": 3, "done": True, "records": []}),
        ]
    )
    waits: list[float] = []
    client = client_for(lambda request: next(answers), waits)
    assert client.count("Lead", "IsDeleted = true") == 3
    assert waits == [30.0, 60.0] and client.http.stats.retries == 2


def test_daily_request_limit_stops_at_once_with_a_clear_reason():
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return limit_error("TotalRequests Limit exceeded.")

    waits: list[float] = []
    client = client_for(handler, waits)
    with pytest.raises(ApiError, match=r"request limit exceeded \(TotalRequests.*Rerun later"):
        client.count("Lead", "IsDeleted = true")
    assert len(calls) == 1 and waits == []


def test_request_limit_that_persists_fails_after_bounded_back_offs():
    waits: list[float] = []
    client = client_for(lambda r: limit_error("ConcurrentPerOrgLongTxn"), waits, limit_retries=2)
    with pytest.raises(ApiError, match="after 2 back-offs"):
        client.count("Lead", "IsDeleted = true")
    assert waits == [30.0, 60.0]
