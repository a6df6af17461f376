"""The semantic layer answers `mf query` with the marts' own figures, on DuckDB and
PostgreSQL.

A sandbox world (300 leads) is synced into each warehouse and its marts built. The
MetricFlow CLI (`mf query` in a process of its own, through nurture.transform.metrics
with the project's profile) is asked for every headline metric overall and by month;
the same engine in this process (`MetricsEngine`, one start-up instead of one per
query) for them by channel, the e-mail metrics by campaign channel and month, and LTV
by segment. Each answer is checked against the same figure computed here with plain SQL
on the mart tables: ratios as ratios of the marts' summed counts, the continuous
response rate over each lead's latest snapshot (in each month), LTV weighted by the
segments' customers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from nurture.config import DBT_PROJECT_DIR, Settings
from nurture.load.sync import SOURCES, run_sync
from nurture.transform import metrics
from nurture.transform.dbt import dbt_env, run_dbt
from nurture.warehouse import get_warehouse
from tests.conftest import scratch_database, settings_for
from tests.load.test_sync import connection

SEED, LEADS = 13, 300
SEMANTIC_DIR = DBT_PROJECT_DIR / "models" / "semantic"
DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

FUNNEL_RATES = {
    "lead_to_mql_rate": ("mql_count", "lead_count"),
    "mql_to_sal_rate": ("sal_count", "mql_count"),
    "sal_to_sql_rate": ("sql_count", "sal_count"),
    "sql_to_opportunity_rate": ("opportunity_count", "sql_count"),
    "opportunity_to_won_rate": ("won_count", "opportunity_count"),
}
EMAIL = ["ctr", "open_rate", "unsubscribe_rate"]
RESPONSE = ["continuous_response_rate", "continuous_response_rate_lead_average"]
ATTRIBUTION = [
    "attributed_revenue",
    "attributed_revenue_first_touch",
    "attributed_revenue_last_touch",
]
BY_TIME = [
    *EMAIL,
    *RESPONSE,
    "web_circulation_rate",
    *FUNNEL_RATES,
    "sla_compliance_rate",
    *ATTRIBUTION,
    "attributed_pipeline",
]
BY_CHANNEL = [
    "web_circulation_rate",
    *FUNNEL_RATES,
    "sla_compliance_rate",
    *ATTRIBUTION,
    "engagement_touches",
]
HEADLINE = [*BY_TIME, "ltv"]


def _ratio(numerator: str, denominator: str) -> str:
    return f"cast(sum({numerator}) as double precision) / nullif(sum({denominator}), 0)"


def _month(column: str) -> str:
    return f"cast(date_trunc('month', {column}) as date)"


def email_sql(key: str | None) -> str:
    group = f"{_month('send_date')} as metric_time__month," if key == "month" else ""
    return f"""
        select {group}
            {_ratio("unique_clicks", "delivered")} as ctr,
            {_ratio("unique_opens", "delivered")} as open_rate,
            {_ratio("unsubscribes", "delivered")} as unsubscribe_rate
        from marts.mart_campaign_performance
        {"group by 1" if key else ""}
    """


def response_sql(key: str | None) -> str:
    """Each lead's latest snapshot (per month when by month), added up over the leads."""
    period = _month("snapshot_date") if key == "month" else "cast(null as date)"
    return f"""
        with snapshots as (
            select {period} as period, lead_id, snapshot_date, delivered_sends_in_window,
                responded_sends_in_window, continuous_response_rate
            from marts.mart_lead_engagement
        ),
        latest as (
            select period, lead_id, max(snapshot_date) as snapshot_date
            from snapshots
            group by period, lead_id
        )
        select {"snapshots.period as metric_time__month," if key else ""}
            {_ratio("responded_sends_in_window", "delivered_sends_in_window")}
                as continuous_response_rate,
            avg(continuous_response_rate) as continuous_response_rate_lead_average
        from snapshots
        inner join latest
            on snapshots.lead_id = latest.lead_id
            and snapshots.snapshot_date = latest.snapshot_date
        {"group by snapshots.period" if key else ""}
    """


def circulation_sql(key: str | None) -> str:
    group = {"month": f"{_month('clicked_date')} as metric_time__month,", "channel": "channel,"}
    return f"""
        select {group.get(key or "", "")}
            {_ratio("case when is_circulated then 1 else 0 end", "1")} as web_circulation_rate
        from marts.mart_web_circulation
        {"group by 1" if key else ""}
    """


def funnel_sql(key: str | None) -> str:
    group = {
        "month": "cohort_month as metric_time__month,",
        "channel": "source_channel as channel,",
    }
    rates = ",".join(f"{_ratio(n, d)} as {name}" for name, (n, d) in FUNNEL_RATES.items())
    return f"""
        select {group.get(key or "", "")} {rates},
            {_ratio("sla_met_count", "sla_met_count + sla_breached_count")} as sla_compliance_rate
        from marts.mart_funnel
        {"group by 1" if key else ""}
    """


def attribution_sql(key: str | None) -> str:
    group = {"month": "attribution_month as metric_time__month,", "channel": "channel,"}
    return f"""
        select {group.get(key or "", "")}
            sum(linear_revenue) as attributed_revenue,
            sum(first_touch_revenue) as attributed_revenue_first_touch,
            sum(last_touch_revenue) as attributed_revenue_last_touch,
            sum(linear_pipeline) as attributed_pipeline
        from marts.mart_channel_attribution
        {"group by 1" if key else ""}
    """


def touches_sql() -> str:
    return """
        select channel, sum(case when is_engagement_touch then 1 else 0 end) as engagement_touches
        from marts.fct_engagement_events
        group by channel
    """


def ltv_sql() -> str:
    return (
        "select " + _ratio("ltv * customer_count", "customer_count") + " as ltv from marts.mart_ltv"
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, datetime]]:
    from nurture.sandbox.server import running_sandbox

    home = tmp_path_factory.mktemp("metrics-sandbox")
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as url:
        today = httpx.get(f"{url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        yield str(url), until


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The sandbox world synced into a fresh warehouse, its marts built, the project
    parsed for MetricFlow."""
    url, until = sandbox
    warehouse = request.param
    home = tmp_path_factory.mktemp(f"metrics-{warehouse}")
    monkeypatch = pytest.MonkeyPatch()
    with ExitStack() as stack:
        stack.callback(monkeypatch.undo)
        database = (
            stack.enter_context(scratch_database("nurture_metrics"))
            if warehouse == "postgres"
            else "nurture"
        )
        settings = settings_for(home, warehouse, database)
        # run_dbt and the parse export the profile's variables: put them back afterwards
        for name, value in dbt_env(settings).items():
            monkeypatch.setenv(name, value)
        for source in SOURCES:
            run_sync(source, settings, until=until, conn=connection(source, url, until))
        run_dbt(
            settings,
            "build",
            [
                "--select",
                "+path:models/marts",
                "path:models/semantic",
                "--exclude",
                "resource_type:test",
                "resource_type:unit_test",
            ],
        )
        metrics.parse(settings)
        yield settings


@pytest.fixture(scope="module")
def engine(world: Settings) -> metrics.MetricsEngine:
    """The engine `mf query` runs, in this process: one start-up for many queries."""
    return metrics.MetricsEngine(world, parse_first=False)


def mf(settings: Settings, names: Sequence[str], group_by: Sequence[str] = ()) -> pd.DataFrame:
    """`mf query` itself, the CLI in a process of its own, with the project's profile."""
    return _columns(metrics.query(settings, names, group_by, parse_first=False), names, group_by)


def in_process(
    engine: metrics.MetricsEngine, names: Sequence[str], group_by: Sequence[str] = ()
) -> pd.DataFrame:
    return _columns(engine.query(names, group_by), names, group_by)


def _columns(got: pd.DataFrame, names: Sequence[str], group_by: Sequence[str]) -> pd.DataFrame:
    # MetricFlow puts metric_time first among the group-by items
    assert sorted(got.columns[: len(group_by)]) == sorted(group_by)
    assert list(got.columns[len(group_by) :]) == list(names)
    return got[[*group_by, *names]]


def expected(settings: Settings, *queries: str, keys: Sequence[str] = ()) -> pd.DataFrame:
    """The plain-SQL figures, one frame per query joined on the group-by keys."""
    warehouse = get_warehouse(settings)
    frames = [_normalised(warehouse.query(sql), keys) for sql in queries]
    if not keys:
        return pd.concat(frames, axis=1)
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.merge(frame, on=list(keys), how="outer")
    return joined


def _normalised(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    frame = frame.copy()
    for key in keys:
        if key.startswith("metric_time"):
            frame[key] = pd.to_datetime(frame[key]).dt.strftime("%Y-%m-%d")
        else:
            frame[key] = frame[key].fillna("(null)").astype(str)
    for column in frame.columns:
        if column not in keys:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    return frame


def assert_same(got: pd.DataFrame, want: pd.DataFrame, keys: Sequence[str] = ()) -> None:
    """Every metric in `got` equals `want` (nulls where either has none), row by row."""
    got = _normalised(got, keys)
    names = [column for column in got.columns if column not in keys]
    if keys:
        assert not got.duplicated(list(keys)).any(), got
        # MetricFlow outer-joins the metrics' groups; SQL rows of no metric are none
        want = want.dropna(subset=names, how="all")
        joined = got.merge(want, on=list(keys), how="outer", suffixes=("", "_sql"))
    else:
        assert len(got) == 1
        joined = pd.concat([got, want.add_suffix("_sql")], axis=1)
    assert len(joined) == len(got), (joined, got)
    mismatches = []
    for _, row in joined.iterrows():
        for name in names:
            mine, theirs = row[name], row[f"{name}_sql"]
            if _is_null(mine) and _is_null(theirs):
                continue
            if _is_null(mine) or _is_null(theirs) or not math.isclose(mine, theirs, rel_tol=1e-9):
                mismatches.append((*(row[key] for key in keys), name, mine, theirs))
    assert not mismatches, mismatches


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_headline_metrics_overall(world):
    got = mf(world, HEADLINE)
    want = expected(
        world,
        email_sql(None),
        response_sql(None),
        circulation_sql(None),
        funnel_sql(None),
        attribution_sql(None),
        ltv_sql(),
    )
    assert_same(got, want[HEADLINE])
    # a world with every headline figure in it, not a comparison of nulls
    assert got.notna().all(axis=None), got.T
    assert 0 < got.loc[0, "ctr"] < 1 and got.loc[0, "ltv"] > 0


def test_metrics_by_month(world):
    keys = ["metric_time__month"]
    got = mf(world, BY_TIME, keys)
    want = expected(
        world,
        email_sql("month"),
        response_sql("month"),
        circulation_sql("month"),
        funnel_sql("month"),
        attribution_sql("month"),
        keys=keys,
    )
    assert_same(got, want[[*keys, *BY_TIME]], keys)
    # months of sends and of cohorts both
    assert got["ctr"].notna().sum() >= 3 and got["lead_to_mql_rate"].notna().sum() >= 6


def test_metrics_by_channel(world, engine):
    keys = ["channel"]
    got = in_process(engine, BY_CHANNEL, keys)
    want = expected(
        world,
        circulation_sql("channel"),
        funnel_sql("channel"),
        attribution_sql("channel"),
        touches_sql(),
        keys=keys,
    )
    assert_same(got, want[[*keys, *BY_CHANNEL]], keys)
    assert {"email", "unattributed"} <= set(got["channel"])


def test_email_metrics_by_campaign_channel(world, engine):
    """The campaign's channel comes from dim_campaign, joined on the campaign variant."""
    keys = ["campaign_variant__channel", "metric_time__month"]
    got = in_process(engine, EMAIL, keys)
    want = expected(
        world,
        f"""
        select campaigns.channel as campaign_variant__channel,
            {_month("sends.send_date")} as metric_time__month,
            {_ratio("sends.unique_clicks", "sends.delivered")} as ctr,
            {_ratio("sends.unique_opens", "sends.delivered")} as open_rate,
            {_ratio("sends.unsubscribes", "sends.delivered")} as unsubscribe_rate
        from marts.mart_campaign_performance as sends
        left join marts.dim_campaign as campaigns
            on sends.campaign_variant_key = campaigns.campaign_variant_key
        group by 1, 2
        """,
        keys=keys,
    )
    assert_same(got, want, keys)


def test_ltv_by_segment_is_the_marts_ltv(world, engine):
    keys = ["ltv_segment__industry", "ltv_segment__size_band"]
    got = in_process(engine, ["ltv", "ltv_customers"], keys)
    want = expected(
        world,
        "select industry as ltv_segment__industry, size_band as ltv_segment__size_band,"
        " ltv, customer_count as ltv_customers from marts.mart_ltv",
        keys=keys,
    )
    assert_same(got, want, keys)
    assert len(got) >= 2


def _defined_metrics() -> set[str]:
    names = set()
    for path in SEMANTIC_DIR.glob("*.yml"):
        names |= {metric["name"] for metric in yaml.safe_load(path.read_text()).get("metrics", [])}
    return names


def test_every_metric_is_documented():
    documented = set(re.findall(r"`([a-z_]+)`", DOC.read_text(encoding="utf-8")))
    defined = _defined_metrics()
    assert set(HEADLINE) <= defined
    assert not defined - documented, sorted(defined - documented)
