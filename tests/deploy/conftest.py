"""Fixtures of the deployment tests: the demo's outcome to compare with, and the
metadata database and Redis db number each Airflow deployment gets for itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from nurture.config import Settings
from nurture.summary import collect_summary
from nurture.warehouse import get_warehouse
from tests.conftest import DEMO_LEADS, DEMO_SEED, scratch_database, settings_for

SEED, LEADS = DEMO_SEED, DEMO_LEADS


def outcome(settings: Settings) -> dict[str, Any]:
    """What a cycle leaves behind: row counts, the MQLs enqueued and every delivery."""
    warehouse = get_warehouse(settings)
    summary = collect_summary(settings)
    outbox = warehouse.query("select lead_id, cycle from ops.mql_outbox")
    deliveries = warehouse.query("select lead_id, target, status from ops.mql_deliveries")
    return {
        **summary.counts(),
        "outbox": set(map(tuple, outbox.astype(str).to_numpy())),
        "deliveries": set(map(tuple, deliveries.astype(str).to_numpy())),
    }


@pytest.fixture(scope="session")
def demo_outcome(first_demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`make demo`'s path (dag.test, DuckDB) on the same world: what the service must
    equal. The session's first demo run (tests/conftest.py), read from a copy."""
    home = tmp_path_factory.mktemp("demo")
    first_demo(home)
    return outcome(settings_for(home, "duckdb"))


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """Airflow's metadata DB, a PostgreSQL database of the test's own."""
    with scratch_database("nurture_airflow") as name:
        yield name


@pytest.fixture
def redis_db() -> Iterator[int]:
    """A Redis db number of the test's own (the broker's queues), emptied after.

    Claimed with SET NX in db 0, so two deployments running at once (xdist workers,
    two checkouts) never share a queue: a worker would run the other's tasks.
    """
    import redis

    registry = redis.Redis(host="127.0.0.1", port=6379, db=0)
    token = uuid.uuid4().hex
    for number in range(8, 16):
        if registry.set(f"nurture-test:redis-db:{number}", token, nx=True, ex=7200):
            break
    else:
        pytest.fail("no free Redis db number (8-15) for a test deployment")
    client = redis.Redis(host="127.0.0.1", port=6379, db=number)
    client.flushdb()
    try:
        yield number
    finally:
        client.flushdb()
        if registry.get(f"nurture-test:redis-db:{number}") == token.encode():
            registry.delete(f"nurture-test:redis-db:{number}")
