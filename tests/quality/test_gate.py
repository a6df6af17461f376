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
