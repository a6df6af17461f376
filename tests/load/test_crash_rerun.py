"""A sync killed with SIGKILL, then run again, ends with the world's row set exactly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nurture.config import Settings
from nurture.load.sync import run_sync
from nurture.warehouse import get_warehouse
from tests.conftest import settings_env
from tests.load.test_sync import connection

SEED, LEADS = 23, 600
CHILD = """
import json, logging, sys
from datetime import datetime
from nurture.config import load_settings
from nurture.connections import ApiConnection
from nurture.load.sync import run_sync

logging.basicConfig(level=logging.INFO)
args = json.loads(sys.argv[1])
conn = ApiConnection(**args["conn"])
run_sync(args["source"], load_settings(), until=datetime.fromisoformat(args["until"]), conn=conn)
"""
# dlt's progress output names each stage as it runs; the kill lands inside that stage.
STAGES = {"extract": "Extract marketo", "load": "Load marketo"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, datetime, dict]]:
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import ensure_world, world_counts

    home = tmp_path_factory.mktemp("crash-sandbox")
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        yield base_url, until, world_counts(ensure_world(SEED, LEADS, home))


def _kill_during(stage: str, settings: Settings, args: dict) -> str:
    """Start a sync in a child process and SIGKILL it once `stage` has begun."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    deadline = time.monotonic() + 300
    seen = []
    for line in child.stdout:
        seen.append(line)
        if STAGES[stage] in line:
            time.sleep(0.3)  # well inside the stage, not at its first byte
            break
        assert time.monotonic() < deadline, "the sync never reached the stage"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, "".join(seen[-20:])
    return "".join(seen)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_killed_sync_reruns_to_the_same_rows(stage, sandbox, warehouse_settings):
    base_url, until, truth = sandbox
    conn = connection("marketo", base_url, until)
    args = {
        "source": "marketo",
        "until": until.isoformat(),
        "conn": {
            "conn_id": conn.conn_id,
            "base_url": conn.base_url,
            "login": conn.login,
            "password": conn.password,
            "extra": conn.extra,
        },
    }
    _kill_during(stage, warehouse_settings, args)

    run_sync("marketo", warehouse_settings, until=until, conn=conn)
    wh = get_warehouse(warehouse_settings)
    counts = wh.query(
        """select (select count(*) from raw_marketo.leads) as leads,
                  (select count(distinct id) from raw_marketo.leads) as lead_ids,
                  (select count(*) from raw_marketo.activities) as activities,
                  (select count(distinct marketo_guid) from raw_marketo.activities) as guids"""
    ).iloc[0]
    assert int(counts["leads"]) == int(counts["lead_ids"]) == truth["marketo_leads"]
    assert int(counts["activities"]) == int(counts["guids"]) == truth["marketo_activities"]
