"""``serve --clock wall``: the world's today follows the wall clock, injected here through
NURTURE_SANDBOX_NOW (``file:PATH``, so the test moves time by rewriting the file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from nurture.sandbox.app import create_app
from nurture.sandbox.clock import ANCHOR, NOW_ENV
from nurture.sandbox.server import running_sandbox
from nurture.sandbox.world import ensure_world

SEED = 11
LEADS = 1000
AUTH = {"Authorization": "Bearer test-token"}
DAY_3 = (ANCHOR + timedelta(days=3)).isoformat()
DAY_4 = (ANCHOR + timedelta(days=4)).isoformat()
TYPES = "1,2,6,7,8,9,10,11,12,104"


@pytest.fixture(scope="module")
def now_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wall-clock") / "now"
    path.write_text(f"{DAY_3}T23:59:30Z")  # the wall clock at start: late on ANCHOR + 3
    return path


@pytest.fixture(scope="module")
def wall(home: Path, now_file: Path) -> Iterator[httpx.Client]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(NOW_ENV, f"file:{now_file}")
        with (
            running_sandbox(SEED, LEADS, home=home, rate_limits=False, clock="wall") as url,
            httpx.Client(base_url=url, headers=AUTH, timeout=30) as client,
        ):
            yield client


def _activities(client: httpx.Client, since: str) -> list[dict]:
    token = client.get(
        "/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": since}
    ).json()["nextPageToken"]
    seen: list[dict] = []
    while True:
        body = client.get(
            "/rest/v1/activities.json",
            params={"nextPageToken": token, "activityTypeIds": TYPES, "batchSize": 300},
        ).json()
        assert body["success"], body
        seen += body.get("result", [])
        token = body["nextPageToken"]
        if not body["moreResult"]:
            return seen


def _lead_modstamps(client: httpx.Client, since: str) -> list[str]:
    soql = f"SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp >= {since}T00:00:00Z"
    body = client.get("/services/data/v61.0/queryAll", params={"q": soql}).json()
    records = list(body["records"])
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"]).json()
        records += body["records"]
    return [r["SystemModstamp"][:10] for r in records]


def _assert_data_up_to(client: httpx.Client, today: str) -> None:
    """Marketo activities and Salesforce lead changes fill the day before ``today``, and
    nothing is dated ``today`` or later (the world stands at today's midnight)."""
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    days = {a["activityDate"][:10] for a in _activities(client, f"{yesterday}T00:00:00Z")}
    assert days == {yesterday}
    assert set(_lead_modstamps(client, yesterday)) == {yesterday}


def _wait_for_today(client: httpx.Client, today: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        health = client.get("/health").json()
        if health["today"] == today or time.monotonic() > deadline:
            return health
        time.sleep(0.1)


def test_world_follows_the_wall_clock_past_midnight(
    wall: httpx.Client, now_file: Path, home: Path, tmp_path: Path
) -> None:
    health = wall.get("/health").json()
    assert (health["clock"], health["today"]) == ("wall", DAY_3)
    _assert_data_up_to(wall, DAY_3)
    before = wall.get("/sandbox/counts").json()

    now_file.write_text(f"{DAY_4}T00:00:05Z")  # the wall clock passes midnight
    assert _wait_for_today(wall, DAY_4)["today"] == DAY_4
    after = wall.get("/sandbox/counts").json()
    assert after["marketo_activities"] > before["marketo_activities"]
    assert after["persons"] > before["persons"]  # new people arrive every day
    _assert_data_up_to(wall, DAY_4)

    # A wall-clock world on day D is the fixed world advanced D days, day for day.
    copy = tmp_path / "fixed.duckdb"
    shutil.copyfile(ensure_world(SEED, LEADS, home), copy)
    with TestClient(create_app(copy, rate_limits=False), headers=AUTH) as fixed:
        assert fixed.get("/health").json()["clock"] == "fixed"
        assert fixed.post("/sandbox/advance", params={"days": 4}).json()["today"] == DAY_4
        assert fixed.get("/sandbox/counts").json() == after

    # A clock stepped back leaves the world where it is; it never runs backwards.
    now_file.write_text(f"{DAY_3}T12:00:00Z")
    time.sleep(0.5)
    assert wall.get("/health").json()["today"] == DAY_4


def test_manual_advance_is_refused(wall: httpx.Client) -> None:
    today = wall.get("/health").json()["today"]
    response = wall.post("/sandbox/advance", params={"days": 1})
    assert response.status_code == 409
    assert "--clock wall" in response.json()["error"]
    assert wall.get("/health").json()["today"] == today


def test_a_wall_date_before_the_world_is_refused(home: Path) -> None:
    env = {**os.environ, "NURTURE_HOME": str(home), NOW_ENV: "2026-09-29T12:00:00Z"}
    cmd = [sys.executable, "-m", "nurture.sandbox", "serve", "--seed", str(SEED)]
    cmd += ["--leads", str(LEADS), "--port", "0", "--clock", "wall"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "2026-09-29 is before the world's first day 2026-09-30" in done.stderr


def test_an_injected_now_callable_drives_an_in_process_app(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "wall.duckdb"
    shutil.copyfile(ensure_world(SEED, LEADS, home), copy)
    wall_time = [datetime(2026, 10, 1, 8, 0, tzinfo=UTC)]
    app = create_app(
        copy, rate_limits=False, clock_mode="wall", now=lambda: wall_time[0], poll_seconds=0.05
    )
    with TestClient(app, headers=AUTH) as client:  # the lifespan runs the clock's thread
        assert client.get("/health").json()["today"] == "2026-10-01"
        wall_time[0] = datetime(2026, 10, 3, 0, 0, 1, tzinfo=UTC)  # two midnights at once
        assert _wait_for_today(client, "2026-10-03")["today"] == "2026-10-03"
