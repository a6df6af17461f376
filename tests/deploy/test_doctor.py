"""`nurture doctor`, run as a subprocess against a real sandbox, warehouse and Airflow home.

One sandbox (a small world, with a token so a wrong secret is refused) and one migrated
Airflow home with the project's DAGs registered serve every test; the broken deployment
is one doctor run whose lines several tests read.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nurture.config import Settings
from nurture.connections import connection_env
from nurture.doctor import Redactor
from nurture.sandbox.server import free_port, running_sandbox
from tests.conftest import settings_env, settings_for

REPO = Path(__file__).resolve().parents[2]
SEED, LEADS = 5, 1000
SECRET = "good-secret-4f9a1c"
WRONG_SECRET = "wrong-secret-7d2e8b"
# db migrate, dags reserialize and nurture airflow-init in one process: one Airflow import.
AIRFLOW_SETUP = """
from airflow.cli import cli_parser
from nurture.airflow_setup import ensure_pools
from nurture.config import load_settings
parser = cli_parser.get_parser()
for argv in (["db", "migrate"], ["dags", "reserialize"]):
    args = parser.parse_args(argv)
    args.func(args)
ensure_pools(load_settings())
"""


def airflow_env(home: Path, dags: Path = REPO / "dags") -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


def connections(
    url: str, marketo: str = SECRET, salesforce: str = SECRET, hubspot: str = ""
) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_MARKETO_DEFAULT": connection_env(url, "nurture-doctor", marketo),
        "AIRFLOW_CONN_HUBSPOT_DEFAULT": connection_env(hubspot or url, "", SECRET),
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": connection_env(url, "nurture-doctor", salesforce),
        "AIRFLOW_CONN_SLACK_DEFAULT": connection_env(f"{url}/hooks/slack/doctor", "", ""),
    }


@dataclass
class Run:
    code: int
    out: str
    err: str

    def line(self, name: str) -> str:
        """The line of check `name` (the first, for checks that may repeat)."""
        for line in self.out.splitlines():
            if line[6:].split("  ")[0].strip() == name:
                return line
        raise AssertionError(f"no {name!r} line in:\n{self.out}\n{self.err}")

    def checks(self) -> list[str]:
        return [line for line in self.out.splitlines() if line[:6].strip() in LABELS]


LABELS = {"ok", "warn", "FAIL", "skip"}


def start_doctor(settings: Settings, env: dict[str, str], *args: str) -> subprocess.Popen:
    base = {k: v for k, v in settings_env(settings).items() if not k.startswith("AIRFLOW_CONN_")}
    return subprocess.Popen(
        [sys.executable, "-m", "nurture.cli", "doctor", *args],
        cwd=REPO,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> Run:
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    return Run(proc.returncode, out, err)


def doctor(settings: Settings, env: dict[str, str], *args: str) -> Run:
    return finish(start_doctor(settings, env, *args))


@pytest.fixture(scope="module")
def airflow_setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, subprocess.Popen]]:
    """Starts migrating an Airflow home; `airflow_home` waits for it (meanwhile the
    sandbox starts)."""
    home = tmp_path_factory.mktemp("airflow")
    log = (home / "setup.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", AIRFLOW_SETUP],
        env={
            **os.environ,
            **airflow_env(home),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "NURTURE_WAREHOUSE": "duckdb",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    yield home, proc
    proc.kill()
    log.close()


@pytest.fixture(scope="module")
def sandbox_url(
    airflow_setup: tuple[Path, subprocess.Popen], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("sandbox")
    with running_sandbox(SEED, LEADS, home=home, token=SECRET, rate_limits=False) as url:
        yield str(url)


@pytest.fixture(scope="module")
def airflow_home(
    airflow_setup: tuple[Path, subprocess.Popen], sandbox_url: str, broken_run: subprocess.Popen
) -> Path:
    """The migrated home; the broken run (it needs only the sandbox) runs meanwhile."""
    home, proc = airflow_setup
    code = proc.wait(timeout=300)
    assert code == 0, (home / "setup.log").read_text()[-3000:]
    return home


def test_healthy_deployment_is_all_ok(airflow_home: Path, sandbox_url: str, tmp_path: Path):
    settings = settings_for(tmp_path, "duckdb")
    run = doctor(settings, {**airflow_env(airflow_home), **connections(sandbox_url)})

    assert run.code == 0, run.out + run.err
    checks = run.checks()
    assert [c.split()[0] for c in checks] == ["ok"] * len(checks), run.out
    for name in ("marketo", "hubspot", "salesforce", "slack", "sandbox", "warehouse"):
        run.line(name)
    for name in ("schemas", "quarantine", "dlt packages", "airflow db", "dags", "pool"):
        run.line(name)
    assert "nurture_warehouse: 1 slot, as the duckdb warehouse wants" in run.line("pool")
    assert "authenticated" in run.line("marketo")
    assert f"seed {SEED}, 1,000 leads, today " in run.line("sandbox")
    assert "6 DAGs parse" in run.line("dags")
    assert "6 DAGs registered, none paused" in run.line("paused dags")
    assert run.out.rstrip().endswith("all good")
    assert SECRET not in run.out + run.err


@pytest.fixture(scope="module")
def broken_run(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> subprocess.Popen:
    """Wrong secrets, an unreachable host, a DAG file that does not parse, and an Airflow
    home whose metadata DB was never migrated: one doctor run, started at once."""
    root = tmp_path_factory.mktemp("broken")
    dags = root / "dags"
    dags.mkdir()
    # DagBag's safe mode only reads files that mention both "airflow" and "dag".
    (dags / "broken_dag.py").write_text("from airflow.sdk import dag\n\n\ndef oops(:\n    pass\n")
    unreachable = f"http://127.0.0.1:{free_port()}"
    env = {
        **airflow_env(root / "airflow-home", dags),
        **connections(sandbox_url, WRONG_SECRET, WRONG_SECRET, hubspot=unreachable),
    }
    return start_doctor(settings_for(root / "home", "duckdb"), env)


@pytest.fixture(scope="module")
def broken(broken_run: subprocess.Popen) -> Run:
    return finish(broken_run)


def test_wrong_secret_fails_naming_the_connection(broken: Run):
    assert broken.code == 1
    marketo = broken.line("marketo")
    assert marketo.startswith("FAIL  marketo ")
    assert "could not authenticate (HTTP 401" in marketo
    assert "AIRFLOW_CONN_MARKETO_DEFAULT" in marketo
    salesforce = broken.line("salesforce")
    assert salesforce.startswith("FAIL  salesforce ")
    assert "AIRFLOW_CONN_SALESFORCE_DEFAULT" in salesforce
    assert broken.line("slack").startswith("ok ")
    # Marketo's identity call carries the secret in its query string.
    assert WRONG_SECRET not in broken.out + broken.err
    assert SECRET not in broken.out + broken.err
    assert "Traceback" not in broken.out + broken.err


def test_unreachable_host_fails_with_a_hint(broken: Run):
    hubspot = broken.line("hubspot")
    assert hubspot.startswith("FAIL  hubspot ")
    assert "cannot reach http://127.0.0.1:" in hubspot
    assert "connection refused" in hubspot
    assert "check the host in AIRFLOW_CONN_HUBSPOT_DEFAULT" in hubspot


def test_dag_syntax_error_fails_naming_the_file(broken: Run):
    dags = broken.line("dags")
    assert dags.startswith("FAIL  dags ")
    assert "broken_dag.py line 4: SyntaxError" in dags
    assert "\n" not in dags


def test_unmigrated_metadata_db_says_how_to_fix_it(broken: Run):
    assert broken.line("airflow db").startswith("FAIL  airflow db ")
    assert "`airflow db migrate`" in broken.line("airflow db")
    assert broken.line("paused dags").startswith("skip ")
    assert broken.line("failed runs").startswith("skip ")


def _sqlite_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_paused_dags_and_failed_runs(airflow_home: Path, tmp_path: Path):
    """In this process, on a copy of the migrated DB (a doctor run costs an Airflow import)."""
    from sqlalchemy import create_engine

    from nurture.doctor import AirflowState, check_failed_runs, check_paused, check_pool, ok

    db = tmp_path / "airflow.db"
    shutil.copy(airflow_home / "airflow.db", db)
    now = datetime.now(UTC)
    runs = [  # (dag, run, state, age): marketo's latest run failed, hubspot's recovered
        ("sync_marketo", "manual__1", "failed", timedelta(hours=2)),
        ("sync_hubspot", "manual__1", "failed", timedelta(hours=3)),
        ("sync_hubspot", "manual__2", "success", timedelta(hours=1)),
        ("build_marts", "manual__1", "failed", timedelta(days=3)),  # too old to count
    ]
    with sqlite3.connect(db) as con:
        con.execute("update dag set is_paused = 1 where dag_id = 'import_files'")
        con.executemany(
            "insert into dag_run (dag_id, run_id, run_type, run_after, state, start_date, "
            "end_date) values (?, ?, 'manual', ?, ?, ?, ?)",
            [
                (dag, run, _sqlite_time(now - age), state, *[_sqlite_time(now - age)] * 2)
                for dag, run, state, age in runs
            ],
        )
    engine = create_engine(f"sqlite:///{db}")
    try:
        state = AirflowState(ok("airflow db", "test"), engine)
        paused, failed = check_paused(state), check_failed_runs(state)
        with engine.begin() as con:
            con.exec_driver_sql("update slot_pool set slots = 4 where pool = 'nurture_warehouse'")
        resized = check_pool(state)
        with engine.begin() as con:
            con.exec_driver_sql("delete from slot_pool where pool = 'nurture_warehouse'")
        missing = check_pool(state)
    finally:
        engine.dispose()

    assert paused.line().startswith("warn  paused dags   1 of 6 paused: import_files: ")
    assert "airflow dags unpause" in paused.hint
    assert failed.status == "fail"
    assert failed.message.startswith("latest run failed: sync_marketo (1)")
    assert "sync_hubspot (1)" in failed.message
    assert "build_marts" not in failed.message
    assert resized.status == "warn" and "nurture_warehouse has 4 slots" in resized.message
    assert missing.status == "fail" and "never start" in missing.message
    assert "`nurture airflow-init`" in missing.hint


def _leave_pending_package(settings: Settings) -> None:
    """What a sync killed after extracting leaves: a normalised package, not loaded."""
    import dlt

    from nurture.warehouse import get_warehouse

    warehouse = get_warehouse(settings)
    pipeline = dlt.pipeline(
        pipeline_name="nurture_marketo",
        destination=warehouse.dlt_destination(),
        dataset_name="raw_marketo",
        pipelines_dir=str(settings.dlt_dir / warehouse.kind),
    )
    pipeline.extract([{"id": 1, "email": "a@example.com"}], table_name="leads")
    pipeline.normalize()
    assert pipeline.has_pending_data


def _quarantine_one(settings: Settings) -> None:
    from nurture.connectors.records import Quarantine
    from nurture.load.ops_tables import write_ops
    from nurture.warehouse import get_warehouse

    warehouse = get_warehouse(settings)
    quarantine = Quarantine("marketo")
    quarantine.reject("leads", {"id": "x"}, "x", "id is not a number")
    pipelines_dir = str(settings.dlt_dir / warehouse.kind)
    write_ops(warehouse, pipelines_dir, quarantine, "marketo:test", [])


def test_warehouse_checks(warehouse_settings: Settings):
    settings = warehouse_settings
    fresh = doctor(settings, {}, "--only", "warehouse")
    assert fresh.code == 0, fresh.out + fresh.err
    assert [c.split()[0] for c in fresh.checks()] == ["ok"] * 4, fresh.out

    settings.ensure_dirs()
    _quarantine_one(settings)
    _leave_pending_package(settings)
    run = doctor(settings, {}, "--only", "warehouse", "--json")

    assert run.code == 0, run.out + run.err  # warnings do not fail
    report = json.loads(run.out)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["warehouse"]["status"] == "ok"
    assert checks["quarantine"]["status"] == "warn"
    assert "1 record set aside in the last 7 days (marketo 1;" in checks["quarantine"]["message"]
    assert checks["dlt packages"]["status"] == "warn"
    assert "nurture_marketo: 1 package not loaded" in checks["dlt packages"]["message"]
    assert "sync_marketo" in checks["dlt packages"]["hint"]
    assert checks["schemas"]["status"] == "warn"  # ops exists, the raw schemas not yet
    assert "raw_marketo" in checks["schemas"]["message"]


def test_packages_of_a_running_sync_are_not_reported_as_cut_short(tmp_path: Path):
    from nurture.load.locks import pipeline_lock

    settings = settings_for(tmp_path, "duckdb")
    settings.ensure_dirs()
    _leave_pending_package(settings)
    with pipeline_lock(settings.dlt_dir / "duckdb", "nurture_marketo"):  # as run_sync holds it
        run = doctor(settings, {}, "--only", "warehouse")

    assert run.code == 0, run.out + run.err
    assert run.line("dlt packages").startswith("ok    dlt packages  nurture_marketo loading now")


def test_unreachable_postgres_fails_with_a_hint(tmp_path: Path):
    settings = settings_for(tmp_path, "postgres")
    env = {"NURTURE_PG_HOST": "127.0.0.1", "NURTURE_PG_PORT": str(free_port())}
    run = doctor(settings, env, "--only", "warehouse")

    assert run.code == 1
    line = run.line("warehouse")
    assert line.startswith("FAIL  warehouse     cannot connect to PostgreSQL 127.0.0.1:")
    assert "check NURTURE_PG_HOST and NURTURE_PG_PORT" in line
    assert run.line("schemas").startswith("skip ")


def test_redactor_masks_secrets_in_urls_and_queries():
    redact = Redactor()
    redact.add("s3cr3t-value")
    text = redact(
        "GET https://x.mktorest.com/identity/oauth/token?client_id=a&client_secret=abc123 "
        "postgresql://user:pw@host/db Bearer tok.en s3cr3t-value"
    )
    assert "abc123" not in text and "pw@" not in text and "tok.en" not in text
    assert "s3cr3t-value" not in text
    assert "client_secret=***" in text and "user:***@host" in text


def test_a_crashing_check_is_a_fail_line_not_a_traceback():
    from nurture.doctor import safely

    (found,) = safely("dags", lambda: 1 / 0, verbose=False)
    assert found.status == "fail"
    assert found.line().startswith("FAIL  dags          the check crashed (ZeroDivisionError:")
    assert "nurture -v doctor" in found.hint
