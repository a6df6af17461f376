"""A load package that cannot load (a damaged Parquet file, a value the warehouse refuses)
is set aside with its reason, nothing of it stays in the warehouse, and the run goes on to
load fresh data; a package that failed for a transient reason is kept and completed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nurture.config import Settings
from nurture.load.arrow_pages import LOAD_FILE_FORMAT, as_arrow
from nurture.load.destinations import NurtureDuckDbClient, NurturePostgresClient
from nurture.load.parking import PARKED_OBJECT, load_pending, parked_root
from nurture.load.sync import run_sync
from nurture.warehouse import get_warehouse
from tests.load.test_sync import connection

SEED, LEADS = 37, 150


def _pipelines_dir(settings: Settings) -> str:
    return str(settings.dlt_dir / settings.warehouse)


def _package_dir(settings: Settings, pipeline: str, load_id: str) -> Path:
    return Path(_pipelines_dir(settings)) / pipeline / "load" / "normalized" / load_id


def _pending(settings: Settings, pipeline: str) -> list[str]:
    folder = Path(_pipelines_dir(settings)) / pipeline / "load" / "normalized"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _fail_jobs(
    monkeypatch: pytest.MonkeyPatch, fails: Callable[[str], BaseException | None]
) -> None:
    """Load jobs raise the error `fails(path of their file)` names, as they run, instead
    of loading (None: they load)."""
    for client in (NurtureDuckDbClient, NurturePostgresClient):
        original = client.create_load_job

        def create_load_job(self, table, file_path, load_id, restore=False, _orig=original):
            job = _orig(self, table, file_path, load_id, restore)
            if job is None or not hasattr(job, "run"):
                return job
            load = job.run

            def run() -> None:
                error = fails(file_path)
                if error is not None:
                    raise error
                load()

            job.run = run  # type: ignore[method-assign]
            return job

        monkeypatch.setattr(client, "create_load_job", create_load_job)


def _damage(path: Path) -> None:
    """A Parquet file cut short: no reader takes it (a full disk, a crash mid-write)."""
    path.write_bytes(path.read_bytes()[:64])


def _put_nul(path: Path, column: str) -> None:
    """A text column with NUL characters, as packages written before they were dropped."""
    table = pq.read_table(path)
    i = table.schema.get_field_index(column)
    values = pa.array(["bad\x00value"] * len(table), pa.string())
    pq.write_table(table.set_column(i, table.schema.field(i), values), path)


def _rows_of(settings: Settings, load_id: str) -> dict[str, int]:
    """Rows anywhere in the warehouse's datasets that carry `load_id`."""
    wh = get_warehouse(settings)
    tables = wh.query(
        "select table_schema, table_name from information_schema.columns "
        "where column_name = '_dlt_load_id'"
    )
    found = {}
    for schema, table in tables.itertuples(index=False):
        n = wh.scalar(
            f'select count(*) from "{schema}"."{table}" where _dlt_load_id = ?', [load_id]
        )
        if n:
            found[f"{schema}.{table}"] = int(n)
    return found


# --- one pipeline of two merged tables, to see exactly what a package leaves -----------


def _source(start: int, n: int = 10) -> Any:
    @dlt.resource(primary_key="id", write_disposition="merge")
    def acts(cursor=dlt.sources.incremental("updated", initial_value=0)):
        yield [{"id": i, "what": f"a{i}", "updated": i} for i in range(start, start + n)]

    @dlt.resource(primary_key="id", write_disposition="merge")
    def leads(cursor=dlt.sources.incremental("updated", initial_value=0)):
        yield [{"id": i, "name": f"n{i}", "updated": i} for i in range(start, start + n)]

    @dlt.source(name="toy")
    def toy():
        return acts, leads

    return as_arrow(toy())


def _toy_pipeline(settings: Settings) -> Any:
    return dlt.pipeline(
        pipeline_name="nurture_toy",
        destination=get_warehouse(settings).dlt_destination(),
        dataset_name="raw_toy",
        pipelines_dir=_pipelines_dir(settings),
    )


def test_half_loaded_package_is_undone_and_set_aside(warehouse_settings, monkeypatch):
    settings = warehouse_settings
    settings.ensure_dirs()
    pipeline = _toy_pipeline(settings)
    pipeline.run(_source(0), loader_file_format=LOAD_FILE_FORMAT)
    pipeline.extract(_source(10), loader_file_format=LOAD_FILE_FORMAT)
    pipeline.normalize()
    (load_id,) = _pending(settings, "nurture_toy")
    package = _package_dir(settings, "nurture_toy", load_id)

    # First try: the `leads` COPY loses its connection once `acts` is merged, so the
    # package is half-applied, and transient: it stays pending.
    def leads_drop_connection(path: str) -> BaseException | None:
        if not Path(path).name.startswith("leads."):
            return None
        deadline = time.monotonic() + 60
        while not list((package / "completed_jobs").glob("acts.*.sql")):
            assert time.monotonic() < deadline, "acts was never merged"
            time.sleep(0.05)
        return ConnectionResetError("connection reset by peer")

    with monkeypatch.context() as patched:
        _fail_jobs(patched, leads_drop_connection)
        with pytest.raises(Exception, match="connection reset by peer"):
            load_pending(_toy_pipeline(settings), _pipelines_dir(settings))
    assert _pending(settings, "nurture_toy") == [load_id]
    half = _rows_of(settings, load_id)  # half of it is in: `acts` merged, `leads` not
    assert half["raw_toy.acts"] == half["raw_toy_staging.acts"] == 10
    assert not any("leads" in table for table in half)

    # Then its `leads` file turns out damaged: a retry cannot fix that.
    (leads_file,) = (package / "new_jobs").glob("leads.*.parquet")
    _damage(leads_file)
    pipeline = _toy_pipeline(settings)
    (parked,) = load_pending(pipeline, _pipelines_dir(settings))

    assert parked.load_id == load_id and parked.step == "load"
    table, file_id, _retries, ext = leads_file.name.split(".")
    assert parked.jobs == (f"{table}.{file_id}.{ext}",)  # dlt's job id
    assert "leads." in parked.reason and "magic bytes" in parked.reason.lower()
    assert parked.rows_undone == half
    assert _rows_of(settings, load_id) == {}
    assert _pending(settings, "nurture_toy") == []
    folder = parked_root(_pipelines_dir(settings)) / "nurture_toy" / load_id
    assert parked.folder == folder
    assert settings.home / "parked" in folder.parents
    assert json.loads((folder / "reason.json").read_text())["reason"] == parked.reason
    assert list((folder / "package").rglob(f"{table}.{file_id}.*.{ext}"))  # the damaged file
    assert not (Path(pipeline.working_dir) / "load" / "loaded" / load_id).exists()
    # the cursors went back to where the package began: its records come again
    pipeline.run(_source(10), loader_file_format=LOAD_FILE_FORMAT)
    wh = get_warehouse(settings)
    for table in ("acts", "leads"):
        assert wh.scalar(f"select count(*) from raw_toy.{table}") == 20
        assert wh.scalar(f"select count(distinct id) from raw_toy.{table}") == 20


# --- syncs against the sandbox ----------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, datetime]]:
    from nurture.sandbox.server import running_sandbox

    home = tmp_path_factory.mktemp("parked-sandbox")
    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        yield base_url, datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)


def _marketo_job(path: str) -> bool:
    return "/nurture_marketo/" in path


def _leave_pending_sync(settings, monkeypatch, base_url, until) -> str:
    """A first sync, a day of news, and a second sync whose load loses the warehouse
    (transient): its package stays pending. Returns its load id."""
    conn = connection("marketo", base_url, until)
    run_sync("marketo", settings, until=until, conn=conn)
    httpx.post(f"{base_url}/sandbox/advance", params={"days": 1}, timeout=300).raise_for_status()
    with monkeypatch.context() as patched:
        _fail_jobs(
            patched,
            lambda path: (
                ConnectionRefusedError("connection refused") if _marketo_job(path) else None
            ),
        )
        with pytest.raises(Exception, match="connection refused"):
            run_sync("marketo", settings, until=until + timedelta(days=1), conn=conn)
    (load_id,) = _pending(settings, "nurture_marketo")
    return load_id


def _matches_the_sandbox(settings: Settings, base_url: str) -> None:
    live = httpx.get(f"{base_url}/sandbox/counts").json()
    got = (
        get_warehouse(settings)
        .query(
            """select
             (select count(*) from raw_marketo.leads as l where not exists (
                select 1 from raw_marketo.deleted_leads as d where d.lead_id = l.id)) as leads,
             (select count(*) from raw_marketo.activities) as activities,
             (select count(distinct marketo_guid) from raw_marketo.activities) as guids"""
        )
        .iloc[0]
    )
    assert int(got["leads"]) == live["marketo_leads"]
    assert int(got["activities"]) == int(got["guids"]) == live["marketo_activities"]


POISONS = {
    "damaged parquet": (lambda path: _damage(path), "magic bytes"),
    "nul in text": (lambda path: _put_nul(path, "email"), "0x00"),
}
# (warehouse, poison): DuckDB takes NUL characters in text, PostgreSQL refuses them, so a
# NUL poisons PostgreSQL only (tests/badinput/test_poisoned_file_package.py too)
POISON_CASES = [
    ("duckdb", "damaged parquet"),
    pytest.param("postgres", "damaged parquet", marks=pytest.mark.postgres),
    pytest.param("postgres", "nul in text", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(
    ("warehouse_settings", "poison"), POISON_CASES, indirect=["warehouse_settings"]
)
def test_poisoned_package_is_set_aside_and_the_next_sync_loads(
    poison, warehouse_settings, sandbox, monkeypatch
):
    settings = warehouse_settings
    base_url, until = sandbox
    load_id = _leave_pending_sync(settings, monkeypatch, base_url, until)
    package = _package_dir(settings, "nurture_marketo", load_id)
    spoil, expected = POISONS[poison]
    victim = sorted((package / "new_jobs").glob("leads.*.parquet"))[0]
    spoil(victim)

    # The next sync sets the package aside and loads the day's news all the same.
    summary = run_sync(
        "marketo",
        settings,
        until=until + timedelta(days=1),
        conn=connection("marketo", base_url, until),
    )

    assert summary.rows["leads"] > 0 and summary.rows["activities"] > 0
    _matches_the_sandbox(settings, base_url)
    assert _pending(settings, "nurture_marketo") == []
    assert _rows_of(settings, load_id) == {}  # nothing of it half-applied
    wh = get_warehouse(settings)
    assert (
        wh.scalar("select count(*) from raw_marketo._dlt_loads where load_id = ?", [load_id]) == 0
    )

    folder = settings.home / "parked" / settings.warehouse / "nurture_marketo" / load_id
    reason = json.loads((folder / "reason.json").read_text())
    assert reason["load_id"] == load_id and reason["step"] == "load"
    assert expected in reason["reason"] and reason["reason"].startswith("leads.")
    assert list((folder / "package").rglob("*.parquet"))

    runs = wh.query(
        "select run_id, status, error from ops.sync_runs where object = ?", [PARKED_OBJECT]
    )
    assert runs.to_dict("records") == [
        {"run_id": f"marketo:parked:{load_id}", "status": "parked", "error": reason["reason"]}
    ]
    quarantined = wh.query(
        "select record_key, reason from ops.quarantine where object = ?", [PARKED_OBJECT]
    )
    assert quarantined["record_key"].tolist() == [f"nurture_marketo/{load_id}"]
    assert expected in quarantined["reason"].iloc[0]

    # and the sync after that has nothing left to set aside
    run_sync(
        "marketo",
        settings,
        until=until + timedelta(days=1),
        conn=connection("marketo", base_url, until),
    )
    assert len(wh.query("select 1 from ops.sync_runs where status = 'parked'")) == 1


def test_package_failed_for_a_transient_reason_is_kept_and_completed(
    warehouse_settings, sandbox, monkeypatch
):
    settings = warehouse_settings
    base_url, until = sandbox
    load_id = _leave_pending_sync(settings, monkeypatch, base_url, until)
    conn = connection("marketo", base_url, until)
    later = until + timedelta(days=1)

    # The warehouse is still gone on the next try: the package stays for the one after.
    with monkeypatch.context() as patched:
        _fail_jobs(
            patched,
            lambda path: ConnectionResetError("connection reset") if _marketo_job(path) else None,
        )
        with pytest.raises(Exception, match="connection reset"):
            run_sync("marketo", settings, until=later, conn=conn)
    assert _pending(settings, "nurture_marketo") == [load_id]

    run_sync("marketo", settings, until=later, conn=conn)
    assert _pending(settings, "nurture_marketo") == []
    _matches_the_sandbox(settings, base_url)
    wh = get_warehouse(settings)
    assert wh.scalar("select status from raw_marketo._dlt_loads where load_id = ?", [load_id]) == 0
    assert not (settings.home / "parked").exists()
    assert len(wh.query("select 1 from ops.sync_runs where status = 'parked'")) == 0
