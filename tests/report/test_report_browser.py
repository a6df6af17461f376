"""The KPI report of a demo world, opened in headless Chromium in both languages.

Every chart drew, nothing but the file itself was loaded, no console errors, the
toggle switches text, charts and number formats, numbers equal the marts (queried
here, independently of the report's own SQL), and hostile names render as text.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nurture.report import fmt, write_report
from nurture.report.run import LATEST, ReportResult
from tests.report.conftest import DemoHome, copy_home
from tests.report.pagecheck import (
    FORBIDDEN,
    charts,
    foreign_requests,
    metric,
    open_report,
    toggle,
    visible_text_of_html,
)

pytestmark = pytest.mark.slow

CHART_JSON = re.compile(r'<script type="application/json" id="nurture-charts">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def demo(report_home: DemoHome, tmp_path_factory) -> tuple[DemoHome, ReportResult]:
    home = copy_home(report_home, tmp_path_factory.mktemp("report-demo-copy"))
    return home, write_report(home.settings)


@pytest.fixture(scope="module")
def marts(demo) -> Iterator[duckdb.DuckDBPyConnection]:
    home, _ = demo
    con = duckdb.connect(str(home.settings.duckdb_path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def browsed(demo, chromium) -> dict[str, Any]:
    """The page opened once: what each language showed, then back to Japanese."""
    _, result = demo
    page = chromium.new_page()
    facts: dict[str, Any] = {}
    started = time.monotonic()
    open_report(page, result.path, "ja")
    facts["load_seconds"] = time.monotonic() - started
    for lang in ("ja", "en"):
        if lang == "en":
            toggle(page, "en")
        facts[lang] = {
            "lang": page.evaluate("document.documentElement.lang"),
            "title": page.evaluate("document.title"),
            "text": page.evaluate("document.body.innerText"),
            "charts": charts(page),
            "metrics": {
                key: metric(page, selector)
                for key, selector in {
                    "email_ctr": '#email [data-metric="email_ctr"]',
                    "unsubscribe_rate": '#email [data-metric="unsubscribe_rate"]',
                    "fan_share": '#engagement [data-metric="fan_share"]',
                    "web_circulation_rate": '#web [data-metric="web_circulation_rate"]',
                    "lead_to_mql_rate": '[data-kpi="lead_to_mql_rate"]',
                    "ltv_per_customer": '[data-kpi="ltv_per_customer"]',
                }.items()
            },
            "tables": page.evaluate(
                "Object.fromEntries(Array.from(document.querySelectorAll('table[data-table]'))"
                ".map(t => [t.dataset.table, Array.from(t.querySelectorAll('tbody tr'))"
                ".map(r => Array.from(r.cells).map(c => c.innerText.trim()))]))"
            ),
        }
    toggle(page, "ja")
    facts["back"] = page.evaluate("document.documentElement.lang")
    facts["back_title"] = charts(page)[0]["title"]
    facts["requests"] = foreign_requests(page, result.path)
    facts["all_requests"] = page.requests
    facts["errors"] = page.errors
    page.close()
    return facts


def chart_figures(path: Path) -> dict[str, dict[str, Any]]:
    match = CHART_JSON.search(path.read_text(encoding="utf-8"))
    assert match, "the page carries its charts as JSON"
    return json.loads(match.group(1))


def test_the_demo_wrote_the_report_and_its_summary_links_it(report_home: DemoHome):
    reports = report_home.home / "reports"
    assert (reports / LATEST).is_file()
    assert list(reports.glob("report-*.html")), "a timestamped report beside latest.html"
    assert "KPI report (HTML, Japanese / English)" in report_home.stdout
    line = report_home.stdout.split("KPI report (HTML, Japanese / English)\n")[1].splitlines()[0]
    assert line.strip().endswith(f"reports/{LATEST}"), line


def test_report_is_fast_small_and_self_contained(demo):
    _, result = demo
    assert result.seconds < 10, f"report took {result.seconds:.1f}s"
    assert result.size_bytes < 8_000_000, f"report is {result.size_bytes:,} bytes"
    assert result.sections_with_data == result.sections == 12
    page = result.path.read_text(encoding="utf-8")
    assert page == result.latest.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert page.count("* plotly.js v") == 1, "plotly.js inlined exactly once"
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert len(scripts) == 4 and not any("src=" in s for s in scripts), scripts
    outside_plotly = re.sub(r"<script nonce=[^>]*>.*?</script>", "", page, flags=re.S)
    for pattern in (r"<link\b", r"<img\b", r"<iframe\b", r"@import", r"url\(", r"https?://"):
        assert not re.search(pattern, outside_plotly), pattern
    # the CSP: the page may load nothing and run only its own scripts
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in html.unescape(csp.group(1))


def test_every_chart_drew_in_both_languages(demo, browsed):
    _, result = demo
    expected = set(chart_figures(result.path))
    assert len(expected) >= 12
    for lang in ("ja", "en"):
        drawn = browsed[lang]["charts"]
        assert {c["id"] for c in drawn} == expected
        for chart in drawn:
            assert chart["svgs"] >= 1, (lang, chart)
            assert chart["marks"] >= 1, (lang, chart)
            assert chart["height"] > 100, (lang, chart)


def test_no_console_errors_and_no_network_requests(demo, browsed):
    _, result = demo
    assert browsed["errors"] == []
    assert browsed["requests"] == []
    assert result.path.resolve().as_uri() in browsed["all_requests"]


def test_the_toggle_switches_words_charts_and_number_formats(browsed):
    ja, en = browsed["ja"], browsed["en"]
    assert (ja["lang"], en["lang"], browsed["back"]) == ("ja", "en", "ja")
    assert ja["title"] == "ナーチャリングKPIレポート" and en["title"] == "Nurturing KPI report"
    for word in ("次にやること", "配信停止率", "継続反応率", "ウェブ回遊率", "ファン比率"):
        assert word in ja["text"] and word not in en["text"], word
    for word in ("What to do next", "Unsubscribe rate", "Continuous response", "Web circulation"):
        assert word in en["text"] and word not in ja["text"], word
    titles = (
        {c["id"]: c["title"] for c in ja["charts"]},
        {c["id"]: c["title"] for c in en["charts"]},
    )
    assert titles[0]["email_trend"] == "月次推移: CTRと配信停止率"
    assert titles[1]["email_trend"] == "Monthly: CTR and unsubscribe rate"
    assert browsed["back_title"] == titles[0][ja["charts"][0]["id"]]
    # money is written per locale: 万円 / 億円 in Japanese, ¥…M in English
    assert re.fullmatch(r"[\d,.]+(万|億)円", ja["metrics"]["ltv_per_customer"]["text"])
    assert re.fullmatch(r"¥[\d,.]+[KMB]?", en["metrics"]["ltv_per_customer"]["text"])
    assert (
        "日" in ja["tables"]["funnel_steps"][1][2] and "days" in en["tables"]["funnel_steps"][1][2]
    )


def test_no_missing_value_is_printed(demo, browsed):
    _, result = demo
    for lang in ("ja", "en"):
        assert not FORBIDDEN.search(browsed[lang]["text"]), FORBIDDEN.findall(browsed[lang]["text"])
    assert not FORBIDDEN.search(visible_text_of_html(result.path.read_text(encoding="utf-8")))


def test_numbers_equal_the_marts(browsed, marts):
    latest_month = (
        "date_trunc('month', {col}) = (select max(date_trunc('month', {col})) from {table})"
    )
    perf = "marts.mart_campaign_performance"
    month = latest_month.format(col="send_date", table=perf)
    ctr = one(marts, f"select sum(unique_clicks) / sum(delivered) from {perf} where {month}")
    unsub = one(marts, f"select sum(unsubscribes) / sum(delivered) from {perf} where {month}")
    fans = one(
        marts,
        "select avg(case when engagement_band = 'fan' then 1.0 else 0.0 end) from ("
        "select engagement_band, row_number() over (partition by lead_id order by "
        "snapshot_date desc) as rn from marts.mart_lead_engagement) where rn = 1",
    )
    web = "marts.mart_web_circulation"
    circulation = one(
        marts,
        f"select avg(case when is_circulated then 1.0 else 0.0 end) from {web} "
        f"where {latest_month.format(col='clicked_date', table=web)}",
    )
    to_mql = one(marts, "select sum(mql_count) / sum(lead_count) from marts.mart_funnel")
    ltv = one(
        marts,
        "select sum(ltv * customer_count) / sum(customer_count) from marts.mart_ltv",
    )
    expected = {
        "email_ctr": (ctr, "pct"),
        "unsubscribe_rate": (unsub, "pct"),
        "fan_share": (fans, "pct"),
        "web_circulation_rate": (circulation, "pct"),
        "lead_to_mql_rate": (to_mql, "pct"),
        "ltv_per_customer": (ltv, "money"),
    }
    for lang in ("ja", "en"):
        shown = browsed[lang]["metrics"]
        for key, (value, kind) in expected.items():
            assert value is not None, key
            assert float(shown[key]["current"]) == pytest.approx(float(value), rel=1e-9), key
            assert shown[key]["text"] == fmt.value(float(value), kind, lang), (key, lang)
    assert fans > 0 and 0 < ctr < 1  # the demo world has fans and clicks


def test_tables_equal_the_marts(browsed, marts):
    tables = browsed["ja"]["tables"]
    assert len(tables["ab_tests"]) == one(marts, "select count(*) from marts.mart_ab_tests")
    assert len(tables["events"]) == one(marts, "select count(*) from marts.mart_event_performance")
    mql_people = one(
        marts,
        "select count(*) from (select lead_id from marts.mart_lead_stage_history "
        "where stage = 'mql' union select lead_id from ops.mql_outbox)",
    )
    assert sum(int(row[1].replace(",", "")) for row in tables["owners"]) == mql_people
    handed = sum(int(row[2].replace(",", "")) for row in tables["owners"])
    assert handed == one(marts, "select count(distinct lead_id) from ops.mql_outbox")
    # nine channels and the unattributed, each with its row
    channels = [row[0] for row in browsed["en"]["tables"]["attribution"]]
    assert len(channels) == 10 and channels[-1] == "Unattributed"
    linear = one(
        marts,
        "select sum(linear_pipeline) from marts.mart_channel_attribution where channel = 'email'",
    )
    assert browsed["en"]["tables"]["attribution"][0][3] == fmt.money(linear, "en")


def test_funnel_chart_counts_equal_the_marts(demo, marts):
    _, result = demo
    funnel = chart_figures(result.path)["funnel"]["en"]["data"][0]
    expected = marts.execute(
        "select sum(lead_count), sum(mql_count), sum(sal_count), sum(sql_count), "
        "sum(opportunity_count), sum(won_count) from marts.mart_funnel"
    ).fetchone()
    assert funnel["x"] == [int(v) for v in expected]
    assert funnel["y"] == ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Won"]


def test_every_figure_is_valid_plotly(demo):
    import plotly.graph_objects as go

    _, result = demo
    for chart_id, figures in chart_figures(result.path).items():
        assert set(figures) == {"ja", "en"}, chart_id
        for figure in figures.values():
            go.Figure(figure)  # raises on any property plotly does not know


HOSTILE = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    '<a href="https://example.com/x">link</a>\'&'
)


def test_hostile_names_render_as_text(report_home: DemoHome, chromium, tmp_path):
    home = copy_home(report_home, tmp_path / "home")
    con = duckdb.connect(str(home.settings.duckdb_path))
    try:
        quoted = HOSTILE.replace("'", "''")
        for sql in (
            "update marts.dim_campaign set campaign_name = '{h} ' || campaign_id, "
            "subject = '{h} subject'",
            "update marts.mart_campaign_roi set campaign_name = '{h} ' || campaign_id",
            "update marts.mart_event_performance set program_name = '{h} ' || campaign_id",
            "update marts.mart_ltv set industry = '{h} ' || industry",
            "update ops.mql_assignments set owner_name = '{h} owner'",
            "update marts.dim_lead set owner_name = '{h} ' || owner_name",
        ):
            con.execute(sql.format(h=quoted))
    finally:
        con.close()
    result = write_report(home.settings, output=tmp_path / "hostile.html")
    page_html = result.path.read_text(encoding="utf-8")
    assert HOSTILE not in page_html and "<img" not in page_html
    page = chromium.new_page()
    try:
        open_report(page, result.path, "ja")
        for lang in ("ja", "en"):
            if lang == "en":
                toggle(page, "en")
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert page.evaluate("document.querySelectorAll('img').length") == 0
            # the only links are the page's own table of contents
            hrefs = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.href)")
            assert hrefs and all("#" in href and "example.com" not in href for href in hrefs)
            assert page.evaluate("document.querySelectorAll('script').length") == 4
            text = page.evaluate("document.body.innerText")
            assert HOSTILE + " " in text  # shown as written, in tables and lists
            in_charts = page.evaluate(
                "Array.from(document.querySelectorAll('[data-chart] svg text'))"
                ".filter(t => t.textContent.indexOf('<script>window.__pwned=1') >= 0).length"
            )
            assert in_charts > 0, "chart labels show the name as text too"
        assert page.errors == []
        assert foreign_requests(page, result.path) == []
    finally:
        page.close()
