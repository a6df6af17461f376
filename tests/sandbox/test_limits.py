"""Daily quotas (Marketo calls and export bytes, HubSpot daily) and Marketo token expiry."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nurture.sandbox.app import create_app
from nurture.sandbox.limits import Quotas, TokenBook, quota_args, quotas_from

AUTH = {"Authorization": "Bearer t"}
Make = Callable[..., TestClient]


@pytest.fixture()
def app_with(tmp_path: Path, world: Path) -> Iterator[Make]:
    clients: list[TestClient] = []

    def make(**quotas: float) -> TestClient:
        copy = tmp_path / f"limits-{len(clients)}.duckdb"
        shutil.copyfile(world, copy)
        app = create_app(copy, rate_limits=True, quotas=Quotas(**quotas))  # type: ignore[arg-type]
        client = TestClient(app, headers=AUTH)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def _codes(body: dict) -> list[str]:
    return [e["code"] for e in body.get("errors", [])]


def test_marketo_daily_call_quota_resets_next_sandbox_day(app_with: Make) -> None:
    client = app_with(marketo_daily_calls=3)
    bodies = [client.get("/rest/v1/activities/types.json").json() for _ in range(4)]
    assert [b["success"] for b in bodies] == [True, True, True, False]
    assert bodies[3]["errors"] == [{"code": "607", "message": "Daily quota reached"}]
    assert client.post("/sandbox/advance", params={"days": 1}).status_code == 200
    assert client.get("/rest/v1/activities/types.json").json()["success"] is True


def test_marketo_token_expires_with_602_and_is_renewed(app_with: Make) -> None:
    client = app_with(marketo_token_seconds=60)
    now = [1000.0]
    state = client.app.state.sandbox  # type: ignore[attr-defined]
    state.marketo_tokens = TokenBook(60, now=lambda: now[0])
    params = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
    first = client.get("/identity/oauth/token", params=params).json()
    assert first["expires_in"] == 60
    now[0] += 45
    again = client.get("/identity/oauth/token", params=params).json()
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 15

    def call(token: str) -> dict:
        return client.get(
            "/rest/v1/activities/types.json", headers={"Authorization": f"Bearer {token}"}
        ).json()

    assert call(first["access_token"])["success"] is True
    now[0] += 15
    assert call(first["access_token"])["errors"] == [
        {"code": "602", "message": "Access token expired"}
    ]
    renewed = client.get("/identity/oauth/token", params=params).json()
    assert renewed["access_token"] != first["access_token"]
    assert call(renewed["access_token"])["success"] is True


def _export(client: TestClient) -> dict:
    created = client.post(
        "/bulk/v1/leads/export/create.json",
        json={
            "fields": ["id", "email"],
            "format": "CSV",
            "filter": {"createdAt": {"startAt": "2025-01-01", "endAt": "2025-01-31"}},
        },
    ).json()
    export_id = created["result"][0]["exportId"]
    return client.post(f"/bulk/v1/leads/export/{export_id}/enqueue.json").json()


def test_marketo_export_quota_answers_1029(app_with: Make) -> None:
    client = app_with(marketo_daily_export_bytes=10)
    first = _export(client)
    assert first["success"] is True
    export_id = first["result"][0]["exportId"]
    for _ in range(5):
        status = client.get(f"/bulk/v1/leads/export/{export_id}/status.json").json()
        if status["result"][0]["status"] == "Completed":
            break
    assert status["result"][0]["fileSize"] > 10
    second = _export(client)
    assert second["errors"] == [{"code": "1029", "message": "Export daily quota exceeded"}]


def test_hubspot_daily_headers_count_down_then_429(app_with: Make) -> None:
    client = app_with(hubspot_daily=2)
    responses = [client.get("/crm/v3/objects/contacts", params={"limit": 1}) for _ in range(3)]
    assert [r.headers.get("X-HubSpot-RateLimit-Daily") for r in responses[:2]] == ["2", "2"]
    assert [r.headers["X-HubSpot-RateLimit-Daily-Remaining"] for r in responses[:2]] == [
        "1",
        "0",
    ]
    assert responses[2].status_code == 429
    assert responses[2].json()["policyName"] == "DAILY"


def test_quota_flags_round_trip() -> None:
    quotas = Quotas(marketo_daily_calls=7, marketo_daily_export_bytes=3 * 1024 * 1024)
    args = quota_args(quotas)
    assert args == ["--marketo-daily-calls", "7.0", "--marketo-daily-export-mb", "3.0"]
    parsed = {
        "marketo_daily_calls": 7.0,
        "marketo_daily_export_bytes": 3.0,
        "marketo_token_seconds": None,
        "hubspot_daily": None,
    }
    assert quotas_from(parsed) == quotas
