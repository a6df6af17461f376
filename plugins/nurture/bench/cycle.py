"""A daily cycle at scale: the first full load of a large sandbox world, then one sandbox
day (`advance`) and the incremental cycle, three syncs → marts → score → handoff.

Both go through Airflow as `nurture demo` runs them (`nurture.bench.pipeline`: the five
DAGs one after the other in one `dag.test()` process, rate limits on), into a fresh
DuckDB warehouse. Each DAG is reported with its seconds and the process's peak RSS
while it ran (its tasks run in that process; the sandbox serves from its own).

The cycle's figure is the whole process, Airflow's start-up included, against the
issue's 5 minutes. Then the day's outcome is checked where sales would see it: among
the people with a scored activity (positive points in include/scoring/rules.yaml)
during the advanced day, read from the sandbox's Marketo API, at least one that was
not in Salesforce before the cycle is there after it, as a Lead upserted with
`Nurture_Lead_Id__c`.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from nurture.bench.common import Result, duckdb_settings, sandbox_connection
from nurture.bench.pipeline import DagRuns, EphemeralAirflow
from nurture.config import DBT_PROJECT_DIR
from nurture.demo import PIPELINE_DAGS

GOAL_SECONDS = 300.0


def _today(base_url: str) -> datetime:
    """The sandbox world's today: midnight, everything before it has happened."""
    today = httpx.get(f"{base_url}/health", timeout=30).json()["today"]
    return datetime.fromisoformat(today).replace(tzinfo=UTC)


def scored_activity_types() -> dict[int, tuple[str, float]]:
    """Marketo activity type id -> (name, points), for the types the scoring rules count."""
    from nurture.scoring.rules import load_rules

    points = load_rules().engagement.activities
    with (DBT_PROJECT_DIR / "seeds" / "marketo_activity_types.csv").open() as seed:
        return {
            int(row["activity_type_id"]): (row["activity_type"], points[row["activity_type"]])
            for row in csv.DictReader(seed)
            if points.get(row["activity_type"], 0) > 0
        }


def day_activities(base_url: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The scored activities of [since, until) as the source serves them, oldest first."""
    from nurture.connectors.marketo import MarketoClient

    types = scored_activity_types()
    ids = sorted(types)
    client = MarketoClient(sandbox_connection("marketo", base_url, until))
    found = []
    try:
        for first in range(0, len(ids), 10):  # Marketo takes 10 activity types a call
            for page in client.activities(since, until, tuple(ids[first : first + 10])):
                for row in page:
                    name, points = types[int(row["activityTypeId"])]
                    found.append(
                        {
                            "marketo_lead_id": str(row["leadId"]),
                            "activity_type": name,
                            "points": points,
                            "activity_date": row["activityDate"],
                        }
                    )
    finally:
        client.close()
    return sorted(found, key=lambda a: a["activity_date"])


def handed_over(base_url: str, until: datetime) -> dict[str, dict[str, Any]]:
    """Salesforce Leads that Nurture upserted (by `Nurture_Lead_Id__c`), by that id."""
    from nurture.connectors.salesforce import SalesforceClient

    client = SalesforceClient(sandbox_connection("salesforce", base_url, until))
    try:
        soql = (
            "SELECT Id, Status, Nurture_Lead_Id__c, CreatedDate FROM Lead "
            "WHERE Nurture_Lead_Id__c != null"
        )
        return {row["Nurture_Lead_Id__c"]: row for page in client.query(soql) for row in page}
    finally:
        client.close()


def people_by_marketo_id(work: Path) -> dict[str, str]:
    """Marketo lead id -> Nurture lead id, from the warehouse's `dim_lead`."""
    from nurture.warehouse import get_warehouse

    found = get_warehouse(duckdb_settings(work)).query(
        "select cast(marketo_lead_id as varchar) as marketo_lead_id, lead_id "
        "from marts.dim_lead where marketo_lead_id is not null"
    )
    return dict(zip(found["marketo_lead_id"], found["lead_id"], strict=True))


def _stage_total(runs: DagRuns) -> dict[str, Any]:
    peaks = [d.peak_rss_mb for d in runs.dags if d.peak_rss_mb is not None]
    return {
        "wall_seconds": round(runs.wall_seconds, 1),
        "dags_seconds": round(sum(d.seconds for d in runs.dags), 1),
        "peak_rss_mb": max(peaks, default=None),
        "stages": runs.stages(),
    }


def bench_cycle(base_url: str, work: Path, leads: int, logs: Path) -> list[Result]:
    settings = duckdb_settings(work)
    first_day = _today(base_url) + timedelta(days=1)  # the demo's logical date
    airflow = EphemeralAirflow(work / "airflow", base_url, settings, first_day, logs)
    full = airflow.run(list(PIPELINE_DAGS), first_day, "full-load")

    day_start = _today(base_url)
    advanced = httpx.post(f"{base_url}/sandbox/advance", params={"days": 1}, timeout=600)
    advanced.raise_for_status()
    day_end = _today(base_url)
    activities = day_activities(base_url, day_start, day_end)
    known = people_by_marketo_id(work)
    before = handed_over(base_url, day_end)
    cycle = airflow.run(list(PIPELINE_DAGS), day_end + timedelta(days=1), "one-day-cycle")
    after = handed_over(base_url, day_end)

    new_in_sfa = {lead for lead in after if lead not in before}
    # the example: the day's weightiest scored activity of a person new in Salesforce
    proof = next(
        (
            {**act, "lead_id": known[act["marketo_lead_id"]]}
            for act in sorted(activities, key=lambda a: (-a["points"], a["activity_date"]))
            if known.get(act["marketo_lead_id"]) in new_in_sfa
        ),
        None,
    )
    if proof is not None:
        sfdc = after[proof["lead_id"]]
        proof |= {"sfdc_lead_id": sfdc["Id"], "sfdc_status": sfdc["Status"]}
    counts = {k: v for k, v in advanced.json().items() if isinstance(v, int) and k != "days"}
    where = f"{leads:,} leads"
    return [
        Result(
            f"cycle: first full load, {where} (s)",
            full.wall_seconds,
            detail={"airflow_db_migrate_seconds": round(airflow.migrate_seconds, 1)}
            | _stage_total(full),
        ),
        Result(
            f"cycle: one-day incremental cycle, {where} (s)",
            cycle.wall_seconds,
            GOAL_SECONDS,
            False,
            _stage_total(cycle)
            | {"day": day_start.date().isoformat(), "advance": counts, "logs": str(logs)},
        ),
        Result(
            "cycle: the day's scored activity is an MQL in Salesforce",
            1.0 if proof else 0.0,
            1.0,
            True,
            {
                "scored_activities_that_day": len(activities),
                "people_with_one": len({a["marketo_lead_id"] for a in activities}),
                "new_leads_in_salesforce": len(new_in_sfa),
                "new_with_a_scored_activity_that_day": len(
                    {known.get(a["marketo_lead_id"]) for a in activities} & new_in_sfa
                ),
                "example": proof,
            },
        ),
    ]
