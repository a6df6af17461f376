"""Bad rows stream too: peak RSS of a file import whose rows are all rejected, at two
sizes (`nurture bench --only quarantine`; goal: ten times the bad rows within 1.5x).

Each size runs in its own process (`python -m nurture.bench.quarantine ROWS HOME`),
which writes a trade-show CSV whose every row lacks an e-mail address, imports the drop
folder into a fresh DuckDB warehouse, and prints its peak RSS and the rows quarantined.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nurture.bench.common import Result

GOAL = 1.5


def probe(rows: int, home: Path) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-m", "nurture.bench.quarantine", str(rows), str(home)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_quarantine(home: Path, small_rows: int, scale: int = 10) -> Result:
    small = probe(small_rows, home / "small")
    large = probe(small_rows * scale, home / "large")
    return Result(
        f"quarantine: peak RSS at {large['quarantined']:,} / {small['quarantined']:,} bad rows",
        large["max_rss_kb"] / small["max_rss_kb"],
        GOAL,
        False,
        {"small": small, "large": large},
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

    drop = home / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    path = drop / "trade_show_bad.csv"
    write_bad_file(path, rows)
    old = time.time() - 3600  # settled: not still being written
    os.utime(path, (old, old))
    summary = import_drop_folder(duckdb_settings(home), folder=drop)
    print(
        json.dumps(
            {
                "rows": rows,
                "quarantined": sum(summary.quarantined.values()),
                "max_rss_kb": peak_rss_kb(),
            }
        )
    )


if __name__ == "__main__":
    _main(int(sys.argv[1]), Path(sys.argv[2]))
