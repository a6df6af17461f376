"""simple-salesforce, unchanged, against the sandbox over HTTPS (it hard-codes https://),
including Bulk API 2.0 query and ingest jobs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce

from nurture.sandbox.server import SandboxURL

API = "/services/data/v59.0"
AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture()
def session(tls_url: SandboxURL) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.verify = str(tls_url.ca_file)
        # requests lets REQUESTS_CA_BUNDLE override Session.verify; ignore the environment.
        s.trust_env = False
        yield s


@pytest.fixture()
def sf(tls_url: SandboxURL, session: requests.Session) -> Salesforce:
    return Salesforce(instance_url=tls_url, session_id="test-token", session=session)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_https_with_the_generated_certificate_only(tls_url: SandboxURL) -> None:
    assert tls_url.startswith("https://127.0.0.1:") and tls_url.ca_file is not None
    assert "BEGIN CERTIFICATE" in tls_url.ca_file.read_text()
    with requests.Session() as untrusting:
        untrusting.trust_env = False  # the system CA bundle does not know our certificate
        with pytest.raises(requests.exceptions.SSLError):
            untrusting.get(f"{tls_url}/health")


def test_query_all_follows_next_records_url(sf: Salesforce, session: requests.Session) -> None:
    counts = session.get(f"{sf.base_url.split('/services')[0]}/sandbox/counts").json()
    small = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id, Email, IsDeleted FROM Lead", headers=small)
    assert not first["done"] and "nextRecordsUrl" in first and len(first["records"]) == 200
    everything = sf.query_all("SELECT Id, Email, IsDeleted FROM Lead", headers=small)
    ids = [r["Id"] for r in everything["records"]]
    assert len(ids) == len(set(ids)) == everything["totalSize"] == counts["salesforce_leads"]
    with_deleted = sf.query_all("SELECT Id FROM Lead", include_deleted=True, headers=small)
    assert with_deleted["totalSize"] == counts["salesforce_leads_all"] > len(ids)


def test_upsert_by_external_id_and_task(sf: Salesforce) -> None:
    created = sf.Lead.upsert(
        "Nurture_Lead_Id__c/ss-1", {"LastName": "佐藤", "Company": "テスト株式会社"}
    )
    updated = sf.Lead.upsert("Nurture_Lead_Id__c/ss-1", {"Title": "課長"})
    assert (created, updated) == (201, 200)
    lead = sf.query("SELECT Id, Title FROM Lead WHERE Nurture_Lead_Id__c = 'ss-1'")["records"]
    assert len(lead) == 1 and lead[0]["Title"] == "課長"
    task = sf.Task.create({"WhoId": lead[0]["Id"], "Subject": "MQL: call within 24h"})
    assert task["success"] and task["id"].startswith("00T")
    assert sf.Task.get(task["id"])["WhoId"] == lead[0]["Id"]


def test_bulk2_query_pages_by_locator(sf: Salesforce) -> None:
    soql = "SELECT Id, Email, IsConverted, CreatedDate FROM Lead"
    rest = sf.query_all(soql)["records"]
    pages = list(sf.bulk2.Lead.query(soql, max_records=250, wait=0.05))
    rows = [row for page in pages for row in _rows(page)]
    assert len(pages) == -(-len(rest) // 250) > 1
    assert [r["Id"] for r in rows] == sorted(r["Id"] for r in rest)
    assert {r["IsConverted"] for r in rows} <= {"true", "false"}
    assert rows[0]["CreatedDate"].endswith(".000Z")
    every = [row for page in sf.bulk2.Lead.query_all(soql, wait=0.05) for row in _rows(page)]
    assert len(every) > len(rows)  # queryAll includes the recycle bin


def test_bulk2_query_protocol(tls_url: SandboxURL, session: requests.Session) -> None:
    jobs = f"{tls_url}{API}/jobs/query"
    job = session.post(
        jobs, json={"operation": "query", "query": "SELECT Id FROM Account"}, headers=AUTH
    ).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    early = session.get(f"{jobs}/{job['id']}/results", headers=AUTH)
    assert early.status_code == 412
    states = [session.get(f"{jobs}/{job['id']}", headers=AUTH).json()["state"] for _ in "ab"]
    assert states == ["InProgress", "JobComplete"]
    page = session.get(f"{jobs}/{job['id']}/results", params={"maxRecords": 5}, headers=AUTH)
    assert page.headers["Sforce-NumberOfRecords"] == "5"
    locator, seen = page.headers["Sforce-Locator"], len(_rows(page.text))
    while locator != "null":
        page = session.get(
            f"{jobs}/{job['id']}/results",
            params={"maxRecords": 100_000, "locator": locator},
            headers=AUTH,
        )
        locator, seen = page.headers["Sforce-Locator"], seen + len(_rows(page.text))
    info = session.get(f"{jobs}/{job['id']}", headers=AUTH).json()
    assert seen == info["numberRecordsProcessed"] > 5
    bad = session.post(
        jobs, json={"operation": "query", "query": "SELECT Nope FROM Lead"}, headers=AUTH
    )
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_bulk2_upsert_reports_successes_and_failures(sf: Salesforce) -> None:
    records = [
        {"Nurture_Lead_Id__c": "bulk-1", "LastName": "Kato", "Company": "Kato KK"},
        {"Nurture_Lead_Id__c": "bulk-2", "LastName": "Ito"},  # no Company: fails
        {"Nurture_Lead_Id__c": "ss-1", "LastName": "Sato", "Company": "テスト株式会社"},
    ]
    sf.Lead.upsert("Nurture_Lead_Id__c/ss-1", {"LastName": "佐藤", "Company": "テスト株式会社"})
    result = sf.bulk2.Lead.upsert(
        records=records, external_id_field="Nurture_Lead_Id__c", wait=0.05
    )
    assert result[0]["numberRecordsProcessed"] == 3 and result[0]["numberRecordsFailed"] == 1
    job_id = result[0]["job_id"]
    ok = _rows(sf.bulk2.Lead.get_successful_records(job_id))
    failed = _rows(sf.bulk2.Lead.get_failed_records(job_id))
    assert {(r["Nurture_Lead_Id__c"], r["sf__Created"]) for r in ok} == {
        ("bulk-1", "true"),
        ("ss-1", "false"),
    }
    assert failed[0]["Nurture_Lead_Id__c"] == "bulk-2"
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING")
    assert _rows(sf.bulk2.Lead.get_unprocessed_records(job_id)) == []
    found = sf.query("SELECT LastName FROM Lead WHERE Nurture_Lead_Id__c = 'ss-1'")
    assert found["records"][0]["LastName"] == "Sato"


def test_bulk2_ingest_rejects_unknown_external_id(
    tls_url: SandboxURL, session: requests.Session
) -> None:
    response = session.post(
        f"{tls_url}{API}/jobs/ingest",
        json={"object": "Lead", "operation": "upsert", "externalIdFieldName": "Email"},
        headers=AUTH,
    )
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALIDJOB"
