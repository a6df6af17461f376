"""The handoff against the sandbox: exactly one lead, task and notice per MQL however
often it runs, a feed without duplicates, and a dead target that leaves the run red."""

from __future__ import annotations

import csv
import socket

import pytest

from nurture.handoff.run import HandoffFailed, run_handoff
from nurture.warehouse import get_warehouse
from tests.handoff.conftest import DAY, seed_outbox, sf_leads, slack_mentions


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _deliveries(settings):
    return get_warehouse(settings).query(
        "select target, status, count(*) as n from ops.mql_deliveries group by 1, 2"
    )


def test_twice_gives_one_lead_task_and_notice_per_mql(sandbox, warehouse_settings):
    prefix = f"twice-{warehouse_settings.warehouse}"
    ids = seed_outbox(warehouse_settings, sandbox, prefix, 230)  # two Salesforce batches
    conns = sandbox.connections()
    first = run_handoff(warehouse_settings, DAY, connections=conns)
    assert {r.target: r.delivered for r in first.results} == {
        "salesforce": 230,
        "hubspot": 230,
        "csv_feed": 230,
        "slack": 230,
    }
    second = run_handoff(warehouse_settings, DAY, connections=conns)
    assert {r.target: r.delivered for r in second.results} == {
        "salesforce": 0,
        "hubspot": 0,
        "csv_feed": 230,
        "slack": 0,
    }

    leads = sf_leads(sandbox, prefix)
    assert sorted(leads["Nurture_Lead_Id__c"]) == ids
    assert (leads["tasks"] == 1).all()
    assert (leads["Status"] == "Open - Not Contacted").all()
    assert leads["OwnerId"].notna().all()
    assert set(slack_mentions(sandbox, ids).values()) == {1}

    feed = warehouse_settings.feeds_dir / f"mql-{DAY.isoformat()}.csv"
    raw = feed.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with open(feed, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["lead_id"] for r in rows) == ids
    assert "部長" in rows[0]["reasons"]

    frame = (
        get_warehouse(warehouse_settings)
        .query(
            "select target, count(*) as n, min(status) as lo, max(status) as hi, "
            "count(delivered_at) as stamped from ops.mql_deliveries group by target"
        )
        .set_index("target")
    )
    assert set(frame.index) == {"salesforce", "hubspot", "csv_feed", "slack"}
    assert (frame["n"] == 230).all() and (frame["stamped"] == 230).all()
    assert (frame["lo"] == "delivered").all() and (frame["hi"] == "delivered").all()


def test_owner_assignment_is_stable(sandbox, warehouse_settings):
    prefix = f"owners-{warehouse_settings.warehouse}"
    seed_outbox(warehouse_settings, sandbox, prefix, 40, offset=300)
    run_handoff(warehouse_settings, DAY, connections=sandbox.connections())
    wh = get_warehouse(warehouse_settings)
    before = wh.query("select * from ops.mql_assignments order by lead_id")
    assert before["owner_id"].notna().all()
    assert before["rule"].str.startswith("territory:enterprise").sum() == 10
    run_handoff(warehouse_settings, DAY, connections=sandbox.connections())
    after = wh.query("select * from ops.mql_assignments order by lead_id")
    assert before.equals(after)
    leads = sf_leads(sandbox, prefix).set_index("Nurture_Lead_Id__c")
    assert (leads.loc[before["lead_id"], "OwnerId"].values == before["owner_id"].values).all()


@pytest.mark.parametrize("dead", ["hubspot", "slack"])
def test_failing_target_stays_pending_and_red(dead, sandbox, warehouse_settings):
    prefix = f"dead-{dead}-{warehouse_settings.warehouse}"
    ids = seed_outbox(warehouse_settings, sandbox, prefix, 20, offset=400)
    with pytest.raises(HandoffFailed, match=dead) as failed:
        run_handoff(warehouse_settings, DAY, connections=sandbox.connections(**{dead: _dead_url()}))
    by_target = {r.target: r for r in failed.value.results}
    assert by_target[dead].pending == 20 and by_target[dead].error
    assert all(r.delivered == 20 for t, r in by_target.items() if t not in (dead, "owners"))
    status = _deliveries(warehouse_settings)
    assert set(status.loc[status["target"] == dead, "status"]) <= {"pending"}
    if dead == "slack":
        assert set(slack_mentions(sandbox, ids).values()) == {0}

    again = run_handoff(warehouse_settings, DAY, connections=sandbox.connections())
    assert {r.target: r.delivered for r in again.results}[dead] == 20
    assert sf_leads(sandbox, prefix)["tasks"].eq(1).all()
    assert set(slack_mentions(sandbox, ids).values()) == {1}
