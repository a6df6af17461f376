"""What the report reads from the marts: one loader per section, plain Python values.

Every loader aggregates in SQL that runs on DuckDB and PostgreSQL alike and returns a
`SectionData`; a mart that is missing or empty gives a section with `available=False`
("no data yet"), never an error. Values are floats, ints, dates or None: NaN, NaT and
Decimals from the drivers are normalised here, so nothing downstream prints them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import pairwise
from typing import Any

import yaml

from nurture.config import DBT_PROJECT_DIR, ConfigError
from nurture.warehouse import Warehouse

BANDS = ("fan", "engaged", "light", "dormant")
SEGMENT_BANDS = ("fan", "engaged", "light", "dormant", "new")
FUNNEL_STAGES = ("lead", "mql", "sal", "sql", "opportunity", "won")
VERDICTS = ("accepted", "recycled", "disqualified", "awaiting")
# the dbt vars the page states (thresholds, the channel list), read from dbt_project.yml
STATED_VARS = (
    "nurture_channels",
    "mql_sla_hours",
    "creative_fatigue_ctr_drop",
    "creative_fatigue_min_weekly_sample",
    "ab_significance_level",
    "ab_min_sample",
)
TREND_MONTHS = 12  # months of history the trend charts show
# Metrics over all the data rather than one period: no period-over-period change.
TOTAL_METRICS = frozenset(
    {
        "tests",
        "tests_with_sample",
        "winners",
        "lead_to_mql_rate",
        "mql_to_sal_rate",
        "sla_compliance_rate",
        "median_days_mql_to_sal",
        "unattributed_share",
        "attendance_rate",
        "attendee_mql_rate",
        "registered",
        "mql_acceptance_rate",
        "handed",
        "overdue",
    }
)


@cache
def dbt_vars() -> dict[str, Any]:
    """The dbt vars the marts were built with (thresholds the page states): the project
    file ships with the package, so a missing one is a broken install, said as such."""
    path = DBT_PROJECT_DIR / "dbt_project.yml"
    project = yaml.safe_load(path.read_text("utf-8")) or {}
    found = project.get("vars") or {}
    missing = [key for key in STATED_VARS if key not in found]
    if missing:
        raise ConfigError(f"{path}: vars {', '.join(missing)} are missing; the report states them.")
    return {key: found[key] for key in STATED_VARS}


def channels() -> list[str]:
    return list(dbt_vars()["nurture_channels"])


@dataclass
class Metric:
    """A number of a section, for this period and the one before (None: no data)."""

    key: str
    kind: str
    current: float | None
    previous: float | None = None
    ja: str = ""
    en: str = ""

    @property
    def total(self) -> bool:
        """Counted over all the data (all cohorts, to date), not per period."""
        return self.key in TOTAL_METRICS


@dataclass
class SectionData:
    key: str
    available: bool
    current_period: date | None = None
    previous_period: date | None = None
    metrics: list[Metric] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    # the newest day of data in the current period, when the mart has days
    through: date | None = None

    def metric(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)


def clean(value: Any) -> Any:
    """A driver value as plain Python: no NaN/NaT, no numpy scalars, no Decimals."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        try:
            value = value.to_pydatetime()
        except ValueError:
            return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        value = value.item()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value != value:  # NaT and other not-a-values
        return None
    return value


def as_date(value: Any) -> date | None:
    value = clean(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return float(numerator) / float(denominator)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """Every month start from `first`'s month to `last`'s, both included."""
    months, day = [], month_start(first)
    while day <= last:
        months.append(day)
        day = add_months(day, 1)
    return months


def month_end(day: date) -> date:
    return add_months(month_start(day), 1) - timedelta(days=1)


def sql_date(day: date) -> str:
    """A date literal both warehouses read (our own dates, never user input)."""
    return f"date '{day.isoformat()}'"


class Reader:
    """One open connection to the warehouse: which tables exist, and rows as dicts.

    `connection` is a DB-API style connection whose `execute` returns something with
    `description` and `fetchall` (DuckDB's and psycopg's both do).
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._tables: set[str] | None = None

    def exists(self, table: str) -> bool:
        if self._tables is None:
            self._tables = {
                f"{schema}.{name}"
                for schema, name in self.connection.execute(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_schema in ('marts', 'ops')"
                ).fetchall()
            }
        return table in self._tables

    def rows(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [
            {column: clean(v) for column, v in zip(columns, row, strict=True)}
            for row in cursor.fetchall()
        ]


@contextmanager
def open_reader(warehouse: Warehouse) -> Iterator[Reader]:
    """A reader on one connection for the whole report (a read-only use of a transaction)."""
    with warehouse.transaction() as session:
        yield Reader(session.con)


def _by_month(rows: Iterable[dict[str, Any]], column: str = "month") -> dict[date, dict]:
    out: dict[date, dict] = {}
    for row in rows:
        day = as_date(row[column])
        if day is not None:
            row[column] = day
            out[day] = row
    return out


def _periods(months: Iterable[date]) -> tuple[date | None, date | None]:
    months = sorted(months)
    if not months:
        return None, None
    return months[-1], add_months(months[-1], -1)


def _names(reader: Reader) -> str:
    """A subquery of campaign names by campaign_id (dim_campaign), or of ids."""
    if reader.exists("marts.dim_campaign"):
        return (
            "(select campaign_id, max(campaign_name) as campaign_name "
            "from marts.dim_campaign group by campaign_id)"
        )
    return "(select cast(null as varchar) as campaign_id, cast(null as varchar) as campaign_name)"


# --- sections -------------------------------------------------------------------------


def email_section(reader: Reader) -> SectionData:
    table = "marts.mart_campaign_performance"
    if not reader.exists(table):
        return SectionData("email", False, missing=[table])
    monthly = reader.rows(
        "select cast(date_trunc('month', send_date) as date) as month, "
        "sum(delivered) as delivered, sum(unique_opens) as opens, "
        "sum(unique_clicks) as clicks, sum(unsubscribes) as unsubscribes, "
        "sum(bounces) as bounces, sum(recipients) as recipients "
        f"from {table} where send_date is not null group by 1 order by 1"
    )
    by_month = _by_month(monthly)
    if not by_month or not any(r["delivered"] for r in by_month.values()):
        return SectionData("email", False)
    for row in monthly:
        row["ctr"] = ratio(row["clicks"], row["delivered"])
        row["open_rate"] = ratio(row["opens"], row["delivered"])
        row["unsubscribe_rate"] = ratio(row["unsubscribes"], row["delivered"])
    current, previous = _periods(by_month)
    cur, prev = by_month.get(current, {}), by_month.get(previous, {})
    campaigns = reader.rows(
        "select p.campaign_id as campaign_id, max(n.campaign_name) as campaign_name, "
        "sum(p.delivered) as delivered, sum(p.unique_clicks) as clicks, "
        "sum(p.unsubscribes) as unsubscribes, max(p.send_date) as last_send_date "
        f"from {table} as p left join {_names(reader)} as n on n.campaign_id = p.campaign_id "
        "group by p.campaign_id"
    )
    for row in campaigns:
        row["last_send_date"] = as_date(row["last_send_date"])
        row["ctr"] = ratio(row["clicks"], row["delivered"])
        row["unsubscribe_rate"] = ratio(row["unsubscribes"], row["delivered"])
        row["name"] = row["campaign_name"] or f"#{row['campaign_id']}"
    campaigns.sort(key=lambda r: (r["last_send_date"] or date.min, r["delivered"] or 0))
    campaigns.reverse()
    return SectionData(
        "email",
        True,
        current,
        previous,
        metrics=[
            Metric(
                "delivered",
                "int",
                cur.get("delivered"),
                prev.get("delivered"),
                "配信数",
                "Delivered",
            ),
            Metric("email_ctr", "pct", cur.get("ctr"), prev.get("ctr")),
            Metric("open_rate", "pct", cur.get("open_rate"), prev.get("open_rate")),
            Metric(
                "unsubscribe_rate", "pct", cur.get("unsubscribe_rate"), prev.get("unsubscribe_rate")
            ),
        ],
        through=max((c["last_send_date"] for c in campaigns if c["last_send_date"]), default=None),
        rows={"monthly": monthly[-TREND_MONTHS:], "campaigns": campaigns},
    )


def _engagement_points(first: date, last: date) -> list[date]:
    """Month ends from `first` (at most TREND_MONTHS back) to `last`, then `last`."""
    start = max(month_start(first), add_months(month_start(last), -(TREND_MONTHS - 1)))
    points = []
    day = start
    while month_end(day) < last:
        points.append(month_end(day))
        day = add_months(day, 1)
    points.append(last)
    return points


def engagement_section(reader: Reader) -> SectionData:
    table = "marts.mart_lead_engagement"
    if not reader.exists(table):
        return SectionData("engagement", False, missing=[table])
    bounds = reader.rows(
        f"select min(snapshot_date) as first, max(snapshot_date) as last from {table}"
    )
    first, last = as_date(bounds[0]["first"]), as_date(bounds[0]["last"])
    if first is None or last is None:
        return SectionData("engagement", False)
    points = _engagement_points(first, last)
    values = ", ".join(f"({sql_date(p)})" for p in points)
    # The band of a lead on a day is that of its latest snapshot on or before it.
    rows = reader.rows(
        "with spells as (select engagement_band, continuous_response_rate, snapshot_date, "
        "lead(snapshot_date) over (partition by lead_id order by snapshot_date) as next_date "
        f"from {table}), points(as_of) as (values {values}) "
        "select p.as_of as as_of, s.engagement_band as band, count(*) as leads, "
        "sum(s.continuous_response_rate) as rate_sum, "
        "count(s.continuous_response_rate) as rate_n "
        "from points as p join spells as s on s.snapshot_date <= p.as_of "
        "and (s.next_date is null or s.next_date > p.as_of) group by 1, 2"
    )
    series: dict[date, dict[str, Any]] = {
        p: {"as_of": p, **{b: 0 for b in BANDS}, "rate_sum": 0.0, "rate_n": 0} for p in points
    }
    for row in rows:
        point = series.get(as_date(row["as_of"]))
        if point is None:
            continue
        if row["band"] in BANDS:
            point[row["band"]] += int(row["leads"] or 0)
        point["rate_sum"] += float(row["rate_sum"] or 0)
        point["rate_n"] += int(row["rate_n"] or 0)
    trend = []
    for point in series.values():
        total = sum(point[b] for b in BANDS)
        point["total"] = total
        point["fan_share"] = ratio(point["fan"], total)
        point["rate"] = ratio(point["rate_sum"], point["rate_n"])
        for band in BANDS:
            point[f"{band}_share"] = ratio(point[band], total)
        trend.append(point)
    latest = trend[-1]
    before = trend[-2] if len(trend) > 1 else {}
    if not latest["total"]:
        return SectionData("engagement", False)
    return SectionData(
        "engagement",
        True,
        latest["as_of"],
        before.get("as_of"),
        metrics=[
            Metric("fan_share", "pct", latest["fan_share"], before.get("fan_share")),
            Metric("continuous_response_rate", "pct", latest["rate"], before.get("rate")),
            Metric("fans", "int", latest["fan"], before.get("fan"), "ファン数", "Fans"),
            Metric(
                "leads_with_band",
                "int",
                latest["total"],
                before.get("total"),
                "配信対象リード",
                "Leads e-mailed",
            ),
        ],
        rows={"trend": trend},
    )


def web_section(reader: Reader) -> SectionData:
    table = "marts.mart_web_circulation"
    if not reader.exists(table):
        return SectionData("web", False, missing=[table])
    select = (
        "count(*) as touches, sum(case when is_circulated then 1 else 0 end) as circulated, "
        "sum(page_views_within_window) as page_views, count(distinct lead_id) as leads "
        f"from {table} where clicked_date is not null"
    )
    monthly = reader.rows(
        f"select cast(date_trunc('month', clicked_date) as date) as month, {select} "
        "group by 1 order by 1"
    )
    by_month = _by_month(monthly)
    if not by_month:
        return SectionData("web", False)
    by_channel = reader.rows(
        f"select cast(date_trunc('month', clicked_date) as date) as month, "
        f"coalesce(channel, 'other') as channel, {select} group by 1, 2 order by 1, 2"
    )
    for row in [*monthly, *by_channel]:
        row["month"] = as_date(row["month"])
        row["rate"] = ratio(row["circulated"], row["touches"])
        row["pages_per_lead"] = ratio(row["page_views"], row["leads"])
    totals = reader.rows(f"select coalesce(channel, 'other') as channel, {select} group by 1")
    for row in totals:
        row["rate"] = ratio(row["circulated"], row["touches"])
        row["pages_per_lead"] = ratio(row["page_views"], row["leads"])
    totals.sort(key=lambda r: -(r["touches"] or 0))
    current, previous = _periods(by_month)
    cur, prev = by_month.get(current, {}), by_month.get(previous, {})
    recent = {m for m in by_month if m > add_months(current, -TREND_MONTHS)}
    return SectionData(
        "web",
        True,
        current,
        previous,
        metrics=[
            Metric("web_circulation_rate", "pct", cur.get("rate"), prev.get("rate")),
            Metric(
                "pages_per_lead",
                "ratio",
                cur.get("pages_per_lead"),
                prev.get("pages_per_lead"),
                "タッチ後の閲覧ページ数/人",
                "Pages per touched lead",
            ),
            Metric(
                "touches", "int", cur.get("touches"), prev.get("touches"), "タッチ数", "Touches"
            ),
        ],
        through=as_date(reader.rows(f"select max(clicked_date) as d from {table}")[0]["d"]),
        rows={
            "monthly": [r for r in monthly if r["month"] in recent],
            "by_channel": [r for r in by_channel if r["month"] in recent],
            "channel_totals": totals,
        },
    )


def ab_section(reader: Reader) -> SectionData:
    table = "marts.mart_ab_tests"
    if not reader.exists(table):
        return SectionData("ab", False, missing=[table])
    rollouts = reader.exists("marts.mart_ab_rollouts")
    rollout_columns = (
        "r.rolled_out_variant as rolled_out_variant, r.rollout_ctr as rollout_ctr, "
        "r.rollout_ctr_change as rollout_ctr_change, r.rollout_delivered as rollout_delivered"
        if rollouts
        else "cast(null as varchar) as rolled_out_variant, "
        "cast(null as double precision) as rollout_ctr, "
        "cast(null as double precision) as rollout_ctr_change, "
        "cast(null as bigint) as rollout_delivered"
    )
    join = (
        "left join marts.mart_ab_rollouts as r on r.ab_test_key = t.ab_test_key" if rollouts else ""
    )
    tests = reader.rows(
        "select t.ab_test_key as ab_test_key, t.campaign_id as campaign_id, "
        "n.campaign_name as campaign_name, t.control_variant as control_variant, "
        "t.challenger_variant as challenger_variant, t.control_content_type as "
        "control_content_type, t.challenger_content_type as challenger_content_type, "
        "t.first_send_date as first_send_date, t.last_send_date as last_send_date, "
        "t.control_delivered as control_delivered, t.control_ctr as control_ctr, "
        "t.challenger_delivered as challenger_delivered, t.challenger_ctr as challenger_ctr, "
        "t.ctr_difference as ctr_difference, t.lift as lift, "
        "t.ctr_difference_ci_lower as ci_lower, t.ctr_difference_ci_upper as ci_upper, "
        "t.p_value as p_value, t.adjusted_p_value as adjusted_p_value, "
        "t.is_significant as is_significant, t.is_significant_adjusted as "
        "is_significant_adjusted, t.has_min_sample as has_min_sample, t.winner as winner, "
        f"t.winning_content_type as winning_content_type, {rollout_columns} "
        f"from {table} as t left join {_names(reader)} as n on n.campaign_id = t.campaign_id "
        f"{join}"
    )
    if not tests:
        return SectionData("ab", False)
    for row in tests:
        row["last_send_date"] = as_date(row["last_send_date"])
        row["first_send_date"] = as_date(row["first_send_date"])
        row["name"] = row["campaign_name"] or f"#{row['campaign_id']}"
        row["status"] = (
            "winner"
            if row["winner"] and row["winner"] != "inconclusive"
            else "significant_alone"
            if row["is_significant"]
            else "small_sample"
            if not row["has_min_sample"]
            else "no_difference"
        )
    tests.sort(key=lambda r: (r["last_send_date"] or date.min, r["name"]), reverse=True)
    months = [month_start(r["last_send_date"]) for r in tests if r["last_send_date"]]
    current, previous = _periods(months)

    def count(month: date | None, predicate: Callable[[dict], bool]) -> int | None:
        if month is None:
            return None
        return sum(
            1
            for r in tests
            if r["last_send_date"] and month_start(r["last_send_date"]) == month and predicate(r)
        )

    return SectionData(
        "ab",
        True,
        current,
        previous,
        metrics=[
            Metric("tests", "int", len(tests), None, "A/Bテスト数(全期間)", "A/B tests (all)"),
            Metric(
                "tests_with_sample",
                "int",
                sum(1 for r in tests if r["has_min_sample"]),
                None,
                "必要サンプル到達",
                "Reached the minimum sample",
            ),
            Metric(
                "winners",
                "int",
                sum(1 for r in tests if r["status"] == "winner"),
                None,
                "勝者あり(Holm補正後)",
                "With a winner (Holm-corrected)",
            ),
            Metric(
                "tests_ended",
                "int",
                count(current, lambda r: True),
                count(previous, lambda r: True),
                "当月に終了したテスト",
                "Tests that ended in the month",
            ),
        ],
        through=max((r["last_send_date"] for r in tests if r["last_send_date"]), default=None),
        rows={"tests": tests},
    )


def fatigue_section(reader: Reader) -> SectionData:
    table = "marts.mart_creative_fatigue"
    if not reader.exists(table):
        return SectionData("fatigue", False, missing=[table])
    weeks = reader.rows(
        "select creative_id, launch_date, weeks_since_launch, week_start_date, delivered, "
        "unique_clicks, click_through_rate, baseline_ctr, baseline_delivered, has_min_sample, "
        f"ctr_change_from_baseline, is_fatigued from {table} "
        "order by creative_id, weeks_since_launch"
    )
    if not weeks:
        return SectionData("fatigue", False)
    names: dict[Any, str] = {}
    if reader.exists("marts.dim_campaign"):
        for row in reader.rows(
            "select creative_id, max(subject) as subject, max(email_name) as email_name "
            "from marts.dim_campaign where creative_id is not null group by creative_id"
        ):
            names[row["creative_id"]] = row["subject"] or row["email_name"] or ""
    creatives: dict[Any, dict[str, Any]] = {}
    for row in weeks:
        row["week_start_date"] = as_date(row["week_start_date"])
        row["launch_date"] = as_date(row["launch_date"])
        creative = creatives.setdefault(
            row["creative_id"],
            {
                "creative_id": row["creative_id"],
                "name": names.get(row["creative_id"], ""),
                "launch_date": row["launch_date"],
                "weeks": [],
            },
        )
        creative["weeks"].append(row)
    for creative in creatives.values():
        creative["latest"] = creative["weeks"][-1]
        creative["label"] = f"#{creative['creative_id']}" + (
            f" {creative['name']}" if creative["name"] else ""
        )
    months = [month_start(r["week_start_date"]) for r in weeks if r["week_start_date"]]
    current, previous = _periods(months)

    def fatigued(month: date | None) -> int | None:
        if month is None:
            return None
        return sum(
            1
            for r in weeks
            if r["is_fatigued"]
            and r["week_start_date"]
            and month_start(r["week_start_date"]) == month
        )

    def active(month: date | None) -> int | None:
        if month is None:
            return None
        return len(
            {
                r["creative_id"]
                for r in weeks
                if r["week_start_date"] and month_start(r["week_start_date"]) == month
            }
        )

    return SectionData(
        "fatigue",
        True,
        current,
        previous,
        metrics=[
            Metric(
                "active_creatives",
                "int",
                active(current),
                active(previous),
                "配信中のクリエイティブ",
                "Creatives sent",
            ),
            Metric(
                "fatigued_weeks",
                "int",
                fatigued(current),
                fatigued(previous),
                "疲弊と判定された週",
                "Creative-weeks flagged fatigued",
            ),
        ],
        through=max((r["week_start_date"] for r in weeks if r["week_start_date"]), default=None),
        rows={"creatives": sorted(creatives.values(), key=lambda c: c["creative_id"])},
    )


def segment_section(reader: Reader) -> SectionData:
    table = "marts.mart_segment_response"
    if not reader.exists(table):
        return SectionData("segments", False, missing=[table])
    rows = reader.rows(
        "select engagement_band as band, coalesce(content_type, 'unknown') as content_type, "
        "send_month as month, leads, delivered, unique_clicks as clicks, unsubscribes "
        f"from {table}"
    )
    rows = [r for r in rows if as_date(r["month"]) is not None]
    if not rows:
        return SectionData("segments", False)
    for row in rows:
        row["month"] = as_date(row["month"])
        row["delivered"] = int(row["delivered"] or 0)
        row["clicks"] = int(row["clicks"] or 0)
        row["unsubscribes"] = int(row["unsubscribes"] or 0)
        row["leads"] = int(row["leads"] or 0)
    months = sorted({r["month"] for r in rows})
    current, previous = _periods(months)
    monthly: dict[date, dict[str, int]] = defaultdict(
        lambda: {"delivered": 0, "clicks": 0, "unsubscribes": 0}
    )
    for row in rows:
        for k in ("delivered", "clicks", "unsubscribes"):
            monthly[row["month"]][k] += row[k]
    cur, prev = monthly.get(current, {}), monthly.get(previous, {})
    return SectionData(
        "segments",
        True,
        current,
        previous,
        metrics=[
            Metric(
                "segment_ctr",
                "pct",
                ratio(cur.get("clicks"), cur.get("delivered")),
                ratio(prev.get("clicks"), prev.get("delivered")),
                "CTR(全セグメント)",
                "CTR (all segments)",
            ),
            Metric(
                "segment_unsubscribe_rate",
                "pct",
                ratio(cur.get("unsubscribes"), cur.get("delivered")),
                ratio(prev.get("unsubscribes"), prev.get("delivered")),
                "配信停止率(全セグメント)",
                "Unsubscribe rate (all segments)",
            ),
        ],
        rows={"cells": rows},
    )


def funnel_section(reader: Reader) -> SectionData:
    table = "marts.mart_funnel"
    if not reader.exists(table):
        return SectionData("funnel", False, missing=[table])
    rows = reader.rows(
        "select cohort_month as month, source_channel, lead_count, mql_count, sal_count, "
        "sql_count, opportunity_count, won_count, median_days_lead_to_mql, "
        "median_days_mql_to_sal, median_days_sal_to_sql, median_days_sql_to_opportunity, "
        "median_days_opportunity_to_won, sla_met_count, sla_breached_count, "
        f"sla_pending_count from {table}"
    )
    if not rows or not sum(int(r["lead_count"] or 0) for r in rows):
        return SectionData("funnel", False)
    totals = {f"{s}_count": sum(int(r[f"{s}_count"] or 0) for r in rows) for s in FUNNEL_STAGES}
    for k in ("sla_met_count", "sla_breached_count", "sla_pending_count"):
        totals[k] = sum(int(r[k] or 0) for r in rows)
    steps = list(pairwise(FUNNEL_STAGES))
    velocity = {}
    for before, after in steps:
        column = f"median_days_{before}_to_{after}"
        weight_column = f"{after}_count"
        weighted = [
            (float(r[column]), int(r[weight_column] or 0))
            for r in rows
            if r[column] is not None and r[weight_column]
        ]
        weight = sum(w for _, w in weighted)
        velocity[f"{before}_to_{after}"] = (
            sum(v * w for v, w in weighted) / weight if weight else None
        )
    conversion = {
        f"{before}_to_{after}": ratio(totals[f"{after}_count"], totals[f"{before}_count"])
        for before, after in steps
    }
    for row in rows:
        row["month"] = as_date(row["month"])
    months = sorted({r["month"] for r in rows if r["month"]})
    current, previous = _periods(months)

    def cohort(month: date | None) -> dict[str, float | None]:
        picked = [r for r in rows if r["month"] == month]
        if not picked:
            return {}
        s = {
            k: sum(int(r[k] or 0) for r in picked)
            for k in ("lead_count", "mql_count", "sal_count", "sla_met_count", "sla_breached_count")
        }
        return {
            "leads": s["lead_count"],
            "lead_to_mql": ratio(s["mql_count"], s["lead_count"]),
            "sla": ratio(s["sla_met_count"], s["sla_met_count"] + s["sla_breached_count"]),
        }

    cur, prev = cohort(current), cohort(previous)
    sla = ratio(totals["sla_met_count"], totals["sla_met_count"] + totals["sla_breached_count"])
    return SectionData(
        "funnel",
        True,
        current,
        previous,
        metrics=[
            Metric(
                "new_leads",
                "int",
                cur.get("leads"),
                prev.get("leads"),
                "新規リード(コホート月)",
                "New leads (cohort month)",
            ),
            Metric("lead_to_mql_rate", "pct", conversion["lead_to_mql"], None),
            Metric("mql_to_sal_rate", "pct", conversion["mql_to_sal"], None),
            Metric("sla_compliance_rate", "pct", sla, None),
            Metric("median_days_mql_to_sal", "days", velocity["mql_to_sal"], None),
            Metric(
                "cohort_lead_to_mql",
                "pct",
                cur.get("lead_to_mql"),
                prev.get("lead_to_mql"),
                "当月コホートのMQL化率",
                "Lead → MQL of the month's cohort",
            ),
        ],
        rows={
            "stages": [{"stage": s, "count": totals[f"{s}_count"]} for s in FUNNEL_STAGES],
            "steps": [
                {
                    "step": f"{b}_to_{a}",
                    "from": b,
                    "to": a,
                    "conversion": conversion[f"{b}_to_{a}"],
                    "median_days": velocity[f"{b}_to_{a}"],
                }
                for b, a in steps
            ],
            "sla": [
                {"status": "met", "count": totals["sla_met_count"]},
                {"status": "breached", "count": totals["sla_breached_count"]},
                {"status": "pending", "count": totals["sla_pending_count"]},
            ],
        },
    )


def ltv_section(reader: Reader) -> SectionData:
    table = "marts.mart_ltv"
    if not reader.exists(table):
        return SectionData("ltv", False, missing=[table])
    rows = reader.rows(
        "select industry, size_band, won_opportunity_count, customer_count, won_revenue, "
        "average_unit_price, annual_purchase_frequency, customer_lifetime_years, "
        f"frequency_observed, lifespan_observed, ltv from {table}"
    )
    rows = [r for r in rows if r["ltv"] is not None]
    if not rows:
        return SectionData("ltv", False)
    rows.sort(key=lambda r: -(r["ltv"] or 0))
    customers = sum(int(r["customer_count"] or 0) for r in rows)
    per_customer = ratio(
        sum(float(r["ltv"]) * int(r["customer_count"] or 0) for r in rows), customers
    )
    return SectionData(
        "ltv",
        True,
        metrics=[
            Metric("ltv_per_customer", "money", per_customer),
            Metric("customers", "int", customers, None, "顧客数", "Customers"),
            Metric(
                "won_revenue",
                "money",
                sum(float(r["won_revenue"] or 0) for r in rows),
                None,
                "受注額(累計)",
                "Won revenue (to date)",
            ),
        ],
        rows={"segments": rows},
    )


def attribution_section(reader: Reader) -> SectionData:
    table = "marts.mart_channel_attribution"
    if not reader.exists(table):
        return SectionData("attribution", False, missing=[table])
    rows = reader.rows(
        "select attribution_month as month, channel, opportunity_count, first_touch_pipeline, "
        "last_touch_pipeline, linear_pipeline, first_touch_revenue, last_touch_revenue, "
        f"linear_revenue from {table}"
    )
    for row in rows:
        row["month"] = as_date(row["month"])
    rows = [r for r in rows if r["month"] is not None]
    if not rows:
        return SectionData("attribution", False)
    months = sorted({r["month"] for r in rows})
    current, previous = _periods(months)
    measures = (
        "first_touch_pipeline",
        "last_touch_pipeline",
        "linear_pipeline",
        "first_touch_revenue",
        "last_touch_revenue",
        "linear_revenue",
    )
    order = [*channels(), "unattributed"]
    totals = {c: {"channel": c, **{m: 0.0 for m in measures}} for c in order}
    for row in rows:
        entry = totals.setdefault(
            row["channel"], {"channel": row["channel"], **{m: 0.0 for m in measures}}
        )
        for m in measures:
            entry[m] += float(row[m] or 0)

    def month_sum(month: date | None, measure: str) -> float | None:
        if month is None:
            return None
        picked = [float(r[measure] or 0) for r in rows if r["month"] == month]
        return sum(picked) if picked else None

    unattributed = ratio(
        totals["unattributed"]["linear_pipeline"],
        sum(t["linear_pipeline"] for t in totals.values()),
    )
    recent = {m for m in months if m > add_months(current, -TREND_MONTHS)}
    return SectionData(
        "attribution",
        True,
        current,
        previous,
        metrics=[
            Metric(
                "pipeline",
                "money",
                month_sum(current, "linear_pipeline"),
                month_sum(previous, "linear_pipeline"),
                "パイプライン(線形)",
                "Pipeline (linear)",
            ),
            Metric(
                "revenue",
                "money",
                month_sum(current, "linear_revenue"),
                month_sum(previous, "linear_revenue"),
                "受注額(線形)",
                "Won revenue (linear)",
            ),
            Metric(
                "unattributed_share",
                "pct",
                unattributed,
                None,
                "未帰属パイプラインの比率",
                "Unattributed share of pipeline",
            ),
        ],
        rows={
            "monthly": [r for r in rows if r["month"] in recent],
            "totals": list(totals.values()),
        },
    )


def events_section(reader: Reader) -> SectionData:
    table = "marts.mart_event_performance"
    if not reader.exists(table):
        return SectionData("events", False, missing=[table])
    rows = reader.rows(
        "select campaign_id, program_name, channel, launch_date, registered_leads, "
        "attended_leads, no_show_leads, attendance_rate, no_show_rate, attendees_to_mql, "
        "attendee_mql_rate, attendees_to_opportunity, attendee_opportunity_rate "
        f"from {table}"
    )
    if not rows:
        return SectionData("events", False)
    for row in rows:
        row["launch_date"] = as_date(row["launch_date"])
        row["name"] = row["program_name"] or f"#{row['campaign_id']}"
    rows.sort(key=lambda r: (r["launch_date"] or date.min, r["name"]))
    registered = sum(int(r["registered_leads"] or 0) for r in rows)
    attended = sum(int(r["attended_leads"] or 0) for r in rows)
    to_mql = sum(int(r["attendees_to_mql"] or 0) for r in rows)
    months = [month_start(r["launch_date"]) for r in rows if r["launch_date"]]
    current, previous = _periods(months)

    def month_rate(month: date | None) -> float | None:
        picked = [r for r in rows if r["launch_date"] and month_start(r["launch_date"]) == month]
        return ratio(
            sum(int(r["attended_leads"] or 0) for r in picked),
            sum(int(r["registered_leads"] or 0) for r in picked),
        )

    return SectionData(
        "events",
        True,
        current,
        previous,
        metrics=[
            Metric("attendance_rate", "pct", ratio(attended, registered), None),
            Metric(
                "attendance_rate_month",
                "pct",
                month_rate(current),
                month_rate(previous),
                "当月開催分の参加率",
                "Attendance of the month's events",
            ),
            Metric(
                "attendee_mql_rate",
                "pct",
                ratio(to_mql, attended),
                None,
                "参加者のMQL化率",
                "Attendees → MQL",
            ),
            Metric("registered", "int", registered, None, "登録者数(累計)", "Registered (to date)"),
        ],
        through=max((r["launch_date"] for r in rows if r["launch_date"]), default=None),
        rows={"events": rows},
    )


def roi_section(reader: Reader) -> SectionData:
    table = "marts.mart_campaign_roi"
    if not reader.exists(table):
        return SectionData("roi", False, missing=[table])
    rows = reader.rows(
        "select campaign_id, campaign_name, channel, cost, lead_count, mql_count, "
        "won_deal_credit, won_revenue, cost_per_lead, cost_per_mql, cost_per_won_deal, roi "
        f"from {table}"
    )
    if not rows:
        return SectionData("roi", False)
    by_channel: dict[str, dict[str, float]] = {}
    for row in rows:
        row["name"] = row["campaign_name"] or f"#{row['campaign_id']}"
        entry = by_channel.setdefault(
            row["channel"] or "other",
            {"cost": 0.0, "won_revenue": 0.0, "mql_count": 0, "lead_count": 0, "campaigns": 0},
        )
        entry["cost"] += float(row["cost"] or 0)
        entry["won_revenue"] += float(row["won_revenue"] or 0)
        entry["mql_count"] += int(row["mql_count"] or 0)
        entry["lead_count"] += int(row["lead_count"] or 0)
        entry["campaigns"] += 1
    channel_rows = []
    for channel, entry in by_channel.items():
        channel_rows.append(
            {
                "channel": channel,
                **entry,
                "roi": ratio(entry["won_revenue"] - entry["cost"], entry["cost"]),
                "cost_per_mql": ratio(entry["cost"], entry["mql_count"]),
            }
        )
    order = [*channels(), "other"]
    channel_rows.sort(key=lambda r: order.index(r["channel"]) if r["channel"] in order else 99)
    cost = sum(float(r["cost"] or 0) for r in rows)
    revenue = sum(float(r["won_revenue"] or 0) for r in rows)
    mqls = sum(int(r["mql_count"] or 0) for r in rows)
    return SectionData(
        "roi",
        True,
        metrics=[
            Metric("campaign_roi", "pct", ratio(revenue - cost, cost)),
            Metric("cost", "money", cost, None, "費用(累計)", "Cost (to date)"),
            Metric("cost_per_mql", "money", ratio(cost, mqls), None, "MQL単価", "Cost per MQL"),
        ],
        rows={"campaigns": rows, "channels": channel_rows},
    )


def handoff_section(reader: Reader) -> SectionData:
    history = "marts.mart_lead_stage_history"
    if not reader.exists(history):
        return SectionData("handoff", False, missing=[history])
    has_outbox = reader.exists("ops.mql_outbox")
    has_assignments = reader.exists("ops.mql_assignments")
    has_deliveries = reader.exists("ops.mql_deliveries")
    has_dim = reader.exists("marts.dim_lead")
    population = "select lead_id from mql where rn = 1"
    if has_outbox:
        population += " union select lead_id from ops.mql_outbox"
    ctes = [
        "mql as (select lead_id, entered_at, next_stage, days_in_stage_to_date, "
        "row_number() over (partition by lead_id order by entered_at desc, spell_number desc) "
        f"as rn from {history} where stage = 'mql')",
        f"people as ({population})",
    ]
    columns = [
        "p.lead_id as lead_id",
        "m.next_stage as next_stage",
        "m.days_in_stage_to_date as days_waiting",
    ]
    joins = ["left join mql as m on m.lead_id = p.lead_id and m.rn = 1"]
    owner = ["cast(null as varchar)"]
    entered = ["m.entered_at"]
    if has_outbox:
        ctes.append(
            "outbox as (select lead_id, count(*) as entries, min(created_at) as created_at "
            "from ops.mql_outbox group by lead_id)"
        )
        joins.append("left join outbox as o on o.lead_id = p.lead_id")
        columns.append("coalesce(o.entries, 0) as handed")
        entered.append("cast(o.created_at as timestamp)")
    else:
        columns.append("0 as handed")
    if has_deliveries:
        ctes.append(
            "delivered as (select lead_id, count(*) as n from ops.mql_deliveries "
            "where target = 'salesforce' and status = 'delivered' group by lead_id)"
        )
        joins.append("left join delivered as s on s.lead_id = p.lead_id")
        columns.append("coalesce(s.n, 0) as delivered")
    else:
        columns.append("0 as delivered")
    if has_assignments:
        ctes.append(
            "assigned as (select lead_id, owner_name, row_number() over "
            "(partition by lead_id order by cycle desc) as rn from ops.mql_assignments)"
        )
        joins.append("left join assigned as a on a.lead_id = p.lead_id and a.rn = 1")
        owner.insert(0, "a.owner_name")
    if has_dim:
        joins.append("left join marts.dim_lead as d on d.lead_id = p.lead_id")
        owner.insert(len(owner) - 1, "d.owner_name")
    columns.append(f"coalesce({', '.join(owner)}) as owner_name")
    columns.append(f"coalesce({', '.join(entered)}) as entered_at")
    leads = reader.rows(
        f"with {', '.join(ctes)} select {', '.join(columns)} from people as p {' '.join(joins)}"
    )
    if not leads:
        return SectionData("handoff", False)
    sla_days = float(dbt_vars()["mql_sla_hours"]) / 24
    owners: dict[str, dict[str, Any]] = {}
    for lead in leads:
        stage = lead["next_stage"]
        verdict = (
            "awaiting"
            if stage is None
            else stage
            if stage in ("recycled", "disqualified")
            else "accepted"
        )
        lead["verdict"] = verdict
        lead["entered_at"] = clean(lead["entered_at"])
        waiting = lead["days_waiting"]
        lead["overdue"] = verdict == "awaiting" and waiting is not None and waiting > sla_days
        name = lead["owner_name"] or ""
        entry = owners.setdefault(
            name,
            {
                "owner": name,
                "mqls": 0,
                "handed": 0,
                "delivered": 0,
                "overdue": 0,
                **{v: 0 for v in VERDICTS},
            },
        )
        entry["mqls"] += 1
        entry[verdict] += 1
        entry["handed"] += 1 if lead["handed"] else 0
        entry["delivered"] += 1 if lead["delivered"] else 0
        entry["overdue"] += 1 if lead["overdue"] else 0
    for entry in owners.values():
        entry["acceptance_rate"] = ratio(
            entry["accepted"], entry["accepted"] + entry["recycled"] + entry["disqualified"]
        )
    months = [
        month_start(lead["entered_at"].date())
        for lead in leads
        if isinstance(lead["entered_at"], datetime)
    ]
    current, previous = _periods(months)

    def in_month(month: date | None) -> list[dict]:
        return [
            lead
            for lead in leads
            if isinstance(lead["entered_at"], datetime)
            and month_start(lead["entered_at"].date()) == month
        ]

    def acceptance(picked: list[dict]) -> float | None:
        decided = [lead for lead in picked if lead["verdict"] != "awaiting"]
        return ratio(sum(1 for lead in decided if lead["verdict"] == "accepted"), len(decided))

    cur, prev = in_month(current), in_month(previous)
    return SectionData(
        "handoff",
        True,
        current,
        previous,
        metrics=[
            Metric(
                "mqls",
                "int",
                len(cur) if current else None,
                len(prev) if previous else None,
                "MQL数(当月)",
                "MQLs (in the month)",
            ),
            Metric("mql_acceptance_rate", "pct", acceptance(leads), None),
            Metric(
                "handed",
                "int",
                sum(1 for lead in leads if lead["handed"]),
                None,
                "Nurtureから引き渡し",
                "Handed over by Nurture",
            ),
            Metric(
                "overdue",
                "int",
                sum(1 for lead in leads if lead["overdue"]),
                None,
                f"{dbt_vars()['mql_sla_hours']}時間超の判定待ち",
                f"Awaiting a verdict over {dbt_vars()['mql_sla_hours']} h",
            ),
        ],
        through=max(
            (
                lead["entered_at"].date()
                for lead in leads
                if isinstance(lead["entered_at"], datetime)
            ),
            default=None,
        ),
        rows={
            "owners": sorted(owners.values(), key=lambda e: (-e["mqls"], e["owner"])),
        },
    )


LOADERS: tuple[Callable[[Reader], SectionData], ...] = (
    email_section,
    engagement_section,
    web_section,
    ab_section,
    fatigue_section,
    segment_section,
    funnel_section,
    ltv_section,
    attribution_section,
    events_section,
    roi_section,
    handoff_section,
)


def load_sections(warehouse: Warehouse) -> dict[str, SectionData]:
    with open_reader(warehouse) as reader:
        sections = [load(reader) for load in LOADERS]
    return {s.key: s for s in sections}


def kpi_values(sections: dict[str, SectionData]) -> dict[str, float | None]:
    """The current value of every registry KPI a section measured."""
    from nurture.report.kpis import KPI_BY_KEY

    values: dict[str, float | None] = {}
    for section in sections.values():
        for metric in section.metrics:
            if metric.key in KPI_BY_KEY and metric.key not in values:
                values[metric.key] = metric.current
    return values
