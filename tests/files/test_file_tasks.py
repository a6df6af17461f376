"""The task bodies of `import_files`: the gate covers what arrived, and skips when nothing did."""

from __future__ import annotations

import pytest

from nurture.files.importer import import_drop_folder
from tests.conftest import settings_for
from tests.files.dropped import drop_fixtures


def test_nothing_new_skips_the_gate_and_leaves_the_asset():
    from airflow.sdk.exceptions import AirflowSkipException

    from nurture.orchestration import files_gate_task

    with pytest.raises(AirflowSkipException):
        files_gate_task({"rows": {"trade_show": 0, "business_cards": 0}})


def test_the_gate_checks_the_kinds_that_received_rows(tmp_path, monkeypatch):
    from nurture.orchestration import files_gate_task

    settings = settings_for(tmp_path, "duckdb")
    drop = drop_fixtures(tmp_path / "drop", "sansan_export_202610.csv")
    summary = import_drop_folder(settings, folder=drop).as_dict()
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    # raw_files.trade_show does not exist yet, and is not asked for
    assert files_gate_task(summary) == {
        "raw_files.business_cards": 5,
        "raw_files.imported_files": 4,
    }
