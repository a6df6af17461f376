"""Every `nurture` command prints text for people, never a Python repr, and a user's
mistake is one line, `nurture: error: ...`, without a traceback (an empty NURTURE_HOME)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nurture.cli import build_parser, main, render_gate
from tests.cli.readable import reprs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    for name in ("NURTURE_PSEUDONYM_KEY", "AIRFLOW_CONN_NURTURE_PSEUDONYM"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def test_the_reprs_pattern_catches_reprs():
    caught = [
        "gate raw_marketo passed: {'raw_marketo.leads': 5}",
        "choose from ('extract', 'load')",
        "as of datetime.datetime(2026, 10, 1, 0, 0)",
        "SyncSummary(source='hubspot', rows={})",
        "{",
        '  "rows": {',
        "e.g. ['lost']",
    ]
    assert [line for line in caught if not reprs(line)] == []
    fine = [
        "gate raw_marketo passed: 4 tables, 23 expectations",
        "  contacts      123      0  2024-09-30 00:00 to 2026-10-01 00:00",
        "nurture: error: unknown bench part(s) nope; choose from extract, load",
        "report: /tmp/x/reports/report-20261001T000000Z.html (4.8 MB, 0.2s)",
    ]
    assert [line for line in fine if reprs(line)] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["summary"],
        ["report"],
        ["files", "import"],
        ["doctor", "--only", "warehouse"],
    ],
    ids=" ".join,
)
def test_commands_on_an_empty_home_print_text(home, capsys, argv):
    assert main(argv) in (0, 1)
    captured = capsys.readouterr()
    assert captured.out.strip(), captured.err
    assert reprs(captured.out) == [], captured.out
    assert "Traceback" not in captured.err


def _help_texts() -> list[list[str]]:
    parser = build_parser()
    commands = [[]]
    for action in parser._subparsers._group_actions:  # the sub-commands
        for name, sub in action.choices.items():
            commands.append([name])
            for sub_action in getattr(sub._subparsers, "_group_actions", []):
                commands += [[name, inner] for inner in sub_action.choices]
    return commands


@pytest.mark.parametrize("argv", _help_texts(), ids=lambda argv: " ".join(argv) or "nurture")
def test_help_is_text(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nurture")
    assert reprs(out, usage=True) == [], out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["bench", "--only", "nope"], "choose from extract, load, incremental"),
        (["score", "--as-of", "2026-10-01"], "the warehouse lacks a table"),
        (["bi", "role"], "DuckDB has no roles"),
        (["bi", "pseudonymise"], "No pseudonym key"),
        (["files", "import", "--path", "/nonexistent/drop"], "does not exist"),
        (["report", "--targets", "/nonexistent/targets.yaml"], "no such KPI targets file"),
        (["model", "evaluate", "--file", "/nonexistent.csv", "--label", "x"], "no such file"),
        (["gate", "no/such/../prefix"], "is not a schema or schema.table name"),
        (["gate", "nothing_here"], "no GX suites"),
        (
            ["sync", "hubspot", "--until", "2026-10-01", "--since", "2026-10-02"],
            "is not before --until",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_mistake_is_one_line(home, capsys, argv, says):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("nurture: error: ") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert says in err
    assert reprs(err.removeprefix("nurture: error: ")) == [], err
    assert captured.out == ""


def test_gate_says_what_it_checked(home, capsys, monkeypatch):
    checked = {"raw_marketo.activities": 6, "raw_marketo.leads": 1}
    monkeypatch.setattr("nurture.quality.gate.run_gate", lambda warehouse, prefix: checked)

    assert main(["gate", "raw_marketo"]) == 0
    out = capsys.readouterr().out
    assert reprs(out) == [], out
    assert out.splitlines() == [
        "gate raw_marketo passed: 2 tables, 7 expectations",
        "  raw_marketo.activities  6 expectations",
        "  raw_marketo.leads       1 expectation",
    ]

    assert main(["gate", "raw_marketo", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {"prefix": "raw_marketo", "passed": True, "expectations": checked}


def test_render_gate_of_nothing():
    assert render_gate("marts.", {}) == "gate marts. passed: 0 tables, 0 expectations"


def test_airflow_init_before_the_metadata_db_is_migrated(tmp_path):
    """A fresh AIRFLOW_HOME (no `airflow db migrate` yet): one line saying what to run."""
    env = {
        **os.environ,
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_WAREHOUSE": "duckdb",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "nurture.cli", "airflow-init"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stdout == ""  # Airflow's own log lines stay off stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("nurture: error:")]
    assert errors == [
        "nurture: error: Airflow's metadata database has no tables yet: run `airflow db "
        "migrate` first (with the same AIRFLOW_HOME / AIRFLOW__DATABASE__SQL_ALCHEMY_CONN), "
        "then `nurture airflow-init`."
    ], done.stderr[-3000:]
    assert "Traceback" not in done.stderr
