"""A report on a warehouse with nothing (yet): every section says so, nothing breaks,
no NaN or None is printed; and the formats never print a missing value."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pytest

from nurture.report import fmt, write_report
from nurture.report.data import SectionData, as_date, clean, kpi_values, load_sections
from nurture.report.run import KEEP_REPORTS, PREFIX
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.report.conftest import DemoHome
from tests.report.pagecheck import FORBIDDEN, charts, foreign_requests, open_report, toggle
from tests.report.pagecheck import visible_text_of_html as text_of

SECTIONS = 12


def test_a_warehouse_without_marts_gives_a_report_of_empty_sections(tmp_path):
    settings = settings_for(tmp_path, "duckdb")
    result = write_report(settings)
    page = result.path.read_text(encoding="utf-8")
    assert result.sections_with_data == 0 and result.sections == SECTIONS
    assert page.count('data-empty="') == SECTIONS + 1  # and "nothing to do"
    assert 'data-chart="' not in page
    assert "まだデータがありません" in page and "No data yet" in page
    assert not FORBIDDEN.search(text_of(page))
    assert result.latest is not None and result.latest.read_text(encoding="utf-8") == page


def test_the_report_folder_keeps_the_newest_reports(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, "duckdb")
    folder = tmp_path / "reports"
    folder.mkdir()
    for i in range(KEEP_REPORTS + 5):
        (folder / f"{PREFIX}20250101T0000{i:02d}Z.html").write_text("old")
    result = write_report(settings)
    kept = sorted(folder.glob(f"{PREFIX}*.html"))
    assert len(kept) == KEEP_REPORTS and kept[-1] == result.path


def empty_copy(source: DemoHome, dest) -> None:
    """The demo warehouse's marts and ops tables with all their columns and no rows."""
    dest.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(dest / "warehouse.duckdb"))
    try:
        con.execute(f"attach '{source.settings.duckdb_path}' as src (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'src' and table_schema in ('marts', 'ops') "
            "and table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, _ in tables:
            con.execute(f"create schema if not exists {schema}")
        for schema, table in tables:
            con.execute(
                f"create table {schema}.{table} as select * from src.{schema}.{table} limit 0"
            )
        con.execute("detach src")
    finally:
        con.close()


@pytest.mark.slow
def test_empty_marts_give_no_data_yet_in_the_browser(report_home: DemoHome, chromium, tmp_path):
    empty_copy(report_home, tmp_path / "home")
    settings = settings_for(tmp_path / "home", "duckdb")
    sections = load_sections(get_warehouse(settings))
    assert [key for key, s in sections.items() if s.available] == []
    assert set(kpi_values(sections).values()) <= {None}
    result = write_report(settings)
    assert result.sections_with_data == 0
    page = chromium.new_page()
    try:
        open_report(page, result.path, "ja")
        assert charts(page) == []
        ja = page.evaluate("document.body.innerText")
        toggle(page, "en")
        en = page.evaluate("document.body.innerText")
        assert ja.count("まだデータがありません") == SECTIONS
        assert en.count("No data yet") == SECTIONS
        for text in (ja, en):
            assert not FORBIDDEN.search(text), FORBIDDEN.findall(text)
        assert page.errors == [] and foreign_requests(page, result.path) == []
    finally:
        page.close()


def test_rows_with_only_nulls_and_zero_denominators(tmp_path):
    """A campaign that delivered nothing, an A/B test without statistics, an LTV segment
    without a value: no section divides by zero or prints a missing value."""
    settings = settings_for(tmp_path, "duckdb")
    con = duckdb.connect(str(settings.duckdb_path))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_campaign_performance as select '1' as campaign_id, "
            "date '2026-09-01' as send_date, 0::bigint as delivered, 0::bigint as unique_opens, "
            "0::bigint as unique_clicks, 0::bigint as unsubscribes, 0::bigint as bounces, "
            "1::bigint as recipients"
        )
        con.execute(
            "create table marts.mart_ab_tests as select 'k' as ab_test_key, '1' as campaign_id, "
            "'A' as control_variant, 'B' as challenger_variant, null::varchar as "
            "control_content_type, null::varchar as challenger_content_type, "
            "null::date as first_send_date, null::date as last_send_date, "
            "0::bigint as control_delivered, null::double as control_ctr, "
            "0::bigint as challenger_delivered, null::double as challenger_ctr, "
            "null::double as ctr_difference, 'nan'::double as lift, "
            "null::double as ctr_difference_ci_lower, null::double as ctr_difference_ci_upper, "
            "null::double as p_value, null::double as adjusted_p_value, "
            "false as is_significant, false as is_significant_adjusted, "
            "false as has_min_sample, 'inconclusive' as winner, "
            "null::varchar as winning_content_type"
        )
        con.execute(
            "create table marts.mart_ltv as select 'x' as industry, 'y' as size_band, "
            "0::bigint as won_opportunity_count, 0::bigint as customer_count, "
            "0.0::double as won_revenue, null::double as average_unit_price, "
            "null::double as annual_purchase_frequency, null::double as "
            "customer_lifetime_years, false as frequency_observed, false as lifespan_observed, "
            "null::double as ltv"
        )
    finally:
        con.close()
    sections = load_sections(get_warehouse(settings))
    assert not sections["email"].available  # nothing delivered: no rates to show
    assert not sections["ltv"].available
    assert sections["ab"].available
    assert sections["ab"].rows["tests"][0]["lift"] is None  # NaN from the driver: None
    page = write_report(settings).path.read_text(encoding="utf-8")
    assert not FORBIDDEN.search(text_of(page)), FORBIDDEN.findall(text_of(page))


@pytest.mark.parametrize("missing", [None, math.nan, math.inf, "x"])
def test_formats_print_a_dash_for_a_missing_value(missing):
    for kind in ("pct", "int", "days", "money", "ratio"):
        for lang in fmt.LANGS:
            assert fmt.value(missing, kind, lang) == fmt.MISSING
    assert fmt.delta(missing, 0.1, "pct") == fmt.MISSING
    assert fmt.p_value(missing) == fmt.MISSING


def test_formats_per_language():
    assert fmt.pct(0.012345) == "1.23%" and fmt.pct(0.5) == "50.0%"
    assert fmt.money(36_870_459, "ja") == "3,687万円" and fmt.money(36_870_459, "en") == "¥36.9M"
    assert fmt.money(2.5e8, "ja") == "2.5億円" and fmt.money(-9_500, "en") == "-¥9,500"
    assert fmt.days(2.06, "ja") == "2.1日" and fmt.days(2.06, "en") == "2.1 days"
    assert fmt.month(date(2026, 9, 1), "ja") == "2026年9月"
    assert fmt.month(date(2026, 9, 1), "en") == "Sep 2026"
    assert fmt.day(date(2026, 9, 21), "en") == "Sep 21, 2026"
    assert fmt.delta(0.05, 0.04, "pct", "ja") == "+1.00pt"
    assert fmt.delta(0.05, 0.04, "pct", "en") == "+1.00 pp"
    assert fmt.delta(120, 100, "int") == "+20.0%"
    assert fmt.p_value(0.0001) == "<0.001"


def test_driver_values_are_cleaned():
    import decimal

    import numpy as np
    import pandas as pd

    assert (
        clean(float("nan")) is None and clean(pd.NaT) is None and clean(np.float64("nan")) is None
    )
    assert clean(np.int64(3)) == 3 and isinstance(clean(np.int64(3)), int)
    assert clean(decimal.Decimal("1.5")) == 1.5
    assert as_date(pd.Timestamp("2026-09-01")) == date(2026, 9, 1)
    assert SectionData("x", False).metric("nope") is None
