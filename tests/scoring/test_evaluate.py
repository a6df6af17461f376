"""``nurture model evaluate`` on the sandbox's model export and on small files made here."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nurture.model_cli import add_parser, main
from nurture.scoring.evaluate import MIN_POSITIVES, build_features

# A world whose export holds ~110 wins: enough for a holdout AUC, small enough to build fast.
SEED, LEADS = 8, 10_000
LABEL, LEAKY = "受注", "受注金額"


@pytest.fixture(scope="module")
def model_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nurture.sandbox.exports import write_exports
    from nurture.sandbox.world import ensure_world

    home = tmp_path_factory.mktemp("evaluate-home")
    (written,) = write_exports(ensure_world(SEED, LEADS, home), home / "out", only=("model",))
    return written.path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(["model", "evaluate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def without_leak(model_csv: Path) -> dict:
    """The JSON report with the leaky column excluded (run once for the module)."""
    from contextlib import redirect_stdout
    from io import StringIO

    out = StringIO()
    argv = ["--file", str(model_csv), "--label", LABEL, "--exclude", LEAKY, "--json"]
    with redirect_stdout(out):
        assert main(["model", "evaluate", *argv]) == 0
    return json.loads(out.getvalue())


def test_model_beats_the_logistic_baseline(without_leak: dict) -> None:
    report = without_leak
    assert report["rows"] == LEADS and report["positives"] >= MIN_POSITIVES
    assert report["holdout_positives"] >= 10
    model, baseline = report["model"], report["baseline"]
    assert 0.6 < baseline["auc"] < model["auc"] < 0.95
    assert report["beats_baseline"] is True
    assert report["auc_difference"] == pytest.approx(model["auc"] - baseline["auc"], abs=1e-3)
    # probabilities: both better than the base rate alone
    assert model["brier"] < report["base_rate_brier"]
    assert len(model["calibration"]) == 10
    assert sum(row["leads"] for row in model["calibration"]) == report["holdout_rows"]
    assert not any(f.startswith(LEAKY) for f in report["features"])
    assert not report["warnings"]


def test_dropped_columns_say_why(without_leak: dict) -> None:
    dropped = {c["name"]: c["detail"] for c in without_leak["dropped"]}
    assert dropped[LEAKY] == "excluded (--exclude)"
    assert dropped[LABEL] == "the label"
    assert "identifier-like" in dropped["リードID"]
    assert "too many distinct values" in dropped["会社名"]
    used = {c["name"]: c["kind"] for c in without_leak["used"]}
    assert used["登録日時"] == "date" and used["従業員数"] == "number" and used["業種"] == "text"
    assert "登録日時:age_days" in without_leak["features"]


def test_leaky_column_inflates_the_auc_and_is_flagged(
    model_csv: Path, without_leak: dict, capsys
) -> None:
    code, out, err = _run(["--file", str(model_csv), "--label", LABEL], capsys)
    assert code == 0, err
    auc = float(re.search(r"model \(gradient boosting\)\s+([\d.]+)", out).group(1))
    assert auc > without_leak["model"]["auc"] + 0.1
    assert auc > 0.99
    assert f"{LEAKY} alone ranks the outcome almost perfectly" in out
    for heading in ("holdout", "AUC", "Brier", "verdict:", "calibration", "columns dropped"):
        assert heading in out


def test_time_split_holds_out_the_latest_leads(model_csv: Path, capsys) -> None:
    argv = ["--file", str(model_csv), "--label", LABEL, "--exclude", LEAKY]
    code, out, err = _run([*argv, "--split", "time:登録日時", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["split"].startswith("by time: the latest 30% by 登録日時")
    assert report["holdout_rows"] == round(0.3 * LEADS)
    assert 0.5 < report["model"]["auc"] <= 1


# --- small files made here -----------------------------------------------------------


def _synthetic(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    industry = rng.choice(["製造業", "小売", "教育"], n)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    logit = -1.0 + 1.5 * x + 1.0 * (industry == "製造業")
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "ID": np.arange(1, n + 1),
            "score": x.round(3),
            "業種": industry,
            "登録日": created,
            "結果": np.where(won, "受注", "失注"),
        }
    )


def test_excel_sheet_and_dates(tmp_path: Path, capsys) -> None:
    frame = _synthetic()
    path = tmp_path / "history.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"memo": ["not this one"]}).to_excel(writer, sheet_name="README")
        frame.to_excel(writer, sheet_name="deals", index=False)
    code, out, err = _run(["--file", str(path), "--sheet", "deals", "--label", "結果"], capsys)
    assert code == 0, err
    assert "Excel, sheet 'deals'" in out and "登録日: date, Excel dates" in out
    assert "ID: identifier-like" in out
    code, _, err = _run(["--file", str(path), "--sheet", "nope", "--label", "結果"], capsys)
    assert code == 2 and "its sheets: README, deals" in err


def test_shift_jis_csv_with_day_first_dates(tmp_path: Path, capsys) -> None:
    frame = _synthetic(seed=1)
    frame["登録日"] = frame["登録日"].dt.strftime("%d-%m-%Y %H:%M")
    path = tmp_path / "history.csv"
    frame.to_csv(path, index=False, encoding="cp932")
    code, out, err = _run(["--file", str(path), "--label", "結果", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["source"] == "history.csv (CSV, Shift_JIS (cp932))"
    used = {c["name"]: c for c in report["used"]}
    assert used["登録日"]["kind"] == "date" and used["登録日"]["detail"] == "day first"
    assert report["model"]["auc"] > 0.7


def test_day_first_dates_parse_as_such() -> None:
    data = pd.DataFrame({"d": ["13-01-2026 10:00", "01-02-2026 09:30", None, "31-12-2025 00:00"]})
    prepared = build_features(data, {})
    (column,) = prepared.used
    assert column.kind == "date" and column.detail == "day first"
    ages = prepared.frame["d:age_days"].tolist()
    assert ages[1] == 0 and ages[0] == pytest.approx(18.98, abs=0.01) and np.isnan(ages[2])
    assert prepared.frame["d:month"].tolist()[:2] == [1, 2]


# --- mistakes: one line, exit code 2, no traceback -----------------------------------


def _fails(argv: list[str], capsys) -> str:
    code, out, err = _run(argv, capsys)
    assert code == 2, out
    assert err.startswith("nurture: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_missing_file(tmp_path: Path, capsys) -> None:
    err = _fails(["--file", str(tmp_path / "nope.csv"), "--label", LABEL], capsys)
    assert "no such file" in err


def test_unknown_label_lists_the_columns(tmp_path: Path, capsys) -> None:
    path = tmp_path / "f.csv"
    _synthetic().to_csv(path, index=False)
    err = _fails(["--file", str(path), "--label", "won"], capsys)
    assert "no column 'won'" in err and "its columns: ID, score, 業種, 登録日, 結果" in err


def test_label_not_binary(tmp_path: Path, capsys) -> None:
    path = tmp_path / "f.csv"
    _synthetic().to_csv(path, index=False)
    err = _fails(["--file", str(path), "--label", "業種"], capsys)
    assert "not a yes/no outcome" in err and "'製造業'" in err and "受注/失注" in err


def test_too_few_positives_says_how_many(tmp_path: Path, capsys) -> None:
    frame = _synthetic()
    frame["結果"] = "失注"
    frame.loc[:11, "結果"] = "受注"
    path = tmp_path / "f.csv"
    frame.to_csv(path, index=False)
    err = _fails(["--file", str(path), "--label", "結果"], capsys)
    assert "12 of 800" in err and f"at least {MIN_POSITIVES} of each" in err


def test_unknown_excluded_column(tmp_path: Path, capsys) -> None:
    path = tmp_path / "f.csv"
    _synthetic().to_csv(path, index=False)
    err = _fails(["--file", str(path), "--label", "結果", "--exclude", "score", "金額"], capsys)
    assert "--exclude 金額: no such column" in err


def test_add_parser_on_a_fresh_parser() -> None:
    parser = argparse.ArgumentParser(prog="nurture")
    add_parser(parser.add_subparsers(dest="command", required=True))
    first = ["--file", "f.csv", "--label", LABEL, "--exclude", "a", "b"]
    more = ["--exclude", "c", "--split", "time:登録日", "--holdout", "0.2"]
    args = parser.parse_args(["model", "evaluate", *first, *more])
    assert args.exclude == ["a", "b", "c"] and args.holdout == 0.2 and callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["model", "evaluate", "--file", "f", "--label", "x", "--holdout", "2"])
