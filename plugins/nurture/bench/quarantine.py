"""Bad rows stream too: peak RSS of a file import whose rows are all rejected, at two
sizes (`nurture bench --only quarantine`; goal: ten times the bad rows within 1.5x).

Each size runs in its own process (`python -m nurture.bench.quarantine ROWS HOME`),
which writes a trade-show CSV whose every row lacks an e-mail address, imports the drop
folder into a fresh DuckDB warehouse, and prints its peak RSS, the rows quarantined and
the rows `ops.quarantine` holds afterwards (each bad row once: none lost, none doubled).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from nurture.bench.common import Result

GOAL = 1.5
SCALE = 10  # the large import's bad rows, in small ones


def probe(rows: int, home: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "nurture.bench.quarantine", str(rows), str(home)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if not found["quarantined"] == found["in_ops_quarantine"] == rows:
        raise RuntimeError(
            f"an import of {rows:,} bad rows quarantined {found['quarantined']:,} and left "
            f"{found['in_ops_quarantine']:,} in ops.quarantine: rows lost or doubled"
        )
    return found


def _sized(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "bad_rows": found["rows"],
        "in_ops_quarantine": found["in_ops_quarantine"],
        "peak_rss_mb": round(found["max_rss_kb"] / 1024, 1),
        "seconds": found["seconds"],
    }


def bench_quarantine(home: Path, small_rows: int, scale: int = SCALE) -> Result:
    small = probe(small_rows, home / "small")
    large = probe(small_rows * scale, home / "large")
    ratio = large["max_rss_kb"] / small["max_rss_kb"]
    verdict = "within" if ratio <= GOAL else "NOT within"
    return Result(
        f"quarantine: peak RSS, {large['rows']:,} / {small['rows']:,} bad rows",
        ratio,
        GOAL,
        False,
        {
            "peak_ratio": (
                f"{ratio:.2f}x the peak for {scale}x the bad rows: {verdict} the {GOAL}x goal"
            ),
            "small": _sized(small),
            "large": _sized(large),
        },
    )


def write_bad_file(path: Path, rows: int) -> None:
    """A trade-show list whose rows have everything but an e-mail address."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("会社名,氏名,メールアドレス,電話番号\r\n")
        for i in range(rows):
            handle.write(f"株式会社サンプル{i},山田 太郎{i},,03-0000-{i % 10000:04d}\r\n")


def _main(rows: int, home: Path) -> None:
    import os
    import time

    from nurture.bench.common import duckdb_settings
    from nurture.bench.memory import peak_rss_kb
    from nurture.files.importer import import_drop_folder
    from nurture.warehouse import get_warehouse

    drop = home / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    path = drop / "trade_show_bad.csv"
    write_bad_file(path, rows)
    old = time.time() - 3600  # settled: not still being written
    os.utime(path, (old, old))
    settings = duckdb_settings(home)
    started = time.perf_counter()
    summary = import_drop_folder(settings, folder=drop)
    seconds = time.perf_counter() - started
    peak = peak_rss_kb()
    held = get_warehouse(settings).scalar("select count(*) from ops.quarantine")
    print(
        json.dumps(
            {
                "rows": rows,
                "quarantined": sum(summary.quarantined.values()),
                "in_ops_quarantine": held,
                "max_rss_kb": peak,
                "seconds": round(seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    _main(int(sys.argv[1]), Path(sys.argv[2]))
