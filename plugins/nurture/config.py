"""One place that reads the environment: where things live and which warehouse to use."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

WarehouseKind = Literal["duckdb", "postgres"]

REPO_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = REPO_ROOT / "include"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says what to change."""


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    def sqlalchemy_url(self, database: str | None = None) -> str:
        auth = self.user if not self.password else f"{self.user}:{self.password}"
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{database or self.database}"

    def dlt_credentials(self) -> dict[str, object]:
        # A dict, not a URL: dlt then accepts an empty password (trust or peer auth).
        return {
            "database": self.database,
            "username": self.user,
            "password": self.password,
            "host": self.host,
            "port": self.port,
            # work_mem: merges hash the staged rows by key; with the server's default 4MB
            # they spill to disk, the slowest part of a big load. One `--name=value` with no
            # space: the ADBC driver gets these as a URL, where dlt writes a space as `+`.
            "query": {"options": "--work_mem=256MB"},
        }


# DuckDB takes 80% of the machine's memory unless told otherwise; a sync's loads stay in
# this budget (DuckDB spills the rest to disk), so a sync's peak does not grow with its
# size. Raise it for faster merges of very large loads.
DEFAULT_DUCKDB_LOAD_MEMORY = "256MB"
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
# What DuckDB may use outside the loads: dbt builds and Nurture's own queries. The limit is
# one per open database in a process, so every connection sets it again; otherwise a load's
# smaller budget would outlive the load and starve the next dbt build in the same process.
DEFAULT_DUCKDB_MEMORY = "80%"
_SHARE = re.compile(r"\d{1,2}(\.\d+)?%|100%")

# The PostgreSQL role BI tools read the `bi` schema as (docs/bi.md): dbt grants it each
# bi view it builds, `nurture bi role` creates it. A plain lower-case name, so that dbt,
# the grants and the CLI all spell it the same without quoting.
DEFAULT_BI_ROLE = "nurture_bi"
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: WarehouseKind
    postgres: PostgresSettings
    duckdb_load_memory: str = DEFAULT_DUCKDB_LOAD_MEMORY
    duckdb_memory: str = DEFAULT_DUCKDB_MEMORY
    bi_role: str = DEFAULT_BI_ROLE
    # The secret of the bi schema's keyed pseudonyms (nurture.transform.pseudonyms);
    # empty: the Airflow connection `nurture_pseudonym` is asked instead.
    pseudonym_key: str = field(default="", repr=False)

    @cached_property
    def duckdb_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @cached_property
    def feeds_dir(self) -> Path:
        return self.home / "feeds"

    @cached_property
    def dlt_dir(self) -> Path:
        return self.home / "dlt"

    @cached_property
    def dropbox_dir(self) -> Path:
        """Where marketers drop CSV files (trade-show lists, business-card exports)."""
        return self.home / "dropbox"

    def ensure_dirs(self) -> None:
        for path in (self.home, self.feeds_dir, self.dlt_dir):
            path.mkdir(parents=True, exist_ok=True)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    warehouse = env.get("NURTURE_WAREHOUSE", "duckdb").strip().lower()
    if warehouse not in ("duckdb", "postgres"):
        raise ConfigError(f"NURTURE_WAREHOUSE must be 'duckdb' or 'postgres', not {warehouse!r}.")
    try:
        port = int(env.get("NURTURE_PG_PORT", "5432"))
    except ValueError as exc:
        raise ConfigError("NURTURE_PG_PORT must be a port number.") from exc
    postgres = PostgresSettings(
        host=env.get("NURTURE_PG_HOST", "127.0.0.1"),
        port=port,
        user=env.get("NURTURE_PG_USER", "postgres"),
        password=env.get("NURTURE_PG_PASSWORD", ""),
        database=env.get("NURTURE_PG_DATABASE", "nurture"),
    )
    home = Path(env.get("NURTURE_HOME", ".nurture")).expanduser().resolve()
    load_memory = env.get("NURTURE_DUCKDB_LOAD_MEMORY", DEFAULT_DUCKDB_LOAD_MEMORY).strip()
    if not _MEMORY.fullmatch(load_memory):
        raise ConfigError(
            f"NURTURE_DUCKDB_LOAD_MEMORY must be an amount like 256MB or 2GB, not {load_memory!r}."
        )
    memory = env.get("NURTURE_DUCKDB_MEMORY", DEFAULT_DUCKDB_MEMORY).strip()
    if not (_MEMORY.fullmatch(memory) or _SHARE.fullmatch(memory)):
        raise ConfigError(
            "NURTURE_DUCKDB_MEMORY must be an amount like 4GB or a share of the machine's "
            f"memory like 80%, not {memory!r}."
        )
    bi_role = env.get("NURTURE_BI_ROLE", DEFAULT_BI_ROLE).strip()
    if not _ROLE.fullmatch(bi_role):
        raise ConfigError(
            "NURTURE_BI_ROLE must be a lower-case PostgreSQL role name (letters, digits and _, "
            f"not starting with a digit, at most 63 characters), not {bi_role!r}."
        )
    return Settings(
        home=home,
        warehouse=warehouse,  # type: ignore[arg-type]
        postgres=postgres,
        duckdb_load_memory=load_memory,
        duckdb_memory=memory,
        bi_role=bi_role,
        pseudonym_key=env.get("NURTURE_PSEUDONYM_KEY", "").strip(),
    )
