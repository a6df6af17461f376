"""Stalls past a client's timeout, and the data faults of messy/chaos being reproducible."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nurture.sandbox.app import create_app
from nurture.sandbox.faults import PROFILES, FaultInjector, Profile

TYPES = "1,2,6,7,8,9,10,11,12,104"


def _stall_app(seed: int) -> TestClient:
    app = FastAPI()

    @app.get("/crm/v3/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    FaultInjector(Profile("stall", p_timeout=0.3, timeout_seconds=0.4), seed).install(app)
    return TestClient(app)


def _stalled(client: TestClient, n: int) -> list[int]:
    """Which of n distinct requests took longer than the stall."""
    slow = []
    for i in range(n):
        started = time.monotonic()
        assert client.get("/crm/v3/ping", params={"i": i}).status_code == 200
        if time.monotonic() - started >= 0.4:
            slow.append(i)
    return slow


def test_timeout_stalls_are_seeded_and_only_the_first_attempt() -> None:
    with _stall_app(1) as first, _stall_app(2) as other:
        stalled = _stalled(first, 12)
        assert stalled and len(stalled) < 12
        assert _stalled(first, 12) == []  # the retry of each request answers at once
        assert _stalled(other, 12) != stalled
    # The shipped profiles: rare, and longer than the connectors' 60 s client timeout.
    flaky = FaultInjector(PROFILES["flaky"], 7)
    share = sum(flaky.stalls(f"GET /rest/v1/x?{i}", 0) for i in range(20_000)) / 20_000
    assert 0.0005 < share < 0.005 and PROFILES["flaky"].timeout_seconds > 60
    assert PROFILES["chaos"].p_timeout > 0 and PROFILES["messy"].p_timeout == 0


@pytest.fixture()
def app_for(tmp_path: Path, world: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**kwargs: object) -> TestClient:
        copy = tmp_path / f"faults-{len(clients)}.duckdb"
        shutil.copyfile(world, copy)
        client = TestClient(
            create_app(copy, rate_limits=False, **kwargs),  # type: ignore[arg-type]
            headers={"Authorization": "Bearer t"},
        )
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def _pages(client: TestClient, pages: int = 10) -> list[list[int]]:
    token = client.get(
        "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2020-01-01"}
    ).json()["nextPageToken"]
    out = []
    for _ in range(pages):
        body: dict = {}
        while "result" not in body:  # chaos also answers 606 and 5xx; retry like a client
            response = client.get(
                "/rest/v1/activities.json",
                params={"nextPageToken": token, "activityTypeIds": TYPES, "batchSize": 100},
            )
            body = response.json() if response.status_code == 200 else {}
        out.append([a["id"] for a in body["result"]])
        token = body["nextPageToken"]
    return out


@pytest.mark.parametrize("name", ["messy", "chaos"])
def test_data_faults_are_reproducible_per_seed(
    app_for: Callable[..., TestClient], name: str
) -> None:
    first = _pages(app_for(faults=name, fault_seed=5))
    again = _pages(app_for(faults=name, fault_seed=5))
    other = _pages(app_for(faults=name, fault_seed=6))
    clean = _pages(app_for(faults="none"))
    assert first == again
    assert first != other
    assert first != clean  # some page was truncated, shifted or had a duplicate
