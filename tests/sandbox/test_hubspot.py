"""HubSpot emulator: `after` paging, the search cap, batch limits, auth."""

from __future__ import annotations

from pathlib import Path

import httpx


def test_walk_all_contacts_with_after(client: httpx.Client, world: Path) -> None:
    ids: list[str] = []
    params: dict[str, object] = {"limit": 100, "properties": "email,lifecyclestage"}
    while True:
        response = client.get("/crm/v3/objects/contacts", params=params)
        assert response.status_code == 200
        assert response.headers["X-HubSpot-RateLimit-Max"] == "100"
        body = response.json()
        ids += [r["id"] for r in body["results"]]
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            break
        params["after"] = nxt["after"]
    assert len(ids) == len(set(ids)) == client.get("/sandbox/counts").json()["hubspot_contacts"]
    archived = client.get("/crm/v3/objects/contacts", params={"limit": 100, "archived": "true"})
    assert all(r["archived"] for r in archived.json()["results"])


def test_list_limit_over_100_is_a_400(client: httpx.Client) -> None:
    response = client.get("/crm/v3/objects/contacts", params={"limit": 101})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_search_by_lastmodifieddate_pages_and_caps(client: httpx.Client, world: Path) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": "2020-01-01T00:00:00Z",
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email", "lastmodifieddate"],
        "limit": 200,
    }
    seen: list[str] = []
    stamps: list[str] = []
    while True:
        page = client.post("/crm/v3/objects/contacts/search", json=body).json()
        assert "X-HubSpot-RateLimit-Max" not in page
        seen += [r["id"] for r in page["results"]]
        stamps += [r["properties"]["lastmodifieddate"] for r in page["results"]]
        nxt = page.get("paging", {}).get("next")
        if not nxt:
            break
        body["after"] = nxt["after"]
    assert (
        page["total"]
        == len(seen)
        == len(set(seen))
        == client.get("/sandbox/counts").json()["hubspot_contacts"]
    )
    assert stamps == sorted(stamps)
    too_far = client.post("/crm/v3/objects/contacts/search", json={**body, "after": 9_900})
    assert too_far.status_code == 400
    too_big = client.post(
        "/crm/v3/objects/contacts/search", json={**body, "limit": 201, "after": 0}
    )
    assert too_big.status_code == 400


def test_search_filters_by_epoch_millis(client: httpx.Client) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": "1788220800000",
                    }
                ]
            }
        ],
        "limit": 100,
    }
    page = client.post("/crm/v3/objects/contacts/search", json=body).json()
    assert page["total"] > 0
    assert all(r["updatedAt"] >= "2026-09-01" for r in page["results"])


def test_auth_error_body(base_url: str) -> None:
    response = httpx.get(f"{base_url}/crm/v3/objects/contacts")
    assert response.status_code == 401
    assert response.json()["category"] == "INVALID_AUTHENTICATION"


def test_batch_over_100_inputs_is_a_400(client: httpx.Client) -> None:
    inputs = [{"id": str(i)} for i in range(101)]
    response = client.post("/crm/v3/objects/contacts/batch/read", json={"inputs": inputs})
    assert response.status_code == 400


def test_batch_upsert_by_email_creates_then_updates(client: httpx.Client) -> None:
    payload = {
        "inputs": [
            {
                "idProperty": "email",
                "id": "new.person@example.org",
                "properties": {"lifecyclestage": "marketingqualifiedlead"},
            }
        ]
    }
    first = client.post("/crm/v3/objects/contacts/batch/upsert", json=payload).json()
    second = client.post("/crm/v3/objects/contacts/batch/upsert", json=payload).json()
    assert first["results"][0]["new"] is True
    assert second["results"][0]["new"] is False
    assert first["results"][0]["id"] == second["results"][0]["id"]
    got = client.get(
        f"/crm/v3/objects/contacts/{first['results'][0]['id']}",
        params={"properties": "lifecyclestage"},
    ).json()
    assert got["properties"]["lifecyclestage"] == "marketingqualifiedlead"
