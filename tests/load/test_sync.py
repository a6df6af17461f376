"""Syncs against the sandbox into each warehouse: complete, and idempotent on re-run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nurture.connections import ApiConnection
from nurture.load.sync import run_sync
from nurture.warehouse import get_warehouse

SEED, LEADS = 11, 800
TABLES = {"marketo": {"leads": "marketo_leads", "activities": "marketo_activities"},
          "hubspot": {"contacts": "hubspot_contacts"},
          "salesforce": {"leads": "salesforce_leads_all"}}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, datetime, dict]]:
    from nurture.sandbox.server import running_sandbox
    from nurture.sandbox.world import ensure_world, world_counts

    home = tmp_path_factory.mktemp("sandbox")
    with running_sandbox(seed=SEED, leads=LEADS, home=home) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        yield base_url, until, world_counts(ensure_world(SEED, LEADS, home))


def connection(source: str, base_url: str) -> ApiConnection:
    return ApiConnection(conn_id=f"{source}_default", base_url=base_url, login="test-client",
                         password="test-secret")


def count(settings, table: str) -> int:
    return int(get_warehouse(settings).query(f"select count(*) as n from {table}")["n"].iloc[0])


@pytest.mark.parametrize("source", sorted(TABLES))
def test_sync_loads_the_world_once(source, sandbox, warehouse_settings):
    base_url, until, truth = sandbox
    first = run_sync(source, warehouse_settings, until=until, conn=connection(source, base_url))
    loaded = {obj: count(warehouse_settings, f"raw_{source}.{obj}") for obj in TABLES[source]}
    assert loaded == {obj: truth[key] for obj, key in TABLES[source].items()}
    assert first.calls["pages"] > 0

    again = run_sync(source, warehouse_settings, until=until, conn=connection(source, base_url))
    reloaded = {obj: count(warehouse_settings, f"raw_{source}.{obj}") for obj in TABLES[source]}
    assert reloaded == loaded
    # the second run starts at the stored cursor minus the lookback, not at the beginning
    assert sum(again.rows.values()) < sum(first.rows.values())
    runs = get_warehouse(warehouse_settings).query(
        "select count(distinct run_id) as n from ops.sync_runs where source = ?", [source])
    assert int(runs["n"].iloc[0]) == 1


def test_backfill_window_reloads_only_its_window(sandbox, warehouse_settings):
    base_url, until, truth = sandbox
    conn = connection("marketo", base_url)
    run_sync("marketo", warehouse_settings, until=until, conn=conn)
    window = run_sync("marketo", warehouse_settings, until=until - timedelta(days=30),
                      since=until - timedelta(days=37), conn=conn)
    assert 0 < window.rows.get("activities", 0) < truth["marketo_activities"]
    assert count(warehouse_settings, "raw_marketo.activities") == truth["marketo_activities"]
