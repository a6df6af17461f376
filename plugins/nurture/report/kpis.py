"""The KPIs the report shows and a targets file may set: key, labels, format, direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["pct", "int", "days", "money", "ratio"]


@dataclass(frozen=True)
class Kpi:
    key: str
    ja: str
    en: str
    kind: Kind
    # True: higher is better (a target is a floor); False: lower is better (a ceiling)
    higher_is_better: bool
    source: str

    @property
    def is_rate(self) -> bool:
        return self.kind == "pct"


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "fan_share",
        "ファン比率(北極星)",
        "Share of fans (north star)",
        "pct",
        True,
        "marts.mart_lead_engagement",
    ),
    Kpi(
        "continuous_response_rate",
        "継続反応率",
        "Continuous response rate",
        "pct",
        True,
        "marts.mart_lead_engagement",
    ),
    Kpi("email_ctr", "メールCTR", "Email CTR", "pct", True, "marts.mart_campaign_performance"),
    Kpi("open_rate", "開封率", "Open rate", "pct", True, "marts.mart_campaign_performance"),
    Kpi(
        "unsubscribe_rate",
        "配信停止率",
        "Unsubscribe rate",
        "pct",
        False,
        "marts.mart_campaign_performance",
    ),
    Kpi(
        "web_circulation_rate",
        "ウェブ回遊率",
        "Web circulation rate",
        "pct",
        True,
        "marts.mart_web_circulation",
    ),
    Kpi(
        "lead_to_mql_rate",
        "リード→MQL転換率",
        "Lead → MQL conversion",
        "pct",
        True,
        "marts.mart_funnel",
    ),
    Kpi(
        "mql_to_sal_rate", "MQL→SAL転換率", "MQL → SAL conversion", "pct", True, "marts.mart_funnel"
    ),
    Kpi(
        "sla_compliance_rate",
        "SLA遵守率(MQL→SAL)",
        "SLA compliance (MQL → SAL)",
        "pct",
        True,
        "marts.mart_funnel",
    ),
    Kpi(
        "median_days_mql_to_sal",
        "MQL→SAL日数(中央値)",
        "MQL → SAL days (median)",
        "days",
        False,
        "marts.mart_funnel",
    ),
    Kpi(
        "mql_acceptance_rate",
        "営業受入率",
        "Sales acceptance rate",
        "pct",
        True,
        "marts.mart_lead_stage_history",
    ),
    Kpi(
        "attendance_rate",
        "イベント参加率",
        "Event attendance rate",
        "pct",
        True,
        "marts.mart_event_performance",
    ),
    Kpi("campaign_roi", "キャンペーンROI", "Campaign ROI", "pct", True, "marts.mart_campaign_roi"),
    Kpi("ltv_per_customer", "顧客あたりLTV", "LTV per customer", "money", True, "marts.mart_ltv"),
)
KPI_BY_KEY = {kpi.key: kpi for kpi in KPIS}

# KPIs that are shares of something: a target must lie in [0, 1] (ROI is a "pct" but may
# exceed 100% or fall below 0).
FRACTION_KPIS = frozenset(k.key for k in KPIS if k.kind == "pct" and k.key != "campaign_roi")
