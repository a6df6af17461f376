"""Run the dbt project against the configured warehouse, in-process via dbtRunner."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from nurture.config import DBT_PROJECT_DIR, Settings

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
    """Variables the profiles read (see dbt_project/profiles.yml)."""
    pg = settings.postgres
    return {
        "NURTURE_HOME": str(settings.home),
        "NURTURE_PG_HOST": pg.host,
        "NURTURE_PG_PORT": str(pg.port),
        "NURTURE_PG_USER": pg.user,
        "NURTURE_PG_PASSWORD": pg.password,
        "NURTURE_PG_DATABASE": pg.database,
    }


# dbt source -> a raw table that exists once the source has loaded anything. Files arrive
# only when someone drops them, so until then their models are left out, not failed.
OPTIONAL_SOURCES = {"files": "raw_files.imported_files"}


def absent_sources(settings: Settings) -> list[str]:
    from nurture.warehouse import get_warehouse

    warehouse = get_warehouse(settings)
    return [name for name, table in OPTIONAL_SOURCES.items() if not warehouse.table_exists(table)]


def exclusions(settings: Settings) -> list[str]:
    """dbt `--exclude` selectors for the optional sources with no data yet."""
    absent = absent_sources(settings)
    if absent:
        log.info("dbt: no data yet from %s; leaving their models out", absent)
    return [f"source:{name}+" for name in absent]


def run_dbt(settings: Settings, command: str = "build", args: Sequence[str] = ()) -> DbtRun:
    from dbt.cli.main import dbtRunner

    args = list(args)
    if command in ("build", "run", "test") and (excluded := exclusions(settings)):
        args += ["--exclude", *excluded]
    os.environ.update(dbt_env(settings))
    target_dir = settings.home / "dbt" / settings.warehouse
    cli_args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        settings.warehouse,
        "--target-path",
        str(target_dir / "target"),
        "--log-path",
        str(target_dir / "logs"),
        *args,
    ]
    result = dbtRunner().invoke(cli_args)
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
        reason = "\n".join(failures) or repr(result.exception)
        raise DbtFailed(f"dbt {command} failed on {settings.warehouse}:\n{reason}")
    run = DbtRun(command=command, results=statuses, rows_affected=rows_affected)
    log.info("dbt %s on %s: %s", command, settings.warehouse, run.counts)
    return run
