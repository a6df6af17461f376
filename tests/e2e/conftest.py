"""A synced and built world, and its ground truth, shared by the KPI truth tests.

`truth_world` syncs a sandbox world into a fresh warehouse (DuckDB and PostgreSQL, one
parameter each) and runs `dbt build` once per test session and worker. Its `truth`
is what `nurture sandbox truth` writes (the world's tables and `lead_truth` as Parquet),
queried with plain DuckDB SQL: a truth test recomputes each KPI from those files and
never reads the marts' models to do so. Tests must not change the world or the
warehouse; a test that advances the sandbox builds its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest

from nurture.config import Settings
from nurture.load.sync import SOURCES, run_sync
from nurture.sandbox.world import world_path, write_truth
from nurture.transform.dbt import run_dbt
from nurture.warehouse import get_warehouse
from tests.conftest import scratch_database, settings_for
from tests.load.test_sync import connection

# the truth checks collected by test_kpi_truth.py get pytest's assertion messages too
pytest.register_assert_rewrite("tests.e2e.truth_engagement", "tests.e2e.truth_ab_roi")

TRUTH_SEED, TRUTH_LEADS = 13, 1500


@dataclass
class Truth:
    """The truth files, one DuckDB view per file (`activities`, `sf_lead`, `lead_truth`...)."""

    folder: Path

    def sql(self, query: str) -> pd.DataFrame:
        with duckdb.connect() as con:
            for file in sorted(self.folder.glob("*.parquet")):
                path = str(file).replace("'", "''")
                con.execute(f"create view {file.stem} as select * from read_parquet('{path}')")
            return con.execute(query).df()


@dataclass
class TruthWorld:
    settings: Settings
    url: str
    until: datetime
    truth: Truth

    def query(self, sql: str) -> pd.DataFrame:
        return get_warehouse(self.settings).query(sql)


def within_sampling_error(got: float, truth: float, n: int, sigmas: float = 2.0) -> bool:
    """A rate measured on n trials agrees with the true rate (binomial standard error)."""
    se = math.sqrt(max(truth * (1 - truth), 1e-12) / max(n, 1))
    return abs(got - truth) <= sigmas * se + 1e-9


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def truth_world(request, tmp_path_factory) -> Iterator[TruthWorld]:
    from nurture.sandbox.server import running_sandbox

    warehouse = request.param
    home = tmp_path_factory.mktemp(f"truth-world-{warehouse}")
    with ExitStack() as stack:
        database = stack.enter_context(scratch_database()) if warehouse == "postgres" else "nurture"
        settings = settings_for(home, warehouse, database)
        url = stack.enter_context(
            running_sandbox(seed=TRUTH_SEED, leads=TRUTH_LEADS, home=home, rate_limits=False)
        )
        today = httpx.get(f"{url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        for source in SOURCES:
            run_sync(source, settings, until=until, conn=connection(source, url, until))
        run_dbt(settings, "build")
        folder = home / "truth"
        write_truth(world_path(TRUTH_SEED, TRUTH_LEADS, home), folder)
        yield TruthWorld(settings, str(url), until, Truth(folder))
