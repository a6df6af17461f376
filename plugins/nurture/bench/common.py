"""What every benchmark shares: a result row, a scratch PostgreSQL database, sandbox
connections and worlds."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from nurture.config import Settings, load_settings
from nurture.connections import ApiConnection


@dataclass
class Result:
    """One measured figure; `goal` is the issue's target and `higher_is_better` its sense."""

    name: str
    value: float
    goal: float | None = None
    higher_is_better: bool = True
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "goal": self.goal,
            "goal_sense": ">=" if self.higher_is_better else "<=",
            "met": self.met,
            "detail": self.detail,
        }


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


@contextmanager
def scratch_postgres(base: Settings) -> Iterator[Settings]:
    """Settings pointing at a new PostgreSQL database, dropped afterwards."""
    pg = base.postgres
    name = f"nurture_bench_{uuid.uuid4().hex[:8]}"
    admin = f"host={pg.host} port={pg.port} user={pg.user} dbname=postgres"
    if pg.password:
        admin += f" password={pg.password}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    env = {
        "NURTURE_HOME": str(base.home),
        "NURTURE_WAREHOUSE": "postgres",
        "NURTURE_PG_HOST": pg.host,
        "NURTURE_PG_PORT": str(pg.port),
        "NURTURE_PG_USER": pg.user,
        "NURTURE_PG_PASSWORD": pg.password,
        "NURTURE_PG_DATABASE": name,
    }
    try:
        yield load_settings(env)
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')


def duckdb_settings(home: Path) -> Settings:
    return load_settings({"NURTURE_HOME": str(home), "NURTURE_WAREHOUSE": "duckdb"})


def sandbox_today(base_url: str) -> datetime:
    """The start of the day after the sandbox's last simulated day (a sync's `until`)."""
    today = httpx.get(f"{base_url}/health", timeout=30).json()["today"]
    return datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1)


def sandbox_connection(source: str, base_url: str, until: datetime, **extra: Any) -> ApiConnection:
    # Sandbox worlds hold two years of history before their "today".
    return ApiConnection(
        conn_id=f"{source}_default",
        base_url=base_url,
        login="bench-client",
        password="bench-secret",
        extra={"history_start": (until - timedelta(days=731)).isoformat(), **extra},
    )
