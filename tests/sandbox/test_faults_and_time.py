"""Fault profiles, configured tokens, advancing time, the CLI and the official HubSpot client."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hubspot import HubSpot

from nurture.sandbox.app import create_app

AUTH = {"Authorization": "Bearer t"}
TYPES = "1,2,6,7,8,9,10,11,12,104"


@pytest.fixture()
def app_for(tmp_path: Path, world: Path) -> Iterator:
    clients: list[TestClient] = []

    def make(**kwargs: object) -> TestClient:
        copy = tmp_path / f"work-{len(clients)}.duckdb"
        shutil.copyfile(world, copy)
        client = TestClient(create_app(copy, rate_limits=False, **kwargs), headers=AUTH)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def _statuses(client: TestClient, n: int) -> list[int]:
    return [
        client.get(
            "/crm/v3/objects/contacts", params={"limit": 5, "after": str(1000 + i)}
        ).status_code
        for i in range(n)
        for _ in range(4)
    ]


def test_flaky_faults_are_seeded_and_retries_get_through(app_for) -> None:
    first = _statuses(app_for(faults="flaky", fault_seed=3), 40)
    second = _statuses(app_for(faults="flaky", fault_seed=3), 40)
    other = _statuses(app_for(faults="flaky", fault_seed=4), 40)
    assert first == second
    assert first != other
    assert 429 in first
    # Each request fails at most three times in a row, then succeeds.
    for i in range(40):
        assert first[i * 4 + 3] == 200


def test_rate_limit_body_and_headers(app_for) -> None:
    client = app_for(faults="flaky", fault_seed=3)
    for i in range(200):
        response = client.get("/crm/v3/objects/contacts", params={"after": str(i)})
        if response.status_code == 429:
            body = response.json()
            assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "SECONDLY"
            assert response.headers["Retry-After"]
            return
    pytest.fail("no 429 in 200 flaky requests")


def test_messy_pages_still_hold_every_record_once_deduplicated(app_for) -> None:
    client = app_for(faults="messy", fault_seed=5)
    token = client.get(
        "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2020-01-01"}
    ).json()["nextPageToken"]
    ids: list[int] = []
    drifted = False
    while True:
        body = client.get(
            "/rest/v1/activities.json",
            params={"nextPageToken": token, "activityTypeIds": TYPES, "batchSize": 300},
        ).json()
        ids += [a["id"] for a in body["result"]]
        drifted |= any(x["name"] == "Browser" for a in body["result"] for x in a["attributes"])
        token = body["nextPageToken"]
        if not body["moreResult"]:
            break
    total = client.get("/sandbox/counts").json()["marketo_activities"]
    assert len(ids) > total  # duplicates and shifted records were served
    assert len(set(ids)) == total  # but nothing was lost
    assert drifted


def test_configured_token_is_required(app_for) -> None:
    client = app_for(token="s3cret")
    assert client.get("/crm/v3/objects/contacts").status_code == 401
    ok = client.get("/crm/v3/objects/contacts", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    refused = client.get(
        "/identity/oauth/token",
        params={"grant_type": "client_credentials", "client_id": "a", "client_secret": "wrong"},
    )
    assert refused.status_code == 401


def test_advance_adds_a_day_and_paging_continues(app_for) -> None:
    a, b = app_for(), app_for()
    token = a.get(
        "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2026-09-29T00:00:00Z"}
    ).json()["nextPageToken"]
    while True:
        body = a.get(
            "/rest/v1/activities.json", params={"nextPageToken": token, "activityTypeIds": TYPES}
        ).json()
        token = body["nextPageToken"]
        if not body["moreResult"]:
            break
    summary = a.post("/sandbox/advance", params={"days": 1}).json()
    assert summary == b.post("/sandbox/advance", params={"days": 1}).json()  # deterministic
    assert summary["today"] == "2026-10-01" and summary["activities_added"] > 0
    new = a.get(
        "/rest/v1/activities.json",
        params={"nextPageToken": token, "activityTypeIds": TYPES, "batchSize": 300},
    ).json()["result"]
    assert new and all(x["activityDate"] >= "2026-09-30" for x in new)
    assert a.get("/health").json()["today"] == "2026-10-01"
    recent = a.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "lastmodifieddate",
                            "operator": "GTE",
                            "value": "2026-09-30T00:00:00Z",
                        }
                    ]
                }
            ]
        },
    ).json()
    assert recent["total"] >= summary["hubspot_contacts_updated"] > 0


def test_cli_user_errors_are_one_line(home: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nurture.sandbox",
            "truth",
            "--seed",
            "1",
            "--leads",
            "0",
            "--out",
            str(home / "x"),
        ],
        capture_output=True,
        text=True,
        env={"NURTURE_HOME": str(home), "PATH": ""},
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: --leads")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_official_hubspot_client(base_url: str) -> None:
    api = HubSpot(access_token="any-token", host=base_url)
    page = api.crm.contacts.basic_api.get_page(limit=50, properties=["email", "lifecyclestage"])
    assert len(page.results) == 50 and page.paging.next.after
    every = api.crm.contacts.get_all(properties=["email"])
    assert len({c.id for c in every}) == len(every) > 500
    from hubspot.crm.contacts import PublicObjectSearchRequest

    found = api.crm.contacts.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {
                            "propertyName": "lastmodifieddate",
                            "operator": "GTE",
                            "value": "2026-09-01T00:00:00Z",
                        }
                    ]
                }
            ],
            limit=200,
        )
    )
    assert found.total > 0 and len(found.results) <= 200
    from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInputUpsert

    upserted = api.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {
                    "idProperty": "email",
                    "id": "official.client@example.org",
                    "properties": {"firstname": "Official"},
                }
            ]
        )
    )
    assert upserted.results[0].properties["email"] == "official.client@example.org"
