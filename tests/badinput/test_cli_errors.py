"""User mistakes and a sick environment give one clear sentence and exit status 2,
never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from nurture.cli import main


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NURTURE_HOME", str(tmp_path))
    monkeypatch.setenv("NURTURE_WAREHOUSE", "duckdb")
    return tmp_path


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nurture: error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_since_after_until(home, capsys):
    err = _error(capsys, ["sync", "hubspot", "--until", "2026-10-01", "--since", "2026-10-02"])
    assert "--since 2026-10-02" in err and "is not before --until" in err


def test_postgres_down(home, capsys, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("NURTURE_WAREHOUSE", "postgres")
    monkeypatch.setenv("NURTURE_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("NURTURE_PG_PORT", str(port))
    err = _error(capsys, ["summary"])
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in err


def test_score_on_an_empty_warehouse(home, capsys):
    err = _error(capsys, ["score", "--as-of", "2026-10-01"])
    assert "the warehouse lacks a table" in err and "nurture demo" in err


def test_a_locked_duckdb_file(home, capsys):
    path = home / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(path)!r})\n"
            "con.execute('create schema if not exists marts')\n"
            "print('ready', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        err = _error(capsys, ["summary"])
        assert "is in use by another process" in err and str(path) in err
    finally:
        holder.kill()
        holder.wait()
        time.sleep(0.1)


def test_malformed_connection_json(home, capsys, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", '{"conn_type": "http", "host": ')
    err = _error(capsys, ["sync", "hubspot", "--until", "2026-10-01"])
    assert "AIRFLOW_CONN_HUBSPOT_DEFAULT is not valid JSON" in err
    assert "not defined" not in err
