"""What a pipeline run left in the warehouse, as numbers a person can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nurture.config import Settings
from nurture.warehouse import get_warehouse

RAW_TABLES = {
    "marketo": ("raw_marketo.leads", "raw_marketo.activities"),
    "hubspot": (
        "raw_hubspot.contacts",
        "raw_hubspot.companies",
        "raw_hubspot.owners",
        "raw_hubspot.contact_company_associations",
    ),
    "salesforce": ("raw_salesforce.leads",),
}
MART_TABLES = ("marts.dim_lead", "marts.fct_engagement_events")


@dataclass
class PipelineSummary:
    raw_rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    leads_scored: int = 0
    mqls: int = 0
    feeds: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, object]:
        """Everything that must not change when the same world is loaded again."""
        return {
            "raw": self.raw_rows,
            "quarantined": self.quarantined,
            "marts": self.mart_rows,
            "mqls": self.mqls,
        }

    def render(self) -> str:
        width = max(len(t) for t in [*self.raw_rows, *self.mart_rows, "x" * 24])
        lines = ["Rows loaded per source"]
        lines += [f"  {table:<{width}} {n:>10,}" for table, n in self.raw_rows.items()]
        lines.append("Quarantined rows")
        if self.quarantined:
            lines += [f"  {key:<{width}} {n:>10,}" for key, n in self.quarantined.items()]
        else:
            lines.append(f"  {'(none)':<{width}} {0:>10,}")
        lines.append("Marts")
        lines += [f"  {table:<{width}} {n:>10,}" for table, n in self.mart_rows.items()]
        lines.append("Scoring and handoff")
        lines.append(f"  {'leads scored':<{width}} {self.leads_scored:>10,}")
        lines.append(f"  {'MQLs in ops.mql_outbox':<{width}} {self.mqls:>10,}")
        for feed in self.feeds:
            lines.append(f"  feed: {feed}")
        return "\n".join(lines)


def collect_summary(settings: Settings) -> PipelineSummary:
    warehouse = get_warehouse(settings)
    summary = PipelineSummary()

    def count(table: str) -> int:
        if not warehouse.table_exists(table):
            return 0
        return int(warehouse.query(f"select count(*) as n from {table}")["n"].iloc[0])

    for tables in RAW_TABLES.values():
        for table in tables:
            summary.raw_rows[table] = count(table)
    if warehouse.table_exists("ops.quarantine"):
        rows = warehouse.query(
            "select source, object, count(*) as n from ops.quarantine "
            "group by source, object order by source, object"
        )
        summary.quarantined = {f"{r.source}.{r.object}": int(r.n) for r in rows.itertuples()}
    for table in MART_TABLES:
        summary.mart_rows[table] = count(table)
    if warehouse.table_exists("marts.fct_lead_scores"):
        latest = warehouse.query(
            "select count(*) as n from marts.fct_lead_scores where run_id = "
            "(select max(run_id) from marts.fct_lead_scores)"
        )
        summary.leads_scored = int(latest["n"].iloc[0])
    summary.mqls = count("ops.mql_outbox")
    summary.feeds = sorted(settings.feeds_dir.glob("mql-*.csv"))
    return summary
