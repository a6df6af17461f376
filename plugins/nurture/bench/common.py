"""What every benchmark shares: a result row, a scratch PostgreSQL database, sandbox
connections and worlds."""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path, PurePath
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


def render_value(value: Any) -> str:
    """One value as a person reads it: `1,000,000`, `2.5`, `2026-01-02 03:04:05`, a path,
    `yes`/`no`, `-` for none; never a Python repr (`Decimal('2.5')`, `PosixPath(...)`)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return render_value(value.value)
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        value = value.item()  # a numpy scalar
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return _number(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {render_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(render_value(v) for v in items) or "-"
    return str(value)


def _number(value: float | Decimal) -> str:
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        return str(value)
    if value == int(value) and abs(value) < 10**15:
        return f"{int(value):,}"
    if abs(value) < 0.001:
        return f"{value:.3g}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _nested(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value)
    if isinstance(value, list | tuple):
        return any(isinstance(v, Mapping | list | tuple) for v in value)
    return False


def render_detail(detail: Mapping[str, Any], indent: str = "    ") -> list[str]:
    """A result's detail as indented `key: value` lines: mappings nest a level deeper, and
    lists of mappings (a bench's rounds) as `- ` items, so that every part of `nurture
    bench` prints readable text however its detail is shaped."""
    lines: list[str] = []
    for key, value in detail.items():
        if not _nested(value):
            lines.append(f"{indent}{key}: {render_value(value)}")
        elif isinstance(value, Mapping):
            lines.append(f"{indent}{key}:")
            lines += render_detail(value, indent + "    ")
        else:
            lines.append(f"{indent}{key}:")
            for item in value:
                if isinstance(item, Mapping) and item:
                    item_lines = render_detail(item, indent + "      ")
                    lines.append(f"{indent}    - {item_lines[0].lstrip()}")
                    lines += item_lines[1:]
                else:
                    lines.append(f"{indent}    - {render_value(item)}")
    return lines


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
