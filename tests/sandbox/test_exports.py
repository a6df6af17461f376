"""``nurture sandbox export``: the lists a team keeps outside the MA/CRM, from the world."""

from __future__ import annotations

import argparse
import csv
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from nurture.sandbox.cli import add_parser, run
from nurture.sandbox.exports import (
    ACTIVITY_COLUMNS,
    EMAIL_SHARE,
    LEAD_COLUMNS,
    MODEL_COLUMNS,
    OUTCOME_COLUMNS,
    SOURCE_JA,
    write_exports,
)
from tests.sandbox.conftest import LEADS, SEED


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def _sandbox(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nurture")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["sandbox", *argv]))


@pytest.fixture(scope="module")
def exported(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    written = write_exports(world, out)
    assert [w.name for w in written] == ["leads", "outcomes", "activities", "model"]
    return out


def test_shapes_and_columns(exported: Path, world: Path) -> None:
    leads, outcomes = _rows(exported / "leads.csv"), _rows(exported / "outcomes.csv")
    activities, model = _rows(exported / "activities.csv"), _rows(exported / "model.csv")
    assert _header(exported / "leads.csv") == list(LEAD_COLUMNS)
    assert _header(exported / "outcomes.csv") == list(OUTCOME_COLUMNS)
    assert _header(exported / "activities.csv") == list(ACTIVITY_COLUMNS)
    assert _header(exported / "model.csv") == list(MODEL_COLUMNS)
    assert len(leads) == len(model) == LEADS
    with duckdb.connect(str(world), read_only=True) as con:
        closed = con.execute(
            """select count(*) from sf_opportunity where "IsClosed" and "Type" = 'New Customer'
               and try_cast(substr("Id", 6, 10) as bigint) in (select person_id from persons)"""
        ).fetchone()[0]
        won = con.execute("select count(*) from persons where won").fetchone()[0]
    assert len(outcomes) == closed > 0
    assert sum(r["結果"] == "受注" for r in outcomes) == won > 0
    assert {r["結果"] for r in outcomes} == {"受注", "失注"}
    assert all(int(r["金額"]) > 0 for r in outcomes)
    assert len(activities) > 10 * LEADS
    sources = {text for choices in SOURCE_JA.values() for text, _ in choices}
    assert {r["流入元"] for r in leads} <= sources
    assert {"展示会", "Webフォーム", "ウェビナー", "資料請求", "紹介"} <= {
        r["流入元"] for r in leads
    }
    assert "製造業" in {r["業種"] for r in leads}
    assert all(r["受注"] in ("0", "1") for r in model)
    # the leaky column: filled exactly for the won leads
    assert all((r["受注金額"] != "") == (r["受注"] == "1") for r in model)


def test_ids_join_and_emails(exported: Path, world: Path) -> None:
    leads = _rows(exported / "leads.csv")
    ids = [r["リードID"] for r in leads]
    assert all(re.fullmatch(r"L-\d{6}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    known = set(ids)
    assert {r["リードID"] for r in _rows(exported / "outcomes.csv")} <= known
    assert {r["リードID"] for r in _rows(exported / "activities.csv")} <= known
    model = {r["リードID"]: r for r in _rows(exported / "model.csv")}
    assert set(model) == known
    for outcome in _rows(exported / "outcomes.csv"):
        assert (outcome["結果"] == "受注") == (model[outcome["リードID"]]["受注"] == "1")
    # e-mail on about EMAIL_SHARE of the rows, and it matches the world's people
    with_mail = [r for r in leads if r["メールアドレス"]]
    assert abs(len(with_mail) / len(leads) - EMAIL_SHARE) < 0.06
    with duckdb.connect(str(world), read_only=True) as con:
        created = dict(con.execute("select email, created_at from persons").fetchall())
    for row in with_mail:
        stamp = created[row["メールアドレス"]]
        assert row["登録日時"] == stamp.strftime("%Y-%m-%d %H:%M")


def test_same_world_same_files_whatever_the_page(exported: Path, world: Path, tmp_path: Path):
    again = write_exports(world, tmp_path, page=97)
    for item in again:
        assert item.path.read_bytes() == (exported / item.path.name).read_bytes(), item.name


def test_day_first_dates(exported: Path, world: Path, tmp_path: Path) -> None:
    write_exports(world, tmp_path, dates="dmy", only=("leads", "outcomes", "activities"))
    iso, dmy = _rows(exported / "leads.csv"), _rows(tmp_path / "leads.csv")
    assert all(re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}", r["登録日時"]) for r in dmy)
    for a, b in zip(iso, dmy, strict=True):
        assert datetime.strptime(b["登録日時"], "%d-%m-%Y %H:%M") == datetime.strptime(
            a["登録日時"], "%Y-%m-%d %H:%M"
        )
    outcomes = _rows(tmp_path / "outcomes.csv")
    assert all(re.fullmatch(r"\d{2}-\d{2}-\d{4}", r["結果日"]) for r in outcomes)
    first = _rows(tmp_path / "activities.csv")[0]["日時"]
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}", first)
    assert not (tmp_path / "model.csv").exists()


def test_xlsx_through_the_cli(
    home: Path, world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from openpyxl import load_workbook

    monkeypatch.setenv("NURTURE_HOME", str(home))  # the session's cached world
    out = tmp_path / "xlsx"
    argv = ["export", "--seed", str(SEED), "--leads", str(LEADS), "--out", str(out)]
    assert _sandbox([*argv, "--format", "xlsx", "--dates", "dmy"]) == 0
    printed = capsys.readouterr().out
    assert "leads\t1500\t" in printed
    book = load_workbook(out / "leads.xlsx", read_only=True)
    try:
        assert book.sheetnames == ["leads"]
        rows = list(book["leads"].iter_rows(values_only=True))
    finally:
        book.close()
    assert list(rows[0]) == list(LEAD_COLUMNS)
    assert len(rows) == LEADS + 1
    assert isinstance(rows[1][2], datetime)  # 登録日時 is a real date cell
    assert re.fullmatch(r"L-\d{6}", rows[1][0])
    book = load_workbook(out / "outcomes.xlsx")  # full mode: the number formats too
    try:
        cell = book["outcomes"]["C2"]
        assert cell.is_date and cell.number_format == "dd-mm-yyyy"
    finally:
        book.close()
    assert {p.name for p in out.iterdir()} == {
        "leads.xlsx",
        "outcomes.xlsx",
        "activities.xlsx",
        "model.xlsx",
    }


def test_cli_mistakes_are_one_line(tmp_path: Path, capsys) -> None:
    assert _sandbox(["export", "--seed", "1", "--leads", "0", "--out", str(tmp_path)]) == 2
    assert "--leads must be between" in capsys.readouterr().err
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    world_args = ["--seed", str(SEED), "--leads", str(LEADS)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NURTURE_HOME", str(tmp_path / "home"))
        mp.setattr("nurture.sandbox.world.ensure_world", lambda seed, leads: tmp_path / "none")
        assert _sandbox(["export", *world_args, "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a directory" in err and "Traceback" not in err


def test_xlsx_goes_on_in_a_new_sheet_past_the_row_limit(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    monkeypatch.setattr("nurture.sandbox.exports.XLSX_MAX_ROWS", 1000)
    (written,) = write_exports(world, tmp_path, fmt="xlsx", only=("leads",), page=300)
    book = load_workbook(written.path, read_only=True)
    try:
        assert book.sheetnames == ["leads", "leads_2"]
        first = list(book["leads"].iter_rows(values_only=True))
        second = list(book["leads_2"].iter_rows(values_only=True))
    finally:
        book.close()
    assert first[0] == second[0] == LEAD_COLUMNS
    assert len(first) == 1000 and len(first) + len(second) - 2 == LEADS == written.rows
    assert first[-1][0] < second[1][0]  # the ids go on in order
