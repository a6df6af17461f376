"""GX gates on real warehouse tables, both kinds."""

import json
from pathlib import Path

import pandas as pd
import pytest

from nurture.quality.gate import GateFailed, run_gate
from nurture.warehouse import get_warehouse


def write_suite(directory: Path) -> None:
    suite = {
        "name": "raw_demo.leads",
        "table": "raw_demo.leads",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "status", "value_set": ["open", "won"]},
            },
        ],
    }
    (directory / "raw_demo.leads.json").write_text(json.dumps(suite), encoding="utf-8")


def load(settings, rows: list[dict]) -> None:
    with get_warehouse(settings).transaction() as session:
        session.execute("create schema if not exists raw_demo")
        session.execute("create table raw_demo.leads (id integer, status varchar)")
        session.insert_frame("raw_demo.leads", pd.DataFrame(rows))


def test_gate_passes_clean_data(warehouse_settings, tmp_path):
    write_suite(tmp_path)
    load(warehouse_settings, [{"id": 1, "status": "open"}, {"id": 2, "status": "won"}])
    assert run_gate(get_warehouse(warehouse_settings), "raw_demo", tmp_path) == {
        "raw_demo.leads": 3
    }


def test_gate_failure_reads_like_a_sentence(warehouse_settings, tmp_path):
    write_suite(tmp_path)
    load(warehouse_settings, [{"id": 1, "status": "open"}, {"id": 1, "status": "lost"}])
    with pytest.raises(GateFailed) as err:
        run_gate(get_warehouse(warehouse_settings), "raw_demo", tmp_path)
    message = str(err.value)
    assert "raw_demo.leads: expect_column_values_to_be_unique(id) failed: 2 unexpected" in message
    assert "expect_column_values_to_be_in_set(status) failed: 1 unexpected, e.g. ['lost']" in (
        message
    )
    assert "not_be_null" not in message


def test_missing_table_fails_the_gate(tmp_path):
    from tests.conftest import settings_for

    write_suite(tmp_path)
    with pytest.raises(GateFailed, match=r"raw_demo\.leads: table_exists failed"):
        run_gate(get_warehouse(settings_for(tmp_path, "duckdb")), "raw_demo", tmp_path)


def test_a_crafted_suite_cannot_run_sql(warehouse_settings, tmp_path):
    """Suite column names went into SQL unquoted: `id from raw_demo.leads; drop ...` ran."""
    load(warehouse_settings, [{"id": 1, "status": "open"}])
    crafted = "id, (select 1) as x from raw_demo.leads; drop table raw_demo.leads; --"
    suite = {
        "name": "raw_demo.leads",
        "table": "raw_demo.leads",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": crafted}}
        ],
    }
    (tmp_path / "raw_demo.leads.json").write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(GateFailed, match=r"column_exists\(id, \(select 1\)"):
        run_gate(get_warehouse(warehouse_settings), "raw_demo", tmp_path)
    assert get_warehouse(warehouse_settings).table_exists("raw_demo.leads")


@pytest.mark.parametrize("prefix", ["../../etc/raw", "raw_demo/../x", "raw_*", "raw demo"])
def test_a_prefix_is_a_schema_name_not_a_path(tmp_path, prefix):
    from tests.conftest import settings_for

    write_suite(tmp_path)
    with pytest.raises(GateFailed, match=r"is not a schema or schema\.table name"):
        run_gate(get_warehouse(settings_for(tmp_path, "duckdb")), prefix, tmp_path)
