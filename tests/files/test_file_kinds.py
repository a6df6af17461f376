"""Bring your own data: leads, outcomes and activities files (CSV and .xlsx), keyed by
their own lead id, with configurable header rows and date formats (DuckDB)."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from nurture.connectors.records import Quarantine
from nurture.files.importer import import_drop_folder
from nurture.files.reading import find_header, read_records
from nurture.files.rows import DroppedFile, typed_rows
from nurture.files.sources import load_sources
from nurture.files.values import AmbiguousDate, parse_date, parse_timestamp
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for
from tests.files.dropped import settled

LEADS = (
    "リードID,メールアドレス,登録日,流入元,ランディングページ,会社名,業種,従業員数,役職,メモ\n"
    "L001,taro@example.jp,2026/10/01,広告,/lp/a,株式会社A,製造,0120,部長,VIP\n"
    "L002,,令和8年10月2日,展示会,,B社,,,,\n"  # no e-mail: optional
    ",c@example.jp,2026/10/03,広告,,C社,,,,\n"  # no key
    "L004,d(at)example.jp,2026/10/04,,,D社,,,,\n"  # a bad e-mail is still bad
)
OUTCOMES = (
    "リードID,結果 (受注/失注),結果日,金額,セグメント\n"
    'L001,受注,2026/11/01,"1,200,000",Enterprise\n'
    "L002,失注,2026/11/02,,SMB\n"
    "L003,1,2026-11-03,¥5000,SMB\n"
    "L004,false,2026年11月4日,0,SMB\n"
    "L005,保留,2026/11/05,,SMB\n"  # neither won nor lost
    ",受注,2026/11/06,,SMB\n"  # no key
)
# day-first, with times; a data row holds "メール" (an e-mail header) as its type
ACTIVITIES = (
    "行動履歴エクスポート 2026/10\n"
    "\n"
    "リードID,種別,日時,キャンペーン\n"
    "L001,メール,01-10-2026 09:30,秋のキャンペーン\n"
    "L002,ウェビナー,13-10-2026 18:05,Email\n"
    "L003,メール,31-12-2026,キャンペーン\n"
)


def settings_with(tmp_path: Path, files: dict[str, str | bytes]):
    settings = settings_for(tmp_path, "duckdb")
    drop = settings.home / "dropbox"
    drop.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = drop / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        settled(path)
    return settings


def rows(settings, table: str) -> list[dict]:
    frame = get_warehouse(settings).query(f"select * from raw_files.{table} order by row_number")
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def reasons(settings) -> dict[str, str]:
    frame = get_warehouse(settings).query(
        "select record_key, reason from ops.quarantine where source = 'files'"
    )
    return dict(zip(frame["record_key"], frame["reason"], strict=True))


def test_leads_outcomes_and_activities_import(tmp_path):
    settings = settings_with(
        tmp_path,
        {"leads_2026.csv": LEADS, "outcomes_2026.csv": OUTCOMES, "activities_2026.csv": ACTIVITIES},
    )
    # this export writes its times day-first
    summary = import_drop_folder(
        settings, sources=configured(activities={"date_formats": ["dmy", "ymd", "japanese"]})
    )
    assert summary.rows == {"leads": 2, "outcomes": 4, "activities": 3}
    assert summary.quarantined == {"leads": 2, "outcomes": 2, "activities": 0}
    assert reasons(settings) == {
        "leads_2026.csv:4": "missing lead_key",
        "leads_2026.csv:5": (
            "bad email: not an e-mail address (An email address must have an @-sign.): "
            "'d(at)example.jp'"
        ),
        "outcomes_2026.csv:6": (
            "bad outcome: not won or lost (受注/失注, won/lost, 1/0, true/false): '保留'"
        ),
        "outcomes_2026.csv:7": "missing lead_key",
    }

    first, second = rows(settings, "leads")
    assert set(first) == {
        "file_sha256", "row_number", "lead_key", "email", "created_on", "created_at",
        "source", "landing_page", "company", "industry", "employees", "title", "extra",
        "_dlt_load_id", "_dlt_id",
    }  # fmt: skip
    assert (first["lead_key"], first["email"], first["source"]) == (
        "L001",
        "taro@example.jp",
        "広告",
    )
    assert first["employees"] == "0120"  # text keeps its leading zero
    assert first["extra"] == '{"メモ": "VIP"}'
    assert (second["lead_key"], second["email"]) == ("L002", None)
    assert pd_date(second["created_on"]) == date(2026, 10, 2)

    outcomes = rows(settings, "outcomes")
    assert [(o["lead_key"], o["outcome"], o["amount"]) for o in outcomes] == [
        ("L001", "won", 1_200_000.0),
        ("L002", "lost", None),
        ("L003", "won", 5000.0),
        ("L004", "lost", 0.0),
    ]
    assert pd_date(outcomes[3]["outcome_on"]) == date(2026, 11, 4)

    activities = rows(settings, "activities")
    # the title and blank lines are skipped, the "メール" rows loaded
    assert [a["row_number"] for a in activities] == [4, 5, 6]
    assert [a["activity_type"] for a in activities] == ["メール", "ウェビナー", "メール"]
    assert [str(a["occurred_at"]) for a in activities] == [
        "2026-10-01 09:30:00",
        "2026-10-13 18:05:00",
        "2026-12-31 00:00:00",
    ]
    (result,) = [r for r in summary.files if r.kind == "activities"]
    assert result.header_row == 3
    assert [(s.row_number, s.reason) for s in result.skipped] == [
        (1, "before the header: no lead_key header"),
        (2, "blank, before the header"),
    ]
    text = summary.render()
    assert "2 line(s) skipped before the header (row 3):" in text
    assert "row 1: before the header: no lead_key header ('行動履歴エクスポート 2026/10')" in text


def configured(**changes: dict):
    """The shipped sources with some kinds' settings changed."""
    sources = load_sources()
    kinds = dict(sources.kinds)
    for name, update in changes.items():
        kinds[name] = kinds[name].model_copy(update=update)
    return sources.model_copy(update={"kinds": kinds})


def pd_date(value) -> date:
    import pandas as pd

    return pd.Timestamp(value).date()


def test_an_xlsx_file_imports_with_typed_cells(tmp_path):
    workbook = Workbook()
    workbook.active.title = "Notes"
    sheet = workbook.create_sheet("Leads")
    sheet.append(["リード一覧"])
    sheet.append(["リードID", "メールアドレス", "登録日", "流入元", "従業員数"])
    sheet.append(["00123", "a@example.jp", datetime(2026, 10, 1), "広告", 250])
    sheet.append([456, None, "2026/10/02", None, "0050"])
    sheet.append([None, "b@example.jp", datetime(2026, 10, 3), None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    settings = settings_with(tmp_path, {"leads_export.xlsx": buffer.getvalue()})
    summary = import_drop_folder(settings, sources=configured(leads={"sheet": "Leads"}))
    (result,) = summary.files
    assert (result.encoding, result.rows, result.quarantined) == ("xlsx", 2, 1)
    assert [(s.row_number, s.text) for s in result.skipped] == [(1, "リード一覧")]
    first, second = rows(settings, "leads")
    assert (first["lead_key"], first["employees"]) == ("00123", "250")
    assert pd_date(first["created_on"]) == date(2026, 10, 1)
    assert (second["lead_key"], second["employees"]) == ("456", "0050")
    assert pd_date(second["created_on"]) == date(2026, 10, 2)
    assert reasons(settings) == {"leads_export.xlsx:5": "missing lead_key"}


def test_a_missing_sheet_rejects_the_file(tmp_path):
    buffer = io.BytesIO()
    Workbook().save(buffer)
    settings = settings_with(tmp_path, {"leads_x.xlsx": buffer.getvalue()})
    summary = import_drop_folder(settings, sources=configured(leads={"sheet": "Leads"}))
    (result,) = summary.files
    assert result.status == "rejected"
    assert result.reason == "has no sheet 'Leads' (sheets: Sheet)"


def contacts(text: str, sources, **options) -> tuple[list[dict], Quarantine, object]:
    kind = sources.kinds["trade_show"].model_copy(update=options)
    stream = read_records(io.StringIO(text, newline=""))
    header = find_header(
        stream,
        sources.lookup("trade_show"),
        10,
        kind.header_min_matches,
        kind.header_row,
        kind.key,
    )
    quarantine = Quarantine("files")
    source = DroppedFile("trade_show", "list.csv", "f" * 64)
    return list(typed_rows(stream, header, source, quarantine, kind)), quarantine, header


def test_the_header_trap_loads_every_row(sources):
    # a title line naming one header, then data rows holding header names as values
    text = (
        "メール\n"
        "会社名,E-mail,部署\n"
        "会社名,a@a.jp,部署\n"
        "Company,b@b.jp,Email\n"
        "C,c@c.jp,メールアドレス\n"
    )
    loaded, quarantine, header = contacts(text, sources)
    assert header.row_number == 2
    assert [s.row_number for s in header.skipped] == [1]
    assert [row["email"] for row in loaded] == ["a@a.jp", "b@b.jp", "c@c.jp"]
    assert quarantine.rejected == []


def test_an_explicit_header_row(sources):
    text = "Company,Email\nx,y\nCompany,Email,Department\nA,a@a.jp,Sales\n"
    loaded, _, header = contacts(text, sources, header_row=3)
    assert header.row_number == 3
    assert [(s.row_number, s.reason) for s in header.skipped] == [
        (1, "above header_row 3"),
        (2, "above header_row 3"),
    ]
    assert [row["department"] for row in loaded] == ["Sales"]


def test_day_first_csv_and_ambiguous_dates(sources):
    text = (
        "Company,Email,Visit Date\nA,a@a.jp,13-10-2026\nB,b@b.jp,03-04-2026\nC,c@c.jp,05-05-2026\n"
    )
    loaded, quarantine, _ = contacts(text, sources, date_formats=["dmy"])
    assert [row["met_on"] for row in loaded] == [
        date(2026, 10, 13),
        date(2026, 4, 3),
        date(2026, 5, 5),
    ]
    loaded, quarantine, _ = contacts(text, sources, date_formats=["dmy", "mdy"])
    assert [row["met_on"] for row in loaded] == [date(2026, 10, 13), date(2026, 5, 5)]
    ((key, reason),) = [(r.record_key, r.reason) for r in quarantine.rejected]
    assert key == "list.csv:3"
    assert reason == (
        "bad met_on: ambiguous date, day-first or month-first (2026-04-03 or 2026-03-04): "
        "'03-04-2026'"
    )


@pytest.mark.parametrize(
    ("typed", "formats", "expected"),
    [
        ("01-10-2026", ["dmy"], date(2026, 10, 1)),
        ("10/01/2026", ["mdy"], date(2026, 10, 1)),
        ("2026-10-01", ["ymd"], date(2026, 10, 1)),
        ("2026年10月1日", ["japanese"], date(2026, 10, 1)),
        ("令和8年10月1日", ["japanese"], date(2026, 10, 1)),
    ],
)
def test_date_formats(typed, formats, expected):
    assert parse_date(typed, formats) == expected


def test_dates_outside_the_allowed_formats_and_times():
    with pytest.raises(ValueError, match="not a date"):
        parse_date("01-10-2026", ["ymd", "japanese"])
    with pytest.raises(AmbiguousDate):
        parse_date("03-04-2026", ["dmy", "mdy"])
    assert parse_timestamp("2026-10-01T09:30:15", ["ymd"]) == datetime(2026, 10, 1, 9, 30, 15)
    assert parse_timestamp("2026/10/01", ["ymd"]) == datetime(2026, 10, 1)


def test_the_new_kinds_map_the_sandbox_headers(sources):
    leads = sources.lookup("leads")
    assert [
        leads[h]
        for h in (
            "リードid",
            "メールアドレス",
            "登録日時",
            "流入元",
            "ランディングページ",
            "業種",
            "従業員数",
        )
    ] == ["lead_key", "email", "created_at", "source", "landing_page", "industry", "employees"]
    assert sources.lookup("outcomes")["結果(受注/失注)"] == "outcome"
    assert sources.lookup("activities")["日時"] == "occurred_at"
    assert sources.kind_of("リード一覧.xlsx") == "leads"
    assert sources.kind_of("activities_2026.XLSX") == "activities"
    assert (sources.kinds["leads"].key, sources.kinds["trade_show"].key) == ("lead_key", "email")


def test_a_key_outside_the_layout_is_refused(tmp_path):
    from nurture.files.sources import SOURCES_PATH, SourcesError

    text = SOURCES_PATH.read_text(encoding="utf-8").replace(
        "    layout: outcomes\n    key: lead_key\n", "    layout: outcomes\n    key: email\n", 1
    )
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError, match="kind outcomes: key email is not a column of layout"):
        load_sources(path)


def test_alike_activities_count_once_per_export_not_once_overall(tmp_path, monkeypatch):
    """Two page views in one minute are two activities; the next month's export, which
    repeats the overlap, adds only what is new. Rows alike used to collapse into one."""
    from nurture.transform.dbt import dbt_env, run_dbt

    header = "リードID,種別,日時,キャンペーン\n"
    twice = "L001,Web訪問,2026-10-01 09:30,秋\n" * 2
    settings = settings_with(
        tmp_path,
        {
            "activities_2026-10.csv": header + twice + "L001,メール開封,2026-10-02 08:00,秋\n",
            # overlaps October's last day, then one more view
            "activities_2026-11.csv": header + twice + "L001,Web訪問,2026-11-01 10:00,冬\n",
        },
    )
    import_drop_folder(settings)
    for name, value in dbt_env(settings).items():
        monkeypatch.setenv(name, value)
    run_dbt(settings, "run", ["--select", "stg_files__activities"])
    counts = get_warehouse(settings).query(
        "select activity_type, cast(occurred_at as varchar) as at, count(*) as n "
        "from staging.stg_files__activities group by 1, 2 order by 2"
    )
    assert [tuple(row) for row in counts.itertuples(index=False)] == [
        ("Web訪問", "2026-10-01 09:30:00", 2),
        ("メール開封", "2026-10-02 08:00:00", 1),
        ("Web訪問", "2026-11-01 10:00:00", 1),
    ]
