"""HubSpot synced into each warehouse: contacts, companies (archived ones as soft deletes),
owners and contact-company associations equal the sandbox world, a re-run changes nothing,
and after `advance` an incremental run reads exactly what changed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from nurture.config import Settings
from nurture.connections import ApiConnection
from nurture.load.sync import DEFAULT_LOOKBACK, run_sync
from nurture.sandbox.world import connect, ensure_world, world_path
from nurture.warehouse import get_warehouse

SEED, LEADS = 11, 1000
ADVANCE_DAYS = 3
# raw table -> (world table, last-modified column); both keyed by id
OBJECTS = {
    "contacts": ("hs_contact", "lastmodifieddate"),
    "companies": ("hs_company", "hs_lastmodifieddate"),
}
TABLES = (*OBJECTS, "owners", "contact_company_associations")
ASSOCIATIONS = "raw_hubspot.contact_company_associations"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated world, built once; each server and expectation works on a copy."""
    return ensure_world(SEED, LEADS, tmp_path_factory.mktemp("pristine"))


def copy_world(pristine: Path, home: Path) -> Path:
    target = world_path(SEED, LEADS, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pristine, target)
    return target


@contextmanager
def serving(home: Path) -> Iterator[tuple[str, datetime]]:
    """A sandbox on the world in `home`; yields its URL and the end of its today."""
    from nurture.sandbox.server import running_sandbox

    with running_sandbox(seed=SEED, leads=LEADS, home=home, rate_limits=False) as url:
        today = httpx.get(f"{url}/health").json()["today"]
        yield url, datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)


def connection(base_url: str, until: datetime) -> ApiConnection:
    # The sandbox world holds two years of history before its "today".
    return ApiConnection(
        conn_id="hubspot_default",
        base_url=base_url,
        login="",
        password="test-token",
        extra={"history_start": (until - timedelta(days=731)).isoformat()},
    )


def world_query(path: Path, sql: str) -> list[tuple]:
    with connect(path) as world:
        return world.execute(sql).fetchall()


def world_objects(path: Path, raw: str) -> dict[str, tuple[datetime, bool]]:
    """Id -> (last modified, archived), as the world file holds them."""
    table, modified = OBJECTS[raw]
    rows = world_query(path, f"select id, {modified}, archived from {table}")
    return {str(i): (stamp, archived) for i, stamp, archived in rows}


def world_associations(path: Path) -> set[tuple[str, str, int]]:
    """(contact, company, type id) HubSpot serves: 279 for each link, 1 for a primary one."""
    rows = world_query(
        path, "select contact_id, company_id, is_primary from hs_contact_company_live"
    )
    return {
        (str(contact), str(company), kind)
        for contact, company, primary in rows
        for kind in ((279, 1) if primary else (279,))
    }


def table(settings: Settings, name: str) -> pd.DataFrame:
    """A raw table without dlt's columns, in key order."""
    frame = get_warehouse(settings).query(f"select * from raw_hubspot.{name}")
    frame = frame[[c for c in frame.columns if not c.startswith("_dlt")]]
    keys = ["contact_id", "company_id", "association_type_id"] if "contact_id" in frame else ["id"]
    return frame.sort_values(keys).reset_index(drop=True)


def utc(value: Any) -> datetime:
    return pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_pydatetime()


def assert_equals_world(settings: Settings, path: Path) -> None:
    """Every raw table holds exactly the world's records, stamps and archived flags."""
    for raw, (_, modified) in OBJECTS.items():
        frame = table(settings, raw)
        loaded = {r["id"]: (utc(r[modified]), bool(r["archived"])) for _, r in frame.iterrows()}
        assert loaded == world_objects(path, raw), raw
        archived = frame[frame["archived"]]
        assert archived["archived_at"].notna().all(), raw
    owners = table(settings, "owners")
    expected = dict(world_query(path, "select id, archived from hs_owner"))
    assert dict(zip(owners["id"], owners["archived"].astype(bool), strict=True)) == expected
    links = table(settings, "contact_company_associations")
    assert len(links) == len(world_associations(path))
    assert set(_link_keys(links)) == world_associations(path)
    assert not links["removed"].any()
    labels = dict(zip(links["association_type_id"], links["association_label"], strict=False))
    assert labels[1] == "Primary" and pd.isna(labels[279])


def _link_keys(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    return [(r.contact_id, r.company_id, int(r.association_type_id)) for r in frame.itertuples()]


def snapshot(settings: Settings) -> dict[str, pd.DataFrame]:
    return {name: table(settings, name) for name in TABLES}


def latest_load(settings: Settings) -> str:
    loads = get_warehouse(settings).query(
        "select load_id from raw_hubspot._dlt_loads order by inserted_at desc limit 1"
    )
    return str(loads["load_id"].iloc[0])


def loaded_by(settings: Settings, raw: str, load_id: str, key: str = "id") -> set[str]:
    frame = get_warehouse(settings).query(
        f"select {key} from raw_hubspot.{raw} where _dlt_load_id = ?", [load_id]
    )
    return set(frame[key])


def advanced_copy(pristine: Path, tmp: Path) -> Path:
    """The served world after `advance`: advancing is deterministic for (seed, days)."""
    from nurture.sandbox.advance import advance_world

    path = tmp / "advanced.duckdb"
    shutil.copyfile(pristine, path)
    with connect(path, read_only=False) as con:
        advance_world(con, ADVANCE_DAYS)
    return path


def test_hubspot_sync_equals_the_world_and_follows_advance(
    pristine, tmp_path_factory, warehouse_settings
):
    from nurture.quality.gate import run_gate

    home = tmp_path_factory.mktemp("served")
    copy_world(pristine, home)
    with serving(home) as (base_url, until):
        conn = connection(base_url, until)
        first = run_sync("hubspot", warehouse_settings, until=until, conn=conn)
        assert first.quarantined == {}
        assert_equals_world(warehouse_settings, pristine)
        checked = run_gate(get_warehouse(warehouse_settings), "raw_hubspot")
        assert set(checked) == {f"raw_hubspot.{name}" for name in TABLES}

        before = snapshot(warehouse_settings)
        again = run_sync("hubspot", warehouse_settings, until=until, conn=conn)
        for name, frame in snapshot(warehouse_settings).items():
            pd.testing.assert_frame_equal(frame, before[name], check_like=True, obj=name)
        assert sum(again.rows.values()) < sum(first.rows.values())

        # advancing takes seconds on a busy machine: more than httpx's default 5 s timeout
        advance = {"days": ADVANCE_DAYS}
        httpx.post(f"{base_url}/sandbox/advance", params=advance, timeout=300).raise_for_status()
        later = until + timedelta(days=ADVANCE_DAYS)
        run_sync("hubspot", warehouse_settings, until=later, conn=conn)
    advanced = advanced_copy(pristine, tmp_path_factory.mktemp("advanced"))
    assert_equals_world(warehouse_settings, advanced)
    assert_read_exactly_the_changes(warehouse_settings, pristine, advanced)


def assert_read_exactly_the_changes(settings: Settings, pristine: Path, advanced: Path) -> None:
    """The incremental run read the objects modified since the stored cursor (less the
    lookback), archived ones included, and replaced the associations of those contacts."""
    load_id = latest_load(settings)
    changed: dict[str, set[str]] = {}
    for raw in OBJECTS:
        old, new = world_objects(pristine, raw), world_objects(advanced, raw)
        since = max(stamp for stamp, _ in old.values()) - DEFAULT_LOOKBACK
        expected = {i for i, (stamp, _) in new.items() if stamp >= since}
        assert loaded_by(settings, raw, load_id) == expected, raw
        was_archived = {i for i, (_, archived) in old.items() if archived}
        newly_archived = {i for i, (_, archived) in new.items() if archived} - was_archived
        assert newly_archived and newly_archived <= expected, raw
        changed[raw] = expected
    gone = world_associations(pristine) - world_associations(advanced)
    assert gone and {contact for contact, _, _ in gone} <= changed["contacts"]
    relinked = loaded_by(settings, "contact_company_associations", load_id, key="contact_id")
    linked = {contact for contact, _, _ in world_associations(advanced)}
    assert relinked == changed["contacts"] & linked


def test_messy_pages_still_load_exactly_the_world(pristine, tmp_path_factory, tmp_path):
    """Truncated, shifted and duplicated list pages and a new property on some records."""
    from nurture.sandbox.server import running_sandbox
    from tests.conftest import settings_for

    home = tmp_path_factory.mktemp("messy")
    copy_world(pristine, home)
    settings = settings_for(tmp_path, "duckdb")
    with running_sandbox(
        seed=SEED, leads=LEADS, home=home, rate_limits=False, faults="messy"
    ) as base_url:
        today = httpx.get(f"{base_url}/health").json()["today"]
        until = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)
        summary = run_sync("hubspot", settings, until=until, conn=connection(base_url, until))
    assert summary.quarantined == {}
    assert_equals_world(settings, pristine)
    # the property that appeared on some companies became a column
    companies = table(settings, "companies")
    assert companies["hs_ideal_customer_profile"].notna().any()
