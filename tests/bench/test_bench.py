"""The bench runs end to end on tiny sizes, and its verdicts follow each goal's sense."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nurture.bench.common import Result
from nurture.bench.run import QUICK, report, run_bench
from tests.conftest import require_postgres, settings_for


def test_goal_sense() -> None:
    assert Result("x", 0.6, 0.5, True).met is True
    assert Result("x", 0.4, 0.5, True).met is False
    assert Result("x", 0.08, 0.1, False).met is True
    assert Result("x", 0.2, 0.1, False).met is False
    assert Result("x", 3.0).met is None


@pytest.mark.postgres
def test_quick_load_bench_reports_ratios(tmp_path: Path) -> None:
    require_postgres()
    settings = settings_for(tmp_path, "postgres")
    lines: list[str] = []
    results = run_bench(["load"], QUICK, settings, lines.append)
    assert [r.name for r in results] == [
        "load: throughput vs plain COPY (PostgreSQL)",
        "load: throughput vs pandas to_sql (PostgreSQL)",
    ]
    detail = results[0].detail
    assert detail["rows"] >= QUICK.load_rows
    assert all(detail[k] > 0 for k in ("nurture_seconds", "copy_rows_seconds", "to_sql_seconds"))
    # The detail keeps seconds to 0.01 s; at this size that rounding alone moves the ratio.
    assert results[0].value == pytest.approx(
        min(detail["copy_rows_seconds"], detail["copy_csv_seconds"]) / detail["nurture_seconds"],
        rel=0.25,
    )
    table, path = report(results, settings)
    assert "throughput vs plain COPY" in table and lines
    assert json.loads(path.read_text())[0]["goal"] == 0.5


def test_a_memory_probe_reports_its_own_peak_not_its_parents() -> None:
    """Linux hands a child its parent's `ru_maxrss`; the probe must not report that."""
    import subprocess
    import sys

    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touched, so resident
    probe = "from nurture.bench.memory import peak_rss_kb; print(peak_rss_kb())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert int(out.stdout) < 300 * 1024
    del ballast


def test_a_peak_can_start_again_so_each_dag_of_a_run_gets_its_own() -> None:
    """`nurture.dagrun` reports each DAG's peak RSS: the ballast of one is not the next's."""
    import subprocess
    import sys

    probe = (
        "from nurture.bench.memory import peak_rss_kb, reset_peak_rss\n"
        "ballast = bytearray(300 * 1024 * 1024)\n"
        "ballast[::4096] = b'\\1' * len(ballast[::4096])\n"
        "del ballast\n"
        "before = peak_rss_kb()\n"
        "reset_peak_rss()\n"
        "print(before, peak_rss_kb())\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before - after > 250 * 1024


def test_dag_lines_give_seconds_and_peak() -> None:
    from nurture.bench.pipeline import _DAG_LINE

    line = _DAG_LINE.match("::dag build_marts success 31.2s peak-rss 640MB")
    assert line is not None and line.groups() == ("build_marts", "success", "31.2", "640")
    assert _DAG_LINE.match("::dag build_marts started") is None


def test_the_report_prints_readable_text_not_python_reprs(tmp_path: Path) -> None:
    """Details nest dicts, lists of dicts, Decimals, paths, tuples and instants; the table
    shows them as a person reads them (the JSON report keeps the numbers)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    settings = settings_for(tmp_path, "duckdb")
    detail = {
        "small": {"bad_rows": 100_000, "peak_rss_mb": 391.93},
        "example": {"points": Decimal("12.50"), "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
        "logs": tmp_path / "logs",
        "window": ("2026-01-01", "2026-01-02"),
        "rounds": [{"ratio": 1.0213, "seconds": 12.0}, {"ratio": 0.98, "seconds": 11.5}],
        "proof": None,
        "rate_limited": False,
        "calls_per_second": 4.987654,
    }
    table, path = report([Result("quarantine: peak RSS", 1.02, 1.5, False, detail)], settings)
    for repr_mark in ("{", "}", "(", "Decimal", "PosixPath", "datetime.", "'", "None", "False"):
        assert repr_mark not in table, f"{repr_mark!r} in:\n{table}"
    assert table.splitlines()[1:] == [
        "quarantine: peak RSS                                          1.020    <=1.5  yes",
        "    small:",
        "        bad_rows: 100,000",
        "        peak_rss_mb: 391.93",
        "    example:",
        "        points: 12.5",
        "        at: 2026-01-02 03:04:05+00:00",
        f"    logs: {tmp_path / 'logs'}",
        "    window: 2026-01-01, 2026-01-02",
        "    rounds:",
        "        - ratio: 1.021",
        "          seconds: 12",
        "        - ratio: 0.98",
        "          seconds: 11.5",
        "    proof: -",
        "    rate_limited: no",
        "    calls_per_second: 4.988",
    ]
    saved = json.loads(path.read_text())[0]["detail"]
    assert saved["small"] == {"bad_rows": 100_000, "peak_rss_mb": 391.93}


def test_bench_syncs_keep_dlts_progress_lines_off_stdout(tmp_path: Path, capfd) -> None:
    """dlt prints a progress block every second to stdout unless told otherwise; a bench
    run printed hundreds of them between its own lines."""
    settings = settings_for(tmp_path, "duckdb")
    run_bench(["incremental"], QUICK, settings, lambda line: None)
    out = capfd.readouterr().out
    assert "Memory usage:" not in out and "Extract marketo" not in out
