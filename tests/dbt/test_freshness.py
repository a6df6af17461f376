"""Source freshness at the run's window end, on DuckDB and PostgreSQL.

Every raw table of the dbt raw world is created (dbt_raw_fixtures), then each checked
table gets one row stamped a given age before the window end, in the column its dbt
source names as `loaded_at_field`. Warnings go to the sandbox's Slack sink.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from dbt_raw_fixtures import TABLES, create_tables

from nurture.config import Settings
from nurture.connections import connection_env
from nurture.transform.freshness import (
    SourceCheck,
    Threshold,
    check_freshness,
    freshness_task,
    judge,
)
from tests.conftest import settings_for

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
# The checked tables and the column each is judged by (the sources' freshness config);
# `_dlt_load_id` stands for the load time, to_timestamp(_dlt_load_id).
CHECKED = {
    "raw_files.imported_files": "imported_at",
    "raw_hubspot.contacts": "lastmodifieddate",
    "raw_hubspot.owners": "_dlt_load_id",
    "raw_marketo.activities": "activity_date",
    "raw_marketo.emails": "_dlt_load_id",
    "raw_marketo.leads": "updated_at",
    "raw_marketo.programs": "_dlt_load_id",
    "raw_salesforce.campaign_members": "system_modstamp",
    "raw_salesforce.leads": "system_modstamp",
}
FRESH = timedelta(hours=5)


def _connect(settings: Settings) -> tuple[Any, str]:
    if settings.warehouse == "duckdb":
        import duckdb

        return duckdb.connect(str(settings.duckdb_path)), "?"
    import psycopg

    pg = settings.postgres
    con = psycopg.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password or None,
        dbname=pg.database,
        autocommit=True,
    )
    return con, "%s"


def write_raw(settings: Settings, ages: dict[str, timedelta], files: bool = True) -> None:
    """Every raw table, then one row per checked table `ages[table]` (default FRESH)
    before AS_OF; without `files`, no raw_files tables (nothing dropped yet)."""
    con, mark = _connect(settings)
    with con:
        cur = con.cursor()
        create_tables(cur)
        if not files:
            for table in TABLES:
                if table.startswith("raw_files."):
                    cur.execute(f"drop table {table}")
        for table, column in CHECKED.items():
            if table.startswith("raw_files.") and not files:
                continue
            stamp = AS_OF - ages.get(table, FRESH)
            value = f"{stamp.timestamp():.6f}" if column == "_dlt_load_id" else stamp
            cur.execute(f"insert into {table} ({column}) values ({mark})", [value])
            # an older row too: the newest decides
            older = stamp - timedelta(days=30)
            value = f"{older.timestamp():.6f}" if column == "_dlt_load_id" else older
            cur.execute(f"insert into {table} ({column}) values ({mark})", [value])


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from nurture.sandbox.server import running_sandbox

    home = tmp_path_factory.mktemp("freshness-sandbox")
    with running_sandbox(3, 200, home=home, rate_limits=False) as url:
        yield str(url)


@pytest.fixture
def slack_path(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`slack_default` pointed at a path of the sandbox's sink of this test's own."""
    path = f"freshness-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_DEFAULT", connection_env(f"{sandbox_url}/hooks/slack/{path}", "", "")
    )
    return path


def posted(sandbox_url: str, path: str) -> list[str]:
    found = httpx.get(f"{sandbox_url}/hooks/slack/_messages", timeout=10).json()["messages"]
    return [m["payload"]["text"] for m in found if m["path"] == path]


def test_fresh_sources_pass(
    warehouse_settings: Settings, sandbox_url: str, slack_path: str
) -> None:
    # nothing dropped yet: files are left out, not failed
    write_raw(warehouse_settings, {}, files=False)
    report = check_freshness(warehouse_settings, as_of=AS_OF)
    assert report.skipped == ("files",)
    assert {t.relation for t in report.tables} == set(CHECKED) - {"raw_files.imported_files"}
    assert report.status == "pass", [t.reason for t in report.tables]

    # a load after the window closed (a late or backfill run) is fresh, not negative
    write_raw(warehouse_settings, {"raw_marketo.programs": -timedelta(days=60)})
    result = freshness_task(warehouse_settings, as_of=AS_OF)
    assert result["status"] == "pass"
    assert result["sources"] == dict.fromkeys(["files", "hubspot", "marketo", "salesforce"], "pass")
    hubspot = next(t for t in result["tables"] if t["relation"] == "raw_hubspot.contacts")
    assert hubspot["age_hours"] == 5.0
    assert hubspot["max_loaded_at"] == (AS_OF - FRESH).isoformat()
    assert hubspot["reason"] == "raw_hubspot.contacts: newest row is 5 h old (warn after 36 h)"
    assert posted(sandbox_url, slack_path) == []


def test_stale_source_warns_on_slack(
    warehouse_settings: Settings, sandbox_url: str, slack_path: str
) -> None:
    write_raw(
        warehouse_settings,
        {
            "raw_hubspot.contacts": timedelta(hours=40),
            # files only ever warn, however old
            "raw_files.imported_files": timedelta(days=30),
        },
    )
    result = freshness_task(warehouse_settings, as_of=AS_OF)
    assert result["status"] == "warn"
    assert result["sources"]["hubspot"] == "warn"
    assert result["sources"]["files"] == "warn"
    assert result["sources"]["marketo"] == "pass"

    messages = posted(sandbox_url, slack_path)
    assert len(messages) == 1, messages
    text = messages[0]
    assert "Stale sources at 2026-10-01 00:00 UTC" in text
    assert "raw_hubspot.contacts: newest row is 40 h old (warn after 36 h)" in text
    assert "raw_files.imported_files: newest row is 30 days old (warn after 168 h)" in text
    assert "raw_marketo" not in text


def test_old_source_fails_with_a_readable_reason(
    warehouse_settings: Settings, sandbox_url: str, slack_path: str
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    write_raw(
        warehouse_settings,
        {
            "raw_hubspot.contacts": timedelta(days=5),
            "raw_salesforce.leads": timedelta(hours=50),
        },
    )
    with pytest.raises(AirflowFailException) as err:
        freshness_task(warehouse_settings, as_of=AS_OF)
    first, *rest = str(err.value).splitlines()
    assert first == (
        "stale sources at 2026-10-01 00:00 UTC: "
        "raw_hubspot.contacts: newest row is 5 days old (error after 72 h)"
    )
    assert rest == ["also warn: raw_salesforce.leads: newest row is 50 h old (warn after 36 h)"]
    # the failure alert of the task reports it; the check itself posts nothing
    assert posted(sandbox_url, slack_path) == []


def test_only_named_sources_and_dbt_vars(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "duckdb")
    write_raw(settings, {"raw_hubspot.contacts": timedelta(hours=20)})
    report = check_freshness(
        settings,
        ["hubspot.contacts", "marketo"],
        as_of=AS_OF,
        dbt_vars={"freshness_warn_after_hours": 12, "freshness_error_after_hours": 24},
    )
    assert {t.relation for t in report.tables} == {
        "raw_hubspot.contacts",
        "raw_marketo.activities",
        "raw_marketo.emails",
        "raw_marketo.leads",
        "raw_marketo.programs",
    }
    assert report.sources == {"hubspot": "warn", "marketo": "pass"}
    (contacts,) = report.with_status("warn")
    assert contacts.reason == "raw_hubspot.contacts: newest row is 20 h old (warn after 12 h)"

    # companies are not checked (they change only on some days): asking is a mistake
    with pytest.raises(ValueError, match=r"hubspot\.companies"):
        check_freshness(settings, ["hubspot.companies"], as_of=AS_OF)

    # a checked table of a loaded source that is missing is an error, not a skip
    with _connect(settings)[0] as con:
        con.execute("drop table raw_marketo.emails")
    report = check_freshness(settings, ["marketo"], as_of=AS_OF)
    assert report.sources == {"marketo": "error"}
    (emails,) = report.with_status("error")
    assert emails.reason == "raw_marketo.emails does not exist (error after 72 h)"


def test_empty_tables_and_threshold_edges() -> None:
    check = SourceCheck(
        "hubspot",
        "contacts",
        "raw_hubspot",
        "contacts",
        "lastmodifieddate",
        warn_after=Threshold(36, "hour"),
        error_after=Threshold(72, "hour"),
    )
    empty = judge(check, None, AS_OF)
    assert empty.status == "error"
    assert empty.reason == "raw_hubspot.contacts has no rows (error after 72 h)"
    files = SourceCheck(
        "files",
        "imported_files",
        "raw_files",
        "imported_files",
        "imported_at",
        warn_after=Threshold(7, "day"),
        error_after=None,
    )
    assert judge(files, None, AS_OF).status == "warn"
    assert judge(files, AS_OF - timedelta(days=7), AS_OF).status == "pass"  # not past it
    assert judge(files, AS_OF - timedelta(days=7, seconds=1), AS_OF).status == "warn"
