"""A drop-folder import whose load package cannot load (written before NUL characters were
dropped, or damaged on disk) no longer fails every later import: the next import sets it
aside with its reason, reads the files again and loads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nurture.files.importer import import_drop_folder
from nurture.load.parking import PARKED_OBJECT
from nurture.warehouse import get_warehouse
from tests.files.dropped import drop_fixtures
from tests.load.test_parked_packages import (
    POISON_CASES,
    _damage,
    _fail_jobs,
    _pending,
    _put_nul,
    _rows_of,
)

POISONS = {
    "damaged parquet": (_damage, "magic bytes"),
    "nul in text": (lambda path: _put_nul(path, "company"), "0x00"),
}


@pytest.mark.parametrize(
    ("warehouse_settings", "poison"), POISON_CASES, indirect=["warehouse_settings"]
)
def test_poisoned_file_package_is_set_aside_and_the_files_load(
    poison, warehouse_settings, tmp_path, monkeypatch
):
    settings = warehouse_settings
    drop = drop_fixtures(tmp_path / "drop")
    with monkeypatch.context() as patched:
        _fail_jobs(
            patched,
            lambda path: (
                ConnectionRefusedError("connection refused") if "/nurture_files/" in path else None
            ),
        )
        with pytest.raises(Exception, match="connection refused"):
            import_drop_folder(settings, folder=drop)
    pending = _pending(settings, "nurture_files")
    assert pending  # the files' rows, staged and not loaded; the files stay in the folder
    pipelines = settings.dlt_dir / settings.warehouse / "nurture_files"
    packages = pipelines / "load" / "normalized"
    victim = sorted(packages.glob("*/new_jobs/trade_show.*.parquet"))[0]
    poisoned = victim.parent.parent.name
    spoil, expected = POISONS[poison]
    spoil(victim)

    summary = import_drop_folder(settings, folder=drop)

    assert summary.rows == {"business_cards": 3, "trade_show": 6}  # as a clean import
    assert _pending(settings, "nurture_files") == []
    assert _rows_of(settings, poisoned) == {}
    wh = get_warehouse(settings)
    assert wh.scalar("select count(*) from raw_files.trade_show") == 6
    assert "\x00" not in "".join(wh.query("select company from raw_files.trade_show")["company"])
    folder = settings.home / "parked" / settings.warehouse / "nurture_files" / poisoned
    reason = json.loads((folder / "reason.json").read_text())
    assert expected in reason["reason"]
    runs = wh.query(
        "select source, status, error from ops.sync_runs where object = ?", [PARKED_OBJECT]
    )
    assert runs.to_dict("records") == [
        {"source": "files", "status": "parked", "error": reason["reason"]}
    ]
    assert not any(Path(drop).glob("*.csv"))  # read, loaded and moved to processed/
