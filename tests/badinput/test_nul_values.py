"""A NUL character in a value from an API once failed PostgreSQL's COPY, and the package
with it failed every later run: values are loaded without it, on both warehouses."""

from __future__ import annotations

import dlt

from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.warehouse import get_warehouse


def test_nul_in_api_values_is_dropped_and_the_rows_load(warehouse_settings):
    warehouse = get_warehouse(warehouse_settings)
    pipeline = dlt.pipeline(
        pipeline_name="nul_probe",
        destination=warehouse.dlt_destination(),
        dataset_name="raw_probe",
        pipelines_dir=str(warehouse_settings.home / "dlt"),
    )
    rows = [
        {"id": 1, "company": "Acme\x00 K.K.", "note": "\x00"},
        {"id": 2, "company": "Beta", "note": "fine"},
    ]
    resource = dlt.resource([rows], name="contacts", primary_key="id", write_disposition="merge")
    pipeline.run(as_arrow(resource), loader_file_format=LOAD_FILE_FORMAT)
    loaded = warehouse.query("select id, company, note from raw_probe.contacts order by id")
    assert loaded["company"].tolist() == ["Acme K.K.", "Beta"]
    assert loaded["note"].tolist()[1] == "fine" and "\x00" not in str(loaded["note"][0])

    # the next run goes on as usual
    later = dlt.resource(
        [[{"id": 3, "company": "Gamma\x00", "note": "x"}]],
        name="contacts",
        primary_key="id",
        write_disposition="merge",
    )
    pipeline.run(as_arrow(later), loader_file_format=LOAD_FILE_FORMAT)
    assert int(warehouse.scalar("select count(*) from raw_probe.contacts")) == 3


def test_non_ascii_field_names_stay_distinct(warehouse_settings):
    """dlt turned `会社名` and `フォーム名` both into column `x`: one value was lost."""
    from nurture.connectors.records import Quarantine, column_key, typed_rows

    records = [{"id": "1", "会社名": "株式会社A", "フォーム名": "資料請求"}]
    (row,) = typed_rows(
        records, obj="leads", key="id", types={}, required=(), quarantine=Quarantine("probe")
    )
    assert set(row) == {"id", column_key("会社名"), column_key("フォーム名")}
    assert column_key("会社名") != column_key("フォーム名")
    assert column_key("会社名")[2:].replace("_", "-").encode().decode("punycode") == "会社名"

    warehouse = get_warehouse(warehouse_settings)
    pipeline = dlt.pipeline(
        pipeline_name="names_probe",
        destination=warehouse.dlt_destination(),
        dataset_name="raw_probe",
        pipelines_dir=str(warehouse_settings.home / "dlt"),
    )
    resource = dlt.resource([[row]], name="leads", primary_key="id")
    pipeline.run(as_arrow(resource), loader_file_format=LOAD_FILE_FORMAT)
    loaded = warehouse.query(
        f"select {column_key('会社名')} as company, {column_key('フォーム名')} as form "
        "from raw_probe.leads"
    )
    assert loaded.iloc[0].tolist() == ["株式会社A", "資料請求"]
