"""A large business-card export imports with memory that does not grow with the file."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pytest

from nurture.files.importer import import_drop_folder
from tests.conftest import settings_for
from tests.files.dropped import settled

HEADER = ["会社名", "部署名", "役職", "氏名", "E-mail", "電話番号", "名刺交換日", "メモ"]


def write_export(path: Path, rows: int) -> Path:
    """A Sansan-like cp932 export, written as a stream."""
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            met_on = date(2026, 1, 1) + timedelta(days=i % 300)
            writer.writerow(
                [
                    f"株式会社サンプル{i % 997}",
                    "営業部",
                    "課長",
                    f"山田\u3000太郎{i}",
                    f"Taro{i}＠Example{i % 50}.co.jp",
                    "03-1234-5678",
                    met_on.strftime("%Y/%m/%d"),
                    "展示会で名刺交換",
                ]
            )
    return settled(path)


def traced_import(settings, drop: Path, rows: int) -> tuple[int, float, int]:
    """(peak traced bytes, seconds, file bytes) of importing one export of `rows` rows."""
    size = write_export(drop / f"sansan_{rows}.csv", rows).stat().st_size
    tracemalloc.reset_peak()
    started = time.perf_counter()
    summary = import_drop_folder(settings, folder=drop)
    seconds = time.perf_counter() - started
    assert summary.rows == {"business_cards": rows}
    return tracemalloc.get_traced_memory()[1], seconds, size


@pytest.mark.slow
def test_memory_does_not_grow_with_the_file(tmp_path):
    settings = settings_for(tmp_path, "duckdb")
    drop = tmp_path / "drop"
    drop.mkdir()
    # Warm up first: modules imported on first use would count as growth.
    write_export(drop / "sansan_warm_up.csv", 100)
    import_drop_folder(settings, folder=drop)

    tracemalloc.start()
    try:
        small_peak, _, _ = traced_import(settings, drop, 10_000)
        large_peak, seconds, size = traced_import(settings, drop, 100_000)
    finally:
        tracemalloc.stop()
    print(
        f"100k rows ({size / 1e6:.1f} MB): {seconds:.1f}s traced, "
        f"peak {large_peak / 1e6:.1f} MB (10k rows: {small_peak / 1e6:.1f} MB)"
    )
    # Ten times the rows, well under twice the memory: pages stream, nothing accumulates.
    assert large_peak < 1.5 * small_peak
    # and a few pages' worth in all (5,000 rows a page), whatever the file's size
    assert large_peak < 40e6


@pytest.mark.slow
def test_memory_does_not_grow_with_bad_rows(tmp_path):
    """A file whose every row is quarantined: ten times the bad rows, about the same peak
    RSS (`nurture bench --only quarantine` at 100k / 1M). RSS, not tracemalloc: the keys
    proved unique by Arrow and DuckDB's merge grew outside Python's allocator (20k / 200k
    bad rows peaked 1.54x apart, where now 1.10x). Each size in a process of its own, both
    at once to keep the test short; every bad row lands in ops.quarantine exactly once."""
    sizes = (20_000, 200_000)
    command = [sys.executable, "-m", "nurture.bench.quarantine"]
    probes = [
        subprocess.Popen(
            [*command, str(rows), str(tmp_path / str(rows))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rows in sizes
    ]
    found = []
    for probe in probes:
        out, err = probe.communicate(timeout=600)
        assert probe.returncode == 0, err[-3000:]
        found.append(json.loads(out.strip().splitlines()[-1]))
    for rows, result in zip(sizes, found, strict=True):
        assert result["quarantined"] == result["in_ops_quarantine"] == rows
    small, large = (result["max_rss_kb"] for result in found)
    print(f"peak RSS {small / 1024:.0f} MB at 20k bad rows, {large / 1024:.0f} MB at 200k")
    assert large < 1.2 * small
