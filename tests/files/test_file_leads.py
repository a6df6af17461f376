"""Dropped files reach the lead base: a trade-show list alone builds, its people land in
dim_lead, their booth visits are engagement touches, and they are scored and can become
MQLs (DuckDB; the dbt models are the same SQL on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from nurture.scoring.run import RULES_PATH
from nurture.transform.dbt import dbt_env, exclusions, run_dbt
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.dbt.dbt_raw_fixtures import BASE, build_world, write_duckdb

# only in the trade-show list of the raw world: no MA, CRM or SFA record
FILE_ONLY = "new.person@example.jp"
# in the list and in Salesforce and Marketo
KNOWN = "taro.yamada@yamada-shoji.co.jp"
# the day the fixture's trade-show list says its people were met
MET_ON = (BASE + timedelta(days=41)).date()


@pytest.fixture(scope="module")
def trade_show_only(tmp_path_factory):
    """The raw world with a trade-show list imported but no business-card export yet."""
    monkeypatch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("file-leads")
    settings = settings_for(home, "duckdb")
    for name in dbt_env(settings):
        monkeypatch.setenv(name, dbt_env(settings)[name])
    world = build_world()
    world.rows.pop("raw_files.business_cards", None)
    write_duckdb(str(home / "warehouse.duckdb"), world, create=True)
    warehouse = get_warehouse(settings)
    with warehouse.transaction() as session:
        session.execute("drop table raw_files.business_cards")
    if not warehouse.table_exists("raw_salesforce.lead_history"):
        # a Salesforce object the raw fixture world may not have yet: an empty load
        with warehouse.transaction() as session:
            session.execute(
                "create table raw_salesforce.lead_history (id varchar, lead_id varchar, "
                "field varchar, old_value varchar, new_value varchar, is_deleted boolean, "
                "created_date timestamp with time zone, _dlt_load_id varchar)"
            )
    try:
        # models and their data tests; the unit tests do not read the warehouse (tests/dbt)
        run = run_dbt(settings, "build", ["--exclude", "test_type:unit"])
        yield settings, run
    finally:
        monkeypatch.undo()


def test_a_trade_show_only_import_builds(trade_show_only):
    settings, run = trade_show_only
    assert exclusions(settings) == []
    assert run.counts.get("error", 0) == 0 and run.counts.get("fail", 0) == 0
    assert "model.nurture.stg_files__business_cards" in run.results


def test_file_leads_reach_dim_lead(trade_show_only):
    settings, _ = trade_show_only
    rows = get_warehouse(settings).query(
        "select email, lead_source, source_record_count, last_name from marts.dim_lead "
        "where email in (?, ?) order by email",
        [FILE_ONLY, KNOWN],
    )
    assert rows["email"].tolist() == [FILE_ONLY, KNOWN]
    new = rows.set_index("email").loc[FILE_ONLY]
    assert new["lead_source"] == "Trade Show"
    assert new["source_record_count"] == 0
    assert new["last_name"] == "新規 太郎"
    # a known person is still one person, their systems' lead source wins
    assert rows.set_index("email").loc[KNOWN, "lead_source"] != "Trade Show"


def test_file_leads_are_scored(trade_show_only):
    from nurture.quality.gate import run_gate
    from nurture.scoring.run import run_scoring

    settings, _ = trade_show_only
    warehouse = get_warehouse(settings)
    run_gate(warehouse, "marts.")
    run_scoring(settings, datetime(2026, 10, 1, tzinfo=UTC))
    scored = warehouse.query(
        "select s.lead_id from marts.fct_lead_scores as s "
        "inner join marts.dim_lead as d on d.lead_id = s.lead_id where d.email = ?",
        [FILE_ONLY],
    )
    assert len(scored) == 1


def test_booth_visits_are_engagement_touches(trade_show_only):
    settings, _ = trade_show_only
    rows = get_warehouse(settings).query(
        "select d.email, e.source_system, e.channel, e.activity_type, e.is_engagement_touch, "
        "e.primary_attribute_value, e.occurred_date, e.marketo_lead_id "
        "from marts.fct_engagement_events as e "
        "inner join marts.dim_lead as d on d.lead_id = e.lead_id "
        "where e.source_system = 'trade_show' order by d.email"
    )
    # the list was imported twice: still one visit each
    assert rows["email"].tolist() == [FILE_ONLY, KNOWN]
    assert set(rows["channel"]) == {"events"}
    assert set(rows["activity_type"]) == {"visit_trade_show_booth"}
    assert rows["is_engagement_touch"].all()
    assert set(rows["primary_attribute_value"]) == {"Expo 2024"}
    assert {d.date() if hasattr(d, "date") else d for d in rows["occurred_date"]} == {MET_ON}
    assert rows["marketo_lead_id"].isna().all()


def test_a_rebuild_keeps_one_touch_per_visit(trade_show_only):
    settings, _ = trade_show_only
    run_dbt(settings, "run", ["--select", "int_file_touches", "fct_engagement_events"])
    count = get_warehouse(settings).query(
        "select count(*) as n from marts.fct_engagement_events where source_system = 'trade_show'"
    )
    assert int(count["n"].iloc[0]) == 2


def test_a_booth_visit_can_make_an_mql(trade_show_only, tmp_path):
    """With an MQL bar a booth visit clears, the file-only person reaches the outbox, and
    sales read why in words."""
    from nurture.quality.gate import run_gate
    from nurture.scoring.run import run_scoring

    settings, _ = trade_show_only
    rules = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    rules["mql"]["C"] = 5
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    warehouse = get_warehouse(settings)
    run_gate(warehouse, "marts.")
    as_of = datetime.combine(MET_ON + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    run_scoring(settings, as_of, rules_path)
    outbox = warehouse.query(
        "select o.top_reasons from ops.mql_outbox as o "
        "inner join marts.dim_lead as d on d.lead_id = o.lead_id where d.email = ?",
        [FILE_ONLY],
    )
    assert len(outbox) == 1
    assert "visited our booth at a trade show" in str(outbox["top_reasons"].iloc[0])
