"""Run the benchmarks in one go and report each figure as a ratio beside its goal."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nurture.bench.common import Result, render_detail, scratch_postgres
from nurture.config import Settings, load_settings

PARTS = ("extract", "load", "incremental", "memory", "quarantine", "scoring", "marts", "cycle")


@dataclass(frozen=True)
class Sizes:
    """World sizes and call counts; `quick` keeps a smoke run of the bench to seconds."""

    seed: int = 7
    extract_leads: int = 30_000
    marketo_calls: int = 320  # 3 Marketo windows of 20 s
    hubspot_calls: int = 100  # 20 HubSpot search windows of 1 s
    load_leads: int = 10_000
    load_rows: int = 200_000
    incremental_leads: int = 3_000
    incremental_rate_limits: bool = True
    memory_scale: int = 10
    quarantine_rows: int = 100_000
    scoring_leads: int = 1_000_000
    marts_leads: int = 3_000
    marts_rounds: int = 3
    cycle_leads: int = 100_000


QUICK = Sizes(
    extract_leads=1_500,
    marketo_calls=110,  # just past the first burst: a rate, if a rough one
    hubspot_calls=12,
    load_leads=1_500,
    load_rows=5_000,
    incremental_leads=600,
    incremental_rate_limits=False,
    memory_scale=2,
    quarantine_rows=5_000,
    scoring_leads=20_000,
    marts_leads=1_000,
    marts_rounds=1,
    cycle_leads=1_000,
)


def run_bench(
    parts: Iterable[str] = PARTS,
    sizes: Sizes = Sizes(),
    settings: Settings | None = None,
    progress: Callable[[str], None] = print,
) -> list[Result]:
    from nurture.sandbox.server import running_sandbox

    settings = settings or load_settings()
    home = settings.home / "bench"
    home.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    parts = list(parts)
    if "extract" in parts:
        from nurture.bench.extract import hubspot_search_share, marketo_share

        progress(f"extract: sandbox of {sizes.extract_leads:,} leads, rate limits on")
        with running_sandbox(sizes.seed, sizes.extract_leads, home=home) as url:
            results.append(marketo_share(url, sizes.marketo_calls))
            results.append(hubspot_search_share(url, sizes.hubspot_calls))
    if "load" in parts:
        from nurture.bench.load import bench_load

        progress(f"load: {sizes.load_rows:,} Marketo activity rows into PostgreSQL, three ways")
        with (
            running_sandbox(sizes.seed, sizes.load_leads, home=home, rate_limits=False) as url,
            scratch_postgres(settings) as pg,
        ):
            results += bench_load(url, pg, sizes.load_rows)
    if "incremental" in parts:
        from nurture.bench.incremental import bench_incremental

        progress(f"incremental: full then one-day run, {sizes.incremental_leads:,} leads")
        with (
            running_sandbox(
                sizes.seed,
                sizes.incremental_leads,
                home=home,
                rate_limits=sizes.incremental_rate_limits,
            ) as url,
            tempfile.TemporaryDirectory(dir=home) as work,
        ):
            results.append(bench_incremental(url, Path(work)))
    if "memory" in parts:
        from nurture.bench.memory import bench_memory

        progress(f"memory: Marketo sync at two sizes ({sizes.memory_scale}x), one process each")
        with tempfile.TemporaryDirectory(dir=home) as work:
            results.append(bench_memory(sizes.seed, Path(work), sizes.memory_scale))
    if "quarantine" in parts:
        from nurture.bench.quarantine import SCALE, bench_quarantine

        progress(
            f"quarantine: file import of {sizes.quarantine_rows:,} and "
            f"{sizes.quarantine_rows * SCALE:,} bad rows, one process each"
        )
        with tempfile.TemporaryDirectory(dir=home) as work:
            results.append(bench_quarantine(Path(work), sizes.quarantine_rows))
    if "scoring" in parts:
        from nurture.bench.scoring import bench_scoring

        progress(f"scoring: {sizes.scoring_leads:,} synthetic leads, scorer vs one DuckDB query")
        results.append(bench_scoring(sizes.scoring_leads))
    if "marts" in parts:
        from nurture.bench.marts import bench_marts

        progress(
            f"marts: build_marts DAG vs plain dbt build, {sizes.marts_leads:,} leads, "
            f"{sizes.marts_rounds} round(s)"
        )
        with (
            running_sandbox(sizes.seed, sizes.marts_leads, home=home, rate_limits=False) as url,
            tempfile.TemporaryDirectory(dir=home) as work,
        ):
            logs = settings.home / "logs" / "bench-marts"
            results.append(bench_marts(url, Path(work), logs, sizes.marts_rounds))
    if "cycle" in parts:
        from nurture.bench.cycle import bench_cycle

        progress(
            f"cycle: full load, then one day and the incremental cycle, {sizes.cycle_leads:,} "
            "leads, rate limits on"
        )
        with (
            running_sandbox(sizes.seed, sizes.cycle_leads, home=home) as url,
            tempfile.TemporaryDirectory(dir=home) as work,
        ):
            logs = settings.home / "logs" / "bench-cycle"
            results += bench_cycle(url, Path(work), sizes.cycle_leads, logs)
    return results


def report(results: list[Result], settings: Settings) -> tuple[str, Path]:
    """A table for people and a JSON file for machines (NURTURE_HOME/reports)."""
    lines = [f"{'figure':58} {'value':>8} {'goal':>8}  met"]
    for r in results:
        goal = "" if r.goal is None else f"{'>=' if r.higher_is_better else '<='}{r.goal:g}"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append(f"{r.name:58} {r.value:8.3f} {goal:>8}  {met}")
        lines += render_detail(r.detail)
    out_dir = settings.home / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{datetime.now():%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps([r.as_dict() for r in results], indent=2, default=str))
    return "\n".join(lines), path
