"""Marketo emulator: paging tokens, leads, bulk extract, auth."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import httpx

ALL_TYPES = "1,2,6,7,8,9,10,11,12,104"


def _walk_activities(client: httpx.Client, since: str, batch: int = 300) -> list[dict]:
    token = client.get(
        "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": since}
    ).json()["nextPageToken"]
    seen: list[dict] = []
    while True:
        body = client.get(
            "/rest/v1/activities.json",
            params={"nextPageToken": token, "activityTypeIds": ALL_TYPES, "batchSize": batch},
        ).json()
        assert body["success"], body
        seen += body.get("result", [])
        token = body["nextPageToken"]
        if not body["moreResult"]:
            return seen


def test_identity_issues_a_bearer_token(base_url: str) -> None:
    body = httpx.get(
        f"{base_url}/identity/oauth/token",
        params={"grant_type": "client_credentials", "client_id": "id", "client_secret": "s"},
    ).json()
    assert body["token_type"] == "bearer" and body["access_token"]


def test_walk_all_activities_nothing_missing_nothing_doubled(
    client: httpx.Client, world: Path
) -> None:
    seen = _walk_activities(client, "2020-01-01T00:00:00Z")
    ids = [a["id"] for a in seen]
    assert len(ids) == len(set(ids)) == client.get("/sandbox/counts").json()["marketo_activities"]
    assert ids == sorted(ids)
    dates = [a["activityDate"] for a in seen]
    assert dates == sorted(dates)
    first = seen[0]
    assert set(first) == {
        "id",
        "marketoGUID",
        "leadId",
        "activityDate",
        "activityTypeId",
        "campaignId",
        "primaryAttributeValueId",
        "primaryAttributeValue",
        "attributes",
    }


def test_paging_token_starts_at_the_date(client: httpx.Client) -> None:
    seen = _walk_activities(client, "2026-09-20T00:00:00Z")
    assert seen and min(a["activityDate"] for a in seen) >= "2026-09-20T00:00:00Z"


def test_activity_type_filter_and_limits(client: httpx.Client) -> None:
    token = client.get(
        "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2020-01-01"}
    ).json()["nextPageToken"]
    body = client.get(
        "/rest/v1/activities.json",
        params={"nextPageToken": token, "activityTypeIds": "11", "batchSize": 50},
    ).json()
    assert {a["activityTypeId"] for a in body["result"]} == {11}
    assert len(body["result"]) == 50
    names = {x["name"] for x in body["result"][0]["attributes"]}
    assert {"Mailing ID", "Link", "Variant", "Campaign Run ID"} <= names
    too_many = client.get(
        "/rest/v1/activities.json",
        params={"nextPageToken": token, "activityTypeIds": "1,2,3,4,5,6,7,8,9,10,11"},
    ).json()
    assert too_many["success"] is False and too_many["errors"][0]["code"] == "1003"


def test_auth_errors_are_601_with_http_200(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/rest/v1/leads.json", params={"filterType": "id", "filterValues": "1"}
    )
    assert response.status_code == 200
    assert response.json()["errors"] == [{"code": "601", "message": "Access token invalid"}]


def test_leads_by_id_and_email(client: httpx.Client) -> None:
    body = client.get(
        "/rest/v1/leads.json",
        params={
            "filterType": "id",
            "filterValues": "1,2,3",
            "fields": "id,email,company,createdAt",
        },
    ).json()
    assert [r["id"] for r in body["result"]] == [1, 2, 3]
    email = body["result"][0]["email"]
    again = client.get(
        "/rest/v1/leads.json", params={"filterType": "email", "filterValues": email.upper()}
    ).json()
    assert again["result"][0]["id"] == 1
    bad = client.get(
        "/rest/v1/leads.json", params={"filterType": "id", "filterValues": "1", "fields": "nope"}
    ).json()
    assert bad["errors"][0]["code"] == "1006"


def test_bulk_export_window_over_31_days_is_rejected(client: httpx.Client) -> None:
    body = client.post(
        "/bulk/v1/leads/export/create.json",
        json={
            "fields": ["id", "email"],
            "format": "CSV",
            "filter": {
                "createdAt": {"startAt": "2026-01-01T00:00:00Z", "endAt": "2026-02-02T00:00:01Z"}
            },
        },
    ).json()
    assert body["success"] is False and body["errors"][0]["code"] == "1003"
    assert "31 days" in body["errors"][0]["message"]


def _export(client: httpx.Client, kind: str, payload: dict) -> tuple[dict, bytes]:
    created = client.post(f"/bulk/v1/{kind}/export/create.json", json=payload).json()
    export_id = created["result"][0]["exportId"]
    assert created["result"][0]["status"] == "Created"
    queued = client.post(f"/bulk/v1/{kind}/export/{export_id}/enqueue.json").json()
    assert queued["result"][0]["status"] == "Queued"
    statuses = []
    for _ in range(10):
        status = client.get(f"/bulk/v1/{kind}/export/{export_id}/status.json").json()["result"][0]
        statuses.append(status["status"])
        if status["status"] == "Completed":
            break
    assert statuses[0] in ("Queued", "Processing") and statuses[-1] == "Completed"
    data = client.get(f"/bulk/v1/{kind}/export/{export_id}/file.json").content
    return status, data


def test_bulk_lead_export_file_matches_status(client: httpx.Client, world: Path) -> None:
    window = {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-09-30T00:00:00Z"}
    status, data = _export(
        client,
        "leads",
        {
            "fields": ["id", "email", "firstName", "createdAt"],
            "format": "CSV",
            "filter": {"createdAt": window},
        },
    )
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == status["numberOfRecords"] > 0
    assert status["fileChecksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert all("2026-09-01" <= r["createdAt"] <= "2026-09-30T" for r in rows)


def test_bulk_activity_export(client: httpx.Client) -> None:
    status, data = _export(
        client,
        "activities",
        {
            "format": "CSV",
            "filter": {
                "createdAt": {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-09-08T00:00:00Z"},
                "activityTypeIds": [11],
            },
        },
    )
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == status["numberOfRecords"] > 0
    assert {r["activityTypeId"] for r in rows} == {"11"}
    assert '"Link"' in rows[0]["attributes"]


def test_programs_carry_the_nine_channels(client: httpx.Client) -> None:
    body = client.get("/rest/asset/v1/programs.json", params={"maxReturn": 200}).json()
    assert len({p["channel"] for p in body["result"]}) == 9


def test_jobs_abandoned_while_processing_do_not_block_the_queue(client: httpx.Client) -> None:
    """A client killed mid-export never polls its jobs again; Marketo finishes them anyway,
    so a new client's job gets a slot."""
    window = {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-09-30T00:00:00Z"}
    payload = {"fields": ["id", "email"], "format": "CSV", "filter": {"createdAt": window}}

    def enqueued() -> str:
        created = client.post("/bulk/v1/leads/export/create.json", json=payload).json()
        export_id = created["result"][0]["exportId"]
        client.post(f"/bulk/v1/leads/export/{export_id}/enqueue.json")
        return export_id

    def status(export_id: str) -> str:
        body = client.get(f"/bulk/v1/leads/export/{export_id}/status.json").json()
        return body["result"][0]["status"]

    abandoned = [enqueued(), enqueued()]
    assert [status(e) for e in abandoned] == ["Processing", "Processing"]
    mine = enqueued()
    seen = [status(mine) for _ in range(4)]
    assert seen[0] == "Queued" and seen[-1] == "Completed", seen
    assert all(status(e) == "Completed" for e in abandoned[:1])
