"""Scoring fixtures: a small sandbox world's marts, loaded once per warehouse kind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from nurture.config import Settings
from tests.conftest import _admin_connect, require_postgres, settings_for
from tests.scoring.world_marts import load_marts, world_frames

SEED, LEADS = 7, 3000
# the world's "today" is 2026-09-30: score as of the end of that day
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def world_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    from nurture.sandbox.world import ensure_world

    world = ensure_world(SEED, LEADS, tmp_path_factory.mktemp("scoring-world"))
    return world_frames(world)


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scoring_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """An empty warehouse of each kind for one test module (PostgreSQL: its own database)."""
    home: Path = tmp_path_factory.mktemp("scoring-home")
    if request.param == "duckdb":
        yield settings_for(home, "duckdb")
        return
    require_postgres()
    name = f"nurture_test_{uuid.uuid4().hex[:10]}"
    with _admin_connect() as con:
        con.execute(f'create database "{name}"')
    try:
        yield settings_for(home, "postgres", name)
    finally:
        with _admin_connect() as con:
            con.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def loaded(scoring_settings: Settings, world_tables: dict[str, pd.DataFrame]) -> Settings:
    """The scorer's input marts from the world (see world_marts.py), in the warehouse."""
    load_marts(scoring_settings, world_tables)
    return scoring_settings
