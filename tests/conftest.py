"""Shared fixtures: throw-away warehouses on DuckDB and PostgreSQL.

In CI (`CI=true`) an unreachable PostgreSQL fails the tests that need it; on a
laptop without one they are skipped with the reason.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from nurture.config import Settings, load_settings


def pytest_configure(config: pytest.Config) -> None:
    """Airflow reads its config at import: point it at a throw-away home first."""
    home = tempfile.mkdtemp(prefix="nurture-test-airflow-")
    os.environ["AIRFLOW_HOME"] = home
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The real-deployment tests first: they are the longest file, so with xdist one
    worker starts on them while the other runs the rest, instead of both ending on it."""
    items.sort(key=lambda item: item.get_closest_marker("scheduler") is None)


PG = {
    "host": os.environ.get("NURTURE_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("NURTURE_PG_PORT", "5432")),
    "user": os.environ.get("NURTURE_PG_USER", "postgres"),
    "password": os.environ.get("NURTURE_PG_PASSWORD", ""),
}


def _admin_connect():
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
        **{k: v for k, v in PG.items() if v != ""},
    )


def require_postgres() -> None:
    try:
        with _admin_connect():
            pass
    except Exception as exc:
        message = f"PostgreSQL at {PG['host']}:{PG['port']} is unreachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI requires it)")
        pytest.skip(message)


@contextmanager
def scratch_database(prefix: str = "nurture_test") -> Iterator[str]:
    """A fresh PostgreSQL database for the block, dropped afterwards."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _admin_connect() as con:
        con.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with _admin_connect() as con:
            con.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    with scratch_database() as name:
        yield name


def settings_for(home: Path, warehouse: str, database: str = "nurture") -> Settings:
    env = {
        "NURTURE_HOME": str(home),
        "NURTURE_WAREHOUSE": warehouse,
        "NURTURE_PG_HOST": PG["host"],
        "NURTURE_PG_PORT": str(PG["port"]),
        "NURTURE_PG_USER": PG["user"],
        "NURTURE_PG_PASSWORD": PG["password"],
        "NURTURE_PG_DATABASE": database,
    }
    return load_settings(env)


def settings_env(settings: Settings) -> dict[str, str]:
    """This process's environment with `settings` in it, for a child process."""
    pg = settings.postgres
    return {
        **os.environ,
        "NURTURE_HOME": str(settings.home),
        "NURTURE_WAREHOUSE": settings.warehouse,
        "NURTURE_PG_HOST": pg.host,
        "NURTURE_PG_PORT": str(pg.port),
        "NURTURE_PG_USER": pg.user,
        "NURTURE_PG_PASSWORD": pg.password,
        "NURTURE_PG_DATABASE": pg.database,
    }


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each warehouse kind, each on its own empty warehouse."""
    if request.param == "postgres":
        database = request.getfixturevalue("pg_database")
        return settings_for(tmp_path, "postgres", database)
    return settings_for(tmp_path, "duckdb")


# `make demo`'s world for the tests that compare with it (tests/e2e/test_demo.py,
# tests/deploy): seed and leads of the first demo run every such test starts from
DEMO_SEED, DEMO_LEADS = 7, 800


def run_demo_cli(
    home: Path,
    extra_env: dict[str, str] | None = None,
    faults: str = "none",
    seed: int = DEMO_SEED,
    leads: int = DEMO_LEADS,
) -> str:
    """`nurture demo` in a process of its own, as `make demo` runs it; its stdout."""
    import subprocess
    import sys

    env = {**os.environ, "NURTURE_HOME": str(home), **(extra_env or {})}
    args = ["demo", "--seed", str(seed), "--leads", str(leads), "--faults", faults]
    done = subprocess.run(
        [sys.executable, "-m", "nurture.cli", *args],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="session")
def first_demo(tmp_path_factory: pytest.TempPathFactory):
    """One fault-free demo run per test session, shared by every xdist worker: the first
    worker to take the lock runs it, the others wait. Returns `copy(dest) -> stdout`,
    which copies the run's NURTURE_HOME to `dest` (under the lock, so nobody reads the
    warehouse file while another process writes it); callers work on their copy."""
    import fcntl
    import shutil

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home = shared / f"first-demo-s{DEMO_SEED}-n{DEMO_LEADS}"
    lock_path = shared / f"{home.name}.lock"

    def copy(dest: Path) -> str:
        with lock_path.open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            stdout = home / "demo-stdout.txt"
            if not stdout.exists():
                out = run_demo_cli(home)
                stdout.write_text(out, encoding="utf-8")
            shutil.copytree(home, dest, symlinks=True, dirs_exist_ok=True)
            return stdout.read_text(encoding="utf-8")

    return copy
