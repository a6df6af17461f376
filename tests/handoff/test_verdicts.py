"""Sales' verdicts flow back: after `advance`, handed-over leads carry sales' status and a
completed Task (the first action the MQL -> SAL SLA measures), and a recycled lead that
re-qualifies (cycle 2) is handed over again: back to 'Open - Not Contacted', with its own
Task and notice.

This covers delivery -> verdict -> Salesforce read-back; the full loop through sync and
dbt into `dim_lead.current_stage` runs in the demo, too slow for this suite. It runs on
DuckDB only: the warehouse part is the one the other handoff tests run on both.
"""

from __future__ import annotations

import httpx

from nurture.connectors.salesforce import SalesforceClient
from nurture.handoff.run import run_handoff
from tests.conftest import settings_for
from tests.handoff.conftest import DAY, seed_outbox, sf_leads, slack_mentions


def _tasks(sandbox, lead_sfids: list[str]) -> list[dict]:
    client = SalesforceClient(sandbox.connections()["salesforce"])
    ids = ", ".join(f"'{i}'" for i in lead_sfids)
    try:
        return [
            t
            for page in client.query(
                f"SELECT Id, WhoId, Subject, Status FROM Task WHERE WhoId IN ({ids})"
            )
            for t in page
        ]
    finally:
        client.close()


def test_verdicts_come_back_and_recycled_leads_requalify(sandbox, tmp_path):
    settings = settings_for(tmp_path, "duckdb")
    prefix = "verdict"
    ids = seed_outbox(settings, sandbox, prefix, 40, offset=10)
    conns = sandbox.connections()
    run_handoff(settings, DAY, connections=conns)

    httpx.post(f"{sandbox.url}/sandbox/advance", params={"days": 4}, timeout=300).raise_for_status()
    leads = sf_leads(sandbox, prefix)
    decided = leads.loc[leads["Status"] != "Open - Not Contacted"]
    assert len(decided) > 0
    assert set(decided["Status"]) <= {"Working - Contacted", "Recycled", "Closed - Not Converted"}
    completed = [t for t in _tasks(sandbox, list(decided["Id"])) if t["Status"] == "Completed"]
    assert {t["WhoId"] for t in completed} == set(decided["Id"])

    recycled = leads.loc[leads["Status"] == "Recycled", "Nurture_Lead_Id__c"].tolist()
    assert recycled, "no recycled lead in this world: pick another offset"
    seed_outbox(settings, sandbox, prefix, 40, offset=10, cycle=2)
    # only the recycled leads re-qualify: drop the other cycle-2 entries again
    from nurture.warehouse import get_warehouse

    keep = ", ".join(f"'{i}'" for i in recycled)
    with get_warehouse(settings).transaction() as session:
        session.execute(f"delete from ops.mql_outbox where cycle = 2 and lead_id not in ({keep})")
    run_handoff(settings, DAY, connections=conns)

    again = sf_leads(sandbox, prefix).set_index("Nurture_Lead_Id__c")
    assert (again.loc[recycled, "Status"] == "Open - Not Contacted").all()
    assert (again.loc[recycled, "tasks"] == 2).all()  # one Nurture Task per cycle
    # still at most one lead per person (advance may delete or convert some)
    assert again.index.is_unique and len(again) <= len(ids)
    assert set(slack_mentions(sandbox, recycled).values()) == {2}  # one notice per cycle
