"""Every Salesforce object synced into each warehouse: equal to the sandbox world, unchanged
by a re-run, the same through Bulk API 2.0 and SOQL, and incremental after `advance`."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd
import pytest

from nurture.config import Settings
from nurture.connections import ApiConnection
from nurture.connectors.salesforce import SOBJECTS, SalesforceClient, SObject
from nurture.load.sync import run_sync
from nurture.sandbox.soql import OBJECTS as WORLD_TABLES
from nurture.sandbox.world import connect, ensure_world, world_path
from nurture.warehouse import get_warehouse

SEED, LEADS = 11, 1200
ADVANCE_DAYS = 2


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose cached world every server copies at start, so it stays as generated."""
    home = tmp_path_factory.mktemp("home")
    ensure_world(SEED, LEADS, home)
    return home


@pytest.fixture(scope="module")
def pristine(home: Path) -> Path:
    return world_path(SEED, LEADS, home)


@contextmanager
def serving(home: Path) -> Iterator[tuple[str, datetime]]:
    """A sandbox on its own copy of the world; yields its URL and the end of its today."""
    from nurture.sandbox.server import running_sandbox

    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as url:
        today = httpx.get(f"{url}/health").json()["today"]
        yield url, datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)


@pytest.fixture(scope="module")
def sandbox(home: Path) -> Iterator[tuple[str, datetime]]:
    with serving(home) as served:
        yield served


def connection(base_url: str, until: datetime, **extra: Any) -> ApiConnection:
    # The sandbox world holds two years of history before its "today".
    return ApiConnection(
        conn_id="salesforce_default",
        base_url=base_url,
        login="test-client",
        password="test-secret",
        extra={
            "history_start": (until - timedelta(days=731)).isoformat(),
            "bulk_poll_seconds": 0.05,  # sandbox jobs complete on the second poll
            **extra,
        },
    )


def world_rows(path: Path, obj: SObject) -> dict[str, tuple]:
    """Id -> the record's served fields, as the world file holds them."""
    columns = ", ".join(f'"{f}"' for f in obj.fields)
    with connect(path) as world:
        rows = world.execute(f"select {columns} from {WORLD_TABLES[obj.name]}").fetchall()
    return {row[0]: tuple(map(served, row)) for row in rows}


def served(value: Any) -> Any:
    """The world stores unset numbers as NaN; the API serves them as null."""
    return None if isinstance(value, float) and math.isnan(value) else value


def table(settings: Settings, obj: SObject) -> pd.DataFrame:
    """A raw table without dlt's columns, in Id order."""
    frame = get_warehouse(settings).query(f"select * from raw_salesforce.{obj.table}")
    frame = frame[[c for c in frame.columns if not c.startswith("_dlt")]]
    return frame.sort_values("id").reset_index(drop=True)


def utc(value: Any) -> datetime:
    return pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_pydatetime()


def assert_equals_world(settings: Settings, path: Path) -> None:
    """Every raw table holds exactly the world's records: Ids, stamps and deleted flags."""
    for obj in SOBJECTS:
        world = world_rows(path, obj)
        frame = table(settings, obj)
        stamp = list(obj.fields).index(obj.cursor)
        assert len(frame) == len(world), obj.table
        assert set(frame["id"]) == set(world), obj.table
        column = "created_date" if obj.cursor == "CreatedDate" else "system_modstamp"
        loaded = {r.id: utc(getattr(r, column)) for r in frame.itertuples()}
        assert loaded == {i: row[stamp] for i, row in world.items()}, obj.table
        if "IsDeleted" in obj.fields:
            assert set(frame.loc[frame["is_deleted"], "id"]) == deleted_ids(path, obj), obj.table


def deleted_ids(path: Path, obj: SObject) -> set[str]:
    deleted = list(obj.fields).index("IsDeleted")
    return {record_id for record_id, row in world_rows(path, obj).items() if row[deleted]}


def snapshot(settings: Settings) -> dict[str, pd.DataFrame]:
    return {obj.table: table(settings, obj) for obj in SOBJECTS}


def assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for name, frame in left.items():
        pd.testing.assert_frame_equal(frame, right[name], check_like=True, obj=name)


@pytest.fixture
def bulk_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SOQL of every Bulk API 2.0 job the connector runs."""
    queries: list[str] = []
    original = SalesforceClient.bulk_query_all

    def spy(self: SalesforceClient, soql: str) -> Iterator[list[dict[str, Any]]]:
        queries.append(soql)
        return original(self, soql)

    monkeypatch.setattr(SalesforceClient, "bulk_query_all", spy)
    return queries


def test_sync_loads_every_object_as_the_world_holds_it(
    sandbox, pristine, warehouse_settings, bulk_queries
):
    from nurture.quality.gate import run_gate

    base_url, until = sandbox
    conn = connection(base_url, until)
    first = run_sync("salesforce", warehouse_settings, until=until, conn=conn)
    # the history load of each object is one Bulk API 2.0 job
    assert sorted(q.split(" FROM ")[1].split()[0] for q in bulk_queries) == sorted(
        obj.name for obj in SOBJECTS
    )
    assert first.quarantined == {}
    assert_equals_world(warehouse_settings, pristine)
    checked = run_gate(get_warehouse(warehouse_settings), "raw_salesforce")
    assert set(checked) == {f"raw_salesforce.{obj.table}" for obj in SOBJECTS}

    before = snapshot(warehouse_settings)
    bulk_queries.clear()
    again = run_sync("salesforce", warehouse_settings, until=until, conn=conn)
    assert bulk_queries == []  # small deltas go through SOQL
    assert_same_tables(snapshot(warehouse_settings), before)
    # the second run reads only the lookback overlap, not the whole history
    assert sum(again.rows.values()) < sum(first.rows.values())


def test_bulk_and_soql_paths_give_identical_tables(sandbox, pristine, warehouse_settings):
    base_url, until = sandbox
    by_soql = connection(base_url, until, query_strategy="soql")
    run_sync("salesforce", warehouse_settings, until=until, conn=by_soql)
    soql_tables = snapshot(warehouse_settings)
    # The same history again, all through Bulk: every row is re-read and merged over its
    # SOQL twin, and the tables must come out unchanged.
    by_bulk = connection(base_url, until, query_strategy="bulk")
    history_start = until - timedelta(days=731)
    bulk = run_sync(
        "salesforce", warehouse_settings, until=until, since=history_start, conn=by_bulk
    )
    assert {name: bulk.rows.get(name, 0) for name in soql_tables} == {
        name: len(frame) for name, frame in soql_tables.items()
    }
    assert_same_tables(snapshot(warehouse_settings), soql_tables)
    assert_equals_world(warehouse_settings, pristine)


def test_backfill_loads_exactly_its_window(sandbox, pristine, warehouse_settings):
    base_url, until = sandbox
    start, end = until - timedelta(days=60), until - timedelta(days=30)
    run_sync(
        "salesforce", warehouse_settings, until=end, since=start, conn=connection(base_url, until)
    )
    loaded = 0
    for obj in SOBJECTS:
        stamp = list(obj.fields).index(obj.cursor)
        expected = {
            record_id
            for record_id, row in world_rows(pristine, obj).items()
            if start <= row[stamp].replace(tzinfo=UTC) < end
        }
        assert set(table(warehouse_settings, obj)["id"]) == expected, obj.table
        loaded += len(expected)
    assert loaded > 0


def advanced_copy(pristine: Path, work: Path, days: int) -> tuple[Path, dict[str, Any]]:
    """The world as a served sandbox holds it after `advance?days=` (advance is
    deterministic for a seed); the server's own copy is locked while it runs."""
    from nurture.sandbox.advance import advance_world

    path = work / "advanced.duckdb"
    shutil.copyfile(pristine, path)
    con = duckdb.connect(str(path))
    try:
        summary = advance_world(con, days)
    finally:
        con.close()
    return path, summary


def changed_ids(before: Path, after: Path, obj: SObject) -> set[str]:
    old, new = world_rows(before, obj), world_rows(after, obj)
    return {record_id for record_id, row in new.items() if old.get(record_id) != row}


def loaded_after(settings: Settings, obj: SObject, load_id: str) -> set[str]:
    frame = get_warehouse(settings).query(
        f"select id from raw_salesforce.{obj.table} where _dlt_load_id > ?", [load_id]
    )
    return set(frame["id"])


def last_load_id(settings: Settings) -> str:
    frame = get_warehouse(settings).query("select max(load_id) as l from raw_salesforce._dlt_loads")
    return str(frame["l"].iloc[0])


def test_incremental_run_after_advance_picks_up_exactly_the_changes(
    home, pristine, warehouse_settings, tmp_path
):
    expected_world, expected_summary = advanced_copy(pristine, tmp_path, ADVANCE_DAYS)
    changed = {obj.table: changed_ids(pristine, expected_world, obj) for obj in SOBJECTS}
    assert changed["leads"] and changed["opportunities"] and changed["campaign_members"]
    lead = next(obj for obj in SOBJECTS if obj.name == "Lead")
    newly_deleted = deleted_ids(expected_world, lead) - deleted_ids(pristine, lead)
    assert newly_deleted and newly_deleted <= changed["leads"]

    with serving(home) as (base_url, until):  # a second server, on a fresh copy
        # No lookback, so the second run re-reads nothing it already has.
        conn = connection(base_url, until, lookback_seconds=0)
        run_sync("salesforce", warehouse_settings, until=until, conn=conn)
        first_load = last_load_id(warehouse_settings)
        advanced = httpx.post(
            f"{base_url}/sandbox/advance", params={"days": ADVANCE_DAYS}, timeout=600
        ).json()
        assert advanced == expected_summary
        later = until + timedelta(days=ADVANCE_DAYS)
        delta = run_sync("salesforce", warehouse_settings, until=later, conn=conn)

    for obj in SOBJECTS:
        assert loaded_after(warehouse_settings, obj, first_load) == changed[obj.table], obj.table
        assert delta.rows.get(obj.table, 0) == len(changed[obj.table]), obj.table
    assert_equals_world(warehouse_settings, expected_world)
