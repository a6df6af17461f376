"""After a successful load no personal data is left outside the raw tables: not in
dlt's load packages under NURTURE_HOME/dlt, not in the `<dataset>_staging` schemas."""

from __future__ import annotations

from nurture.files.importer import import_drop_folder
from nurture.warehouse import get_warehouse
from tests.files.dropped import drop_fixtures


def test_a_load_leaves_no_rows_in_packages_or_staging(warehouse_settings, tmp_path):
    drop = drop_fixtures(tmp_path / "drop")
    summary = import_drop_folder(warehouse_settings, folder=drop)
    assert sum(summary.rows.values()) > 0

    leftovers = [
        p
        for p in warehouse_settings.dlt_dir.rglob("*")
        if p.is_file() and p.suffix in (".parquet", ".jsonl", ".insert_values", ".csv", ".gz")
    ]
    assert leftovers == []

    warehouse = get_warehouse(warehouse_settings)
    staged = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema like '%\\_staging' escape '\\' "
        "and table_name not like '\\_dlt%' escape '\\'"
    )
    assert len(staged) > 0  # merges went through staging tables
    for schema, table in staged.itertuples(index=False):
        rows = warehouse.scalar(f'select count(*) from "{schema}"."{table}"')
        assert rows == 0, f"{schema}.{table} keeps {rows} rows"
