"""A small sandbox world shared by the handoff tests, and helpers to seed the outbox.

Tests seed `marts.dim_lead` and `ops.mql_outbox` directly (real schema from
`nurture.handoff.schema`), with people taken from the world's HubSpot contacts, each
test under its own lead-id prefix so they share one sandbox without seeing each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest

from nurture.config import Settings
from nurture.connections import ApiConnection
from nurture.connectors.salesforce import SalesforceClient
from nurture.handoff.schema import ensure_tables
from nurture.warehouse import get_warehouse

SEED, LEADS = 13, 1000
DAY = date(2026, 9, 30)
FAST = {"max_attempts": 2, "backoff_seconds": 0.05}
DIM_LEAD_DDL = """create table if not exists marts.dim_lead (
    lead_id varchar, email varchar, first_name varchar, last_name varchar,
    company_name varchar, job_title varchar, industry varchar, size_band varchar,
    seniority varchar, department varchar, sfdc_lead_id varchar, hubspot_contact_id varchar,
    sfdc_owner_id varchar, is_converted boolean
)"""


@dataclass(frozen=True)
class Sandbox:
    url: str
    world: Path

    def connections(self, **dead: str) -> dict[str, ApiConnection]:
        """Connections to the sandbox; a target named in `dead` gets that URL instead."""
        url = self.url
        return {
            "salesforce": ApiConnection(
                "salesforce_default", dead.get("salesforce", url), "demo", "demo", dict(FAST)
            ),
            "hubspot": ApiConnection(
                "hubspot_default", dead.get("hubspot", url), "", "token", dict(FAST)
            ),
            "slack": ApiConnection(
                "slack_default",
                dead.get("slack", f"{url}/hooks/slack/T000/B000/nurture"),
                extra={**FAST, "verify_url": f"{url}/hooks/slack/_messages"},
            ),
        }


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import ensure_world

    home = tmp_path_factory.mktemp("handoff-sandbox")
    world = ensure_world(SEED, LEADS, home)
    with running_sandbox(SEED, LEADS, home=home, rate_limits=False) as url:
        yield Sandbox(str(url), world)


def people(world: Path, offset: int, n: int) -> pd.DataFrame:
    with duckdb.connect(str(world), read_only=True) as con:
        return con.execute(
            "select id, email, firstname, lastname, company, jobtitle, industry "
            "from hs_contact where not archived and email is not null "
            "order by id limit ? offset ?",
            [n, offset],
        ).df()


def seed_outbox(
    settings: Settings, sandbox: Sandbox, prefix: str, n: int, offset: int = 0, cycle: int = 1
) -> list[str]:
    """`n` MQLs under `prefix` in dim_lead and the outbox; returns their lead ids."""
    found = people(sandbox.world, offset, n)
    ids = [f"{prefix}-{i:04d}" for i in range(len(found))]
    dim = pd.DataFrame(
        {
            "lead_id": ids,
            "email": found["email"],
            "first_name": found["firstname"],
            "last_name": found["lastname"],
            "company_name": found["company"],
            "job_title": found["jobtitle"],
            "industry": found["industry"],
            "size_band": ["1000-4999" if i % 4 == 0 else "50-249" for i in range(len(found))],
            "seniority": None,
            "department": None,
            "sfdc_lead_id": None,
            "hubspot_contact_id": found["id"].astype(str),
            "sfdc_owner_id": None,
            "is_converted": False,
        }
    )
    outbox = pd.DataFrame(
        {
            "lead_id": ids,
            "cycle": cycle,
            "run_id": f"score:{DAY.isoformat()}",
            "email": found["email"],
            "score": [90.0 - i % 30 for i in range(len(found))],
            "grade": ["A" if i % 3 == 0 else "B" for i in range(len(found))],
            "top_reasons": "役職: 部長 (+15); webinar attended (+10); pricing page (+8)",
            "created_at": datetime(DAY.year, DAY.month, DAY.day, 6, tzinfo=UTC),
        }
    )
    with get_warehouse(settings).transaction() as session:
        ensure_tables(session)
        session.execute(DIM_LEAD_DDL)
        if cycle == 1:
            session.insert_frame("marts.dim_lead", dim)
        session.insert_frame("ops.mql_outbox", outbox)
    return ids


def sf_leads(sandbox: Sandbox, prefix: str) -> pd.DataFrame:
    client = SalesforceClient(sandbox.connections()["salesforce"])
    try:
        rows = [
            r
            for page in client.query(
                "SELECT Id, Nurture_Lead_Id__c, Status, OwnerId, Nurture_Grade__c FROM Lead "
                f"WHERE Nurture_Lead_Id__c LIKE '{prefix}-%'"
            )
            for r in page
        ]
        lead_ids = [r["Id"] for r in rows]
        tasks = []
        for start in range(0, len(lead_ids), 200):
            ids = ", ".join(f"'{i}'" for i in lead_ids[start : start + 200])
            tasks += [
                t
                for page in client.query(
                    "SELECT Id, WhoId, Subject, Status FROM Task "
                    f"WHERE WhoId IN ({ids}) AND Subject LIKE 'Nurture MQL:%'"
                )
                for t in page
            ]
    finally:
        client.close()
    leads = pd.DataFrame(
        rows, columns=["Id", "Nurture_Lead_Id__c", "Status", "OwnerId", "Nurture_Grade__c"]
    )
    counts = pd.Series([t["WhoId"] for t in tasks], dtype=object).value_counts()
    leads["tasks"] = leads["Id"].map(counts).fillna(0).astype(int)
    return leads


def slack_mentions(sandbox: Sandbox, lead_ids: list[str]) -> dict[str, int]:
    """How many Slack messages name each lead."""
    messages = httpx.get(f"{sandbox.url}/hooks/slack/_messages").json()["messages"]
    texts = [m["payload"].get("text", "") for m in messages]
    return {lead: sum(f"[{lead}]" in t for t in texts) for lead in lead_ids}
