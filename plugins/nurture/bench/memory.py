"""Streaming: peak RSS of a Marketo sync at ten times the activities stays nearly flat.

Each size runs in its own process (`python -m nurture.bench.memory SEED LEADS HOME`),
which starts a sandbox (rate limits off: memory, not pacing, is measured here) and syncs
Marketo into a fresh DuckDB warehouse. The sandbox's own memory is not counted: its world
is built beforehand by another process (`python -m nurture.sandbox build`), and it serves
from a process of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from nurture.bench.common import Result

LEADS_PER_100K_ACTIVITIES = 4_800  # the sandbox simulates about 21 activities per lead


def probe(seed: int, leads: int, home: Path) -> dict[str, int]:
    build = [sys.executable, "-m", "nurture.sandbox", "build", "--seed", str(seed)]
    env = {**os.environ, "NURTURE_HOME": str(home)}
    subprocess.run([*build, "--leads", str(leads)], check=True, capture_output=True, env=env)
    out = subprocess.run(
        [sys.executable, "-m", "nurture.bench.memory", str(seed), str(leads), str(home)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_memory(seed: int, home: Path, scale: int = 10) -> Result:
    small = probe(seed, LEADS_PER_100K_ACTIVITIES, home / "small")
    large = probe(seed, LEADS_PER_100K_ACTIVITIES * scale, home / "large")
    return Result(
        f"memory: peak RSS at {large['activities']:,} / {small['activities']:,} activities",
        large["max_rss_kb"] / small["max_rss_kb"],
        1.5,
        False,
        {"small": small, "large": large},
    )


def peak_rss_kb() -> int:
    """This process's peak resident set. Linux's `ru_maxrss` starts a child at its parent's
    peak and keeps it across exec, so a probe started by a big bench process would report
    the parent's size; `VmHWM` belongs to the process's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> None:
    """Start this process's peak (`VmHWM`) again from its current size, so a peak read
    later belongs to the work done since (Linux 4.0+; elsewhere the peak stays whole)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _main(seed: int, leads: int, home: Path) -> None:
    from nurture.bench.common import duckdb_settings, sandbox_connection, sandbox_today
    from nurture.load.sync import run_sync
    from nurture.sandbox.server import running_sandbox

    with running_sandbox(seed, leads, home=home, rate_limits=False) as url:
        until = sandbox_today(url)
        summary = run_sync(
            "marketo",
            duckdb_settings(home),
            until=until,
            conn=sandbox_connection("marketo", url, until),
            quiet=True,
        )
    peak = peak_rss_kb()
    print(
        json.dumps(
            {"leads": leads, "activities": summary.rows.get("activities", 0), "max_rss_kb": peak}
        )
    )


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
