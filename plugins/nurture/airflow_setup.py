"""`nurture airflow-init`: what a deployment's metadata DB needs besides `airflow db migrate`.

Today that is the warehouse pool every task runs in (nurture.orchestration): one slot
on the embedded DuckDB warehouse, whose file takes one process at a time, and as many
as the deployment runs at once on PostgreSQL. Run it after every migrate; it is
idempotent and resizes the pool when the warehouse changes.
"""

from __future__ import annotations

import os

from nurture.config import Settings

DEFAULT_POSTGRES_SLOTS = 8


def warehouse_slots(settings: Settings) -> int:
    """Slots of the warehouse pool: 1 on DuckDB, `NURTURE_WAREHOUSE_SLOTS` (8) on PostgreSQL."""
    if settings.warehouse == "duckdb":
        return 1
    return max(1, int(os.environ.get("NURTURE_WAREHOUSE_SLOTS", DEFAULT_POSTGRES_SLOTS)))


def ensure_pools(settings: Settings) -> tuple[str, int]:
    from airflow.models.pool import Pool

    from nurture.orchestration import WAREHOUSE_POOL

    slots = warehouse_slots(settings)
    kind = "DuckDB: one writer at a time" if slots == 1 else "PostgreSQL: parallel writers"
    Pool.create_or_update_pool(
        WAREHOUSE_POOL,
        slots=slots,
        description=f"Nurture warehouse ({kind})",
        include_deferred=False,
    )
    return WAREHOUSE_POOL, slots
