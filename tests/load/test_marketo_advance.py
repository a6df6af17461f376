"""After the sandbox moves on, an incremental Marketo run picks up exactly the new
activities, the changed leads and the leads merged away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from nurture.load.sync import run_sync
from nurture.warehouse import get_warehouse
from tests.load.test_sync import connection

SEED, LEADS, DAYS = 31, 900, 2


def test_incremental_run_after_advance(tmp_path_factory, warehouse_settings):
    from nurture.sandbox.server import running_sandbox

    home = tmp_path_factory.mktemp("marketo-advance")
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as url:
        today = httpx.get(f"{url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        conn = connection("marketo", url, until)
        run_sync("marketo", warehouse_settings, until=until, conn=conn)
        advanced = httpx.post(f"{url}/sandbox/advance", params={"days": DAYS}, timeout=300)
        changes = advanced.json()
        later = run_sync(
            "marketo", warehouse_settings, until=until + timedelta(days=DAYS), conn=conn
        )
        live = httpx.get(f"{url}/sandbox/counts").json()

    assert changes["marketo_leads_merged"] > 0 and changes["activities_added"] > 0
    wh = get_warehouse(warehouse_settings)
    got = wh.query(
        """select
             (select count(*) from raw_marketo.leads as l where not exists (
                select 1 from raw_marketo.deleted_leads as d where d.lead_id = l.id)) as leads,
             (select count(*) from raw_marketo.deleted_leads) as deleted,
             (select count(*) from raw_marketo.activities) as activities,
             (select count(distinct marketo_guid) from raw_marketo.activities) as guids"""
    ).iloc[0]
    assert int(got["leads"]) == live["marketo_leads"]
    assert int(got["deleted"]) == live["marketo_deleted_leads"]
    assert int(got["activities"]) == int(got["guids"]) == live["marketo_activities"]
    # Incremental: only about the new days' rows came over the wire, not the history.
    assert later.rows["activities"] < changes["activities_added"] * 1.5 + 500
