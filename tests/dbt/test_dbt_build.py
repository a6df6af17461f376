"""`dbt build` of dbt_project/ on DuckDB and on PostgreSQL, over a small raw world.

Each target gets its own warehouse (a temp DuckDB file, or a throw-away database
`nurture_dbt_test_<random>` dropped afterwards) and its own target/log paths, so
runs in parallel never collide. PostgreSQL tests fail in CI (CI=true) when the
server is unreachable and are skipped only outside CI.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbt.artifacts.schemas.results import RunStatus, TestStatus
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt_raw_fixtures import (
    CHANGED_LEAD_ID,
    FILES,
    ORPHAN_LEAD_ID,
    UNKNOWN_TYPE_GUID,
    RawWorld,
    build_world,
    expected_identity_keys,
    expected_touch_ids,
    late_load,
    merged,
    write_duckdb,
    write_postgres,
)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
SCHEMAS = {"staging", "intermediate", "marts", "bi"}
CHANNELS = {
    "email",
    "content_download",
    "social",
    "web_personalization",
    "webinar",
    "retargeting_ads",
    "direct_mail",
    "phone",
    "events",
}
# warnings the raw world provokes on purpose: an activity type missing from the seed
# and an activity whose Marketo lead was never loaded
EXPECTED_WARNINGS = {
    "int_activities_classified_activity_type_is_in_seed",
    "fct_engagement_events_channel_is_mapped",
    "fct_engagement_events_lead_id_is_known",
    # the fixture's "Partner" lead source is in no channel mapping
    "lead_sources_are_mapped",
}
# exposures (the KPI report, the MQL feed) take part in `dbt build` as no-ops
PASSING = {RunStatus.Success, RunStatus.NoOp, TestStatus.Pass, TestStatus.Warn}


@dataclass
class Warehouse:
    target: str
    work_dir: Path
    query: Callable[[str], list[tuple[Any, ...]]]
    write: Callable[[RawWorld, bool], None]

    def dbt(self, *args: str) -> dbtRunnerResult:
        return dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target",
                self.target,
                "--target-path",
                str(self.work_dir / "target"),
                "--log-path",
                str(self.work_dir / "logs"),
                "--no-use-colors",
            ]
        )

    def build(self) -> list[str]:
        """`dbt build`; asserts nothing failed and returns the names that warned."""
        result = self.dbt("build")
        assert result.exception is None, result.exception
        failed = [
            f"{r.node.name}: {r.status} {r.message}"
            for r in result.result.results
            if r.status not in PASSING
        ]
        assert result.success and not failed, failed
        return sorted(r.node.name for r in result.result.results if r.status == TestStatus.Warn)


def _duckdb_warehouse(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    import duckdb

    monkeypatch.setenv("NURTURE_HOME", str(tmp))
    path = str(tmp / "warehouse.duckdb")

    def query(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(path) as connection:
            return connection.execute(sql).fetchall()

    def write(world: RawWorld, create: bool) -> None:
        write_duckdb(path, world, create=create)

    yield Warehouse("duckdb", tmp, query, write)


def _postgres_warehouse(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    import psycopg

    settings = {
        "host": os.environ.get("NURTURE_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("NURTURE_PG_PORT", "5432"),
        "user": os.environ.get("NURTURE_PG_USER", "postgres"),
        "password": os.environ.get("NURTURE_PG_PASSWORD", ""),
    }
    try:
        admin = psycopg.connect(dbname="postgres", connect_timeout=5, autocommit=True, **settings)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {settings['host']}:{settings['port']} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    database = f"nurture_dbt_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'create database "{database}"')
    monkeypatch.setenv("NURTURE_PG_DATABASE", database)
    for name, value in settings.items():
        monkeypatch.setenv(f"NURTURE_PG_{name.upper()}", value)
    conninfo = psycopg.conninfo.make_conninfo(dbname=database, **settings)

    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(conninfo) as connection:
            return connection.execute(sql).fetchall()

    def write(world: RawWorld, create: bool) -> None:
        write_postgres(conninfo, world, create=create)

    try:
        yield Warehouse("postgres", tmp, query, write)
    finally:
        admin.execute(f'drop database if exists "{database}" with (force)')
        admin.close()


@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Warehouse, RawWorld, list[str]]]:
    """A warehouse filled with the raw world and built once."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.delenv("NURTURE_WAREHOUSE", raising=False)
    tmp = tmp_path_factory.mktemp(f"dbt_{request.param}")
    factory = _duckdb_warehouse if request.param == "duckdb" else _postgres_warehouse
    try:
        for warehouse in factory(tmp, monkeypatch):
            world = build_world()
            warehouse.write(world, True)
            warnings = warehouse.build()
            yield warehouse, world, warnings
    finally:
        monkeypatch.undo()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_build_lands_in_named_schemas_with_expected_warnings_only(built):
    warehouse, _, warnings = built
    rows = warehouse.query(
        "select distinct table_schema from information_schema.tables"
        " where table_schema in ('staging', 'intermediate', 'marts', 'bi')"
    )
    assert {schema for (schema,) in rows} == SCHEMAS
    assert set(warnings) == EXPECTED_WARNINGS


def test_dim_lead_has_one_row_per_normalised_email(built):
    warehouse, world, _ = built
    keys = expected_identity_keys(world)
    rows = warehouse.query("select lead_id, email from marts.dim_lead")
    assert len(rows) == len(keys)
    emails = {email for _, email in rows if email is not None}
    assert emails == {key for key in keys if "@" in key}
    # the key is md5 of the normalised e-mail, identical on every adapter
    for lead_id, email in rows:
        if email is not None:
            assert lead_id == _md5(email)


def test_dim_lead_merges_sources_and_normalises_companies(built):
    warehouse, _, _ = built
    rows = warehouse.query(
        "select email, company_name_normalized, job_title, marketo_lead_id, sfdc_lead_id,"
        " source_record_count, is_unsubscribed, is_deleted, lifecycle_stage"
        " from marts.dim_lead where email is not null"
    )
    by_email = {row[0]: row[1:] for row in rows}
    # SFDC and Marketo updated the title in load 2; 株式会社/（株）/㈱ forms collapse
    assert by_email["taro.yamada@yamada-shoji.co.jp"][:2] == ("山田商事", "取締役営業部長")
    assert by_email["hanako.sato@sato-ss.co.jp"][0] == "佐藤製作所"
    assert by_email["misaki@takahashi-shoten.jp"][0] == "高橋商店"
    assert by_email["naoko.ito@ito-consulting.com"][0] == "itoconsulting"
    assert by_email["bob.lee@initech.com"][0] == "initech"
    # two Marketo leads, a HubSpot contact and a SFDC lead are one person
    assert by_email["john.smith@acme.com"][4] == 4
    # deleted SFDC lead with a live Marketo lead: the person lives on
    assert by_email["ichiro@suzuki-bussan.jp"][6] is False
    # deleted SFDC lead and nothing else: a soft-deleted person
    assert by_email["yoko.matsumoto@matsumoto-kk.jp"][6] is True
    assert by_email["naoko.ito@ito-consulting.com"][5] is True
    # HubSpot's lifecycle stage wins, even over a converted SFDC lead
    assert by_email["ken.tanaka@tanaka-sys.co.jp"][7] == "lead"
    # without HubSpot, a live SFDC lead that is not converted is a lead
    assert by_email["carlos@hooli.com"][7] == "lead"
    # sales-sourced lead unknown to Marketo
    assert by_email["sakura@nakamura-hd.co.jp"][2] is None
    assert by_email["sakura@nakamura-hd.co.jp"][3] is not None


def test_fct_engagement_events_one_row_per_touch(built):
    warehouse, world, _ = built
    rows = warehouse.query(
        "select event_id, lead_id, marketo_lead_id, channel, occurred_date"
        " from marts.fct_engagement_events"
    )
    event_ids = [row[0] for row in rows]
    assert len(event_ids) == len(set(event_ids))
    assert set(event_ids) == expected_touch_ids(world)
    channels = {row[3] for row in rows}
    assert channels <= CHANNELS | {"other"}
    assert {"email", "webinar", "events", "social", "direct_mail", "phone"} <= channels
    assert [row[0] for row in rows if row[3] == "other"] == [UNKNOWN_TYPE_GUID]
    assert {row[2] for row in rows if row[1] is None} == {ORPHAN_LEAD_ID}
    # both Marketo leads of John Smith point at the same person
    john = {row[1] for row in rows if row[2] in (1010, 2001)}
    assert john == {_md5("john.smith@acme.com")}


# staging model -> (raw table, key columns): one row per distinct key, soft deletes kept
STAGING_KEYS = {
    "stg_marketo__deleted_leads": ("raw_marketo.deleted_leads", ("lead_id",)),
    "stg_marketo__programs": ("raw_marketo.programs", ("id",)),
    "stg_marketo__emails": ("raw_marketo.emails", ("id",)),
    "stg_hubspot__companies": ("raw_hubspot.companies", ("id",)),
    "stg_hubspot__owners": ("raw_hubspot.owners", ("id",)),
    "stg_hubspot__contact_company_associations": (
        "raw_hubspot.contact_company_associations",
        ("contact_id", "company_id", "association_type_id"),
    ),
    **{
        f"stg_salesforce__{name}": (f"raw_salesforce.{name}", ("id",))
        for name in (
            "contacts",
            "accounts",
            "opportunities",
            "opportunity_history",
            "opportunity_contact_roles",
            "tasks",
            "campaigns",
            "campaign_members",
            "users",
        )
    },
    "stg_salesforce__lead_histories": ("raw_salesforce.lead_history", ("id",)),
    "stg_files__trade_show": ("raw_files.trade_show", ("file_sha256", "row_number")),
    "stg_files__business_cards": ("raw_files.business_cards", ("file_sha256", "row_number")),
    "stg_files__imported_files": ("raw_files.imported_files", ("sha256",)),
}


def test_staging_keeps_one_row_per_raw_key(built):
    warehouse, world, _ = built
    for model, (table, keys) in STAGING_KEYS.items():
        expected = {tuple(row[key] for key in keys) for row in world.rows[table]}
        (count,) = warehouse.query(f"select count(*) from staging.{model}")[0]
        assert count == len(expected), model


def test_staging_parses_email_test_design_and_keeps_latest_versions(built):
    warehouse, _, _ = built
    emails = warehouse.query(
        "select marketo_email_id, variant, creative_id, content_type"
        " from staging.stg_marketo__emails order by marketo_email_id"
    )
    # any key order and case; a description without the design gives nulls
    assert emails == [
        (300, "A", 3, "problem_solution"),
        (301, "B", 4, "service_intro"),
        (302, "A", 7, "problem_solution"),
        (303, None, None, None),
    ]
    opportunities = warehouse.query(
        "select sfdc_opportunity_id, stage_name, is_closed, is_won"
        " from staging.stg_salesforce__opportunities order by sfdc_opportunity_id"
    )
    assert [row[1:] for row in opportunities] == [
        ("Closed Won", True, True),
        ("Closed Lost", True, False),
        ("Needs Analysis", False, False),
    ]
    companies = dict(
        warehouse.query("select hubspot_company_id, domain from staging.stg_hubspot__companies")
    )
    assert companies["9001"] == "yamada-shoji.co.jp"
    merges = warehouse.query(
        "select marketo_lead_id, merged_into_marketo_lead_id, is_merged"
        " from staging.stg_marketo__deleted_leads order by marketo_lead_id"
    )
    assert merges == [(2001, 1010, True), (2003, None, False)]


def test_staging_flags_soft_deletes_and_tolerates_missing_columns(built):
    warehouse, _, _ = built
    deleted = warehouse.query(
        "select 'contact', sfdc_contact_id from staging.stg_salesforce__contacts where is_deleted"
        " union all select 'company', hubspot_company_id from staging.stg_hubspot__companies"
        " where is_deleted"
        " union all select 'owner', hubspot_owner_id from staging.stg_hubspot__owners"
        " where is_deleted"
    )
    assert sorted(deleted) == [
        ("company", "9003"),
        ("contact", "0035g000000003AAA"),
        ("owner", "72"),
    ]
    # programs.status/workspace and business_cards.extra are not in the raw tables yet
    assert warehouse.query(
        "select count(*) from staging.stg_marketo__programs"
        " where program_status is not null or workspace is not null"
    ) == [(0,)]
    assert warehouse.query("select email, extra_json from staging.stg_files__business_cards") == [
        ("hanako.sato@sato-ss.co.jp", None)
    ]
    # the trade-show list imported twice is still one row per file row
    rows = warehouse.query(
        "select file_row_id, postal_code from staging.stg_files__trade_show order by 1"
    )
    assert rows == [(f"{FILES['trade_show']}:2", "0600001"), (f"{FILES['trade_show']}:3", None)]


def _snapshot(warehouse: Warehouse) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    events = warehouse.query(
        "select event_id, lead_id, channel, activity_type, occurred_at"
        " from marts.fct_engagement_events order by event_id"
    )
    leads = warehouse.query("select * from marts.dim_lead order by lead_id")
    return events, leads


def test_incremental_rebuild_changes_nothing_then_takes_late_data(built):
    warehouse, world, _ = built
    before = _snapshot(warehouse)
    warehouse.build()
    assert _snapshot(warehouse) == before

    late = late_load(world)
    warehouse.write(late, False)
    warehouse.build()
    events, _ = _snapshot(warehouse)
    assert [row[0] for row in events] == sorted(expected_touch_ids(merged(world, late)))
    # an event that happened long before the lookback window but arrived now
    assert "guid-late-0" in {row[0] for row in events}
    # the person who changed address took all their events along
    new_lead_id = _md5("jane.doe@globex.co.jp")
    jane = warehouse.query(
        "select distinct lead_id from marts.fct_engagement_events"
        f" where marketo_lead_id = {CHANGED_LEAD_ID}"
    )
    assert jane == [(new_lead_id,)]
    events_before = {row[0]: row for row in before[0]}
    unchanged = [row for row in events if row[0] in events_before and row[1] != new_lead_id]
    assert all(events_before[row[0]] == row for row in unchanged)
