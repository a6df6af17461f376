"""A handoff SIGKILLed mid-delivery, then run again: still exactly one Salesforce lead,
one Task and one Slack notice per MQL.

The child process holds at a named checkpoint (`NURTURE_HANDOFF_PAUSE_AT`) and says so on
stdout; the test kills it there, so the crash lands at the same point every time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from nurture.handoff.checkpoints import PAUSE_ENV
from nurture.handoff.run import run_handoff
from nurture.warehouse import get_warehouse
from tests.conftest import settings_env
from tests.handoff.conftest import DAY, seed_outbox, sf_leads, slack_mentions

CHILD = """
import json, sys
from datetime import date
from nurture.config import load_settings
from nurture.connections import ApiConnection
from nurture.handoff.run import run_handoff

args = json.loads(sys.argv[1])
conns = {k: ApiConnection(**v) for k, v in args["conns"].items()}
run_handoff(load_settings(), date.fromisoformat(args["day"]), connections=conns)
"""


def _kill_at(point: str, settings, conns) -> None:
    args = {"day": DAY.isoformat(), "conns": {k: asdict(v) for k, v in conns.items()}}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        env={**settings_env(settings), PAUSE_ENV: point},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    deadline = time.monotonic() + 120
    seen = []
    for line in child.stdout:
        seen.append(line)
        if f"handoff paused at {point}" in line:
            break
        assert time.monotonic() < deadline, "the handoff never reached the checkpoint"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "".join(seen[-30:])


@pytest.mark.parametrize("point", ["salesforce:leads", "salesforce:tasks", "slack:posted"])
def test_killed_handoff_reruns_to_one_of_each(point, sandbox, warehouse_settings):
    prefix = f"crash-{point.replace(':', '-')}-{warehouse_settings.warehouse}"
    ids = seed_outbox(warehouse_settings, sandbox, prefix, 60, offset=500)
    conns = sandbox.connections()
    _kill_at(point, warehouse_settings, conns)

    run_handoff(warehouse_settings, DAY, connections=conns)
    leads = sf_leads(sandbox, prefix)
    assert sorted(leads["Nurture_Lead_Id__c"]) == ids
    assert leads["tasks"].eq(1).all(), leads.loc[leads["tasks"] != 1]
    assert set(slack_mentions(sandbox, ids).values()) == {1}
    stuck = get_warehouse(warehouse_settings).query(
        "select count(*) as n from ops.mql_deliveries where status <> 'delivered'"
    )
    assert int(stuck["n"].iloc[0]) == 0
