"""Run the dbt project against the configured warehouse, in-process via dbtRunner."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nurture.config import DBT_PROJECT_DIR, Settings
from nurture.progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """A dbt model or test failed; the message names each failing node."""


@dataclass(frozen=True)
class DbtRun:
    command: str
    results: dict[str, str]
    # rows each node wrote, where the adapter reports it (incremental merges, tables)
    rows_affected: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in self.results.values():
            counts[status] = counts.get(status, 0) + 1
        return counts


def dbt_env(settings: Settings) -> dict[str, str]:
    """Variables the profiles and the project read (see dbt_project/profiles.yml; the BI
    role the bi views are granted to, dbt_project/macros/bi_access.sql). Never the
    pseudonym key: dbt does not need it, and it must not reach SQL."""
    pg = settings.postgres
    return {
        "NURTURE_HOME": str(settings.home),
        "NURTURE_BI_ROLE": settings.bi_role,
        "NURTURE_DUCKDB_MEMORY": settings.duckdb_memory,
        "NURTURE_PG_HOST": pg.host,
        "NURTURE_PG_PORT": str(pg.port),
        "NURTURE_PG_USER": pg.user,
        "NURTURE_PG_PASSWORD": pg.password,
        "NURTURE_PG_DATABASE": pg.database,
    }


DBT_PROFILE = "nurture"  # dbt_project/profiles.yml
DBT_PROJECT = "nurture"  # dbt_project/dbt_project.yml
PARTIAL_PARSE = "partial_parse.msgpack"


def parse_cache_dir(settings: Settings) -> Path:
    """Where dbt's last parse of the project is kept for the next dbt call to start from
    (`partial_parse.msgpack`): the Airflow dbt tasks and the freshness check share it."""
    return settings.home / "dbt" / settings.warehouse / "parse"


def reuse_parse(cache_dir: Path, target_dir: Path) -> int | None:
    """Put the cached parse in a dbt call's target directory, so dbt re-reads only the
    files that changed since (it re-parses in full when the project, profile or vars
    differ). Returns the copy's mtime, which changes if dbt writes a new parse."""
    cached = cache_dir / PARTIAL_PARSE
    if not cached.is_file():
        return None
    target_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target_dir / PARTIAL_PARSE)
    return (target_dir / PARTIAL_PARSE).stat().st_mtime_ns


def publish_parse(target_dir: Path, cache_dir: Path, reused: int | None = None) -> None:
    """Cache the parse a dbt call wrote (none if it reused `reused` unchanged). Atomic:
    a dbt task of another run may be copying the cached file at the same moment."""
    fresh = target_dir / PARTIAL_PARSE
    if not fresh.is_file() or fresh.stat().st_mtime_ns == reused:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{PARTIAL_PARSE}.")
    os.close(fd)
    try:
        Path(tmp).write_bytes(_rooted_in_project(fresh.read_bytes()))
        os.replace(tmp, cache_dir / PARTIAL_PARSE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rooted_in_project(packed: bytes) -> bytes:
    """dbt records where it parsed the project and reads seeds from there later; a parse
    made in cosmos's temporary copy would send the next task to a deleted directory."""
    import msgpack

    parse = msgpack.unpackb(packed, strict_map_key=False)
    here = str(DBT_PROJECT_DIR)
    roots = {
        file["path"]["project_root"]
        for file in parse.get("files", {}).values()
        if file.get("project_name") == DBT_PROJECT and isinstance(file.get("path"), dict)
    } - {here}
    if not roots:
        return packed
    return msgpack.packb(_reroot(parse, roots, here))


def _reroot(value: Any, roots: set[str], here: str) -> Any:
    if isinstance(value, dict):
        return {key: _reroot(item, roots, here) for key, item in value.items()}
    if isinstance(value, list):
        return [_reroot(item, roots, here) for item in value]
    return here if isinstance(value, str) and value in roots else value


# dbt source -> a raw table that exists once the source has loaded anything (the
# freshness check skips the source until then). Files arrive only when someone drops
# them, and each kind's table (raw_files.trade_show, raw_files.business_cards) only with
# its first file: their staging models read a table not created yet as empty (macro
# `source_or_empty`), so a trade-show list alone builds, and file leads flow into
# identity resolution, dim_lead and scoring whatever has been dropped.
OPTIONAL_SOURCES = {"files": "raw_files.imported_files"}
# Optional sources whose models are left out of the build while they have no data:
# none now (dim_lead reads the file kinds), kept for sources without empty fallbacks.
EXCLUDED_WHEN_ABSENT: dict[str, str] = {}


def dbt_args(command: str, settings: Settings, work_dir: Path) -> list[str]:
    """A dbt command line on this project and warehouse, writing under `work_dir`
    (`target/`, `logs/`): concurrent dbt calls each keep a directory of their own."""
    return [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        settings.warehouse,
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]


def absent_sources(settings: Settings) -> list[str]:
    from nurture.warehouse import get_warehouse

    warehouse = get_warehouse(settings)
    return [name for name, table in OPTIONAL_SOURCES.items() if not warehouse.table_exists(table)]


def exclusions(settings: Settings) -> list[str]:
    """dbt `--exclude` selectors for the optional sources with no data yet whose models
    cannot build without it (`EXCLUDED_WHEN_ABSENT`)."""
    from nurture.warehouse import get_warehouse

    if not EXCLUDED_WHEN_ABSENT:
        return []
    warehouse = get_warehouse(settings)
    absent = [
        name for name, table in EXCLUDED_WHEN_ABSENT.items() if not warehouse.table_exists(table)
    ]
    if absent:
        log.info("dbt: no data yet from %s; leaving their models out", absent)
    return [f"source:{name}+" for name in absent]


class NodeCounter:
    """A dbtRunner callback telling a `Progress` how many of the selected nodes (models,
    tests, seeds, snapshots) have finished: the total from dbt's `ConcurrencyLine` event,
    one more at each `NodeFinished`. dbt fails the whole run when a callback raises, so
    this one never does. Called from dbt's worker threads."""

    def __init__(self, command: str, progress: Progress) -> None:
        self.key = f"dbt {command}"
        self.progress = progress
        self.total: int | None = None
        self.finished = 0
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        try:
            name = event.info.name
            if name == "ConcurrencyLine":
                self.total = int(event.data.node_count)
                self.progress.update(
                    self.key, f"{self.key}: {self.total:,} nodes", completed=0, total=self.total
                )
            elif name == "NodeFinished":
                with self._lock:
                    self.finished += 1
                    finished = self.finished
                info = getattr(event.data, "node_info", None)
                node = f"{getattr(info, 'node_name', '?')} {getattr(info, 'node_status', '')}"
                self.progress.update(
                    self.key,
                    f"{self.key}: {node.strip()}",
                    completed=finished,
                    total=self.total,
                )
        except Exception as exc:  # never fail a build over its progress display
            log.debug("dbt progress: %s", exc)

    def done(self, run: DbtRun) -> None:
        counts: dict[str, int] = {}
        for node, status in run.results.items():
            if not node.startswith("operation."):  # the project's hooks are not selected
                counts[status] = counts.get(status, 0) + 1
        text = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))
        self.progress.done(self.key, f"{self.key}: {text or 'nothing selected'}")


def run_dbt(
    settings: Settings,
    command: str = "build",
    args: Sequence[str] = (),
    progress: Progress = NO_PROGRESS,
) -> DbtRun:
    """Run `dbt <command> <args>` in this process; raises `DbtFailed` naming each failed
    node. `progress` is told of each node finished out of those selected."""
    from dbt.cli.main import dbtRunner

    args = list(args)
    if command in ("build", "run", "test") and (excluded := exclusions(settings)):
        args += ["--exclude", *excluded]
    os.environ.update(dbt_env(settings))
    cli_args = [*dbt_args(command, settings, settings.home / "dbt" / settings.warehouse), *args]
    counter = NodeCounter(command, progress) if progress.active else None
    runner = dbtRunner(callbacks=[counter]) if counter is not None else dbtRunner()
    result = runner.invoke(cli_args)
    statuses: dict[str, str] = {}
    rows_affected: dict[str, int] = {}
    failures: list[str] = []
    for node in getattr(result.result, "results", None) or []:
        status = str(getattr(node.status, "value", node.status))
        statuses[node.node.unique_id] = status
        rows = (getattr(node, "adapter_response", None) or {}).get("rows_affected")
        if isinstance(rows, int) and rows >= 0:
            rows_affected[node.node.unique_id] = rows
        if status in ("error", "fail"):
            failures.append(f"- {node.node.unique_id}: {status}: {node.message}")
    if not result.success:
        error = result.exception
        reason = "\n".join(failures) or (
            f"{type(error).__name__}: {error}" if error is not None else "no reason given"
        )
        raise DbtFailed(f"dbt {command} failed on {settings.warehouse}:\n{reason}")
    run = DbtRun(command=command, results=statuses, rows_affected=rows_affected)
    if counter is not None:
        counter.done(run)
    log.info("dbt %s on %s: %s", command, settings.warehouse, run.counts)
    return run
