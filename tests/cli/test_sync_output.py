"""`nurture sync` for people (a short table) and for machines (`--json`), the progress
it reports per object, and a sync whose API is down: one line, no traceback."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import airflow.sdk  # noqa: F401  Airflow sets up logging on import: at collection, not in a test
import httpx
import pytest

from nurture.cli import main
from nurture.connections import connection_env
from nurture.load.sync import run_sync
from tests.cli.readable import reprs
from tests.cli.recorder import Recorder
from tests.load.test_sync import connection

REPO = Path(__file__).resolve().parents[2]
SEED, LEADS = 5, 200


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, datetime]]:
    from nurture.sandbox.server import running_sandbox

    home = tmp_path_factory.mktemp("sandbox")
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        yield base_url, datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)


@pytest.fixture
def cli_env(sandbox, tmp_path, monkeypatch) -> dict[str, str]:
    """NURTURE_HOME on an empty DuckDB warehouse, hubspot_default on the sandbox."""
    base_url, until = sandbox
    env = {
        "NURTURE_HOME": str(tmp_path / "home"),
        "NURTURE_WAREHOUSE": "duckdb",
        "AIRFLOW_CONN_HUBSPOT_DEFAULT": connection_env(
            base_url,
            "",
            "test-private-app-token",
            history_start=(until - timedelta(days=731)).isoformat(),
        ),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _table(out: str) -> dict[str, tuple[int, int]]:
    """object -> (rows loaded, quarantined) from the readable summary."""
    rows = {}
    for line in out.splitlines():
        match = re.match(r"^  (\w+)\s+([\d,]+)\s+([\d,]+)\b", line)
        if match:
            name, loaded, quarantined = match.groups()
            rows[name] = (int(loaded.replace(",", "")), int(quarantined.replace(",", "")))
    return rows


def test_readable_summary_and_json_with_the_same_numbers(sandbox, cli_env, capsys):
    _, until = sandbox
    since = until - timedelta(days=60)  # a backfill window: the same rows on every run
    window = ["--until", until.isoformat(), "--since", since.isoformat()]

    assert main(["sync", "hubspot", *window]) == 0
    out = capsys.readouterr().out
    assert reprs(out) == [], out
    assert out.startswith(f"hubspot sync up to {until:%Y-%m-%d %H:%M} (UTC)\n"), out
    table = _table(out)
    assert {"contacts", "companies", "owners", "total"} <= set(table), out
    assert table["contacts"][0] > 0
    contacts_line = next(line for line in out.splitlines() if line.startswith("  contacts "))
    assert f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M}" in contacts_line
    assert re.search(r"^API: \d+ requests, \d+ pages, 0 retries", out, re.MULTILINE), out

    # --json in a process of its own, as a script runs it: stdout is one JSON document
    # (Airflow's and dlt's log lines stay off it), with the same numbers
    done = subprocess.run(
        [sys.executable, "-m", "nurture.cli", "sync", "hubspot", *window, "--json"],
        env={**os.environ, **cli_env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document["source"] == "hubspot"
    loaded = {
        name: (n, document["quarantined"].get(name, 0)) for name, n in document["rows"].items()
    }
    assert loaded == {name: counts for name, counts in table.items() if name != "total"}
    assert sum(document["rows"].values()) == table["total"][0]
    assert document["windows"]["contacts"] == since.isoformat()
    assert document["windows"]["owners"] is None  # read in full
    assert document["calls"]["pages"] > 0


def test_progress_counts_pages_and_rows_per_object(sandbox, tmp_path):
    from tests.conftest import settings_for

    base_url, until = sandbox
    settings = settings_for(tmp_path, "duckdb")
    progress = Recorder()
    summary = run_sync(
        "hubspot",
        settings,
        until=until,
        conn=connection("hubspot", base_url, until),
        progress=progress,
        quiet=True,
    )
    objects = ["contacts", "companies", "owners", "contact_company_associations"]
    for name in objects:
        assert f"hubspot.{name}" in progress.finished
        loaded = summary.rows.get(name, 0)
        assert progress.description(f"hubspot.{name}").startswith(
            f"  {name}: {loaded:,} rows loaded"
        )
    assert "hubspot" in progress.finished
    # while extracting: `  contacts: 3 pages, 123 rows`, the pages fetched for each object
    extracted = {}
    for name in objects:
        counts = [
            re.fullmatch(rf"  {name}: ([\d,]+) pages?, ([\d,]+) rows", text)
            for text in progress.history[f"hubspot.{name}"]
        ]
        last = [m for m in counts if m][-1]
        extracted[name] = tuple(int(n.replace(",", "")) for n in last.groups())
    assert extracted["contacts"] == (extracted["contacts"][0], summary.rows["contacts"])
    assert extracted["contacts"][0] > 0
    pages = summary.calls["pages"]
    assert 0 < sum(p for p, _ in extracted.values()) <= pages
    assert progress.description("hubspot") == (
        f"hubspot: {pages:,} pages fetched, {sum(summary.rows.values()):,} rows loaded"
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_api_that_is_down_is_one_line(tmp_path, monkeypatch, capsys):
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT", connection_env(url, "", "a-token", max_attempts=1)
    )
    assert main(["sync", "hubspot", "--until", "2026-10-01"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.startswith("nurture: error: an API call failed") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Connection refused" in err and "ConnectError(" not in err
