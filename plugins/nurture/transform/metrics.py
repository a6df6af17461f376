"""The semantic layer: MetricFlow's `mf` CLI on the configured warehouse (docs/metrics.md).

The metrics and semantic models are dbt YAML (dbt_project/models/semantic). `mf` reads
them from `<dbt project>/target/semantic_manifest.json`, a path it does not let one
change, and that manifest names the warehouse's relations (the DuckDB catalog, the
PostgreSQL database). So each warehouse gets a project directory of its own under
`$NURTURE_HOME/dbt/<warehouse>/semantic`: links to the project's files and a target
directory of its own, which `dbt parse` fills before `mf` runs. Two warehouses, or a
developer's `dbt parse` in dbt_project/, never overwrite each other's manifest.

    python -m nurture.transform.metrics query --metrics ctr --group-by metric_time__month

parses (partial parsing keeps a repeat short) and runs `mf` with the arguments given,
on the warehouse NURTURE_WAREHOUSE and the NURTURE_* variables name. `query` runs one
`mf query` as a DataFrame; `MetricsEngine` is the same engine in this process, set up
once (a `mf` process spends seconds starting) for many queries.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from nurture.config import DBT_PROJECT_DIR, Settings, load_settings

# dbt_project entries the semantic project does not share: each has its own
NOT_LINKED = frozenset({"target", "logs", "dbt_packages"})
SEMANTIC_MANIFEST = "semantic_manifest.json"


class MetricsQueryFailed(RuntimeError):
    """`dbt parse` or `mf query` failed; the message carries their output."""


def semantic_project(settings: Settings) -> Path:
    """The warehouse's project directory for `mf`: a link to each of dbt_project's
    files and folders, and its own `target/` and `logs/`."""
    root = settings.home / "dbt" / settings.warehouse / "semantic"
    root.mkdir(parents=True, exist_ok=True)
    for entry in DBT_PROJECT_DIR.iterdir():
        if entry.name in NOT_LINKED:
            continue
        link = root / entry.name
        if link.is_symlink() and os.readlink(link) == str(entry):
            continue
        # atomic: another process may be reading the project through the old link
        tmp = root / f".{entry.name}.{os.getpid()}.link"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(entry)
        os.replace(tmp, link)
    return root


def mf_env(settings: Settings) -> dict[str, str]:
    """This process's environment with what the profile and `mf` need: the NURTURE_*
    variables the profiles read, the target (the profile follows NURTURE_WAREHOUSE;
    `mf` has no --target) and the profiles directory."""
    from nurture.transform.dbt import dbt_env

    return {
        **os.environ,
        **dbt_env(settings),
        "NURTURE_WAREHOUSE": settings.warehouse,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(semantic_project(settings)),
    }


def parse(settings: Settings) -> Path:
    """`dbt parse` of the project into the warehouse's semantic project, which validates
    the semantic models and metrics and writes the semantic manifest; returns its path."""
    from dbt.cli.main import dbtRunner

    from nurture.transform.dbt import dbt_env

    project = semantic_project(settings)
    os.environ.update(dbt_env(settings))
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            settings.warehouse,
            "--target-path",
            str(project / "target"),
            "--log-path",
            str(project / "logs"),
            "--quiet",
        ]
    )
    manifest = project / "target" / SEMANTIC_MANIFEST
    if not result.success or not manifest.is_file():
        raise MetricsQueryFailed(
            f"dbt parse failed on {settings.warehouse}: {result.exception!r} (see {project}/logs)"
        )
    return manifest


def mf_executable() -> str:
    """The `mf` next to this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "mf"
    if beside.is_file():
        return str(beside)
    found = shutil.which("mf")
    if found is None:
        raise MetricsQueryFailed("the MetricFlow CLI `mf` is not installed (dbt-metricflow)")
    return found


def release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after an in-process dbt
    call (`run_dbt`) or a `MetricsEngine` query: `mf` is another process, and DuckDB lets
    one process at a time open a file for writing. The next dbt call or engine query
    here opens it again."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        environment, manager._ENV = manager._ENV, None
    # dbt-duckdb keeps the file open (keep_open) while anything references its
    # environment, say a MetricsEngine's closed connections: close it outright
    if environment is not None:
        environment.close()


def run_mf(
    settings: Settings, args: Sequence[str], *, parse_first: bool = True, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """`mf <args>` on the warehouse, from its semantic project (`mf` must start in the
    project's root), after `dbt parse` unless `parse_first` is false."""
    if parse_first:
        parse(settings)
    if settings.warehouse == "duckdb":
        release_duckdb()
    return subprocess.run(
        [mf_executable(), *args],
        cwd=semantic_project(settings),
        env=mf_env(settings),
        capture_output=capture,
        text=True,
        check=False,
    )


def query(
    settings: Settings,
    metrics: Sequence[str],
    group_by: Sequence[str] = (),
    *,
    where: Sequence[str] = (),
    order: Sequence[str] = (),
    start_time: str | None = None,
    end_time: str | None = None,
    parse_first: bool = True,
) -> pd.DataFrame:
    """`mf query` for `metrics` by `group_by`, as a DataFrame (one column per group-by
    item, then one per metric; nulls where a ratio's denominator is 0)."""
    args = ["query", "--metrics", ",".join(metrics), "--quiet"]
    if group_by:
        args += ["--group-by", ",".join(group_by)]
    for condition in where:
        args += ["--where", condition]
    if order:
        args += ["--order", ",".join(order)]
    if start_time:
        args += ["--start-time", start_time]
    if end_time:
        args += ["--end-time", end_time]
    with tempfile.TemporaryDirectory(prefix="nurture-mf-") as tmp:
        out = Path(tmp) / "result.csv"
        done = run_mf(settings, [*args, "--csv", str(out)], parse_first=parse_first)
        if done.returncode != 0:
            raise MetricsQueryFailed(
                f"mf {' '.join(args)} failed on {settings.warehouse} "
                f"(exit {done.returncode}):\n{done.stdout}\n{done.stderr}".rstrip()
            )
        if not out.is_file():  # `mf` writes no file for an empty result
            return pd.DataFrame(columns=[*group_by, *metrics])
        text = out.read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text))


@contextmanager
def _profile_env(settings: Settings) -> Iterator[None]:
    """The variables the profile reads, for the block only."""
    env = {k: v for k, v in mf_env(settings).items() if os.environ.get(k) != v}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class MetricsEngine:
    """MetricFlow in this process: the engine `mf query` runs, with the same project,
    profile and semantic manifest, set up once for many queries. It holds a connection
    through dbt's adapter: a later in-process dbt call resets dbt's adapters, so set up
    a new engine after one."""

    def __init__(self, settings: Settings, *, parse_first: bool = True) -> None:
        from dbt_metricflow.cli.cli_configuration import CLIConfiguration

        if parse_first:
            parse(settings)
        self.settings = settings
        config = CLIConfiguration()
        with _profile_env(settings):
            config.setup(
                dbt_profiles_path=DBT_PROJECT_DIR,
                dbt_project_path=semantic_project(settings),
                configure_file_logging=False,
            )
            self._mf: Any = config.mf

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        *,
        where: Sequence[str] = (),
        order: Sequence[str] = (),
        limit: int | None = None,
    ) -> pd.DataFrame:
        """As `query`: one column per group-by item (metric_time first), then per metric."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            order_by_names=list(order) or None,
            limit=limit,
        )
        table = self._mf.query(mf_request=request).result_df
        if table is None:
            return pd.DataFrame(columns=[*group_by, *metrics])
        return pd.DataFrame([list(row) for row in table.rows], columns=list(table.column_names))

    def explain(self, metrics: Sequence[str], group_by: Sequence[str] = ()) -> str:
        """The SQL MetricFlow runs for the query."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics), group_by_names=list(group_by) or None
        )
        return self._mf.explain(mf_request=request).sql_statement.without_descriptions.sql


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m nurture.transform.metrics <mf arguments>`: parse, then `mf` with them,
    its output on this terminal."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        args = ["--help"]
    settings = load_settings()
    done = run_mf(settings, args, parse_first=args[0] != "--help", capture=False)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
