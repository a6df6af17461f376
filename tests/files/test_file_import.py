"""Importing a drop folder into each warehouse: mapped, typed, quarantined, idempotent."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import date
from pathlib import Path

import pandas as pd

from nurture.files.importer import import_drop_folder
from nurture.quality.gate import run_gate
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.files.dropped import drop_fixtures, settled

TABLES = (
    "raw_files.trade_show",
    "raw_files.business_cards",
    "raw_files.imported_files",
    "ops.quarantine",
)


def query(settings, sql: str) -> pd.DataFrame:
    return get_warehouse(settings).query(sql)


def records(settings, sql: str) -> list[dict]:
    frame = query(settings, sql)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def person(settings, kind: str, email: str) -> dict:
    (row,) = records(settings, f"select * from raw_files.{kind} where email = '{email}'")
    return row


def day(value) -> date:
    return pd.Timestamp(value).date()  # DuckDB hands pandas dates as Timestamps


def counts(settings) -> dict[str, int]:
    return {t: int(query(settings, f"select count(*) as n from {t}")["n"].iloc[0]) for t in TABLES}


def test_files_are_mapped_typed_and_quarantined(warehouse_settings, drop):
    (drop / "notes.txt").write_text("not a list", encoding="utf-8")
    summary = import_drop_folder(warehouse_settings, folder=drop)

    assert summary.rows == {"business_cards": 3, "trade_show": 6}
    assert records(
        warehouse_settings,
        "select name, kind, encoding, rows, quarantined "
        "from raw_files.imported_files order by name",
    ) == [
        {
            "name": "business_cards_corrupt.csv",
            "kind": "business_cards",
            "encoding": None,
            "rows": 0,
            "quarantined": 1,
        },
        {
            "name": "sansan_export_202610.csv",
            "kind": "business_cards",
            "encoding": "cp932",
            "rows": 3,
            "quarantined": 0,
        },
        {
            "name": "trade_show_japan_it_week_2026.csv",
            "kind": "trade_show",
            "encoding": "utf-8-sig",
            "rows": 4,
            "quarantined": 0,
        },
        {
            "name": "tradeshow_cloud_expo_bad_rows.csv",
            "kind": "trade_show",
            "encoding": "utf-8",
            "rows": 2,
            "quarantined": 4,
        },
    ]

    # Sansan headers (会社名, 部署名, 姓, 名, E-mail, 名刺交換日, ...) in cp932
    takahashi = person(warehouse_settings, "business_cards", "m.takahashi@sample-shoji.co.jp")
    assert {k: takahashi[k] for k in ("company", "department", "title", "owner")} == {
        "company": "株式会社サンプル商事",
        "department": "経営企画部",
        "title": "取締役",
        "owner": "営業部 田中",
    }
    assert (takahashi["full_name"], takahashi["last_name_kana"]) == ("髙橋 誠", "タカハシ")
    assert day(takahashi["met_on"]) == date(2026, 9, 30)
    assert takahashi["mobile"] == "090-1111-2222"
    ito = person(warehouse_settings, "business_cards", "misaki.ito@minato-logi.example")
    assert (ito["company"], day(ito["met_on"])) == ("㈱ミナト物流", date(2026, 10, 2))  # 令和8年
    assert (
        person(warehouse_settings, "business_cards", "emily.brown@northwind.example")["full_name"]
        == "Emily Brown"
    )

    # The trade-show list: 氏名 split, e-mails normalised (＠, upper case, full width)
    yamada = person(warehouse_settings, "trade_show", "taro.yamada@sample-shoji.co.jp")
    assert (yamada["last_name"], yamada["first_name"]) == ("山田", "太郎")
    assert (yamada["event_name"], day(yamada["met_on"])) == (
        "Japan IT Week 秋 2026",
        date(2026, 10, 21),
    )
    assert json.loads(yamada["extra"]) == {"アンケート: 興味のある製品": "MA"}
    suzuki = person(warehouse_settings, "trade_show", "ichiro.suzuki@mirai-ss.co.jp")
    assert (suzuki["full_name"], suzuki["last_name"]) == ("鈴木一郎", None)
    assert person(warehouse_settings, "trade_show", "john.smith@globex.example")["last_name"] == (
        "Smith"
    )

    quarantined = records(
        warehouse_settings,
        "select object, record_key, reason, payload from ops.quarantine "
        "where source = 'files' order by record_key",
    )
    assert [(q["object"], q["record_key"], q["reason"]) for q in quarantined] == [
        ("business_cards", "business_cards_corrupt.csv", "cannot be decoded as utf_8 or cp932"),
        ("trade_show", "tradeshow_cloud_expo_bad_rows.csv:4", "missing email"),
        (
            "trade_show",
            "tradeshow_cloud_expo_bad_rows.csv:5",
            "bad email: not an e-mail address (An email address must have an @-sign.): "
            "'sho.mori(at)hooli.example'",
        ),
        (
            "trade_show",
            "tradeshow_cloud_expo_bad_rows.csv:6",
            "bad met_on: not a date (month must be in 1..12): '2026/13/45'",
        ),
        (
            "trade_show",
            "tradeshow_cloud_expo_bad_rows.csv:9",
            "row has 8 fields but the header has 6",
        ),
    ]
    assert json.loads(quarantined[1]["payload"])["Company"] == "Umbrella KK"
    assert json.loads(quarantined[0]["payload"])["size_bytes"] > 0

    assert records(
        warehouse_settings,
        "select object, rows_loaded, rows_quarantined, pages from ops.sync_runs "
        "where source = 'files' order by object",
    ) == [
        # one run row per configured kind, files or not
        {"object": "activities", "rows_loaded": 0, "rows_quarantined": 0, "pages": 0},
        {"object": "business_cards", "rows_loaded": 3, "rows_quarantined": 1, "pages": 2},
        {"object": "leads", "rows_loaded": 0, "rows_quarantined": 0, "pages": 0},
        {"object": "outcomes", "rows_loaded": 0, "rows_quarantined": 0, "pages": 0},
        {"object": "trade_show", "rows_loaded": 6, "rows_quarantined": 4, "pages": 2},
    ]

    processed = Path(summary.moved_to)
    assert processed.parent == drop / "processed"
    assert sorted(p.name for p in processed.iterdir()) == sorted(r.name for r in summary.files)
    assert sorted(p.name for p in drop.iterdir()) == ["notes.txt", "processed"]
    assert summary.unmatched == ["notes.txt"]
    # per table, as the import task gates the kinds that received rows
    warehouse = get_warehouse(warehouse_settings)
    tables = ("raw_files.business_cards", "raw_files.imported_files", "raw_files.trade_show")
    assert {k: v for t in tables for k, v in run_gate(warehouse, t).items()} == {
        "raw_files.business_cards": 5,
        "raw_files.imported_files": 4,
        "raw_files.trade_show": 5,
    }


def redrop(drop: Path, summary, rename: dict[str, str] | None = None) -> None:
    """Put the processed files back, as a marketer dropping the same lists again would."""
    for moved in (drop / "processed").rglob("*.csv"):
        target = drop / (rename or {}).get(moved.name, moved.name)
        settled(Path(shutil.copy(moved, target)))


def test_the_same_files_again_change_nothing(warehouse_settings, drop):
    first = import_drop_folder(warehouse_settings, folder=drop)
    before = counts(warehouse_settings)

    redrop(drop, first, rename={"sansan_export_202610.csv": "sansan_export_again.csv"})
    again = import_drop_folder(warehouse_settings, folder=drop)
    assert {r.status for r in again.files} == {"already imported"}
    assert again.rows == {"business_cards": 0, "trade_show": 0}
    assert counts(warehouse_settings) == before
    assert not list(drop.glob("*.csv"))  # skipped files are moved too

    # Should the file log be lost (a crash between load and move), rows still merge by key.
    with get_warehouse(warehouse_settings).transaction() as session:
        session.execute("delete from raw_files.imported_files")
    shutil.rmtree(drop / "processed")
    drop_fixtures(drop)
    import_drop_folder(warehouse_settings, folder=drop)
    assert counts(warehouse_settings) == before
    runs = query(warehouse_settings, "select count(distinct run_id) as n from ops.sync_runs")
    assert int(runs["n"].iloc[0]) == 3


def test_default_drop_folder_waits_for_files_still_being_written(tmp_path):
    settings = settings_for(tmp_path, "duckdb")
    dropbox = drop_fixtures(settings.home / "dropbox", "sansan_export_202610.csv")
    fresh = dropbox / "trade_show_just_copied.csv"
    shutil.copy(dropbox / "sansan_export_202610.csv", fresh)
    (dropbox / ".DS_Store").write_bytes(b"\0")

    summary = import_drop_folder(settings)
    assert summary.folder == str(settings.dropbox_dir)
    assert [r.name for r in summary.files] == ["sansan_export_202610.csv"]
    assert summary.settling == ["trade_show_just_copied.csv"]
    assert sorted(p.name for p in dropbox.iterdir()) == [
        ".DS_Store",
        "processed",
        "trade_show_just_copied.csv",
    ]
    assert "left for the next run, still being written: trade_show_just_copied.csv" in (
        summary.render()
    )


def test_links_and_files_outside_the_folder_are_refused_not_read(tmp_path):
    settings = settings_for(tmp_path, "duckdb")
    dropbox = drop_fixtures(settings.home / "dropbox", "sansan_export_202610.csv")
    secret = tmp_path / "elsewhere" / "trade_show_secret.csv"
    secret.parent.mkdir()
    secret.write_text("Company,Email\nSecret K.K.,ceo@secret.example\n", encoding="utf-8")
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (dropbox / "trade_show_link.csv").symlink_to(secret)
    (dropbox / "sansan_passwd.csv").symlink_to(passwd)
    old = time.time() - 3600
    for link in ("trade_show_link.csv", "sansan_passwd.csv"):
        os.utime(dropbox / link, (old, old), follow_symlinks=False)

    summary = import_drop_folder(settings)
    assert [r.name for r in summary.files] == ["sansan_export_202610.csv"]
    assert sorted(summary.refused) == [
        "sansan_passwd.csv (a symbolic link; drop the file itself)",
        "trade_show_link.csv (a symbolic link; drop the file itself)",
    ]
    assert "refused, not read: " in summary.render()
    if get_warehouse(settings).table_exists("ops.quarantine"):
        found = query(
            settings,
            "select count(*) as n from ops.quarantine where payload like '%root:%' "
            "or payload like '%secret%'",
        )
        assert int(found["n"].iloc[0]) == 0
    assert not get_warehouse(settings).table_exists("raw_files.trade_show")
    assert (dropbox / "trade_show_link.csv").is_symlink()  # left where it was
