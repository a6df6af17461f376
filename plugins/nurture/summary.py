"""What a pipeline run left in the warehouse, as numbers a person can read."""

from __future__ import annotations

import unicodedata
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

# Headline KPIs (docs/design.md, "The marts"): label, the mart it needs, one row of numbers, format.
KPIS: tuple[tuple[str, str, str, str], ...] = (
    (
        "email CTR (unique clicks / delivered)",
        "marts.mart_campaign_performance",
        "select sum(unique_clicks) * 1.0 / nullif(sum(delivered), 0) "
        "from marts.mart_campaign_performance",
        "{:.2%}",
    ),
    (
        "unsubscribe rate (配信停止率)",
        "marts.mart_campaign_performance",
        "select sum(unsubscribes) * 1.0 / nullif(sum(delivered), 0) "
        "from marts.mart_campaign_performance",
        "{:.2%}",
    ),
    (
        "continuous response rate (継続反応率)",
        "marts.mart_lead_engagement",
        "select avg(continuous_response_rate) from marts.mart_lead_engagement as e "
        "where snapshot_date = (select max(snapshot_date) from marts.mart_lead_engagement "
        "as l where l.lead_id = e.lead_id)",
        "{:.2%}",
    ),
    (
        "web circulation (ウェブ回遊率)",
        "marts.mart_web_circulation",
        "select avg(case when is_circulated then 1.0 else 0.0 end) from marts.mart_web_circulation",
        "{:.2%}",
    ),
    (
        "A/B tests with a significant winner",
        "marts.mart_ab_tests",
        "select count(*) filter (where winner <> 'inconclusive') || ' of ' || count(*) "
        "from marts.mart_ab_tests",
        "{}",
    ),
    (
        "creative-weeks flagged as fatigued",
        "marts.mart_creative_fatigue",
        "select count(*) filter (where is_fatigued) from marts.mart_creative_fatigue",
        "{:,}",
    ),
    (
        "lead → MQL → SAL",
        "marts.mart_funnel",
        "select sum(lead_count) || ' → ' || sum(mql_count) || ' → ' || sum(sal_count) "
        "from marts.mart_funnel",
        "{}",
    ),
    (
        "MQL → SAL within SLA",
        "marts.mart_funnel",
        # the counts beside the share: in a world where sales have not acted yet, 0% of
        # few decided MQLs reads very differently from 0% of many
        "select coalesce(cast(cast(round(100.0 * sum(sla_met_count) / nullif(sum(sla_met_count)"
        " + sum(sla_breached_count), 0)) as integer) as varchar) || '%', 'n/a') || ' ('"
        " || sum(sla_met_count) || ' met, ' || sum(sla_breached_count) || ' breached, '"
        " || sum(sla_pending_count) || ' pending)' from marts.mart_funnel",
        "{}",
    ),
    (
        "MQL → SAL days (cohort medians, SAL-weighted)",
        "marts.mart_funnel",
        "select sum(median_days_mql_to_sal * sal_count) / nullif(sum(case when "
        "median_days_mql_to_sal is not null then sal_count end), 0) from marts.mart_funnel",
        "{:.1f}",
    ),
    (
        "LTV per customer (all segments)",
        "marts.mart_ltv",
        "select sum(ltv * customer_count) / nullif(sum(customer_count), 0) from marts.mart_ltv",
        "{:,.0f}",
    ),
)


@dataclass
class PipelineSummary:
    raw_rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    kpis: dict[str, str] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    leads_scored: int = 0
    mqls: int = 0
    feeds: list[Path] = field(default_factory=list)
    report: Path | None = None

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
        if self.kpis:
            kpi_width = max(_display_width(label) for label in self.kpis)
            lines.append("Headline KPIs")
            lines += [
                f"  {label}{' ' * (kpi_width - _display_width(label))}  {value}"
                for label, value in self.kpis.items()
            ]
        if self.channels:
            lines.append("Touches per channel (engagement events)")
            lines += [f"  {channel:<{width}} {n:>10,}" for channel, n in self.channels.items()]
        lines.append("Scoring and handoff")
        lines.append(f"  {'leads scored':<{width}} {self.leads_scored:>10,}")
        lines.append(f"  {'MQLs in ops.mql_outbox':<{width}} {self.mqls:>10,}")
        for feed in self.feeds:
            lines.append(f"  feed: {feed}")
        lines.append("KPI report (HTML, Japanese / English)")
        lines.append(f"  {self.report or '(not written yet: nurture report)'}")
        return "\n".join(lines)


def _display_width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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
    for label, table, sql, fmt in KPIS:
        if warehouse.table_exists(table):
            value = warehouse.query(sql).iloc[0, 0]
            summary.kpis[label] = "n/a" if value is None or value != value else fmt.format(value)
    if warehouse.table_exists("marts.fct_engagement_events"):
        rows = warehouse.query(
            "select coalesce(channel, '(no channel)') as channel, count(*) as n "
            "from marts.fct_engagement_events group by 1 order by 2 desc, 1"
        )
        summary.channels = {str(r.channel): int(r.n) for r in rows.itertuples()}
    if warehouse.table_exists("marts.fct_lead_scores"):
        latest = warehouse.query(
            "select count(*) as n from marts.fct_lead_scores where run_id = "
            "(select max(run_id) from marts.fct_lead_scores)"
        )
        summary.leads_scored = int(latest["n"].iloc[0])
    summary.mqls = count("ops.mql_outbox")
    summary.feeds = sorted(settings.feeds_dir.glob("mql-*.csv"))
    from nurture.report.run import latest_report

    summary.report = latest_report(settings)
    return summary
