"""The report's SQL on PostgreSQL: the demo world's marts copied there read the same."""

from __future__ import annotations

import math

import duckdb
import pytest

from nurture.report import write_report
from nurture.report.data import load_sections
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.report.conftest import DemoHome

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# What the report reads (nurture.report.data), nothing else.
TABLES = (
    "marts.mart_campaign_performance",
    "marts.mart_lead_engagement",
    "marts.mart_web_circulation",
    "marts.mart_ab_tests",
    "marts.mart_ab_rollouts",
    "marts.mart_creative_fatigue",
    "marts.mart_segment_response",
    "marts.mart_funnel",
    "marts.mart_ltv",
    "marts.mart_channel_attribution",
    "marts.mart_event_performance",
    "marts.mart_campaign_roi",
    "marts.mart_lead_stage_history",
    "marts.dim_campaign",
    "marts.dim_lead",
    "ops.mql_outbox",
    "ops.mql_deliveries",
    "ops.mql_assignments",
)
TYPES = {
    "VARCHAR": "varchar",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "HUGEINT": "numeric",
}


def pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return "numeric"
    return TYPES.get(duckdb_type, "text")


def copy_to_postgres(source: DemoHome, target) -> None:
    import psycopg

    pg = target.postgres
    duck = duckdb.connect(str(source.settings.duckdb_path), read_only=True)
    try:
        with psycopg.connect(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            password=pg.password or None,
            dbname=pg.database,
        ) as con:
            for schema in ("marts", "ops"):
                con.execute(f"create schema if not exists {schema}")
            for table in TABLES:
                schema, name = table.split(".")
                columns = duck.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                ddl = ", ".join(f'"{column}" {pg_type(kind)}' for column, kind in columns)
                con.execute(f"create table {table} ({ddl})")
                names = ", ".join(f'"{column}"' for column, _ in columns)
                with con.cursor().copy(f"copy {table} ({names}) from stdin") as copy:
                    for row in duck.execute(f"select {names} from {table}").fetchall():
                        copy.write_row(row)
    finally:
        duck.close()


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_the_report_reads_postgres_as_it_reads_duckdb(report_home: DemoHome, pg_database, tmp_path):
    pg = settings_for(tmp_path, "postgres", pg_database)
    copy_to_postgres(report_home, pg)
    on_duckdb = load_sections(get_warehouse(report_home.settings))
    on_postgres = load_sections(get_warehouse(pg))
    for key, section in on_duckdb.items():
        other = on_postgres[key]
        assert other.available == section.available, key
        assert (other.current_period, other.previous_period) == (
            section.current_period,
            section.previous_period,
        ), key
        for mine, theirs in zip(section.metrics, other.metrics, strict=True):
            assert mine.key == theirs.key
            assert same(mine.current, theirs.current) or mine.current == theirs.current, (key, mine)
            assert same(mine.previous, theirs.previous) or mine.previous == theirs.previous, (
                key,
                mine,
            )
        assert {k: len(v) for k, v in other.rows.items()} == {
            k: len(v) for k, v in section.rows.items()
        }, key
    result = write_report(pg)
    assert result.sections_with_data == result.sections
