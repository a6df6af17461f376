"""The whole MQL loop on a sandbox world: sync → dbt → score → hand off to sales → sales
decide in the SFA → sync → dbt → score again.

Sales' verdicts must flow back: handed-over leads show as accepted (SAL), recycled or
disqualified in `dim_lead` and `mart_funnel`, the MQL → SAL SLA is measured, and the
next scoring run enqueues none of them again (recycled leads wait for their cool-down,
rejected and accepted ones never come back).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nurture.handoff.run import run_handoff
from nurture.load.sync import SOURCES, run_sync
from nurture.scoring.run import run_scoring
from nurture.transform.dbt import run_dbt
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.handoff.conftest import Sandbox
from tests.load.test_sync import connection

SEED, LEADS, DAYS = 17, 1500, 5


def _cycle(settings, url: str, until: datetime) -> None:
    """Syncs up to `until` (the end of the sandbox's day), scoring as of the day's start:
    the sandbox stamps the hand-off at its own time of day, which a run scoring as of the
    day's end would follow, putting every verdict before the MQL it answers. (Under the
    scheduler, scoring is as of the window's end, before the run hands anything over.)"""
    for source in SOURCES:
        run_sync(source, settings, until=until, conn=connection(source, url, until))
    run_dbt(settings, "build")
    run_scoring(settings, as_of=until - timedelta(days=1))


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import world_path

    home = tmp_path_factory.mktemp("mql-loop")
    settings = settings_for(home, "duckdb")
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as url:
        today = httpx.get(f"{url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        _cycle(settings, url, until)
        sandbox = Sandbox(url=str(url), world=world_path(SEED, LEADS, home))
        run_handoff(settings, until.date(), connections=sandbox.connections())
        wh = get_warehouse(settings)
        handed = wh.query("select lead_id, cycle from ops.mql_outbox")
        httpx.post(f"{url}/sandbox/advance", params={"days": DAYS}, timeout=600).raise_for_status()
        _cycle(settings, url, until + timedelta(days=DAYS))
        yield settings, handed


def test_verdicts_show_in_the_lifecycle(loop):
    settings, handed = loop
    assert len(handed) >= 10
    ids = ", ".join(f"'{i}'" for i in handed["lead_id"])
    stages = get_warehouse(settings).query(
        f"select current_stage, count(*) as n from marts.dim_lead "
        f"where lead_id in ({ids}) group by current_stage"
    )
    by_stage = dict(zip(stages["current_stage"], stages["n"], strict=True))
    # about 40% of waiting leads get a verdict each day: after 5 days most have one
    decided = sum(n for stage, n in by_stage.items() if stage != "mql")
    assert decided >= 0.6 * len(handed), by_stage
    assert by_stage.get("recycled", 0) > 0 and by_stage.get("disqualified", 0) > 0, by_stage
    assert sum(n for stage, n in by_stage.items() if stage in ("sal", "sql")) > 0, by_stage


def test_funnel_counts_sal_and_measures_the_sla(loop):
    settings, _ = loop
    funnel = (
        get_warehouse(settings)
        .query(
            "select sum(mql_count) as mql, sum(sal_count) as sal, "
            "sum(sla_met_count) as met, sum(sla_breached_count) as breached "
            "from marts.mart_funnel"
        )
        .iloc[0]
    )
    assert int(funnel["mql"]) >= int(funnel["sal"]) > 0
    assert int(funnel["met"]) > 0


def test_decided_leads_are_not_enqueued_again(loop):
    settings, handed = loop
    outbox = get_warehouse(settings).query("select lead_id, cycle from ops.mql_outbox")
    again = outbox.merge(handed, on="lead_id", suffixes=("", "_first"))
    # the recycled cool-down (30 days) has not passed; rejected and accepted never return
    assert (again["cycle"] == again["cycle_first"]).all()
