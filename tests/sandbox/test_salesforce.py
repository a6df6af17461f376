"""Salesforce emulator: OAuth, SOQL paging with nextRecordsUrl, errors, writes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest


def _walk(client: httpx.Client, endpoint: str, soql: str, batch: int | None = None) -> list[dict]:
    headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else {}
    body = client.get(
        f"/services/data/v61.0/{endpoint}", params={"q": soql}, headers=headers
    ).json()
    records = list(body["records"])
    pages = 1
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"], headers=headers).json()
        records += body["records"]
        pages += 1
    assert pages > 1 or len(records) <= (batch or 2000)
    return records


def test_token_endpoint(base_url: str) -> None:
    body = httpx.post(
        f"{base_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
    ).json()
    assert body["token_type"] == "Bearer" and body["instance_url"] == base_url


def test_walk_all_leads_with_next_records_url(client: httpx.Client, world: Path) -> None:
    # Live counts: other tests write to the shared server.
    counts = client.get("/sandbox/counts").json()
    soql = (
        "SELECT Id, Email, Status, IsDeleted, SystemModstamp FROM Lead "
        "WHERE SystemModstamp > 2020-01-01T00:00:00Z"
    )
    live = _walk(client, "query", soql, batch=200)
    every = _walk(client, "queryAll", soql, batch=200)
    assert len(live) == len({r["Id"] for r in live}) == counts["salesforce_leads"]
    assert len(every) == len({r["Id"] for r in every}) == counts["salesforce_leads_all"]
    assert not any(r["IsDeleted"] for r in live)
    assert live[0]["attributes"]["type"] == "Lead"


def test_order_limit_and_filters(client: httpx.Client) -> None:
    soql = (
        "SELECT Id, CreatedDate FROM Lead WHERE IsConverted = true AND "
        "(Status = 'Closed - Converted' OR Status = 'x') ORDER BY CreatedDate DESC LIMIT 5"
    )
    body = client.get("/services/data/v58.0/query", params={"q": soql}).json()
    assert body["totalSize"] == 5 and body["done"]
    stamps = [r["CreatedDate"] for r in body["records"]]
    assert stamps == sorted(stamps, reverse=True)
    count = client.get(
        "/services/data/v58.0/query",
        params={"q": "SELECT COUNT() FROM Opportunity WHERE IsWon = true"},
    ).json()
    assert count["totalSize"] > 0 and count["records"] == []


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
    ],
)
def test_soql_errors(client: httpx.Client, soql: str, code: str) -> None:
    response = client.get("/services/data/v59.0/query", params={"q": soql})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_auth_error(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/services/data/v59.0/query", params={"q": "SELECT Id FROM Lead"}
    )
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_upsert_by_external_id_and_task(client: httpx.Client) -> None:
    url = "/services/data/v60.0/sobjects/Lead/Nurture_Lead_Id__c/nurture-42"
    data = {"LastName": "山田", "Company": "株式会社テスト", "Email": "t.yamada@test.co.jp"}
    first = client.patch(url, json=data)
    second = client.patch(url, json={"Title": "部長"})
    assert first.status_code == 201 and first.json()["created"] is True
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    task = client.post(
        "/services/data/v60.0/sobjects/Task",
        json={"WhoId": first.json()["id"], "Subject": "MQL: follow up"},
    )
    assert task.status_code == 201
    found = client.get(
        "/services/data/v60.0/query",
        params={"q": "SELECT Id, Title FROM Lead WHERE Nurture_Lead_Id__c = 'nurture-42'"},
    ).json()
    assert found["records"][0]["Title"] == "部長"
    missing = client.patch(
        "/services/data/v60.0/sobjects/Lead/Nurture_Lead_Id__c/nurture-43", json={"Email": "x@y.z"}
    )
    assert missing.status_code == 400
    assert missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_unset_numbers_are_served_as_null_never_nan(client: httpx.Client) -> None:
    """The world keeps unset doubles as NaN; Salesforce has no NaN, so REST and Bulk
    answer null (an empty CSV cell) and the JSON stays valid."""
    soql = "SELECT Id, Nurture_Score__c FROM Lead WHERE Nurture_Lead_Id__c = null LIMIT 5"
    rest = client.get("/services/data/v60.0/queryAll", params={"q": soql})
    assert rest.status_code == 200
    assert [r["Nurture_Score__c"] for r in rest.json()["records"]] == [None] * 5
    jobs = "/services/data/v60.0/jobs/query"
    job = client.post(jobs, json={"operation": "queryAll", "query": soql}).json()
    states = [client.get(f"{jobs}/{job['id']}").json()["state"] for _ in "ab"]
    assert states[-1] == "JobComplete"
    lines = client.get(f"{jobs}/{job['id']}/results").text.splitlines()
    assert lines[0] == "Id,Nurture_Score__c"
    assert [line.split(",")[1] for line in lines[1:]] == [""] * 5
