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
