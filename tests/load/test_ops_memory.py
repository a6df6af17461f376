"""The ops loads keep to a budget of their own, and a quarantine merges by key: each bad
record once, however often it is quarantined, with keys proved unique without holding them."""

from __future__ import annotations

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nurture.config import ConfigError, load_settings
from nurture.connectors.records import Quarantine
from nurture.load.destinations import staged_key_rows
from nurture.load.ops_tables import OPS_LOAD_MEMORY, write_ops
from nurture.warehouse import get_warehouse, memory_bytes
from tests.conftest import settings_for


def test_memory_amounts_read_as_duckdb_reads_them():
    assert memory_bytes("256MB") == 256_000_000
    assert memory_bytes("1.5 GiB") == 1.5 * 2**30
    assert memory_bytes("64mib") == 64 * 2**20
    with pytest.raises(ValueError, match="not a memory amount"):
        memory_bytes("lots")


@pytest.mark.parametrize(("load_memory", "expected"), [("300MB", "64MB"), ("32MB", "32MB")])
def test_a_load_may_ask_for_less_memory_never_more(tmp_path, load_memory, expected):
    settings = load_settings(
        {"NURTURE_HOME": str(tmp_path), "NURTURE_DUCKDB_LOAD_MEMORY": load_memory}
    )
    pipeline = dlt.pipeline(
        pipeline_name="ops_memory_test",
        destination=get_warehouse(settings).dlt_destination(memory=OPS_LOAD_MEMORY),
        dataset_name="ops_test",
        pipelines_dir=str(tmp_path / "dlt"),
    )
    with pipeline.sql_client() as client:
        limit = client.execute_sql("select current_setting('memory_limit')")[0][0]
    assert memory_bytes(limit.replace(" ", "")) == pytest.approx(memory_bytes(expected), rel=0.01)


def test_keys_are_counted_by_hash_across_files(tmp_path):
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    keys = ["source", "object", "record_key", "reason"]
    rows = {k: ["files", "files"] for k in keys} | {"record_key": ["a.csv:2", "a.csv:3"]}
    pq.write_table(pa.table(rows), first)
    pq.write_table(pa.table(rows | {"record_key": ["a.csv:3", "a.csv:4"]}), second)
    assert staged_key_rows([first], keys) == (2, 2)
    assert staged_key_rows([first, second], keys) == (4, 3)  # a.csv:3 twice
    assert staged_key_rows([first, second], ["source", "object", "reason"]) == (4, 1)


def _quarantined(settings) -> list[tuple[str, str, str]]:
    con = get_warehouse(settings)
    frame = con.query("select record_key, reason, payload from ops.quarantine order by 1, 2")
    return [tuple(row) for row in frame.itertuples(index=False)]


def test_a_quarantine_written_again_is_not_doubled(warehouse_settings):
    """Re-runs merge on (source, object, record_key, reason): the same record again, in a
    later run or twice in one, keeps one row, the last one written."""
    warehouse = get_warehouse(warehouse_settings)
    pipelines_dir = str(warehouse_settings.dlt_dir / warehouse.kind)
    warehouse_settings.ensure_dirs()

    def run(run_id: str, payloads: list[tuple[str, str]]) -> None:
        quarantine = Quarantine("files")
        for key, payload in payloads:
            quarantine.reject("trade_show", payload, key, "missing email")
        write_ops(warehouse, pipelines_dir, quarantine, run_id, [])

    run("files:1", [(f"bad.csv:{i}", f"first {i}") for i in range(2, 1_002)])
    run("files:2", [(f"bad.csv:{i}", f"again {i}") for i in range(2, 1_002)])
    rows = _quarantined(warehouse_settings)
    assert len(rows) == 1_000
    assert {payload.split()[0] for _, _, payload in rows} == {"again"}

    run("files:3", [("bad.csv:2", "once"), ("bad.csv:2", "twice")])
    rows = _quarantined(warehouse_settings)
    assert len(rows) == 1_000
    assert ("bad.csv:2", "missing email", "twice") in rows


def _limit(con) -> float:
    limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    return memory_bytes(limit.replace(" ", ""))


def test_a_loads_budget_does_not_outlive_the_load(tmp_path):
    """DuckDB keeps one memory limit per open database in a process: with another
    connection holding the file open (tasks share a process under `dag.test()`), the ops
    load's 64MB stayed set and the next dbt build in that process ran out of memory."""
    import duckdb

    from nurture.transform.dbt import run_dbt

    settings = settings_for(tmp_path, "duckdb")
    settings.ensure_dirs()
    warehouse = get_warehouse(settings)
    pipelines_dir = str(settings.dlt_dir / "duckdb")
    held = duckdb.connect(str(settings.duckdb_path))
    try:
        write_ops(warehouse, pipelines_dir, Quarantine("files"), "files:1", [])
        assert _limit(held) < memory_bytes("100MB")  # the load's own budget, still set
        run_dbt(settings, "show", ["--inline", "select 1 as one"])
        assert _limit(held) > memory_bytes("1GB")  # dbt sets its own on every connection

        write_ops(warehouse, pipelines_dir, Quarantine("files"), "files:2", [])
        warehouse.scalar("select 1")
        assert _limit(held) > memory_bytes("1GB")  # so do Nurture's queries
    finally:
        held.close()


@pytest.mark.parametrize("memory", ["4GB", "1.5 GiB", "80%", "100%"])
def test_the_warehouse_memory_is_an_amount_or_a_share(tmp_path, memory):
    settings = load_settings({"NURTURE_HOME": str(tmp_path), "NURTURE_DUCKDB_MEMORY": memory})
    assert settings.duckdb_memory == memory


@pytest.mark.parametrize("memory", ["lots", "120%", "80%; drop table x", "4GB'"])
def test_a_warehouse_memory_that_is_neither_is_refused(tmp_path, memory):
    with pytest.raises(ConfigError, match="NURTURE_DUCKDB_MEMORY"):
        load_settings({"NURTURE_HOME": str(tmp_path), "NURTURE_DUCKDB_MEMORY": memory})
